"""PyTorch checkpoints (``snapshot_iter_N.pt``): a dict of tensors and plain
values, read with ``torch.load(weights_only=True)`` so loading never runs code."""
import pickle
import zipfile

import numpy as np
import torch

from gan_common.checkpoints import check_meta, require_file, unreadable
from torch_impl.models import MODULES


def read_checkpoint(path, model=None):
    require_file(path)
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, OSError) as error:
        raise unreadable(path, error, 'torch') from None
    check_meta(state.get('meta') if isinstance(state, dict) else None, path, 'torch', model)
    return state


def build_networks(meta, device='cpu'):
    """Generator and Discriminator as the run that wrote ``meta`` built them."""
    config = meta['config']
    module = MODULES[meta['model']]
    dtype = torch.float64 if np.dtype(config['dtype']) == np.float64 else torch.float32
    gen = module.Generator(z_dim=config['z_dim']).to(device=device, dtype=dtype)
    dis = module.Discriminator().to(device=device, dtype=dtype)
    return gen, dis


def load_networks(path, model=None, device='cpu'):
    """(meta, gen, dis) with the checkpoint's weights and BN statistics."""
    state = read_checkpoint(path, model)
    gen, dis = build_networks(state['meta'], device)
    try:
        gen.load_state_dict(state['model']['gen'])
        dis.load_state_dict(state['model']['dis'])
    except (KeyError, RuntimeError) as error:
        raise unreadable(path, error, 'torch') from None
    return state['meta'], gen, dis
