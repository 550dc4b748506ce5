"""Not Chainer: what scripts of that era hit in the libraries around it, each
mapped use reported under 'outside Chainer'.

* matplotlib before 3.3 ignored keyword arguments of ``savefig`` it did not
  know (``papertype``, ``frameon``, typos); today's raises TypeError;
* NumPy 1.24 and 2.0 removed aliases old scripts use (``numpy.float``,
  ``numpy.int``, ``numpy.product``, ...)."""
import re

import numpy

from chainer_impl.legacy.report import record

NUMPY_ALIASES = {
    'float': float, 'int': int, 'bool': bool, 'object': object, 'str': str, 'long': int, 'unicode': str,
    'complex': complex, 'float_': numpy.float64, 'complex_': numpy.complex128, 'unicode_': numpy.str_,
    'string_': numpy.bytes_, 'Inf': numpy.inf, 'Infinity': numpy.inf, 'NaN': numpy.nan, 'NAN': numpy.nan,
    'product': numpy.prod, 'cumproduct': numpy.cumprod, 'alltrue': numpy.all, 'sometrue': numpy.any,
    'round_': numpy.round, 'asscalar': lambda a: a.item(),
}
_UNEXPECTED_KEYWORD = re.compile(r"unexpected keyword argument '(\w+)'")


def _install_numpy_aliases():
    original = numpy.__dict__.get('__getattr__')

    def __getattr__(name):
        if name in NUMPY_ALIASES:
            record('numpy_alias', f'numpy.{name}')
            return NUMPY_ALIASES[name]
        if original is None:
            raise AttributeError(f"module 'numpy' has no attribute {name!r}")
        return original(name)
    numpy.__getattr__ = __getattr__


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


def install():
    _install_numpy_aliases()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    _install_savefig()
