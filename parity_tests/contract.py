"""What the contract suite (``test_contract.py``) runs every model through:
each model's cases (CycleGAN: both presets), the networks of a case, and a
``Lockstep`` of a case on a small dataset."""
import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from bridge.lockstep import Lockstep
from chainer_impl.models import MODULES as CHAINER
from gan_common import presets
from gan_common.datasets import load_images, value_range
from gan_common.unpaired import UnpairedImages
from torch_impl.models import MODULES as TORCH

# (model, preset of its networks): each case builds the model's default networks
CASES = [('dcgan', None), ('gan', None), ('cgan', None), ('acgan', None), ('cyclegan', 'blog'), ('cyclegan', 'paper')]
CASE_IDS = [model if preset is None else f'{model}-{preset}' for model, preset in CASES]
# CycleGAN's training tests: 32x32 images; the paper preset reduced (ngf 16,
# ndf 16, 2 residual blocks) with an image pool of 2, full after one step.
CYCLE_SIZE = 32
CYCLE_REDUCED = {'ngf': 16, 'ndf': 16, 'n_blocks': 2, 'pool_size': 2}
N_IMAGES = 2000
BATCH_SIZE = {'dcgan': 16}  # the GANs' default 8


@dataclass(frozen=True)
class Training:
    """A model's own lock-step driver, ``run(dtype, steps, twin=False)`` (in
    its test file: its inputs, weights and batches), which yields after each
    step [loss difference, drift of every parameter and BN statistic] and,
    with ``twin``, the drift of a float64 Chainer run from the same start;
    and the steps and tolerances its runs are held to."""
    run: Callable
    float64_steps: int
    float64_loss_tolerance: float
    float64_printed: tuple
    float32_steps: int
    float32_printed: tuple
    float32_twin: bool = True  # False: the float32 run is only checked finite


def _training():
    from parity_tests import test_acgan, test_cgan, test_cyclegan, test_gan
    twenty, ten = (1, 10, 20), (1, 5, 10)
    return {
        'gan': Training(test_gan.run, 20, 1e-9, twenty, 10, ten, float32_twin=False),
        'cgan': Training(test_cgan.run, 20, 1e-8, twenty, 10, ten),
        'acgan': Training(test_acgan.run, 20, 1e-9, twenty, 10, ten),
        'cyclegan-blog': Training(functools.partial(test_cyclegan.run, 'blog'), 20, 1e-9, twenty, 10, ten),
        'cyclegan-paper': Training(functools.partial(test_cyclegan.run, 'paper'), 6, 1e-9, (1, 2, 3, 4, 5, 6),
                                   4, (1, 2, 4)),
    }


TRAINING = _training()
# The one-step tests on the models' own batches: losses, then parameters and BN statistics.
ONE_STEP_TOLERANCES = 1e-12, 1e-11
# Every float64 trajectory: parameters and BN statistics after its last step.
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
