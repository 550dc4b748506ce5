"""The old CuPy names (cupy.util.memoize, cupy.cuda.compile_with_cache,
cupy.core, cupy.scatter_add) put back on a CuPy module: on the CPU against a
stand-in module with CuPy 14's layout and against the NumPy-backed cupy of
--device cpu; on a GPU against CuPy itself."""
import types

import numpy as np
import pytest

import chainer_impl  # noqa: F401
from chainer_impl.legacy import cupy_names, numpy_cupy
from chainer_impl.legacy.errors import RunnerStop
from tests.legacy.legacy_helpers import SCRIPTS, run_legacy


class _RawModule:
    def __init__(self, code=None, options=()):
        self.code, self.options = code, options


def cupy14_layout():
    """A module shaped like CuPy 14 where these names matter: none of the old ones."""
    cupy = types.ModuleType('fake_cupy')
    cupy.cuda = types.ModuleType('fake_cupy.cuda')
    cupy._core = types.ModuleType('fake_cupy._core')
    cupy._core.ElementwiseKernel = object()
    cupy.RawModule = _RawModule
    cupy.memoize = lambda for_each_device=False: (lambda f: f)
    cupy.add = np.add
    cupyx = types.ModuleType('fake_cupyx')
    cupyx.calls = []
    cupyx.scatter_add = lambda a, slices, value: (cupyx.calls.append(slices), np.add.at(a, slices, value))
    return cupy, cupyx


def test_old_names_map_to_cupy14_names():
    cupy, cupyx = cupy14_layout()
    added = cupy_names.install(cupy, cupyx)
    assert sorted(added) == ['fake_cupy.core', 'fake_cupy.util']
    assert cupy.util.memoize is cupy.memoize
    assert cupy.core.ElementwiseKernel is cupy._core.ElementwiseKernel
    module = cupy.cuda.compile_with_cache('extern "C" __global__ void k() {}', options=['-O3'])
    assert isinstance(module, _RawModule) and module.code.startswith('extern') and module.options == ('-O3',)
    a = np.zeros(4)
    cupy.scatter_add(a, np.array([0, 0, 3]), 1.0)
    assert a.tolist() == [2.0, 0.0, 0.0, 1.0] and len(cupyx.calls) == 1


def test_scatter_add_falls_back_to_add_at_and_existing_names_stay():
    cupy, _ = cupy14_layout()
    cupy.core = 'already here'
    cupy_names.install(cupy, None)
    assert cupy.core == 'already here'
    a = np.zeros(3)
    cupy.scatter_add(a, np.array([1, 1]), 2.0)
    assert a.tolist() == [0.0, 4.0, 0.0]


def test_numpy_backed_cupy_runs_array_code_and_stops_at_kernels():
    modules = numpy_cupy.build()
    cupy = modules['cupy']
    x = cupy.arange(6, dtype=cupy.float32).reshape(2, 3)
    assert isinstance(x, np.ndarray) and cupy.asnumpy(x).sum() == 15
    assert cupy.get_array_module(x) is np and modules['cupy.util'].memoize is cupy.memoize
    a = cupy.zeros(3)
    cupy.scatter_add(a, np.array([2, 2]), 1.0)
    assert a.tolist() == [0.0, 0.0, 2.0]
    with cupy.cuda.Device(1) as device:
        assert device.id == 1
    kernel = cupy.ElementwiseKernel('T x', 'T y', 'y = x', 'copy')
    with pytest.raises(RunnerStop, match='--device @cupy:N'):
        kernel(x)
    with pytest.raises(RunnerStop, match='CUDA kernel'):
        cupy.cuda.compile_with_cache('code').get_function('k')(x)


def test_numpy_backed_cupy_random_takes_cupys_dtype_argument():
    random = numpy_cupy.build()['cupy.random']
    random.seed(0)
    z = random.uniform(-1, 1, (4, 3), dtype=np.float32)
    assert z.dtype == np.float32 and z.shape == (4, 3) and np.abs(z).max() <= 1
    assert random.randn(2, 2, dtype=np.float32).dtype == np.float32 and random.normal(size=3).dtype == np.float64
    random.seed(0)
    assert np.array_equal(random.uniform(-1, 1, (4, 3)).astype(np.float32), z)  # the same draws as NumPy's


@pytest.mark.gpu
def test_old_names_on_real_cupy_and_the_v6_script_on_gpu(tmp_path):
    from chainer_impl.legacy.device import gpu_unreachable_reason
    reason = gpu_unreachable_reason()
    if reason:
        pytest.skip(f'needs a GPU ({reason})')
    import cupy
    import cupyx
    cupy_names.install(cupy, cupyx)
    module = cupy.cuda.compile_with_cache(
        'extern "C" __global__ void twice(float* x) { x[threadIdx.x] *= 2; }')
    x = cupy.arange(4, dtype=cupy.float32)
    module.get_function('twice')((1,), (4,), (x,))
    assert cupy.asnumpy(x).tolist() == [0.0, 2.0, 4.0, 6.0]
    a = cupy.zeros(3, dtype=cupy.float32)
    cupy.scatter_add(a, cupy.array([1, 1]), 1.0)
    assert cupy.asnumpy(a).tolist() == [0.0, 2.0, 0.0]
    assert callable(cupy.util.memoize)
    result = run_legacy(SCRIPTS / 'v6_gpu_only.py', tmp_path / 'results.json', runner_args=['--device', '@cupy:0'])
    assert '@cupy:0' in (tmp_path / 'results.json').read_text(), result.stderr
