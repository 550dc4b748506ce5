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
  a dtype; the one helper that does so sees a view of NumPy that still has it.

``prepare_chainermn()`` (called by ``chainer_impl.distributed`` before it
imports ChainerMN, which needs mpi4py) handles ChainerMN's two problems:

* it reads mpi4py's private ``MPI._typedict`` at import time (checked, and
  filled from the public datatypes where an mpi4py lacks it);
* its ``unpack_params`` calls ``xp.array(..., copy=False, dtype=...)`` to cast
  gradients to the transfer dtype, which NumPy 2 (and CuPy 14) refuse when the
  cast needs a copy; it is replaced by one that copies only when needed, as
  ``copy=False`` meant under NumPy 1.
"""
import importlib
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


def unpack_params_copying_when_needed(params, attr_name, buffer, transfer_dtype, zero_fill, stream=None):
    """ChainerMN's ``_memory_utility.unpack_params`` (pack each parameter's
    ``attr_name`` array into ``buffer``, cast to ``transfer_dtype``, one after
    another), casting with ``asarray``: NumPy 2 and CuPy 14 raise on
    ``array(..., copy=False)`` whenever the cast must copy."""
    offset = 0
    for param in params:
        array = getattr(param, attr_name)
        if array is None and attr_name == 'grad' and zero_fill:
            array = param.xp.empty_like(param.data)
            setattr(param, attr_name, array)
        nbytes = array.size * np.dtype(transfer_dtype).itemsize
        cast = array if array.dtype == transfer_dtype else param.xp.asarray(array, dtype=transfer_dtype)
        buffer.to_device(cast, nbytes, offset, stream)
        offset += nbytes
        if cast is not array:
            getattr(param, attr_name)[...] = cast.astype(array.dtype)  # as ChainerMN: write the cast back


def prepare_chainermn():
    """Import ChainerMN with its mpi4py and NumPy 2 problems handled; returns the module."""
    _give_mpi4py_typedict()
    import chainermn
    from chainermn.communicators import _memory_utility  # its users call it through the module
    _memory_utility.unpack_params = unpack_params_copying_when_needed
    return chainermn


def install():
    """Apply every patch, then import Chainer; safe to call more than once."""
    _restore_sctypes()
    _stand_in_for_numpy_distutils()
    _stand_in_for_pkg_resources()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        import chainer  # noqa: F401
    _accumulate_summaries_in_float64()
    _give_resize_images_numpy_float()


install()
