"""What the contract suite (``test_contract.py``) runs every model through:
each model's cases (CycleGAN: both presets), what each model file declares
of them (``PARITY``: its inputs, forward passes, losses and gradients), the
two lock-step drivers (the models' own batches, and ``Lockstep``'s, the
trainers' path) and the steps and tolerances each case's runs are held to
(``TRAINING``)."""
import functools
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from bridge.lockstep import Lockstep
from bridge.transfer import max_abs_diff
from chainer_impl.checkpoint import load_state
from chainer_impl.models import MODULES as CHAINER
from chainer_impl.models import build_named_networks
from chainer_impl.training import to_chainer_inputs
from gan_common import presets
from gan_common.datasets import load_images, value_range
from gan_common.presets import adam_settings
from gan_common.streams import RandomStream
from gan_common.unpaired import UnpairedImages
from parity_tests import test_acgan, test_cgan, test_cyclegan, test_dcgan, test_gan
from parity_tests.pairs import as_float64, chainer_drift, float64_state, state_drift, torch_args
from torch_impl.models import MODULES as TORCH

# (model, preset of its networks): each case builds the model's default networks
CASES = [('dcgan', None), ('gan', None), ('cgan', None), ('acgan', None), ('cyclegan', 'blog'), ('cyclegan', 'paper')]
CASE_IDS = [model if preset is None else f'{model}-{preset}' for model, preset in CASES]
PARITY = {'dcgan': test_dcgan.PARITY, 'gan': test_gan.PARITY, 'cgan': test_cgan.PARITY, 'acgan': test_acgan.PARITY,
          'cyclegan-blog': test_cyclegan.parity('blog'), 'cyclegan-paper': test_cyclegan.parity('paper')}
# CycleGAN's training tests: 32x32 images; the paper preset reduced (ngf 16,
# ndf 16, 2 residual blocks) with an image pool of 2, full after one step.
CYCLE_SIZE = 32
CYCLE_REDUCED = {'ngf': 16, 'ndf': 16, 'n_blocks': 2, 'pool_size': 2}
N_IMAGES = 2000
BATCH_SIZE = {'dcgan': 16}  # the GANs' default 8


class Step(NamedTuple):
    """What a lock-step driver measures after each step: max |Chainer -
    PyTorch| of the losses and of the networks' state; with ``twin``, that of
    Chainer at the run's dtype against a float64 Chainer run from the same
    start (PyTorch is held to about it); ``Lockstep``'s run also measures the
    losses relative to max(1, |loss|) and, after its last step, the BN
    running statistics relative to max(1, |statistic|)."""
    loss_diff: float
    drift: float
    twin_drift: float = None
    relative_loss_diff: float = None
    statistics_drift: float = None


