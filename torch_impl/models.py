"""Model name -> PyTorch module (each exports Generator, Discriminator,
train_step, make_optimizer and its declaration, ``gan_common.models``), and
the one place fresh PyTorch networks are built."""
import numpy as np
import torch

from gan_common import models
from torch_impl import acgan, cgan, cyclegan, dcgan, gan

MODULES = {'dcgan': dcgan, 'gan': gan, 'cgan': cgan, 'acgan': acgan, 'cyclegan': cyclegan}


def build_named_networks(meta, device='cpu'):
    """Fresh networks of the run that wrote ``meta``, in its dtype, by the names
    its recipe gives them (``gen``, ``dis``; CycleGAN: ``gen_ab``, ``gen_ba``,
    ``dis_a``, ``dis_b``)."""
    config = dict(meta['config'], model=meta['model'])
    module = MODULES[meta['model']]
    dtype = torch.float64 if np.dtype(config['dtype']) == np.float64 else torch.float32
    networks = {name: getattr(module, cls)(**kwargs) for name, (cls, kwargs) in models.networks(config).items()}
    networks = {name: networks[name] for name in meta.get('networks', networks)}  # imported: some only
    return {name: network.to(device=device, dtype=dtype) for name, network in networks.items()}
