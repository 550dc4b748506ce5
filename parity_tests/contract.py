"""What the contract suite (``test_contract.py``) runs every model through:
each model's cases (CycleGAN: both presets), the networks of a case, and a
``Lockstep`` of a case on a small dataset."""
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
