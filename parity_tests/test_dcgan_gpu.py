"""DCGAN on a GPU: Chainer on CuPy against PyTorch on CUDA (float32, TF32 off).
Skipped unless both CuPy and torch.cuda see a GPU."""
import chainer_impl  # noqa: F401
import numpy as np
import pytest
import torch

from parity_tests.conftest import ON_A_GPU, check


pytestmark = ON_A_GPU


@pytest.fixture(autouse=True)
def no_tf32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def test_dcgan_cupy_vs_cuda_float32():
    from parity_tests.test_dcgan import lockstep
    run = lockstep('float32', gpu=0)
    rows = [run.step() for _ in range(10)]
    for row in rows[:1] + rows[-1:]:
        print(f"step {row['iteration']}: loss diff {row['loss_diff']:.2e}, drift {row['param_drift']:.2e}, "
              f"ms chainer {row['chainer_ms']:.1f}, ms torch {row['torch_ms']:.1f}")
    check('losses at step 1 on GPU (float32)', rows[0]['loss_diff'], 1e-5)
    assert np.isfinite(rows[-1]['param_drift'])


def test_dcgan_cupy_vs_cuda_float64_trajectory():
    from parity_tests.test_dcgan import lockstep
    run = lockstep('float64', gpu=0)
    rows = [run.step() for _ in range(20)]
    check('parameters after 20 steps on GPU (float64)', rows[-1]['param_drift'], 1e-9)
