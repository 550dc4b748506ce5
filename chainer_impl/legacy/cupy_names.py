"""CuPy names that Chainer-era scripts use and CuPy 14 removed or moved, put
back on a CuPy module (the real one, or the NumPy stand-in) as reported aliases."""
import importlib.util
import types
import warnings

from chainer_impl.legacy.report import record


def _has(module, name):
    """Whether ``module`` has ``name``, as an attribute or as a submodule not yet imported."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if name in vars(module):
            return True
        if not hasattr(module, '__path__'):
            return False
        try:
            return importlib.util.find_spec(f'{module.__name__}.{name}') is not None
        except (ImportError, ValueError):
            return False


class _ReportingAlias(types.ModuleType):
    """A module name that forwards to ``target`` and reports the first use at each place."""

    def __init__(self, name, target, key, api):
        super().__init__(name)
        self._target, self._key, self._api = target, key, api

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        record(self._key, f'{self._api}.{name}')
        return getattr(self._target, name)


def _compile_with_cache(cupy):
    def compile_with_cache(source, options=(), arch=None, cache_dir=None, extra_source=None, **kwargs):
        record('cupy_compile_with_cache', 'cupy.cuda.compile_with_cache(...)')
        return cupy.RawModule(code=source, options=tuple(options))
    return compile_with_cache


def _scatter_add(cupy, cupyx):
    def scatter_add(a, slices, value):
        record('cupy_scatter_add', 'cupy.scatter_add(...)')
        if cupyx is not None and hasattr(cupyx, 'scatter_add'):
            return cupyx.scatter_add(a, slices, value)
        return cupy.add.at(a, slices, value)
    return scatter_add


def install(cupy, cupyx=None):
    """Give ``cupy`` the old names it lacks; return the submodules added, by
    full name, for the caller to put in ``sys.modules``."""
    added = {}
    if not _has(cupy, 'util'):
        cupy.util = added[f'{cupy.__name__}.util'] = _ReportingAlias(
            f'{cupy.__name__}.util', cupy, 'cupy_util_memoize', 'cupy.util')
    if not _has(cupy.cuda, 'compile_with_cache'):
        cupy.cuda.compile_with_cache = _compile_with_cache(cupy)
    if not _has(cupy, 'core') and hasattr(cupy, '_core'):
        cupy.core = added[f'{cupy.__name__}.core'] = _ReportingAlias(
            f'{cupy.__name__}.core', cupy._core, 'cupy_core', 'cupy.core')
    if not _has(cupy, 'scatter_add'):
        cupy.scatter_add = _scatter_add(cupy, cupyx)
    return added
