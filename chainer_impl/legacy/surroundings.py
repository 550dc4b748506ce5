"""Not Chainer: what scripts of that era hit in the libraries around it, each
mapped use reported under 'outside Chainer'.

* matplotlib before 3.3 ignored keyword arguments of ``savefig`` it did not
  know (``papertype``, ``frameon``, typos); today's raises TypeError;
* NumPy 1.24 and 2.0 removed aliases old scripts use (``numpy.float``,
  ``numpy.int``, ``numpy.product``, ...);
* Pillow 10 removed ``Image.ANTIALIAS``, ``Image.LINEAR`` and ``Image.CUBIC``;
* Python 3.8 removed ``time.clock`` and 3.10 the ABCs in ``collections``;
* Pillow replaced PIL's top-level ``import Image`` by ``from PIL import Image``;
* SciPy 1.2-1.3 removed ``scipy.misc.imsave`` and its image friends (see
  ``scipy_misc``); without SciPy installed, ``scipy.misc`` holds only those."""
import functools
import importlib.util
import re
import sys
import types

import numpy

from chainer_impl.legacy.report import record

NUMPY_ALIASES = {
    'float': float, 'int': int, 'bool': bool, 'object': object, 'str': str, 'long': int, 'unicode': str,
    'complex': complex, 'float_': numpy.float64, 'complex_': numpy.complex128, 'unicode_': numpy.str_,
    'string_': numpy.bytes_, 'Inf': numpy.inf, 'Infinity': numpy.inf, 'NaN': numpy.nan, 'NAN': numpy.nan,
    'product': numpy.prod, 'cumproduct': numpy.cumprod, 'alltrue': numpy.all, 'sometrue': numpy.any,
    'round_': numpy.round, 'asscalar': lambda a: a.item(), 'bool8': numpy.bool_, 'int0': numpy.intp,
    'uint0': numpy.uintp, 'msort': lambda a: numpy.sort(a, axis=0), 'trapz': getattr(numpy, 'trapezoid', None),
    'in1d': numpy.isin, 'rank': numpy.ndim, 'NINF': -numpy.inf, 'PINF': numpy.inf, 'NZERO': -0.0, 'PZERO': 0.0,
    'infty': numpy.inf, 'longfloat': numpy.longdouble, 'cfloat': numpy.complex128, 'singlecomplex': numpy.complex64,
    'longcomplex': numpy.clongdouble, 'clongfloat': numpy.clongdouble, 'mat': numpy.asmatrix,
}
PILLOW_CONSTANTS = {'ANTIALIAS': 'LANCZOS', 'LINEAR': 'BILINEAR', 'CUBIC': 'BICUBIC'}
COLLECTIONS_ABCS = ('Iterable', 'Iterator', 'Mapping', 'MutableMapping', 'Sequence', 'MutableSequence',
                    'Callable', 'Hashable', 'Sized', 'Container', 'Set', 'MutableSet', 'Generator')
OLD_PIL_MODULES = ('Image', 'ImageDraw', 'ImageFont', 'ImageOps', 'ImageFilter', 'ImageEnhance', 'ImageChops')
_UNEXPECTED_KEYWORD = re.compile(r"unexpected keyword argument '(\w+)'")


def _add_module_aliases(module, aliases, key):
    """Serve ``aliases`` (name -> a function giving the value) as attributes
    ``module`` no longer has, each use reported under ``key``."""
    original = module.__dict__.get('__getattr__')

    def __getattr__(name):
        if name in aliases and aliases[name]() is not None:
            record(key, f'{module.__name__}.{name}')
            return aliases[name]()
        if original is None:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        return original(name)
    module.__getattr__ = __getattr__


def _install_module_aliases():
    import collections
    import collections.abc
    import time
    _add_module_aliases(numpy, {name: (lambda value=value: value) for name, value in NUMPY_ALIASES.items()},
                        'numpy_alias')
    _add_module_aliases(time, {'clock': lambda: time.perf_counter}, 'python_removed')
    _add_module_aliases(collections, {name: (lambda name=name: getattr(collections.abc, name))
                                      for name in COLLECTIONS_ABCS}, 'python_removed')
    try:
        from PIL import Image
    except ImportError:
        return
    _add_module_aliases(Image, {old: (lambda new=new: getattr(Image, new))
                                for old, new in PILLOW_CONSTANTS.items()}, 'pillow_constant')


class _OldPilFinder:
    """``import Image`` (PIL before Pillow, common in Python 2 scripts) gives ``PIL.Image``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in OLD_PIL_MODULES or importlib.util.find_spec(f'PIL.{fullname}') is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        record('old_pil', f'import {spec.name}')
        return importlib.import_module(f'PIL.{spec.name}')

    def exec_module(self, module):
        pass


def _install_savefig():
    from matplotlib.figure import Figure
    original = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        while True:
            try:
                return original(self, fname, *args, **kwargs)
            except TypeError as error:
                match = _UNEXPECTED_KEYWORD.search(str(error))
                if not match or match.group(1) not in kwargs:
                    raise
                record('savefig_kwargs', f'savefig(..., {match.group(1)}=...)')
                kwargs.pop(match.group(1))
    Figure.savefig = savefig


def _recorded(name, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        record('scipy_misc', f'scipy.misc.{name}(...)')
        return function(*args, **kwargs)
    return wrapper


def _install_scipy_misc():
    from chainer_impl.legacy import scipy_misc
    if importlib.util.find_spec('scipy') is None:
        scipy = types.ModuleType('scipy')
        scipy.__path__ = []  # a package: ``import scipy.misc`` looks in sys.modules, other parts are missing
        sys.modules['scipy'] = scipy
    import scipy
    if importlib.util.find_spec('scipy.misc') is not None:
        import scipy.misc as misc
    else:  # SciPy without scipy.misc, or the stand-in package above
        misc = scipy.misc = sys.modules['scipy.misc'] = types.ModuleType('scipy.misc')
    for name, function in scipy_misc.FUNCTIONS.items():
        if not hasattr(misc, name):
            setattr(misc, name, _recorded(name, function))


def install():
    _install_module_aliases()
    sys.meta_path.append(_OldPilFinder())
    _install_scipy_misc()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    _install_savefig()
