"""The contract every model's port keeps, one suite parametrised over the
models (CycleGAN: both presets): the same parameters, in the same order,
the same first training step from the same weights on the same inputs
(``bridge.lockstep.Lockstep``, the path ``ganport compare`` takes), and the
models' own lock-step runs: one step, a float64 trajectory and the float32
drift (``contract.TRAINING``: each model's steps and tolerances). What only
one model has (pinned typos, the Keras padding, the reflect-pad bug, ...)
is tested in its own file."""
import numpy as np
import pytest

from bridge.transfer import chainer_state_to_torch
from chainer_impl.checkpoint import state_of
from gan_common.keymap import chainer_to_torch_key
from parity_tests.conftest import check
from parity_tests.contract import (CASE_IDS, CASES, ONE_STEP_TOLERANCES, TRAINING, TRAJECTORY_PARAMETER_TOLERANCE,
                                 lockstep, networks)

# Through the trainers' own path (the recipe's draws, the preset's Adam), as
# compare.py runs it. Parameters: 1e-10, where the models' own one-step tests
# allow 1e-11 on their inputs: CycleGAN's blog U-Net on uniform-noise images
# measured 1.03e-11 here.
LOSS_TOLERANCE, PARAMETER_TOLERANCE, STATISTICS_TOLERANCE = 1e-12, 1e-10, 1e-11
# DCGAN's blog step is held to its own, tighter, figures
LOCKSTEP_TOLERANCES = {'dcgan': (1e-12, 1e-11, 1e-12)}


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
    losses, parameters, statistics = LOCKSTEP_TOLERANCES.get(
        model, (LOSS_TOLERANCE, PARAMETER_TOLERANCE, STATISTICS_TOLERANCE))
    check(f'{label}: losses of one step (float64)', row['loss_diff'], losses)
    check(f'{label}: parameters after one step (float64)', row['param_drift'], parameters)
    check(f'{label}: BN running statistics after one step, relative (float64)', run.bn_statistics_drift(),
          statistics)


# The models' own lock-step drivers (``contract.TRAINING``): random batches of
# each model's inputs, fed to both frameworks' ``train_step``.
@pytest.mark.parametrize('case', list(TRAINING))
def test_one_training_step_on_the_models_batches_matches_float64(case):
    (loss_diff, drift), = TRAINING[case].run('float64', 1)
    losses, parameters = ONE_STEP_TOLERANCES
    check(f'{case}: losses of one step (float64)', loss_diff, losses)
    check(f'{case}: parameters and BN statistics after one step (float64)', drift, parameters)


@pytest.mark.parametrize('case', list(TRAINING))
def test_float64_trajectory(case):
    training = TRAINING[case]
    steps = training.float64_steps
    rows = list(training.run('float64', steps))
    for k in training.float64_printed:
        print(f'{case} step {k}: loss diff {rows[k - 1][0]:.2e}, parameter/statistics drift {rows[k - 1][1]:.2e}')
    check(f'{case}: losses over {steps} steps (float64)', max(r[0] for r in rows), training.float64_loss_tolerance)
    check(f'{case}: parameters and BN statistics after {steps} steps (float64)', rows[-1][1],
          TRAJECTORY_PARAMETER_TOLERANCE)


@pytest.mark.parametrize('case', list(TRAINING))
def test_float32_drift_is_no_larger_than_chainers_own_float32_rounding(case):
    """Float32 training is chaotic: the biases just before a BN layer have a
    zero true gradient, and Adam turns their rounding noise into steps that
    differ between runs. The bound: the port stays about as close to Chainer
    as Chainer in float32 stays to Chainer in float64 (Adam moves each weight
    by at most about its learning rate a step)."""
    training = TRAINING[case]
    rows = list(training.run('float32', training.float32_steps, **({'twin': True} if training.float32_twin else {})))
    for k in training.float32_printed:
        loss_diff, port, *own = rows[k - 1]
        twin = f'Chainer f32 vs Chainer f64 drift {own[0]:.2e}, ' if own else ''
        print(f'{case} step {k}: PyTorch f32 vs Chainer f32 drift {port:.2e}, {twin}loss diff {loss_diff:.2e}')
        if own:
            assert port <= 3 * own[0] + 1e-6
    check(f'{case}: losses at step 1 (float32)', rows[0][0], 1e-5)
    assert all(np.isfinite(r).all() for r in rows)