def run(parity, dtype, steps, seed=0, twin=False):
    """Both frameworks from the same weights on the same random batches of
    the model's inputs (``parity.step_inputs``), each with its default
    ``make_optimizer``; yields a ``Step`` (drift: of every parameter and BN
    statistic) after each step."""
    chains, modules = parity.make_networks(dtype, training=True)
    c_opts = [parity.chainer.make_optimizer(chain) for chain in chains.values()]
    t_opts = [parity.torch.make_optimizer(module) for module in modules.values()]
    # each framework's own dropout masks and image pools, on streams in the same state
    c_kwargs, t_kwargs = parity.step_kwargs(seed), parity.step_kwargs(seed)
    if twin:
        twins = parity.float64_twins(chains)
        twin_opts = [parity.chainer.make_optimizer(chain) for chain in twins.values()]
        twin_kwargs = parity.step_kwargs(seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        arrays = parity.step_inputs(rng, dtype)
        c_losses = parity.chainer.train_step(*chains.values(), *c_opts, *arrays, **c_kwargs)
        t_losses = parity.torch.train_step(*modules.values(), *t_opts, *torch_args(arrays), **t_kwargs)
        step = Step(max(max_abs_diff(c, t) for c, t in zip(c_losses, t_losses)),
                    max(state_drift(chains[n], modules[n], parity.bn_counters_agree) for n in chains))
        if twin:
            parity.chainer.train_step(*twins.values(), *twin_opts, *as_float64(arrays), **twin_kwargs)
            step = step._replace(twin_drift=max(chainer_drift(chains[n], twins[n]) for n in chains))
        yield step


def lockstep_run(model, preset, dtype, steps, twin=False):
    """``Lockstep``'s run of a GAN (the trainers' path: the preset's batches,
    noise and Adam, on MNIST); yields a ``Step`` (drift: of the parameters)
    after each step. The float64 ``twin`` replays each step's batch and
    noise, drawn from the stream in float64."""
    run = lockstep(model, preset, dtype)
    if twin:
        config = dict(run.config, dtype='float64')
        twins = build_named_networks({'model': model, 'framework': 'chainer', 'config': config})
        for name, network in twins.items():
            load_state(network, float64_state(run.c_nets[name]))
        twin_opts = [run.chainer_module.make_optimizer(twins[n], adam_settings(config, n)) for n in twins]
        draw = run.recipe.drawer(run.images.astype(np.float64), run.labels, run.stream, config)
        twin_kwargs = run.recipe.step_kwargs(config, RandomStream(config['seed'] + 2))
    for k in range(1, steps + 1):
        state = run.batches.get_state()
        row = run.step()
        step = Step(row['loss_diff'], row['param_drift'],
                    relative_loss_diff=row['loss_diff'] / max(1.0, abs(row['chainer_loss_gen']),
                                                              abs(row['chainer_loss_dis'])),
                    statistics_drift=run.bn_statistics_drift() if k == steps else None)
        if twin:
            run.batches.set_state(state)  # replay the same batch and noise
            arrays = draw(run.batches.next())
            run.chainer_module.train_step(*twins.values(), *twin_opts, *to_chainer_inputs(arrays, run.chainer_device),
                                          **twin_kwargs)
            step = step._replace(twin_drift=max(chainer_drift(run.c_nets[n], twins[n], statistics=False)
                                                for n in twins))
        yield step


@dataclass(frozen=True)
class Training:
    """A case's lock-step driver, ``run(dtype, steps, twin=False)``, yielding
    a ``Step`` after each step, and the steps and tolerances its runs are
    held to."""
    run: Callable
    float64_steps: int
    float64_loss_tolerance: float
    float64_printed: tuple
    float32_steps: int
    float32_printed: tuple
    float32_twin: bool = True  # False: the float32 run is only checked finite
    own_batches: bool = True  # False: ``Lockstep``'s run, whose first step test_contract checks already
    losses_relative: bool = False  # the float64 losses held relative to max(1, |loss|)
    statistics_tolerance: float = None  # the float64 run's BN statistics after its last step, relative
    float32_first_step_allowance: float = 0.0  # the float32 drift allowed after step 1 whatever the twin's


def _training():
    twenty, ten = (1, 10, 20), (1, 5, 10)
    own = {case: functools.partial(run, PARITY[case]) for case in PARITY}
    # Adam's first step moves each weight by about alpha in the sign of its
    # gradient, so where that sign is rounding noise the two float32 runs
    # part by up to 2 alpha whatever the float64 twin does.
    dcgan_first_step = 2 * adam_settings(config_of('dcgan', None, 'float32'), 'gen')['alpha']
    return {
        # DCGAN's blog model through Lockstep, 100 steps at batch 16. Losses
        # and BN statistics are functions of activations, which amplify the
        # parameter drift (D's logits reach |20|, where cross-entropy is
        # steep): measured 7.0e-9 and 1.1e-8 with one PyTorch thread, 1.6e-9
        # and 3.5e-9 with two, so reduction order alone moves them threefold.
        'dcgan': Training(functools.partial(lockstep_run, 'dcgan', None), 100, 1e-7, (1, 10, 50, 100),
                          100, (1, 10, 100), own_batches=False, losses_relative=True, statistics_tolerance=1e-7,
                          float32_first_step_allowance=dcgan_first_step),
        'gan': Training(own['gan'], 20, 1e-9, twenty, 10, ten, float32_twin=False),
        'cgan': Training(own['cgan'], 20, 1e-8, twenty, 10, ten),
        'acgan': Training(own['acgan'], 20, 1e-9, twenty, 10, ten),
        'cyclegan-blog': Training(own['cyclegan-blog'], 20, 1e-9, twenty, 10, ten),
        'cyclegan-paper': Training(own['cyclegan-paper'], 6, 1e-9, (1, 2, 3, 4, 5, 6), 4, (1, 2, 4)),
    }


# The one-step tests on the models' own batches: losses, then parameters and BN statistics.
ONE_STEP_TOLERANCES = 1e-12, 1e-11
# Every float64 trajectory: parameters (and BN statistics) after its last step.
TRAJECTORY_PARAMETER_TOLERANCE = 1e-9


def networks(framework, model, preset, name):
    """A default ``Generator`` or ``Discriminator`` of ``model`` (CycleGAN: of ``preset``)."""
    module = (CHAINER if framework == 'chainer' else TORCH)[model]
    return getattr(module, name)() if preset is None else getattr(module, name)(preset)


def config_of(model, preset, dtype):
    """The settings of the model's source (its default preset; CycleGAN:
    ``preset``, reduced as above) for a CPU lock-step run."""
    name = preset or presets.default_preset(model)
    config = presets.get_preset(model, name)
    config.update(model=model, preset=name, seed=0, dtype=dtype, classes=None, batch_size=BATCH_SIZE.get(model, 8),
                  chainer_device='@numpy', torch_device='cpu', value_range=list(value_range(config['scaling'])))
    if model == 'cyclegan':
        config.update(batch_size=1, load_size=CYCLE_SIZE, image_size=CYCLE_SIZE, flip=False)
        if preset == 'paper':
            config.update(CYCLE_REDUCED)
    return config


def training_data(config):
    """(images, labels): MNIST test images for the GANs, generated A and B
    domains for CycleGAN."""
    if config['model'] == 'cyclegan':
        rng = np.random.default_rng(0)
        a, b = (rng.integers(0, 256, (4, 3, CYCLE_SIZE, CYCLE_SIZE), dtype=np.uint8) for _ in range(2))
        return UnpairedImages(a, b, a[:1], b[:1], 'generated'), None
    images, labels = load_images('mnist', splits=['test'], scaling=config['scaling'], dtype=config['dtype'])
    return images[:N_IMAGES], labels[:N_IMAGES]


def lockstep(model, preset, dtype, **overrides):
    config = dict(config_of(model, preset, dtype), **overrides)
    return Lockstep(config, *training_data(config))


TRAINING = _training()
