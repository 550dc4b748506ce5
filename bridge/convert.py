"""Convert checkpoints between frameworks: a Chainer trainer snapshot (.npz)
<-> a PyTorch checkpoint (.pt). Networks, BN statistics, Adam state, the
iteration and the batch/noise stream all carry over, so a run can continue
in the other framework from where it stopped.

Adam state: Chainer's snapshots key it ``PARAM/t``, ``PARAM/m``, ``PARAM/v``
for both ``chainer.optimizers.Adam`` and ``TorchAdam`` (gan). On the PyTorch
side ``ChainerAdam`` keeps ``t``/``m``/``v`` and ``torch.optim.Adam`` (gan)
keeps ``step`` (a float tensor)/``exp_avg``/``exp_avg_sq``: the same numbers
under other names. Each side's optimizer is the model module's ``make_optimizer``.
The networks are the model recipe's (``gen``, ``dis``; CycleGAN's four), and
stateful ``train_step`` arguments (CycleGAN's image pools) carry over too:
``updater/extras/NAME/KEY`` arrays <-> ``state['extras'][NAME][KEY]`` tensors."""
import functools
import json
import os

import numpy as np
import torch

from bridge.transfer import chainer_state_to_torch, torch_state_to_chainer
from chainer_impl.checkpoint import (BATCHES_KEY, EXTRAS_PREFIX, ITERATION_KEY, META_KEY, MODEL_PREFIX,
                                     OPTIMIZER_PREFIX, read_snapshot, sub_state, write_snapshot)
from gan_common.checkpoints import first_line, incomplete
from gan_common.errors import UserError
from gan_common.files import ensure_writable_dir
from gan_common.keymap import torch_to_chainer_keys
from gan_common.presets import adam_settings
from torch_impl.checkpoint import read_checkpoint, save_checkpoint
from torch_impl.models import MODULES as TORCH_MODULES
from torch_impl.models import build_named_networks
from torch_impl.optim import ChainerAdam


def refusing_incomplete(convert):
    """A checkpoint that lacks an array or a state entry the conversion needs
    is refused in one line, whatever step finds it missing."""
    @functools.wraps(convert)
    def wrapper(src, dst, model=None):
        try:
            return convert(src, dst, model)
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as error:
            raise incomplete(src, f'what the conversion needs ({type(error).__name__}: {first_line(error)})') from None
    return wrapper


def converted_meta(meta, framework):
    """The metadata of a checkpoint converted to ``framework``: it, and the
    run's config in it, now name that framework."""
    return dict(meta, framework=framework, config=dict(meta['config'], framework=framework))


def refuse_imported(path, meta):
    if 'imported' in meta:
        raise UserError(f'{path} holds an imported network and no training state; import the original '
                        f'{meta["imported"]["from"]} again with the other suffix instead')


@refusing_incomplete
def chainer_to_torch_checkpoint(src, dst, model=None):
    arrays, meta = read_snapshot(src, model)
    refuse_imported(src, meta)
    meta = converted_meta(meta, 'torch')
    missing = [key for key in (ITERATION_KEY, BATCHES_KEY) if key not in arrays]
    if missing:
        raise incomplete(src, ', '.join(missing))
    networks = build_named_networks(meta)
    state = {'meta': meta, 'iteration': int(arrays[ITERATION_KEY]),
             'batches': json.loads(str(arrays[BATCHES_KEY])), 'model': {}, 'optimizer': {}, 'extras': {}}
    for key, value in sub_state(arrays, EXTRAS_PREFIX).items():
        name, leaf = key.split('/', 1)
        state['extras'].setdefault(name, {})[leaf] = torch.from_numpy(np.ascontiguousarray(value))
    for name, module in networks.items():
        try:
            module.load_state_dict(chainer_state_to_torch(sub_state(arrays, MODEL_PREFIX.format(name)), module))
        except (KeyError, RuntimeError, ValueError) as error:
            raise UserError(f'{src}: its {name} does not match a {meta["model"]} model '
                            f'({type(error).__name__}: {str(error).splitlines()[0]})') from None
        state['model'][name] = module.state_dict()
        state['optimizer'][name] = _torch_adam_state_dict(
            module, sub_state(arrays, OPTIMIZER_PREFIX.format(name)), meta, name)
    ensure_writable_dir(os.path.dirname(os.path.abspath(dst)))
    save_checkpoint(state, dst)


