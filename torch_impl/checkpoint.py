"""PyTorch checkpoints (``snapshot_iter_N.pt``): a dict of tensors and plain
values carrying a content checksum (``gan_common.checkpoints``), read with
``torch.load(weights_only=True)`` so loading never runs code, and verified."""
import json
import pickle

import numpy as np
import torch

from gan_common.checkpoints import (CHECKSUM_KEY, check_meta, content_checksum, incomplete, pickled,
                                    require_file, unreadable, verify_checksum)
from gan_common.files import atomic_path
from torch_impl.models import build_named_networks

REQUIRED = ('meta', 'iteration', 'model', 'optimizer', 'batches')


def flat_arrays(value, prefix=''):
    """A nested state (dicts, lists, tensors, plain values) as {path: NumPy array}, for the checksum."""
    if isinstance(value, dict):
        items = sorted(((repr(key), item) for key, item in value.items()), key=lambda pair: pair[0])
    elif isinstance(value, (list, tuple)):
        items = [(str(i), item) for i, item in enumerate(value)]
    elif isinstance(value, torch.Tensor):
        return {prefix: value.detach().cpu().numpy()}
    else:
        return {prefix: np.array(json.dumps(value))}
    arrays = {prefix + '/': np.array(type(value).__name__)}
    for key, item in items:
        arrays.update(flat_arrays(item, f'{prefix}/{key}'))
    return arrays


def save_checkpoint(state, path):
    """Save ``state`` as ``path`` with its checksum, atomically."""
    state = dict(state, **{CHECKSUM_KEY: content_checksum(flat_arrays(state))})
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_checkpoint(path, model=None):
    """The checkpoint's state, verified against its checksum and validated."""
    require_file(path)
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        if any(word in str(error) for word in ('GLOBAL', 'global', 'reduce')):  # it names code to run
            raise pickled(path, 'torch') from None
        raise unreadable(path, error, 'torch') from None
    except Exception as error:  # damaged bytes surface as many types (RuntimeError, EOFError, ...)
        raise unreadable(path, error, 'torch') from None
    if not isinstance(state, dict):
        check_meta(None, path, 'torch')
    stored = state.pop(CHECKSUM_KEY, None)
    verify_checksum(flat_arrays(state), stored if isinstance(stored, str) else None, path, 'torch')
    check_meta(state.get('meta'), path, 'torch', model)
    required = REQUIRED[:3:2] if 'imported' in state['meta'] else REQUIRED  # an imported network: meta, model
    missing = [key for key in required if not isinstance(state.get(key), (dict, int))]
    if missing:
        raise incomplete(path, ', '.join(missing))
    return state




def load_named_networks(path, model=None, device='cpu'):
    """(meta, {name: network}) with the checkpoint's weights and BN statistics."""
    state = read_checkpoint(path, model)
    try:
        networks = build_named_networks(state['meta'], device)
    except (KeyError, TypeError, ValueError) as error:
        raise incomplete(path, f'settings its networks need ({type(error).__name__}: {error})') from None
    try:
        for name, network in networks.items():
            network.load_state_dict(state['model'][name])
    except (KeyError, RuntimeError, TypeError) as error:
        raise unreadable(path, error, 'torch') from None
    return state['meta'], networks
