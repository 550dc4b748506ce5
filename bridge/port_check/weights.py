"""Copying weights and persistent values (BN running statistics) from a
Chainer model into its PyTorch port: per paired layer (``copy_layer``), or
for a whole model whose children carry the same names (``state_to_torch``,
``copy_by_names``; ``gan_common.keymap`` maps the keys)."""
import numpy as np
import torch

from bridge.port_check.compare import to_numpy
from bridge.port_check.layers import chainer_entries, torch_entries, torch_name
from gan_common.keymap import chainer_to_torch_key


def as_like(value, target):
    """A Chainer value as a tensor of ``target``'s dtype and shape (the sizes must agree)."""
    array = np.asarray(to_numpy(value))
    if array.size != target.numel():
        raise ValueError(f'{tuple(array.shape)} cannot fill {tuple(target.shape)}')
    return torch.as_tensor(array).to(target.dtype).reshape(target.shape)


def entry_partners(link, module):
    """({chainer name: torch name}, chainer names without a partner, torch names without one)."""
    ours, theirs = chainer_entries(link), torch_entries(module)
    partners = {name: torch_name(name) for name in ours if torch_name(name) in theirs}
    missing = sorted(set(ours) - set(partners))
    extra = sorted(set(theirs) - set(partners.values()))
    return partners, missing, extra


@torch.no_grad()
def copy_layer(link, module):
    """Copy every Chainer value of ``link`` that has a partner in ``module``."""
    ours, theirs = chainer_entries(link), torch_entries(module)
    partners, _, _ = entry_partners(link, module)
    for name, target in partners.items():
        value = ours[name]
        theirs[target].copy_(as_like(getattr(value, 'array', value), theirs[target]))


def state_to_torch(state, module, key_map=chainer_to_torch_key):
    """``save_npz``-keyed arrays -> a state_dict shaped like ``module``'s."""
    reference = module.state_dict()
    converted = {}
    for key, value in state.items():
        torch_key = key_map(key)
        if torch_key not in reference:
            raise KeyError(f'{key} has no counterpart {torch_key} in the PyTorch model')
        converted[torch_key] = as_like(value, reference[torch_key])
    return converted
