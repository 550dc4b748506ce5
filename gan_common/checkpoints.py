"""What both frameworks' checkpoint readers share: the suffix that tells the
framework, the content checksum, and the checks on the metadata stored inside.

A checkpoint's identity is its *content checksum*: the SHA-256 of every
array it holds (name, dtype, shape and bytes, names in sorted order), wall-clock
times left out. It is stored inside the file (``CHECKSUM_KEY``) and verified on
every load, so damage anywhere in the data is refused; two runs with the same
seed and settings write snapshots with equal checksums, although the files'
bytes differ (zip member names, timings)."""
import hashlib
import json
import os

import numpy as np

from gan_common.errors import UserError

SUFFIX_FRAMEWORK = {'.npz': 'chainer', '.pt': 'torch'}
FRAMEWORK_NAME = {'chainer': 'Chainer', 'torch': 'PyTorch'}
MODELS = ('dcgan', 'gan', 'cgan', 'acgan', 'cyclegan')
CHECKSUM_KEY = 'content_sha256'


def framework_of(path):
    suffix = os.path.splitext(path)[1]
    if suffix not in SUFFIX_FRAMEWORK:
        raise UserError(f'{path}: unknown checkpoint type {suffix!r}; Chainer checkpoints end in .npz, PyTorch ones in .pt')
    return SUFFIX_FRAMEWORK[suffix]


def require_file(path):
    if not os.path.isfile(path):
        raise UserError(f'checkpoint {path} does not exist; pass the path of a snapshot_iter_*.npz/.pt file')


# ---------------------------------------------------------------- content checksum
def content_checksum(arrays):
    """SHA-256 (hex) of ``arrays`` ({name: array-like}), independent of how they were stored."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        header = json.dumps([name, array.dtype.str, list(array.shape)])
        digest.update(len(header).to_bytes(8, 'little') + header.encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def verify_checksum(arrays, stored, path, framework):
    """Refuse ``path`` unless ``stored`` is the checksum of ``arrays``."""
    if stored is None:
        raise UserError(f'{path} carries no content checksum, so its integrity cannot be checked; '
                        'use a snapshot written by this version of train.py or convert.py')
    if content_checksum(arrays) != stored:
        raise UserError(f'{path} is not a readable {FRAMEWORK_NAME[framework]} checkpoint: its contents do not '
                        'match the checksum stored in it (it is damaged); use an earlier snapshot')


# ---------------------------------------------------------------- metadata
def parse_meta(text, path):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise UserError(f'{path} holds a model description that is not JSON; it was not written by this project') from None


def check_meta(meta, path, framework, model=None):
    """Refuse a checkpoint of another framework or model, or one whose
    description lacks what the tools need, naming the fix."""
    if not isinstance(meta, dict) or 'model' not in meta or 'framework' not in meta:
        raise UserError(f'{path} holds no model description; it was not written by this project')
    if meta['framework'] != framework:
        raise UserError(f'{path} is a {FRAMEWORK_NAME.get(meta["framework"], meta["framework"])} checkpoint '
                        f'stored as {FRAMEWORK_NAME[framework]}; convert it with `ganport convert`')
    if meta['model'] not in MODELS:
        raise UserError(f'{path} is a checkpoint of an unknown model {meta["model"]!r}; '
                        f'this project trains {", ".join(MODELS)}')
    if not isinstance(meta.get('config'), dict):
        raise UserError(f'{path} holds no training settings (config); it was not written by this project')
    if model is not None and meta['model'] != model:
        raise UserError(f'{path} is a {meta["model"]} checkpoint, not {model}; pass --model {meta["model"]}')
    return meta


def unreadable(path, error, framework):
    return UserError(f'{path} is not a readable {FRAMEWORK_NAME[framework]} checkpoint '
                     f'({type(error).__name__}: {first_line(error)}); '
                     'it may be truncated or corrupt: use an earlier snapshot')


def pickled(path, framework):
    return UserError(f'{path} holds pickled Python objects, which loading would have to execute; refused '
                     f'(a {FRAMEWORK_NAME[framework]} checkpoint of this project holds only arrays and plain values)')


def incomplete(path, what):
    return UserError(f'{path} lacks {what}; it is damaged or was not written by this project: use an earlier snapshot')


def first_line(error):
    return str(error).splitlines()[0] if str(error).strip() else 'no detail'


def single_generator_error(path, meta):
    return UserError(f'{path} is a {meta["model"]} checkpoint, which has two generators and no noise input; '
                     'translate images with `ganport translate` instead')
