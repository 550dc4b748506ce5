"""DCGAN on a GPU: Chainer on CuPy against PyTorch on CUDA (float32, TF32 off).
Skipped unless both CuPy and torch.cuda see a GPU."""
import chainer_impl  # noqa: F401
import numpy as np
import pytest
import torch

from gan_common.devices import chainer_device_spec, torch_device_spec
from parity_tests import contract
from parity_tests.conftest import ON_A_GPU, check


pytestmark = ON_A_GPU


@pytest.fixture(autouse=True)
def no_tf32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def lockstep(dtype):
    """DCGAN's ``Lockstep`` of the contract suite, on GPU 0."""
    return contract.lockstep('dcgan', None, dtype, chainer_device=chainer_device_spec(0),
                             torch_device=torch_device_spec(0))


def test_dcgan_cupy_vs_cuda_float32():
    run = lockstep('float32')
    rows = [run.step() for _ in range(10)]
    for row in rows[:1] + rows[-1:]:
        print(f"step {row['iteration']}: loss diff {row['loss_diff']:.2e}, drift {row['param_drift']:.2e}, "
              f"ms chainer {row['chainer_ms']:.1f}, ms torch {row['torch_ms']:.1f}")
    check('losses at step 1 on GPU (float32)', rows[0]['loss_diff'], 1e-5)
    assert np.isfinite(rows[-1]['param_drift'])


def test_dcgan_cupy_vs_cuda_float64_trajectory():
    run = lockstep('float64')
    rows = [run.step() for _ in range(20)]
    check('parameters after 20 steps on GPU (float64)', rows[-1]['param_drift'], 1e-9)
