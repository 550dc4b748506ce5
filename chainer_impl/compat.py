"""Make Chainer 7.8.1 import and behave on today's Python, NumPy and setuptools.

Imported by ``chainer_impl/__init__.py`` before anything imports ``chainer``,
so ``import chainer_impl`` is all a user script needs. Each patch is applied
only where the running stack lacks what Chainer expects:

* ``numpy.sctypes`` (removed in NumPy 2.0; Chainer reads it at import time and
  in the gradient of ``as_strided``);
* ``numpy.distutils.system_info`` (absent on Python >= 3.12, and broken on
  NumPy 1.26 with setuptools >= 74; Chainer's environment check imports it and
  uses it only on macOS);
* ``pkg_resources`` (removed in setuptools 81; Chainer asks it whether CuPy and
  iDeep are installed);
* the reporter's summaries, which NumPy 2's promotion rules (NEP 50) make
  accumulate float32 values in float32; they are made to accumulate in
  float64 as they did under NumPy 1;
* ``numpy.float`` (removed in NumPy 1.24), which ``F.resize_images`` passes as
  a dtype; the one helper that does so sees a view of NumPy that still has it;
* a Python int padding out of range for an integer dtype (``padding=-1`` on
  uint8) in ``F.pad_sequence`` and ``concat_examples``, which NumPy 1 stored
  wrapped around (``F.pad_sequence`` with a DeprecationWarning) and NumPy 2
  refuses with an OverflowError; and ``concat_examples``' padding path calls
  ``numpy.maximum(a, b, out)`` with ``out`` positional, deprecated in NumPy 2.4;
* on a GPU stack, the CuPy names Chainer 7.8.1 reads that CuPy has deprecated
  or may drop (``keep_cupy_names_chainer_uses``, audited against CuPy 14.2).
* ``numpy.product`` (removed in NumPy 2.0), which Chainer's own tests call;
* ``xp.array(v, copy=False, dtype=...)`` in ChainerMN's ``unpack_params``,
  which NumPy 2 (and CuPy 14) turn into an error whenever the dtype changes;
  that function sees an ``array`` that copies when it must, as NumPy 1 did.
  ChainerMN needs mpi4py, so this one is applied when the module is imported;
* mpi4py's private ``MPI._typedict``, which ChainerMN reads at import time:
  ``prepare_chainermn()`` (called by ``chainer_impl.distributed`` before it
  imports ChainerMN) checks it and fills it from the public datatypes where
  an mpi4py lacks it.
"""
import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import sys
import types
import warnings

import numpy as np


def _restore_sctypes():
    if 'sctypes' in np.__dict__:
        return
    np.sctypes = {
        'int': [np.int8, np.int16, np.int32, np.int64],
        'uint': [np.uint8, np.uint16, np.uint32, np.uint64],
        'float': [np.float16, np.float32, np.float64, np.longdouble],
        'complex': [np.complex64, np.complex128, np.clongdouble],
        'others': [bool, object, bytes, str, np.void],
    }


def _stand_in_for_numpy_distutils():
    try:
        import numpy.distutils.system_info  # noqa: F401
        return
    except Exception:
        pass
    for name in [n for n in sys.modules if n.startswith('numpy.distutils')]:
        del sys.modules[name]
    system_info = types.ModuleType('numpy.distutils.system_info')
    system_info.get_info = lambda name, notfound_action=0: {}
    distutils = types.ModuleType('numpy.distutils')
    distutils.system_info = system_info
    sys.modules['numpy.distutils'] = distutils
    sys.modules['numpy.distutils.system_info'] = system_info


class _DistributionNotFound(Exception):
    pass


class _VersionConflict(Exception):
    pass


class _Distribution:
    def __init__(self, name):
        self.project_name = name
        self.version = importlib.metadata.version(name)


def _get_distribution(requirement):
    name = str(requirement).split('<')[0].split('>')[0].split('=')[0].strip()
    try:
        return _Distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise _DistributionNotFound(requirement) from None


def _stand_in_for_pkg_resources():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            import pkg_resources  # noqa: F401
        return
    except Exception:
        pass
    module = types.ModuleType('pkg_resources')
    module.DistributionNotFound = _DistributionNotFound
    module.VersionConflict = _VersionConflict
    module.get_distribution = _get_distribution
    module.require = lambda requirement: [_get_distribution(requirement)]
    sys.modules['pkg_resources'] = module


def _widen_to_float64(value):
    dtype = getattr(value, 'dtype', None)
    if dtype is not None and dtype.kind == 'f' and dtype.itemsize < 8:
        return value.astype('float64')
    return value


def _accumulate_summaries_in_float64():
    from chainer import reporter
    if getattr(reporter.Summary.add, 'widens_to_float64', False):
        return
    original_add = reporter.Summary.add

    def add(self, value, weight=1):
        original_add(self, _widen_to_float64(value), weight)

    add.widens_to_float64 = True
    reporter.Summary.add = add


