"""Import the networks that Chainer scripts of any version left behind: a
pickled link (``pickle.dump(gen, f)``, by Chainer 7 or by Chainer v1), or a
``save_npz``/``save_hdf5`` file keyed with the source's own link names.

A pickle is read data-only: no class it names is imported or run. Every
class becomes an inert stand-in that records its constructor arguments and
state, and only NumPy's array reconstruction runs, so a generator defined in
the user's script (``__main__.Generator``) and one pickled by Chainer v1
(``chainer.flag.Flag``, ``chainer.variable.Variable`` of v1) read alike.
A link is then recognised by its state: ``_params``, ``_persistent`` and, for
chains, ``_children`` (lists in v1, sets in v7), each parameter a Variable
whose array is its first constructor argument (v1 ``Variable(data, volatile,
name, grad)``, v7 ``_recover_parameter(data, ...)``) or its ``data``
attribute (v1 before ``__reduce__``). A model pickled on a GPU reads the
same: CuPy pickles an array as ``cupy.array(NumPy copy)``.

The arrays found are renamed with ``gan_common.keymap.SOURCE_LINK_NAMES`` (or
taken as they are when they carry this project's names) and accepted only
when the full set of names and every shape equals the project's network."""
import builtins
import codecs
import json
import os
import pickle
import zipfile

import numpy as np

from gan_common.errors import UserError
from gan_common.keymap import SOURCE_LINK_NAMES

ZIP_MAGIC, HDF5_MAGIC = b'PK', b'\x89HDF\r\n\x1a\n'
ROLES = {'gen': 'generator', 'dis': 'discriminator'}


# ---------------------------------------------------------------- data-only unpickling
class Inert:
    """What a pickled object becomes: its class's name, the arguments it was
    rebuilt with, and its state; none of the original code runs."""
    pickled_class = 'object'

    def __init__(self, *args, **kwargs):
        self.args, self.state = args, {}

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ values)
            state = dict(state[0] or {}, **(state[1] or {}))
        self.state = state if isinstance(state, dict) else {'state': state}

    def __repr__(self):
        return f'<inert {self.pickled_class}>'


def _reconstructor(cls, base, state):
    """``copyreg._reconstructor`` of protocols 0 and 1, without calling ``base``."""
    return cls.__new__(cls)


def _numpy_allowed():
    core = np._core if hasattr(np, '_core') else np.core
    allowed = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype,
               ('copyreg', '_reconstructor'): _reconstructor}
    for package in ('numpy.core', 'numpy._core'):
        allowed[(f'{package}.multiarray', '_reconstruct')] = core.multiarray._reconstruct
        allowed[(f'{package}.multiarray', 'scalar')] = core.multiarray.scalar
        allowed[(f'{package}.numeric', '_frombuffer')] = core.numeric._frombuffer
    for name in ('set', 'frozenset', 'list', 'dict', 'tuple', 'int', 'float', 'complex', 'bytes', 'bytearray',
                 'object', 'bool', 'str'):
        allowed[('builtins', name)] = allowed[('__builtin__', name)] = getattr(builtins, name)
    allowed[('collections', 'OrderedDict')] = dict
    allowed[('_codecs', 'encode')] = codecs.encode  # protocol 0 and 1 keep bytes as latin-1 text
    return allowed


class DataOnlyUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays and builtin containers; every other class or
    function named in the pickle is an :class:`Inert` stand-in."""
    allowed = _numpy_allowed()

    def __init__(self, file):
        super().__init__(file, encoding='latin1')  # Python 2 pickles (Chainer v1) hold arrays as str
        self._stand_ins = {}

    def find_class(self, module, name):
        if (module, name) in self.allowed:
            return self.allowed[(module, name)]
        key = f'{module}.{name}'
        if key not in self._stand_ins:
            self._stand_ins[key] = type(name, (Inert,), {'pickled_class': key})
        return self._stand_ins[key]


def unpickle_data_only(path):
    with open(path, 'rb') as handle:
        try:
            return DataOnlyUnpickler(handle).load()
        except Exception as error:  # a broken pickle fails in many ways; all mean the same to the user
            raise UserError(f'{path} is not a readable pickle ({type(error).__name__}: {error}); '
                            'pass the file the script wrote with pickle.dump') from None


# ---------------------------------------------------------------- a pickled link -> arrays
def _is_link(obj):
    return isinstance(obj, Inert) and '_params' in obj.state and '_persistent' in obj.state


def _variable_array(value, where):
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Inert):
        candidates = list(value.args[:1]) + [value.state.get('data'), value.state.get('_data')]
        for candidate in candidates:
            if isinstance(candidate, list) and candidate:  # v7 keeps Variable._data as [array]
                candidate = candidate[0]
            if isinstance(candidate, Inert) and candidate.pickled_class.startswith('cupy') and candidate.args:
                candidate = candidate.args[0]  # a CuPy array pickles as cupy...array(its NumPy copy)
            if isinstance(candidate, np.ndarray):
                return candidate
    if value is None:
        raise UserError(f'{where} was never initialised (no array in the pickle); '
                        'run one forward pass before pickling the model')
    raise UserError(f'{where} holds a {type(value).__name__}, not an array; the pickle is not a Chainer link')


def link_arrays(link, prefix=''):
    """{'l1/W': array, 'bn1/avg_mean': array, ...} of a pickled link, keyed as ``save_npz`` keys them."""
    state, arrays = link.state, {}
    for name in sorted(state['_params']):
        arrays[prefix + name] = _variable_array(state.get(name), prefix + name)
    for name in sorted(state['_persistent']):
        arrays[prefix + name] = np.asarray(state.get(name))
    children = state.get('_children', ())
    for index, child in enumerate(children if isinstance(children, list) else sorted(children)):
        name, child = (child, state.get(child)) if isinstance(child, str) else (str(index), child)
        if not _is_link(child):
            raise UserError(f'{prefix}{name} in the pickle is not a Chainer link; the file is not a pickled Chain')
        arrays.update(link_arrays(child, f'{prefix}{name}/'))
    return arrays


# ---------------------------------------------------------------- reading any source file
def _magic(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read(8)
    except OSError as error:
        raise UserError(f'cannot read {path}: {error.strerror}; pass an existing file') from None


def read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key.strip('/'): archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise UserError(f'{path} is not a readable save_npz file ({type(error).__name__}: {error})') from None


def read_hdf5(path):
    try:
        import h5py
    except ImportError:
        raise UserError(f'{path} is an HDF5 file and h5py is not installed; '
                        'pip install ".[hdf5]" (or h5py) and run again') from None
    arrays = {}
    with h5py.File(path, 'r') as handle:
        handle.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset)
                          else None)
    return {key: np.asarray(value) for key, value in arrays.items()}


def read_pickle(path, trust_pickle):
    if not trust_pickle:
        raise UserError(f'{path} is a pickle, a format that can run code when read; if you trust it, '
                        'pass --trust-pickle (it is then read data-only: its classes are not imported)')
    link = unpickle_data_only(path)
    if not _is_link(link):
        what = link.pickled_class if isinstance(link, Inert) else type(link).__name__
        raise UserError(f'{path} holds a {what}, not a pickled Chainer link; pickle the model itself '
                        '(pickle.dump(gen, f)) and pass that file')
    return link_arrays(link)


def read_source_arrays(path, trust_pickle=False):
    """The arrays of a legacy model file, keyed by the source's link names ('l1/W')."""
    magic = _magic(path)
    if magic.startswith(ZIP_MAGIC):
        return read_npz(path)
    if magic.startswith(HDF5_MAGIC):
        return read_hdf5(path)
    return read_pickle(path, trust_pickle)


