"""Copy parameters and BN statistics between a Chainer link and a PyTorch
module built with the same child names (Adam state: ``bridge.convert``)."""
import numpy as np
import torch

from chainer_impl import compat  # noqa: F401
import chainer  # noqa: E402

from chainer_impl.checkpoint import load_state, state_of
from gan_common.keymap import chainer_to_torch_key, torch_to_chainer_keys


def to_numpy(x):
    """chainer.Variable / torch.Tensor / CuPy or NumPy array -> NumPy array."""
    if isinstance(x, chainer.Variable):
        x = x.array
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return chainer.backend.CpuDevice().send(x)


def max_abs_diff(a, b):
    return float(np.max(np.abs(to_numpy(a).astype(np.float64) - to_numpy(b).astype(np.float64))))


def max_rel_diff(a, b):
    """max |a - b| / max(1, |a|): absolute for small values, relative for large ones."""
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))


# ---------------------------------------------------------------- weights and BN statistics
def chainer_state_to_torch(state, module):
    """``save_npz``-keyed arrays -> a state_dict shaped like ``module``'s."""
    reference = module.state_dict()
    converted = {}
    for key, value in state.items():
        torch_key = chainer_to_torch_key(key)
        if torch_key not in reference:
            raise KeyError(f'{key} has no counterpart {torch_key} in the PyTorch model')
        target = reference[torch_key]
        converted[torch_key] = torch.as_tensor(np.asarray(value)).to(target.dtype).reshape(target.shape)
    return converted


def torch_state_to_chainer(state_dict):
    names = torch_to_chainer_keys(state_dict.keys())
    return {names[key]: value.detach().cpu().numpy() for key, value in state_dict.items()}


def chainer_to_torch(link, module):
    """Load the Chainer link's values into the PyTorch module (strict)."""
    module.load_state_dict(chainer_state_to_torch(state_of(link), module), strict=True)


def torch_to_chainer(module, link):
    """Load the PyTorch module's values into the Chainer link (strict)."""
    load_state(link, torch_state_to_chainer(module.state_dict()))