def make_torch_optimizer(module, meta, network):
    return TORCH_MODULES[meta['model']].make_optimizer(module, adam_settings(meta['config'], network))


def torch_adam_entry(optimizer, t, m, v):
    """One parameter's state as ``optimizer`` (ChainerAdam or torch.optim.Adam) keeps it."""
    if isinstance(optimizer, ChainerAdam):
        return {'t': int(t), 'm': m, 'v': v}
    return {'step': torch.tensor(float(t)), 'exp_avg': m, 'exp_avg_sq': v}


def chainer_adam_entry(entry):
    """(t, m, v) of one parameter's ChainerAdam or torch.optim.Adam state."""
    if 'm' in entry:
        return int(entry['t']), entry['m'], entry['v']
    return int(entry['step']), entry['exp_avg'], entry['exp_avg_sq']


def _torch_adam_state_dict(module, optimizer_arrays, meta, network):
    optimizer = make_torch_optimizer(module, meta, network)
    names = torch_to_chainer_keys(module.state_dict().keys())  # BN is told by its buffers
    for name, param in module.named_parameters():
        key = names[name]
        if key + '/m' in optimizer_arrays:
            optimizer.state[param] = torch_adam_entry(
                optimizer, optimizer_arrays[key + '/t'],
                torch.as_tensor(optimizer_arrays[key + '/m']).to(param.dtype),
                torch.as_tensor(optimizer_arrays[key + '/v']).to(param.dtype))
    return optimizer.state_dict()


@refusing_incomplete
def torch_to_chainer_checkpoint(src, dst, model=None):
    state = read_checkpoint(src, model)
    refuse_imported(src, state['meta'])
    meta = converted_meta(state['meta'], 'chainer')
    arrays = {META_KEY: np.array(json.dumps(meta)), ITERATION_KEY: np.array(state['iteration']),
              BATCHES_KEY: np.array(json.dumps(state['batches']))}
    for name, extras in state.get('extras', {}).items():
        arrays.update({f'{EXTRAS_PREFIX}{name}/{key}': tensor.numpy() for key, tensor in extras.items()})
    for name, module in build_named_networks(state['meta']).items():
        try:
            module.load_state_dict(state['model'][name])
        except (KeyError, RuntimeError) as error:
            raise UserError(f'{src}: its {name} does not match a {state["meta"]["model"]} model '
                            f'({type(error).__name__}: {str(error).splitlines()[0]})') from None
        for key, value in torch_state_to_chainer(module.state_dict()).items():
            arrays[MODEL_PREFIX.format(name) + key] = value
        arrays.update(_chainer_adam_arrays(module, state['optimizer'][name], state['meta'], name,
                                           OPTIMIZER_PREFIX.format(name), epoch=state['batches']['epoch']))
    ensure_writable_dir(os.path.dirname(os.path.abspath(dst)))
    write_snapshot(dst, arrays)


def _chainer_adam_arrays(module, optimizer_state, meta, network, prefix, epoch):
    optimizer = make_torch_optimizer(module, meta, network)
    optimizer.load_state_dict(optimizer_state)
    names = torch_to_chainer_keys(module.state_dict().keys())  # BN is told by its buffers
    arrays, steps = {}, 0
    for name, param in module.named_parameters():
        entry = optimizer.state.get(param)
        if entry:
            t, m, v = chainer_adam_entry(entry)
            arrays[prefix + names[name] + '/m'] = m.cpu().numpy()
            arrays[prefix + names[name] + '/v'] = v.cpu().numpy()
            arrays[prefix + names[name] + '/t'] = np.array(t)
            steps = max(steps, t)
    arrays[prefix + 't'] = np.array(steps)
    arrays[prefix + 'epoch'] = np.array(epoch)  # Chainer's updater counts epochs on the optimizer too
    return arrays


# the converter of a checkpoint, by its framework
CONVERTERS = {'chainer': chainer_to_torch_checkpoint, 'torch': torch_to_chainer_checkpoint}
