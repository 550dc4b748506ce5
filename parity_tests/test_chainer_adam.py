"""ChainerAdam reproduces chainer.optimizers.Adam; torch.optim.Adam does not
(it adds eps to the bias-corrected sqrt(v), so small gradients move differently)."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest
import torch

from parity_tests.conftest import check
from torch_impl.optim import ChainerAdam

SETTINGS = {'alpha': 2e-4, 'beta1': 0.5}


def run_chainer(w0, grads):
    param = chainer.Parameter(w0.copy())
    link = chainer.Link()
    with link.init_scope():
        link.w = param
    optimizer = chainer.optimizers.Adam(**SETTINGS)
    optimizer.setup(link)
    for g in grads:
        param.grad = g.copy()
        optimizer.update()
    return param.array


def run_torch(w0, grads, make_optimizer):
    param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    optimizer = make_optimizer([param])
    for g in grads:
        param.grad = torch.from_numpy(g.copy())
        optimizer.step()
    return param.detach().numpy()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('scale', [1.0, 1e-3, 1e-6])
def test_chainer_adam_matches_and_torch_adam_does_not(dtype, scale):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=1000).astype(dtype)
    grads = [(rng.normal(size=1000) * scale).astype(dtype) for _ in range(100)]
    reference = run_chainer(w0, grads)
    ours = run_torch(w0, grads, lambda p: ChainerAdam(p, **SETTINGS))
    theirs = run_torch(w0, grads, lambda p: torch.optim.Adam(p, lr=SETTINGS['alpha'], betas=(SETTINGS['beta1'], 0.999)))
    ours_diff = float(np.abs(ours - reference).max())
    theirs_diff = float(np.abs(theirs - reference).max())
    print(f'{dtype}, gradient scale {scale:g}: torch.optim.Adam differs by {theirs_diff:.2e}, ChainerAdam by {ours_diff:.2e}')
    # bit-exact in float32; float64 has seen one-ulp differences (5.6e-17 on weights near 1)
    check(f'ChainerAdam after 100 steps ({dtype}, scale {scale:g})', ours_diff, 0.0 if dtype == 'float32' else 1e-15)
    if scale <= 1e-3:
        assert theirs_diff > 1e-6  # the eps placement matters once gradients are small


def test_weight_decay_rate_is_decoupled_like_chainer():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=100)
    grads = [rng.normal(size=100) * 1e-3 for _ in range(20)]
    param = chainer.Parameter(w0.copy())
    link = chainer.Link()
    with link.init_scope():
        link.w = param
    optimizer = chainer.optimizers.Adam(weight_decay_rate=1e-2, **SETTINGS)
    optimizer.setup(link)
    for g in grads:
        param.grad = g.copy()
        optimizer.update()
    ours = run_torch(w0, grads, lambda p: ChainerAdam(p, weight_decay_rate=1e-2, **SETTINGS))
    check('ChainerAdam with weight_decay_rate after 20 steps (float64)', float(np.abs(ours - param.array).max()), 1e-15)
