"""The contract every model's port keeps, one suite parametrised over the
models (CycleGAN: both presets): the same parameters, in the same order,
and the same first training step from the same weights on the same inputs
(``bridge.lockstep.Lockstep``, the path ``ganport compare`` takes). What only one model has (pinned typos, the
Keras padding, the reflect-pad bug, ...) is tested in its own file."""
import pytest

from bridge.transfer import chainer_state_to_torch
from chainer_impl.checkpoint import state_of
from gan_common.keymap import chainer_to_torch_key
from parity_tests.conftest import check
from parity_tests.contract import CASE_IDS, CASES, lockstep, networks

# Through the trainers' own path (the recipe's draws, the preset's Adam), as
# compare.py runs it. Parameters: 1e-10, where the models' own one-step tests
# allow 1e-11 on their inputs: CycleGAN's blog U-Net on uniform-noise images
# measured 1.03e-11 here.
LOSS_TOLERANCE, PARAMETER_TOLERANCE, STATISTICS_TOLERANCE = 1e-12, 1e-10, 1e-11


@pytest.mark.parametrize('name', ['Generator', 'Discriminator'])
@pytest.mark.parametrize('model, preset', CASES, ids=CASE_IDS)
def test_parameters_have_the_same_names_shapes_and_order(model, preset, name):
    chain, module = networks('chainer', model, preset, name), networks('torch', model, preset, name)
    chainer_params = [(chainer_to_torch_key(n), p.shape) for n, p in chain.namedparams()]
    torch_params = [(n, tuple(p.shape)) for n, p in module.named_parameters()]
    n_chainer = sum(p.size for p in chain.params())
    n_torch = sum(p.numel() for p in module.parameters())
    print(f'{model} {preset or ""} {name}: {n_chainer} Chainer parameters, {n_torch} PyTorch parameters')
    assert sorted(chainer_params) == sorted(torch_params)
    assert n_chainer == n_torch
    chainer_modules = list(dict.fromkeys(n.split('/')[1] for n, _ in chain.namedparams()))
    torch_modules = list(dict.fromkeys(n.split('.')[0] for n, _ in module.named_parameters()))
    assert chainer_modules == torch_modules
    # every parameter and persistent value (BN statistics) has its PyTorch twin
    assert sorted(chainer_state_to_torch(state_of(chain), module)) == sorted(module.state_dict())


@pytest.mark.parametrize('model, preset', CASES, ids=CASE_IDS)
def test_one_training_step_matches_float64(model, preset):
    run = lockstep(model, preset, 'float64')
    row = run.step()
    label = f'{model} {preset or ""}'.strip()
    check(f'{label}: losses of one step (float64)', row['loss_diff'], LOSS_TOLERANCE)
    check(f'{label}: parameters after one step (float64)', row['param_drift'], PARAMETER_TOLERANCE)
    check(f'{label}: BN running statistics after one step, relative (float64)', run.bn_statistics_drift(),
          STATISTICS_TOLERANCE)
