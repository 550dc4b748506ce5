"""What both frameworks' checkpoint readers share: the suffix that tells the
framework, and the checks on the metadata stored inside."""
import os

from gan_common.errors import UserError

SUFFIX_FRAMEWORK = {'.npz': 'chainer', '.pt': 'torch'}
FRAMEWORK_NAME = {'chainer': 'Chainer', 'torch': 'PyTorch'}


def framework_of(path):
    suffix = os.path.splitext(path)[1]
    if suffix not in SUFFIX_FRAMEWORK:
        raise UserError(f'{path}: unknown checkpoint type {suffix!r}; Chainer checkpoints end in .npz, PyTorch ones in .pt')
    return SUFFIX_FRAMEWORK[suffix]


def require_file(path):
    if not os.path.isfile(path):
        raise UserError(f'checkpoint {path} does not exist; pass the path of a snapshot_iter_*.npz/.pt file')


def check_meta(meta, path, framework, model=None):
    """Refuse a checkpoint of another framework or model, naming the fix."""
    if not isinstance(meta, dict) or 'model' not in meta or 'framework' not in meta:
        raise UserError(f'{path} holds no model description; it was not written by this project')
    if meta['framework'] != framework:
        raise UserError(f'{path} is a {FRAMEWORK_NAME.get(meta["framework"], meta["framework"])} checkpoint '
                        f'stored as {FRAMEWORK_NAME[framework]}; convert it with `ganport convert`')
    if model is not None and meta['model'] != model:
        raise UserError(f'{path} is a {meta["model"]} checkpoint, not {model}; pass --model {meta["model"]}')
    return meta


def unreadable(path, error, framework):
    return UserError(f'{path} is not a readable {FRAMEWORK_NAME[framework]} checkpoint '
                     f'({type(error).__name__}: {str(error).splitlines()[0] if str(error) else "no detail"}); '
                     'it may be truncated or corrupt: use an earlier snapshot')


def single_generator_error(path, meta):
    return UserError(f'{path} is a {meta["model"]} checkpoint, which has two generators and no noise input; '
                     'translate images with `ganport translate` instead')
