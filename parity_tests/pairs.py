"""What the parity tests of every model share: the two frameworks' networks
with the same weights, and the distances between them (the copying and the
distances are the public port checker's, ``bridge.port_check``)."""
import functools

import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import torch

from bridge.port_check.compare import max_abs_diff
from bridge.port_check.weights import state_to_torch
from bridge.transfer import chainer_to_torch, torch_to_chainer
from chainer_impl.checkpoint import load_state, state_of

TORCH_DTYPE = {'float32': torch.float32, 'float64': torch.float64}


def make_pair(chainer_module, torch_module, dtype, seed=0, original='chainer'):
    """(c_gen, c_dis, t_gen, t_dis): the ``original`` framework's initial
    weights (seeded), copied into the other framework's networks."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    with chainer.using_config('dtype', np.dtype(dtype)):
        c_gen, c_dis = chainer_module.Generator(), chainer_module.Discriminator()
    t_gen = torch_module.Generator().to(TORCH_DTYPE[dtype])
    t_dis = torch_module.Discriminator().to(TORCH_DTYPE[dtype])
    for chain, module in ((c_gen, t_gen), (c_dis, t_dis)):
        if original == 'chainer':
            chainer_to_torch(chain, module)
        else:
            torch_to_chainer(module, chain)
    return c_gen, c_dis, t_gen, t_dis


def pair_maker(chainer_module, torch_module, original='chainer'):
    """``make_pair`` bound to one model: ``make(dtype, seed=0)``."""
    return functools.partial(make_pair, chainer_module, torch_module, original=original)


def torch_labels(labels):
    """Chainer takes int32 labels, PyTorch int64."""
    return torch.from_numpy(labels.astype(np.int64))


def state_drift(chain, module, counters=True):
    """Max |difference| over every parameter and BN statistic; ``counters``:
    also the BN step counters (Chainer's N counts only fine-tuning batches,
    PyTorch's num_batches_tracked every batch, so they agree only where a
    model keeps them equal)."""
    ours, theirs = state_to_torch(state_of(chain), module), module.state_dict()
    return max(max_abs_diff(ours[k], theirs[k]) for k in theirs
               if counters or not k.endswith('num_batches_tracked'))


def float64_twin(chain):
    """A float64 Chainer copy of a float32 network, weights and statistics included."""
    with chainer.using_config('dtype', np.float64):
        twin = type(chain)()
    load_state(twin, {k: v.astype(np.float64) if v.dtype.kind == 'f' else v for k, v in state_of(chain).items()})
    return twin


def chainer_drift(a, b):
    """Max |difference| between two Chainer networks' parameters and statistics."""
    state_a, state_b = state_of(a), state_of(b)
    return max(max_abs_diff(state_a[k], state_b[k]) for k in state_a)
