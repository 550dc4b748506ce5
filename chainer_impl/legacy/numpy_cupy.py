"""A ``cupy`` that runs on NumPy, for ``--device cpu``: array functions are
NumPy's, devices and memory pools do nothing, and CUDA kernels (which NumPy
cannot run) stop with one line when called."""
import functools
import importlib.abc
import importlib.util
import sys
import types

import numpy

from chainer_impl.legacy import cupy_names
from chainer_impl.legacy.errors import RunnerStop
from chainer_impl.legacy.report import record, user_location


class Device:
    """``cupy.cuda.Device`` on the CPU: ``use()`` and ``with`` do nothing."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def use(self):
        return self

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __int__(self):
        return self.id

    def __repr__(self):
        return f'<CUDA Device {self.id} (on NumPy under --device cpu)>'


class _CudaKernel:
    """ElementwiseKernel, ReductionKernel, RawKernel, RawModule: built, never run."""

    def __init__(self, *args, **kwargs):
        self._kind = type(self).__name__

    def __call__(self, *args, **kwargs):
        file, line = user_location()
        raise RunnerStop(f'{file}:{line} runs a CUDA kernel (cupy.{self._kind}), which NumPy cannot run; '
                         f'run the script on a GPU with --device @cupy:N, or replace the kernel with array code')

    def get_function(self, name):
        return self


def _kernel_class(name):
    return type(name, (_CudaKernel,), {})


class _MemoryPool:
    def __init__(self, *args, **kwargs):
        pass

    def free_all_blocks(self):
        pass

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def malloc(self, size):
        raise RunnerStop('cupy memory pools allocate GPU memory; NumPy has none (drop the call under --device cpu)')


def memoize(for_each_device=False):
    def decorator(function):
        return functools.lru_cache(maxsize=None)(function)
    return decorator


class _NumpyBacked(types.ModuleType):
    """A module whose missing names are NumPy's."""

    def __init__(self, name, fallback):
        super().__init__(name)
        self._fallback = fallback

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return getattr(self._fallback, name)


# cupy.random's functions that take dtype= (NumPy's draw float64 only)
_RANDOM_WITH_DTYPE = ('rand', 'randn', 'random_sample', 'random', 'ranf', 'sample', 'uniform', 'normal',
                      'standard_normal', 'lognormal', 'exponential', 'standard_exponential', 'gamma',
                      'standard_gamma', 'beta', 'gumbel', 'laplace', 'logistic', 'chisquare', 'rayleigh',
                      'standard_cauchy', 'standard_t', 'triangular', 'vonmises', 'wald', 'weibull')


def _accepting_dtype(function):
    @functools.wraps(function)
    def draw(*args, dtype=None, **kwargs):
        values = function(*args, **kwargs)
        return values if dtype is None else numpy.asarray(values).astype(dtype, copy=False)
    return draw


def _random_module():
    random = _NumpyBacked('cupy.random', numpy.random)
    for name in _RANDOM_WITH_DTYPE:
        if hasattr(numpy.random, name):
            setattr(random, name, _accepting_dtype(getattr(numpy.random, name)))
    return random


def build():
    """The stand-in modules by name: cupy, cupy.cuda, cupy._core, cupyx, and NumPy's submodules."""
    cupy = _NumpyBacked('cupy', numpy)
    cupy.__version__ = '14.0.0+numpy'
    cupy.ndarray = numpy.ndarray
    cupy.asnumpy = lambda array, stream=None, order='C', out=None: numpy.asarray(array, order=order)
    cupy.get_array_module = lambda *args: numpy
    cupy.fuse = lambda *args, **kwargs: (args[0] if args and callable(args[0]) else (lambda function: function))
    cupy.memoize = memoize
    cupy.get_default_memory_pool = cupy.get_default_pinned_memory_pool = lambda: _MemoryPool()
    for name in ('ElementwiseKernel', 'ReductionKernel', 'RawKernel', 'RawModule'):
        setattr(cupy, name, _kernel_class(name))

    cuda = types.ModuleType('cupy.cuda')
    cuda.Device = Device
    cuda.get_device_id = lambda: 0
    cuda.MemoryPool = cuda.PinnedMemoryPool = _MemoryPool
    cuda.set_allocator = cuda.set_pinned_memory_allocator = lambda *args, **kwargs: None
    cuda.Stream = type('Stream', (), {'synchronize': lambda self: None, 'use': lambda self: self,
                                      '__init__': lambda self, *args, **kwargs: None})
    cuda.Stream.null = cuda.Stream()
    cuda.memory = types.ModuleType('cupy.cuda.memory')
    cuda.memory.MemoryPool = _MemoryPool
    cupy.cuda = cuda

    cupy.random = _random_module()
    core = _NumpyBacked('cupy._core', cupy)
    cupy._core = core
    cupyx = types.ModuleType('cupyx')
    cupyx.scatter_add = lambda a, slices, value: numpy.add.at(a, slices, value)
    aliases = cupy_names.install(cupy, cupyx)
    modules = {'cupy': cupy, 'cupy.cuda': cuda, 'cupy.cuda.memory': cuda.memory, 'cupy._core': core,
               'cupyx': cupyx, 'cupy.random': cupy.random, 'cupy.linalg': numpy.linalg, 'cupy.fft': numpy.fft}
    modules.update(aliases)
    return modules


class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``import cupy`` (and its submodules) from the stand-in, reporting where."""

    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        if spec.name in ('cupy', 'cupyx'):
            record('cupy_on_numpy', f'import {spec.name}')
        return self.modules[spec.name]

    def exec_module(self, module):
        pass


def install():
    """Make ``import cupy`` give the stand-in; return its top module."""
    for name in [n for n in sys.modules if n == 'cupy' or n.startswith(('cupy.', 'cupyx'))]:
        del sys.modules[name]  # Chainer keeps its own references; the script gets the stand-in
    modules = build()
    sys.meta_path.insert(0, Finder(modules))
    return modules['cupy']
