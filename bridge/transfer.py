"""Copy parameters and BN statistics between a Chainer link and a PyTorch
module built with the same child names (Adam state: ``bridge.convert``), by
the name map of ``bridge.port_check`` (which pairs any two models)."""
from chainer_impl import compat  # noqa: F401

from bridge.port_check.compare import max_abs_diff, max_rel_diff, to_numpy  # noqa: F401  (used from here too)
from bridge.port_check.weights import state_to_torch
from chainer_impl.checkpoint import load_state, state_of
from gan_common.keymap import torch_to_chainer_keys


# ---------------------------------------------------------------- weights and BN statistics
def chainer_state_to_torch(state, module):
    """``save_npz``-keyed arrays -> a state_dict shaped like ``module``'s."""
    return state_to_torch(state, module)


def torch_state_to_chainer(state_dict):
    names = torch_to_chainer_keys(state_dict.keys())
    return {names[key]: value.detach().cpu().numpy() for key, value in state_dict.items()}


def chainer_to_torch(link, module):
    """Load the Chainer link's values into the PyTorch module (strict)."""
    module.load_state_dict(chainer_state_to_torch(state_of(link), module), strict=True)


def torch_to_chainer(module, link):
    """Load the PyTorch module's values into the Chainer link (strict)."""
    load_state(link, torch_state_to_chainer(module.state_dict()))
