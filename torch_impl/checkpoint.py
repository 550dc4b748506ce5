"""PyTorch checkpoints (``snapshot_iter_N.pt``): a dict of tensors and plain
values, read with ``torch.load(weights_only=True)`` so loading never runs code."""
import pickle
import zipfile

import torch

from gan_common.checkpoints import check_meta, require_file, unreadable
from torch_impl.models import build_named_networks


def read_checkpoint(path, model=None):
    require_file(path)
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, OSError) as error:
        raise unreadable(path, error, 'torch') from None
    check_meta(state.get('meta') if isinstance(state, dict) else None, path, 'torch', model)
    return state




def load_named_networks(path, model=None, device='cpu'):
    """(meta, {name: network}) with the checkpoint's weights and BN statistics."""
    state = read_checkpoint(path, model)
    networks = build_named_networks(state['meta'], device)
    try:
        for name, network in networks.items():
            network.load_state_dict(state['model'][name])
    except (KeyError, RuntimeError) as error:
        raise unreadable(path, error, 'torch') from None
    return state['meta'], networks
