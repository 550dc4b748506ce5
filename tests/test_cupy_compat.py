"""``compat.keep_cupy_names_chainer_uses`` against stand-in CuPy modules (no
GPU needed): a CuPy 14-like one, one that has dropped the names Chainer
reads, and Chainer 7.8.1 importing on top of the latter."""
import subprocess
import sys
import textwrap
import warnings

import numpy as np

from chainer_impl.compat import keep_cupy_names_chainer_uses
from tests.helpers import REPO

# Builds stand-in ``cupy``/``cupyx`` modules on NumPy; with ``CUPY_14`` the
# names CuPy 14.2 has, without it a CuPy that dropped them.
STAND_IN = textwrap.dedent('''
    import sys, types, warnings
    import numpy as np

    def stand_in_cupy(cupy_14):
        cupy = types.ModuleType('cupy')
        cupy.__version__ = '14.2.0'
        cupy.__path__ = []
        for name in ('add', 'sqrt', 'reciprocal', 'ndarray', 'asarray'):
            setattr(cupy, name, getattr(np, name))
        cupy.memoize = lambda for_each_device=False: (lambda f: f)

        class Anything:  # whatever else Chainer builds at import (kernels, memory pools)
            def __call__(self, *args, **kwargs):
                return self

        def anything(name):
            if name.startswith('_'):
                raise AttributeError(name)
            return Anything()
        cupy.__getattr__ = anything
        cuda = types.ModuleType('cupy.cuda')
        cuda.__path__ = []
        cuda.nvtx = types.SimpleNamespace(available=True)
        for name in ('Device', 'Event', 'Stream'):
            setattr(cuda, name, type(name, (), {}))

        def deprecated(key):  # CuPy 14's module __getattr__ for the flag
            if key == 'nvtx_enabled':
                warnings.warn('cupy.cuda.nvtx_enabled has been deprecated', DeprecationWarning)
                return True
            raise AttributeError(key)
        cuda.__getattr__ = deprecated
        cuda.cublas = types.ModuleType('cupy.cuda.cublas')
        cupy.cuda = cuda
        cupyx = types.ModuleType('cupyx')
        cupyx.__path__ = []
        cupyx.scipy = types.ModuleType('cupyx.scipy')
        cupyx.scipy.__path__ = []
        cupyx.scipy.linalg = types.ModuleType('cupyx.scipy.linalg')
        cupyx.scipy.special = types.ModuleType('cupyx.scipy.special')
        modules = {'cupy': cupy, 'cupy.cuda': cuda, 'cupy.cuda.cublas': cuda.cublas, 'cupyx': cupyx,
                   'cupyx.scipy': cupyx.scipy, 'cupyx.scipy.linalg': cupyx.scipy.linalg,
                   'cupyx.scipy.special': cupyx.scipy.special}
        if cupy_14:
            util = types.ModuleType('cupy._util')
            util.PerformanceWarning = type('PerformanceWarning', (RuntimeWarning,), {})
            cupy._util = modules['cupy._util'] = util
            cupyx.scatter_add = lambda a, slices, value: np.add.at(a, slices, value)
            cupyx.rsqrt = lambda x, dtype=None: 1 / np.sqrt(x)
        return cupy, cupyx, modules
''')


def stand_in(cupy_14):
    namespace = {}
    exec(STAND_IN, namespace)
    return namespace['stand_in_cupy'](cupy_14)


def test_cupy_14_gets_only_a_plain_nvtx_flag(monkeypatch):
    cupy, cupyx, modules = stand_in(cupy_14=True)
    monkeypatch.setitem(sys.modules, 'cupy._util', modules['cupy._util'])
    scatter_add = cupyx.scatter_add
    added = keep_cupy_names_chainer_uses(cupy, cupyx)
    print('added to a CuPy 14 stand-in:', added)
    assert added == ['cupy.cuda.nvtx_enabled']
    assert cupyx.scatter_add is scatter_add
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the deprecated lookup would raise here
        assert cupy.cuda.nvtx_enabled is True


def test_a_cupy_without_the_names_gets_working_stand_ins(monkeypatch):
    cupy, cupyx, modules = stand_in(cupy_14=False)
    monkeypatch.delitem(sys.modules, 'cupy._util', raising=False)
    added = keep_cupy_names_chainer_uses(cupy, cupyx)
    print('added to a stand-in without them:', added)
    assert set(added) == {'cupyx.scatter_add', 'cupyx.rsqrt', 'cupy.cuda.nvtx_enabled',
                          'cupy._util.PerformanceWarning'}
    a = np.zeros(4, np.float32)
    cupyx.scatter_add(a, np.array([1, 1, 3]), np.float32(2))
    assert a.tolist() == [0, 4, 0, 2]  # repeated indices add up, as numpy.add.at
    x = np.array([4.0, 0.25], np.float32)
    assert cupyx.rsqrt(x, dtype=x.dtype).tolist() == [0.5, 2.0]
    assert issubclass(cupy._util.PerformanceWarning, Warning)
    assert keep_cupy_names_chainer_uses(cupy, cupyx) == []  # idempotent


CHAINER_ON_STAND_IN = STAND_IN + textwrap.dedent('''
    cupy, cupyx, modules = stand_in_cupy(cupy_14=False)
    sys.modules.update(modules)
    if sys.argv[1] == 'compat':
        import chainer_impl  # noqa: F401  (applies the compatibility layer, then imports chainer)
    else:
        np.sctypes = {'int': [], 'uint': [], 'float': [np.float16, np.float32, np.float64], 'complex': [],
                      'others': []}
        import chainer  # noqa: F401
    from chainer.backends import cuda
    print(cuda.available, cuda.cudnn_enabled)
''')


def test_chainer_sees_the_gpu_stack_only_with_the_stand_ins():
    """Without ``cupy._util.PerformanceWarning`` Chainer 7.8.1 imports with
    ``cuda.available = False`` and would silently run on the CPU."""
    results = {}
    for mode in ('compat', 'plain'):
        run = subprocess.run([sys.executable, '-c', CHAINER_ON_STAND_IN, mode], capture_output=True,
                             text=True, cwd=REPO, timeout=300)
        assert run.returncode == 0, run.stderr
        results[mode] = run.stdout.split()[-2:]
    print('cuda.available, cuda.cudnn_enabled:', results)
    assert results['compat'] == ['True', 'False']  # CuPy 14 has no cuDNN: Chainer's own kernels
    assert results['plain'] == ['False', 'False']