def _give_resize_images_numpy_float():
    # F.resize_images passes dtype=numpy.float, removed in NumPy 1.24 (AttributeError on NumPy 2)
    module = importlib.import_module('chainer.functions.array.resize_images')
    compute = module.compute_indices_and_weights
    if hasattr(compute.__globals__['numpy'], 'float'):
        return
    view = types.ModuleType('numpy')  # NumPy plus the alias, seen only by that function
    view.__getattr__ = lambda name: getattr(np, name)
    view.float = float
    module.compute_indices_and_weights = types.FunctionType(
        compute.__code__, dict(compute.__globals__, numpy=view), compute.__name__,
        compute.__defaults__, compute.__closure__)


def integer_as_numpy1(value, dtype):
    """``value`` as NumPy 1 stored it into an array of ``dtype``: a Python int
    out of the dtype's range wraps around (NumPy 2 raises OverflowError);
    anything else is returned unchanged."""
    dtype = np.dtype(dtype)
    if type(value) is not int or dtype.kind not in 'iu':
        return value
    info = np.iinfo(dtype)
    if info.min <= value <= info.max or not -2**63 <= value < 2**63:
        return value
    return np.array(value, dtype=np.int64).astype(dtype)[()]


def _let_pad_sequence_wrap_integer_padding():
    pad_sequence = importlib.import_module('chainer.functions.array.pad_sequence')
    original_forward = pad_sequence.PadSequence.forward
    if getattr(original_forward, 'wraps_like_numpy1', False):
        return

    def forward(self, xs):
        wrapped = integer_as_numpy1(self.padding, xs[0].dtype)
        if wrapped is not self.padding:  # NumPy 1 warned here (it was to become an error)
            warnings.warn(f'padding {self.padding} is out of range for {xs[0].dtype}: stored as {wrapped}, '
                          'as NumPy 1 did (NumPy 2 refuses it); pass a value the dtype can hold',
                          DeprecationWarning, stacklevel=3)
            self.padding = wrapped
        return original_forward(self, xs)

    forward.wraps_like_numpy1 = True
    pad_sequence.PadSequence.forward = forward


def _maximum_with_positional_out(a, b, out=None, **kwargs):
    return np.maximum(a, b, out=out, **kwargs)


def _let_concat_examples_pad_as_under_numpy1():
    convert = importlib.import_module('chainer.dataset.convert')
    original = convert._concat_arrays_with_padding
    if getattr(original, 'wraps_like_numpy1', False):
        return
    # it calls numpy.maximum(a, b, out) with out positional: deprecated in NumPy 2.4
    view = types.ModuleType('numpy')  # NumPy with that maximum, seen only by this function
    view.__getattr__ = lambda name: getattr(np, name)
    view.maximum = _maximum_with_positional_out
    pad = types.FunctionType(original.__code__, dict(original.__globals__, numpy=view), original.__name__,
                             original.__defaults__, original.__closure__)

    def concat_arrays_with_padding(arrays, padding):  # NumPy 1's numpy.full wrapped silently
        return pad(arrays, integer_as_numpy1(padding, arrays[0].dtype))

    concat_arrays_with_padding.wraps_like_numpy1 = True
    convert._concat_arrays_with_padding = concat_arrays_with_padding


# ---------------------------------------------------------------- CuPy 14
# Audit of every cupy / cupyx name Chainer 7.8.1 uses, against CuPy 14.2:
# all are present except ``cupy.cudnn`` (CuPy 14 has no cuDNN module; Chainer
# then sets ``cuda.cudnn_enabled = False`` and runs its own kernels, which is
# what this project tests), and ``cupy.cuda.nvtx_enabled`` only answers
# through a deprecated module ``__getattr__`` (a DeprecationWarning each time,
# "removed in a future release"; Chainer's CUDAProfileHook reads it). The
# stand-ins below apply only where a name is missing, so a CuPy that drops
# one keeps Chainer on the GPU instead of failing at that call; for
# ``cupy._util.PerformanceWarning`` that failure would be silent: Chainer
# would import with ``cuda.available = False`` and run on the CPU.
def _scatter_add(cupy):
    def scatter_add(a, slices, value):
        cupy.add.at(a, slices, value)
    return scatter_add


def _rsqrt(cupy):
    def rsqrt(x, dtype=None):
        return cupy.reciprocal(cupy.sqrt(x, dtype=dtype))
    return rsqrt


class _PerformanceWarning(RuntimeWarning):
    pass


def keep_cupy_names_chainer_uses(cupy, cupyx):
    """Give ``cupy`` / ``cupyx`` (the modules, or stand-ins in tests) every
    name Chainer 7.8.1 reads that they lack; returns the names added."""
    added = []

    def ensure(owner, name, make, deprecated_lookup=False):
        if name in vars(owner) or (not deprecated_lookup and hasattr(owner, name)):
            return
        setattr(owner, name, make())
        added.append(f'{owner.__name__}.{name}')

    ensure(cupyx, 'scatter_add', lambda: _scatter_add(cupy))
    ensure(cupyx, 'rsqrt', lambda: _rsqrt(cupy))
    nvtx = getattr(cupy.cuda, 'nvtx', None)
    ensure(cupy.cuda, 'nvtx_enabled', lambda: bool(getattr(nvtx, 'available', nvtx is not None)),
           deprecated_lookup=True)
    util = sys.modules.get('cupy._util')
    if util is None:
        util = types.ModuleType('cupy._util')
        sys.modules['cupy._util'] = cupy._util = util
    ensure(util, 'PerformanceWarning', lambda: _PerformanceWarning)
    return added