def is_project_checkpoint(path):
    """A .pt file, or an .npz trainer snapshot of this project (it holds ``updater/meta``)."""
    from chainer_impl.checkpoint import META_KEY
    if path.endswith('.pt'):
        return True
    if not _magic(path).startswith(ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return f'{META_KEY}.npy' in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return path.endswith('.npz')  # a damaged snapshot: its reader says so


# ---------------------------------------------------------------- matching names and shapes
def project_config(model):
    from gan_common.datasets import value_range
    from gan_common.presets import default_preset, get_preset
    preset = default_preset(model)
    config = get_preset(model, preset)
    config.update(model=model, preset=preset, seed=0, dtype='float32', classes=None,
                  value_range=list(value_range(config['scaling'])))
    return config


def project_shapes(model, config):
    """{role: {save_npz key: shape}} of the project's Chainer networks."""
    from chainer_impl.checkpoint import state_of
    from chainer_impl.models import build_named_networks
    networks = build_named_networks({'model': model, 'config': config})
    return {role: {key: np.shape(value) for key, value in state_of(network).items()}
            for role, network in networks.items()}


def rename(arrays, names):
    """Rename each key's link with ``names``; None if a link is not in the map."""
    renamed = {}
    for key, value in arrays.items():
        link, _, leaf = key.partition('/')
        if link not in names:
            return None
        renamed[f'{names[link]}/{leaf}'] = value
    return renamed


def expected_keys(keys, names):
    """The project's ``keys`` as the file names them under ``names``."""
    theirs = {ours: source for source, ours in names.items()}
    return {f'{theirs[link]}/{leaf}' for link, leaf in (key.split('/', 1) for key in keys) if link in theirs}


def _namings(model, shapes):
    """(role, naming, {file link: project link}) for every way a file may name a network of ``model``."""
    for role, keys in shapes.items():
        if role in SOURCE_LINK_NAMES.get(model, {}):
            yield role, "the source's", SOURCE_LINK_NAMES[model][role]
        yield role, "this project's", {key.split('/')[0]: key.split('/')[0] for key in keys}


def _brief(keys):
    keys = sorted(keys)
    return ', '.join(keys[:4]) + (f' and {len(keys) - 4} more' if len(keys) > 4 else '') if keys else 'nothing'


def match_network(arrays, model, path):
    """(role, config, arrays under the project's names), or one line saying what differs."""
    config = project_config(model)
    shapes = project_shapes(model, config)
    closest = None
    for role, naming, names in _namings(model, shapes):
        renamed = rename(arrays, names)
        if renamed is not None and set(renamed) == set(shapes[role]):
            for key in arrays:
                ours = rename({key: None}, names).popitem()[0]
                if np.shape(arrays[key]) != shapes[role][ours]:
                    raise UserError(f'{path}: {key} (our {ours}) has shape {np.shape(arrays[key])}, the {model} '
                                    f'{ROLES[role]} needs {shapes[role][ours]}; the file holds another architecture')
            return role, config, renamed
        expected = expected_keys(shapes[role], names)
        missing, unexpected = expected - set(arrays), set(arrays) - expected
        if closest is None or len(missing) + len(unexpected) < closest[0]:
            closest = (len(missing) + len(unexpected), role, naming, missing, unexpected)
    _, role, naming, missing, unexpected = closest
    raise UserError(f'{path} does not hold a {model} network: against {naming} names of the {ROLES[role]} '
                    f'it lacks {_brief(missing)} and has unexpected {_brief(unexpected)}; '
                    'nothing is loaded by a name that merely looks right')


# ---------------------------------------------------------------- Chainer <= v1.20 batch normalisation
def fold_v1_20_bn(arrays, eps):
    """Test-mode BN of Chainer <= v1.20 divided by sqrt(var), 7.8.1 by sqrt(var + eps):
    store var - eps so 7.8.1 reproduces the old outputs; a variance below eps
    cannot be reproduced and is set to 0. Returns (arrays, channels clamped)."""
    folded, clamped = dict(arrays), 0
    for key, value in arrays.items():
        if key.endswith('/avg_var'):
            shifted = value - value.dtype.type(eps)
            clamped += int(np.sum(shifted < 0))
            folded[key] = np.maximum(shifted, 0).astype(value.dtype)
    return folded, clamped


# ---------------------------------------------------------------- writing the project's checkpoint
def imported_meta(model, config, role, src, v1_20_bn):
    """Meta of an imported checkpoint: it holds only ``role``'s network, and no training state."""
    return {'model': model, 'framework': None, 'config': config, 'networks': [role],
            'imported': {'from': os.path.basename(src), 'bn_test_eps': 'omitted (v1.20)' if v1_20_bn else 'added'}}


def write_chainer(dst, meta, role, arrays):
    from chainer_impl.checkpoint import META_KEY, MODEL_PREFIX, write_snapshot
    out = {META_KEY: np.array(json.dumps(dict(meta, framework='chainer')))}
    out.update({MODEL_PREFIX.format(role) + key: value for key, value in arrays.items()})
    write_snapshot(dst, out)


def write_torch(dst, meta, role, arrays):
    from bridge.transfer import chainer_state_to_torch
    from torch_impl.checkpoint import save_checkpoint
    from torch_impl.models import build_named_networks
    meta = dict(meta, framework='torch')
    module = build_named_networks(meta)[role]
    module.load_state_dict(chainer_state_to_torch(arrays, module))
    save_checkpoint({'meta': meta, 'model': {role: module.state_dict()}}, dst)


def import_legacy_model(src, dst, model, trust_pickle=False, v1_20_bn=False):
    """Read ``src`` (pickle, save_npz or save_hdf5 of one network), write the
    project's checkpoint ``dst`` (.npz or .pt); return (role, BN channels clamped)."""
    from gan_common.checkpoints import framework_of
    if model is None:
        raise UserError(f'{src} is not a checkpoint of this project; pass --model (e.g. --model dcgan) '
                        'to import it as that model\'s network')
    framework = framework_of(dst)
    role, config, arrays = match_network(read_source_arrays(src, trust_pickle), model, src)
    dtype = np.dtype(config['dtype'])
    arrays = {key: value.astype(dtype) if value.dtype.kind == 'f' else value for key, value in arrays.items()}
    clamped = 0
    if v1_20_bn:
        arrays, clamped = fold_v1_20_bn(arrays, bn_eps(model, config, role))
    meta = imported_meta(model, config, role, src, v1_20_bn)
    (write_chainer if framework == 'chainer' else write_torch)(dst, meta, role, arrays)
    return role, clamped


def bn_eps(model, config, role):
    """The eps that the project's Chainer network adds in test mode (one value for all its BNs)."""
    import chainer
    from chainer_impl.models import build_named_networks
    network = build_named_networks({'model': model, 'config': config})[role]
    values = {link.eps for link in network.links() if isinstance(link, chainer.links.BatchNormalization)}
    if len(values) != 1:
        raise UserError(f'--v1-20-batchnorm: the {model} {ROLES[role]} has no single BN eps to fold')
    return values.pop()
