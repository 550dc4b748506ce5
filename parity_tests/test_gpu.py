"""Every model on a GPU: Chainer on CuPy against PyTorch on CUDA from the same
weights on the same (synthetic) inputs, and the tools on ``@cupy:0`` and
``cuda``. ``pytest -m gpu``; skipped unless CuPy and torch.cuda both see a GPU
(``scripts/gpu_checks.sh`` runs them with the GPU benchmark).

PyTorch runs with TF32 off (float32 means float32, as in CuPy) and
deterministic cuDNN. CuPy 14 sums with CUB by default (``CUPY_ACCELERATORS``
unset means ``cub``), in another order than its own reduction kernels; the
float32 tests run under both and print each difference, so the effect of
the summation order is a measured figure."""
import numpy as np
import pytest
import torch

import chainer_impl  # noqa: F401  (before chainer)
from parity_tests.conftest import ON_A_GPU, check
from tests.helpers import run_script


pytestmark = ON_A_GPU

# (model, preset, overrides): small sizes, each model's every network kind
CASES = [
    ('dcgan', 'blog', {'batch_size': 16}),
    ('gan', 'post', {'batch_size': 16}),
    ('cgan', 'book', {'batch_size': 16}),
    ('acgan', 'paper', {'batch_size': 16}),
    ('cyclegan', 'blog', {'image_size': 32, 'load_size': 32}),
    ('cyclegan', 'paper', {'image_size': 32, 'load_size': 36, 'ngf': 16, 'ndf': 16, 'n_blocks': 2, 'pool_size': 2}),
]
IDS = [f'{model}-{preset}' for model, preset, _ in CASES]


@pytest.fixture(autouse=True)
def exact_float32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True


@pytest.fixture(params=['cub', 'none'])
def cupy_accelerators(request):
    """CuPy's reductions and routines with CUB (its default) or without."""
    from cupy._core import _accelerator
    saved = (_accelerator.get_reduction_accelerators(), _accelerator.get_routine_accelerators())
    names = ['cub'] if request.param == 'cub' else []
    _accelerator.set_reduction_accelerators(names)
    _accelerator.set_routine_accelerators(names)
    yield request.param
    _accelerator.set_reduction_accelerators(saved[0])  # the setters take the getters' ids too
    _accelerator.set_routine_accelerators(saved[1])


def lockstep(model, preset, overrides, dtype):
    from bridge.benchmark.cases import make_config, synthetic_data
    from bridge.lockstep import Lockstep
    config = make_config(model, preset, gpu=0, dtype=dtype)
    config.update(overrides)
    data, labels = synthetic_data(config, 64)
    return Lockstep(config, data, labels)


@pytest.mark.parametrize('model, preset, overrides', CASES, ids=IDS)
def test_one_step_float32(model, preset, overrides, cupy_accelerators):
    row = lockstep(model, preset, overrides, 'float32').step()
    print(f'{model}/{preset}, CuPy accelerators {cupy_accelerators}: step-1 loss diff {row["loss_diff"]:.2e}, '
          f'parameter drift {row["param_drift"]:.2e}')
    check(f'{model}/{preset} losses of one step on GPU (float32, {cupy_accelerators})', row['loss_diff'], 1e-4)
    assert np.isfinite(row['param_drift'])


@pytest.mark.parametrize('model, preset, overrides', CASES, ids=IDS)
def test_float64_trajectory(model, preset, overrides):
    run = lockstep(model, preset, overrides, 'float64')
    rows = [run.step() for _ in range(10)]
    check(f'{model}/{preset} losses over 10 steps on GPU (float64)', max(r['loss_diff'] for r in rows), 1e-8)
    check(f'{model}/{preset} parameters after 10 steps on GPU (float64)', rows[-1]['param_drift'], 1e-9)


TINY = ['--model', 'dcgan', '--preset', 'quick', '--batch-size', '8', '--log-every', '1', '--sample-every', '3',
        '--snapshot-every', '3', '--no-progress']


@pytest.mark.parametrize('device', ['@cupy:0', 'cuda'])
@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_train_sample_convert_on_the_gpu(tmp_path, framework, device):
    out = tmp_path / 'run'
    run_script('train.py', *TINY, '--iterations', '3', '--framework', framework, '--device', device, '--out', out)
    snapshot = out / ('snapshot_iter_3.npz' if framework == 'chainer' else 'snapshot_iter_3.pt')
    samples = tmp_path / 'samples.npz'
    run_script('sample.py', snapshot, '--n', '8', '--device', device, '--out', samples)
    with np.load(samples) as archive:
        images = archive['images']
    assert images.shape == (8, 1, 28, 28) and np.isfinite(images).all()
    converted = tmp_path / ('converted.pt' if framework == 'chainer' else 'converted.npz')
    run_script('convert.py', snapshot, converted)
    other = 'torch' if framework == 'chainer' else 'chainer'
    run_script('train.py', *TINY, '--iterations', '5', '--framework', other, '--device', device,
               '--resume-from', converted, '--out', tmp_path / 'continued')
    assert (tmp_path / 'continued' / 'log.jsonl').exists()