def _prepare_cupy_for_chainer():
    try:
        import cupy
        import cupyx
    except Exception:  # no GPU stack: nothing to prepare
        return []
    return keep_cupy_names_chainer_uses(cupy, cupyx)


def _restore_product():
    """Served by the module's ``__getattr__``, not stored in it, so that the
    legacy runner can still see (and report) a script's use of the name."""
    if hasattr(np, 'product'):
        return
    numpys_own = np.__dict__.get('__getattr__')

    def __getattr__(name):
        if name == 'product':
            return np.prod
        if numpys_own is None:
            raise AttributeError(f"module 'numpy' has no attribute {name!r}")
        return numpys_own(name)
    np.__getattr__ = __getattr__


def _copying_when_needed(xp):
    """``xp`` whose ``array(copy=False)`` means NumPy 1's 'copy only if needed'."""
    if not (xp is np or xp.__name__ == 'cupy'):
        return xp
    view = types.ModuleType(xp.__name__)
    view.__getattr__ = lambda name: getattr(xp, name)
    view.array = lambda obj, *args, copy=True, **kwargs: xp.array(
        obj, *args, copy=None if copy is False else copy, **kwargs)
    return view


def _let_chainermn_unpack_cast(module):
    unpack = module.unpack_params
    if getattr(unpack, 'copies_when_needed', False):
        return
    chainer_view = types.ModuleType('chainer')  # chainer, except get_array_module, seen only by unpack_params
    chainer_view.__getattr__ = lambda name: getattr(sys.modules['chainer'], name)
    chainer_view.backend = types.ModuleType('chainer.backend')
    chainer_view.backend.__getattr__ = lambda name: getattr(sys.modules['chainer.backend'], name)
    chainer_view.backend.get_array_module = lambda *arrays: _copying_when_needed(
        sys.modules['chainer.backend'].get_array_module(*arrays))
    patched = types.FunctionType(unpack.__code__, dict(unpack.__globals__, chainer=chainer_view),
                                 unpack.__name__, unpack.__defaults__, unpack.__closure__)
    patched.copies_when_needed, patched.__wrapped__ = True, unpack
    module.unpack_params = patched


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``patch(module)`` once the module ``name`` has been executed."""

    def __init__(self, name, patch):
        self.name, self.patch = name, patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module, patch = spec.loader.exec_module, self.patch

        def exec_then_patch(module):
            exec_module(module)
            patch(module)
        spec.loader.exec_module = exec_then_patch
        return spec


def _after_import(name, patch):
    if name in sys.modules:
        patch(sys.modules[name])
    elif not any(isinstance(f, _AfterImport) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(name, patch))


# ---------------------------------------------------------------- ChainerMN
MPI_TYPECODES = {'i': np.int32, 'l': np.int64, 'f': np.float32, 'd': np.float64}  # what ChainerMN looks up


def _give_mpi4py_typedict():
    from mpi4py import MPI
    public = {'i': MPI.INT, 'l': MPI.LONG, 'f': MPI.FLOAT, 'd': MPI.DOUBLE}
    typedict = getattr(MPI, '_typedict', None)
    if typedict is None:
        typedict = MPI._typedict = {}
    for code, dtype in MPI_TYPECODES.items():
        if code not in typedict:
            typedict[code] = public[code]
        if typedict[code].Get_size() != np.dtype(dtype).itemsize:
            raise ImportError(f'mpi4py maps {code!r} to {typedict[code].Get_size()} bytes, '
                              f'ChainerMN expects {np.dtype(dtype)}; install the pinned mpi4py')


def prepare_chainermn():
    """Import ChainerMN with mpi4py's ``_typedict`` checked; returns the module
    (its ``unpack_params`` is patched on import, see ``_let_chainermn_unpack_cast``)."""
    _give_mpi4py_typedict()
    import chainermn
    return chainermn


def install():
    """Apply every patch, then import Chainer; safe to call more than once."""
    _restore_sctypes()
    _restore_product()
    _stand_in_for_numpy_distutils()
    _stand_in_for_pkg_resources()
    _prepare_cupy_for_chainer()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        import chainer  # noqa: F401
    _accumulate_summaries_in_float64()
    _give_resize_images_numpy_float()
    _let_pad_sequence_wrap_integer_padding()
    _let_concat_examples_pad_as_under_numpy1()
    _after_import('chainermn.communicators._memory_utility', _let_chainermn_unpack_cast)


install()
