"""Model name -> Chainer module (each exports Generator, Discriminator,
train_step, make_optimizer and its declaration, ``gan_common.models``), and
the one place fresh Chainer networks are built."""
from chainer_impl import compat  # noqa: F401
import chainer
import numpy as np

from chainer_impl import acgan, cgan, cyclegan, dcgan, gan
from gan_common import models

MODULES = {'dcgan': dcgan, 'gan': gan, 'cgan': cgan, 'acgan': acgan, 'cyclegan': cyclegan}


def build_named_networks(meta, device=None):
    """Fresh networks of the run that wrote ``meta``, in its dtype, by the names
    its recipe gives them (``gen``, ``dis``; CycleGAN: ``gen_ab``, ``gen_ba``,
    ``dis_a``, ``dis_b``)."""
    config = dict(meta['config'], model=meta['model'])
    module = MODULES[meta['model']]
    with chainer.using_config('dtype', np.dtype(config['dtype'])):
        networks = {name: getattr(module, cls)(**kwargs) for name, (cls, kwargs) in models.networks(config).items()}
    networks = {name: networks[name] for name in meta.get('networks', networks)}  # imported: some only
    if device is not None:
        for network in networks.values():
            network.to_device(device)
    return networks
