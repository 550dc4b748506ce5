import numpy as np
import pytest
import torch

from chainer_impl import compat  # noqa: F401  (before anything imports chainer)

TOLERANCE = {'float64': 1e-12, 'float32': 1e-5}
DTYPES = list(TOLERANCE)  # the ``dtype`` fixture's, for tests that order their ids themselves


def gpu_available():
    """Both CuPy and torch.cuda see a GPU (what the GPU parity tests need)."""
    try:
        import cupy
        return torch.cuda.is_available() and cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


ON_A_GPU = [pytest.mark.gpu, pytest.mark.skipif(not gpu_available(), reason='needs CuPy and torch.cuda with a GPU')]


def check(label, diff, tolerance):
    """Print the measured difference, then fail if it is past the tolerance."""
    print(f'{label}: max |chainer - torch| = {diff:.3e} (tolerance {tolerance:.0e})')
    assert diff <= tolerance, f'{label}: {diff:.3e} > {tolerance:.0e}'


@pytest.fixture(params=DTYPES)
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True, scope='module')
def one_torch_thread():
    """Small batches: PyTorch's thread pool only fights NumPy's BLAS threads
    for the cores (measured 20x slower per step on 2 busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
