"""The contract every model's port keeps, one suite parametrised over the
models (CycleGAN: both presets): the same parameters, in the same order;
the same outputs of every layer, losses and gradients from the same weights
on the same inputs (``contract.PARITY``: what each model file declares);
the same first training step (``bridge.lockstep.Lockstep``, the path
``ganport compare`` takes); and the lock-step runs: one step, a float64
trajectory and the float32 drift (``contract.TRAINING``: each case's steps
and tolerances). What only one model has (pinned typos, the Keras padding,
the reflect-pad bug, ...) is tested in its own file."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest

from bridge.transfer import chainer_state_to_torch, max_abs_diff, to_numpy
from chainer_impl.checkpoint import state_of
from gan_common.keymap import chainer_to_torch_key
from parity_tests.conftest import DTYPES, TOLERANCE, check
from parity_tests.contract import (CASE_IDS, CASES, ONE_STEP_TOLERANCES, PARITY, TRAINING,
                                   TRAJECTORY_PARAMETER_TOLERANCE, lockstep, networks)
from parity_tests.pairs import gradient_drift, has_running_statistics, state_drift, torch_args

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


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('train', [True, False], ids=['train-mode', 'eval-mode'])
@pytest.mark.parametrize('case', list(PARITY))
def test_forward_outputs_match(case, train, dtype, rng):
    parity = PARITY[case]
    chains, modules = parity.make_networks(dtype)
    if not train and any(has_running_statistics(chain) for chain in chains.values()):
        warm_up = parity.inputs(rng, dtype)  # gives the running statistics values other than 0 / 1
        traces(parity, chains, warm_up)
        traces(parity, modules, torch_args(warm_up))
    inputs = parity.inputs(rng, dtype)
    for module in modules.values():
        module.train(train)
    with chainer.using_config('train', train):
        c_traces = traces(parity, chains, inputs)
    t_traces = traces(parity, modules, torch_args(inputs))
    mode = 'train' if train else 'eval'
    layers = scale = 0.0
    for (label, c_trace), (_, t_trace) in zip(c_traces, t_traces):
        assert [name for name, _ in c_trace] == [name for name, _ in t_trace]
        check(f'{case}: output of {label}, {dtype} {mode} mode', max_abs_diff(c_trace[-1][1], t_trace[-1][1]),
              parity.forward_tolerance[dtype])
        layers = max([layers] + [max_abs_diff(c, t) for (_, c), (_, t) in zip(c_trace, t_trace)])
        scale = max([scale] + [float(np.abs(to_numpy(c)).max()) for _, c in c_trace])
    label = f'{case}: every layer of {" and ".join(label for label, _ in c_traces)}'
    if parity.layers_relative:
        check(f'{label}, relative to the largest activation ({scale:.1f}), {dtype} {mode} mode', layers,
              parity.forward_tolerance[dtype] * max(1.0, scale))
    else:
        check(f'{label}, {dtype} {mode} mode', layers, parity.forward_tolerance[dtype])
    check(f'{case}: parameters and BN statistics after it, {dtype} {mode} mode',
          max(state_drift(chains[n], modules[n], parity.bn_counters_agree) for n in chains), TOLERANCE[dtype])


def traces(parity, networks, inputs):
    """[(label, [(layer, output)])] of ``parity.forward``."""
    return [(label, list(trace)) for label, trace in parity.forward(networks, *inputs)]


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', [case for case, parity in PARITY.items() if parity.losses])
def test_losses_match(case, dtype, rng):
    parity = PARITY[case]
    arrays = parity.loss_inputs(rng, dtype)
    for (label, c_loss), (_, t_loss) in zip(parity.losses(parity.chainer, *arrays),
                                            parity.losses(parity.torch, *torch_args(arrays))):
        check(f'{case}: {label}, {dtype}', max_abs_diff(c_loss, t_loss), TOLERANCE[dtype])


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', list(PARITY))
def test_all_gradients_match(case, dtype, rng):
    """Each gradient held to the tolerance times max(1, the largest gradient of its network)."""
    parity = PARITY[case]
    chains, modules = parity.make_networks(dtype, training=True)
    arrays = parity.step_inputs(rng, dtype)
    for (label, c_losses, names), (_, t_losses, _) in zip(parity.gradients(parity.chainer, chains, *arrays),
                                                          parity.gradients(parity.torch, modules, *torch_args(arrays))):
        check(f'{case}: {label}, {dtype}', max(max_abs_diff(c, t) for c, t in zip(c_losses, t_losses)),
              TOLERANCE[dtype] * parity.loss_tolerance_factor)
        for name in names:
            diff, scale = gradient_drift(chains[name], modules[name])
            check(f'{case}: {label} -> {name} gradients, {dtype} (largest {scale:.2e})', diff,
                  parity.gradient_tolerance[dtype] * max(1.0, scale))


# The lock-step drivers (``contract.TRAINING``): random batches of each
# model's inputs fed to both frameworks' ``train_step``, or DCGAN through
# ``Lockstep``.
@pytest.mark.parametrize('case', [case for case, training in TRAINING.items() if training.own_batches])
def test_one_training_step_on_the_models_batches_matches_float64(case):
    step, = TRAINING[case].run('float64', 1)
    losses, parameters = ONE_STEP_TOLERANCES
    check(f'{case}: losses of one step (float64)', step.loss_diff, losses)
    check(f'{case}: parameters and BN statistics after one step (float64)', step.drift, parameters)


@pytest.mark.parametrize('case', list(TRAINING))
def test_float64_trajectory(case):
    training = TRAINING[case]
    steps = training.float64_steps
    rows = list(training.run('float64', steps))
    drift = 'parameter' if training.statistics_tolerance else 'parameter/statistics'
    for k in training.float64_printed:
        row = rows[k - 1]
        relative = f' (relative {row.relative_loss_diff:.2e})' if training.losses_relative else ''
        print(f'{case} step {k}: loss diff {row.loss_diff:.2e}{relative}, {drift} drift {row.drift:.2e}')
    if training.losses_relative:
        check(f'{case}: losses over {steps} steps, relative to max(1, |loss|) (float64)',
              max(r.relative_loss_diff for r in rows), training.float64_loss_tolerance)
    else:
        check(f'{case}: losses over {steps} steps (float64)', max(r.loss_diff for r in rows),
              training.float64_loss_tolerance)
    if training.statistics_tolerance:
        check(f'{case}: parameters after {steps} steps (float64)', rows[-1].drift, TRAJECTORY_PARAMETER_TOLERANCE)
        check(f'{case}: BN running statistics after {steps} steps, relative (float64)', rows[-1].statistics_drift,
              training.statistics_tolerance)
    else:
        check(f'{case}: parameters and BN statistics after {steps} steps (float64)', rows[-1].drift,
              TRAJECTORY_PARAMETER_TOLERANCE)


@pytest.mark.parametrize('case', list(TRAINING))
def test_float32_drift_is_no_larger_than_chainers_own_float32_rounding(case):
    """Float32 training is chaotic: the biases just before a BN layer have a
    zero true gradient, and Adam turns their rounding noise into steps that
    differ between runs. The bound: the port stays about as close to Chainer
    as Chainer in float32 stays to Chainer in float64 (Adam moves each weight
    by at most about its learning rate a step)."""
    training = TRAINING[case]
    rows = list(training.run('float32', training.float32_steps, twin=training.float32_twin))
    for k in training.float32_printed:
        row = rows[k - 1]
        twin = f'Chainer f32 vs Chainer f64 drift {row.twin_drift:.2e}, ' if training.float32_twin else ''
        print(f'{case} step {k}: PyTorch f32 vs Chainer f32 drift {row.drift:.2e}, {twin}'
              f'loss diff {row.loss_diff:.2e}')
        if training.float32_twin:
            allowance = training.float32_first_step_allowance if k == 1 else 0.0
            assert row.drift <= max(3 * row.twin_drift, allowance) + 1e-6
    check(f'{case}: losses at step 1 (float32)', rows[0].loss_diff, 1e-5)
    assert all(np.isfinite([value for value in row if value is not None]).all() for row in rows)
