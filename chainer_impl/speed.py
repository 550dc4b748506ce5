"""Speed settings for Chainer on a CPU that change no result: the number of
BLAS threads NumPy's OpenBLAS uses (Chainer's convolutions, deconvolutions
and linear layers are NumPy matrix products), settable after NumPy is
imported, and the ``chainer.config`` settings measured by ``benchmark --tuned``."""
import ctypes
import glob
import os

import numpy as np

# chainer.config keys that skip work without changing a number (measured in the README)
FAST_CONFIG = {'type_check': False}


def _openblas():
    """NumPy's bundled OpenBLAS (scipy-openblas) and its thread setter, or (None, None)."""
    folder = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), 'numpy.libs')
    for path in glob.glob(os.path.join(folder, '*openblas*.so*')):
        library = ctypes.CDLL(path)
        for name in ('scipy_openblas_set_num_threads64_', 'openblas_set_num_threads64_',
                     'openblas_set_num_threads'):
            if hasattr(library, name):
                return library, getattr(library, name)
    return None, None


def set_blas_threads(n):
    """Use ``n`` BLAS threads from now on; False where NumPy's BLAS offers no setter."""
    _, setter = _openblas()
    if setter is None:
        return False
    setter(ctypes.c_int(n))
    return True


def blas_threads():
    library, _ = _openblas()
    for name in ('scipy_openblas_get_num_threads64_', 'openblas_get_num_threads64_', 'openblas_get_num_threads'):
        if library is not None and hasattr(library, name):
            return int(getattr(library, name)())
    return None
