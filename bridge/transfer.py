"""Copy parameters, BN statistics and Adam state between a Chainer link and
a PyTorch module built with the same child names."""
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


# ---------------------------------------------------------------- Adam state
def chainer_adam_state(optimizer):
    """{'l0z/W': {'t': int, 'm': array, 'v': array}, ...} of a Chainer Adam."""
    state = {}
    for name, param in optimizer.target.namedparams():
        rule = param.update_rule
        if rule.state:
            state[name.lstrip('/')] = {'t': int(rule.t), 'm': to_numpy(rule.state['m']),
                                       'v': to_numpy(rule.state['v'])}
    return state


def load_chainer_adam_state(optimizer, state):
    for name, param in optimizer.target.namedparams():
        entry = state.get(name.lstrip('/'))
        if entry is None:
            continue
        rule = param.update_rule
        if not rule.state:
            rule.init_state(param)
        rule.t = int(entry['t'])
        rule.state['m'][...] = param.device.send(np.asarray(entry['m'], rule.state['m'].dtype))
        rule.state['v'][...] = param.device.send(np.asarray(entry['v'], rule.state['v'].dtype))
    optimizer.t = max([int(e['t']) for e in state.values()], default=optimizer.t)


def torch_adam_state(optimizer, module):
    """The same mapping for a ``ChainerAdam`` over ``module``'s parameters."""
    names = torch_to_chainer_keys(module.state_dict().keys())  # BN is told by its buffers
    state = {}
    for name, param in module.named_parameters():
        entry = optimizer.state.get(param)
        if entry:
            state[names[name]] = {'t': int(entry['t']), 'm': entry['m'].detach().cpu().numpy(),
                                  'v': entry['v'].detach().cpu().numpy()}
    return state


def load_torch_adam_state(optimizer, module, state):
    names = torch_to_chainer_keys(module.state_dict().keys())  # BN is told by its buffers
    for name, param in module.named_parameters():
        entry = state.get(names[name])
        if entry is not None:
            optimizer.state[param] = {
                't': int(entry['t']),
                'm': torch.as_tensor(np.asarray(entry['m'])).to(param.dtype).to(param.device),
                'v': torch.as_tensor(np.asarray(entry['v'])).to(param.dtype).to(param.device)}
