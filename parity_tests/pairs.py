"""What the parity tests of every model share: the two frameworks' networks
with the same weights, the distances between them (the copying and the
distances are the public port checker's, ``bridge.port_check``), and
``Parity``, what each model file declares for the contract suite."""
import functools
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable

import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import torch

from bridge.port_check.compare import max_abs_diff
from bridge.port_check.weights import state_to_torch
from bridge.transfer import chainer_to_torch, torch_to_chainer
from chainer_impl.checkpoint import load_state, state_of
from gan_common.keymap import chainer_to_torch_key
from parity_tests.conftest import TOLERANCE

TORCH_DTYPE = {'float32': torch.float32, 'float64': torch.float64}


def generator_and_discriminator(module):
    """A GAN's default networks, by the names its ``train_step`` takes them in."""
    return {'gen': module.Generator(), 'dis': module.Discriminator()}


def unconditional_forward(nets, x, z):
    """An unconditional GAN's G(z) and D(x), layer by layer (``Parity.forward``)."""
    return [('G(z)', nets['gen'].trace(z)), ('D(x)', nets['dis'].trace(x))]


def make_networks(chainer_module, torch_module, dtype, seed=0, original='chainer', build=generator_and_discriminator):
    """({name: Chainer network}, {name: PyTorch network}) of ``build(module)``:
    the ``original`` framework's initial weights (seeded), copied into the
    other framework's networks."""
    dtype = np.dtype(dtype).name
    np.random.seed(seed)
    torch.manual_seed(seed)
    with chainer.using_config('dtype', np.dtype(dtype)):
        chains = build(chainer_module)
    modules = {name: module.to(TORCH_DTYPE[dtype]) for name, module in build(torch_module).items()}
    for name, chain in chains.items():
        if original == 'chainer':
            chainer_to_torch(chain, modules[name])
        else:
            torch_to_chainer(modules[name], chain)
    return chains, modules


def make_pair(chainer_module, torch_module, dtype, seed=0, original='chainer'):
    """(c_gen, c_dis, t_gen, t_dis) of ``make_networks``."""
    chains, modules = make_networks(chainer_module, torch_module, dtype, seed, original)
    return chains['gen'], chains['dis'], modules['gen'], modules['dis']


def pair_maker(chainer_module, torch_module, original='chainer'):
    """``make_pair`` bound to one model: ``make(dtype, seed=0)``."""
    return functools.partial(make_pair, chainer_module, torch_module, original=original)


def torch_labels(labels):
    """Chainer takes int32 labels, PyTorch int64."""
    return torch.from_numpy(labels.astype(np.int64))


def torch_args(values):
    """NumPy arguments as PyTorch takes them: arrays as tensors, integer ones
    (labels) as int64; anything else (a target, a loss setting) as it is."""
    return [(torch_labels(v) if v.dtype.kind in 'iu' else torch.from_numpy(v)) if isinstance(v, np.ndarray) else v
            for v in values]


def as_float64(values):
    """The floating-point arrays of ``values`` in float64, the rest as they are."""
    return [v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == 'f' else v for v in values]


def backpropagated(loss, networks):
    """``[loss]``, once ``networks`` (of either framework) hold its gradients alone."""
    for network in networks.values():
        if isinstance(network, chainer.Link):
            network.cleargrads()
        else:
            network.zero_grad()
    if isinstance(loss, chainer.Variable):
        loss.backward()
    else:
        loss.backward(retain_graph=True)
    return [loss]


def state_drift(chain, module, counters=True):
    """Max |difference| over every parameter and BN statistic; ``counters``:
    also the BN step counters (Chainer's N counts only fine-tuning batches,
    PyTorch's num_batches_tracked every batch, so they agree only where a
    model keeps them equal)."""
    ours, theirs = state_to_torch(state_of(chain), module), module.state_dict()
    return max(max_abs_diff(ours[k], theirs[k]) for k in theirs
               if counters or not k.endswith('num_batches_tracked'))


def gradient_drift(chain, module):
    """(max |difference| of the parameters' gradients, the largest Chainer gradient)."""
    grads = dict(module.named_parameters())
    diff = max(max_abs_diff(p.grad, grads[chainer_to_torch_key(n)].grad) for n, p in chain.namedparams())
    return diff, max(float(np.abs(p.grad).max()) for p in chain.params())


def chainer_drift(a, b, statistics=True):
    """Max |difference| between two Chainer networks' parameters (and, with
    ``statistics``, every persistent value)."""
    if not statistics:
        params_b = dict(b.namedparams())
        return max(max_abs_diff(p.array, params_b[n].array) for n, p in a.namedparams())
    state_a, state_b = state_of(a), state_of(b)
    return max(max_abs_diff(state_a[k], state_b[k]) for k in state_a)


def float64_state(chain):
    """``state_of(chain)``, its floating-point values in float64."""
    return {k: v.astype(np.float64) if v.dtype.kind == 'f' else v for k, v in state_of(chain).items()}


def has_running_statistics(chain):
    """``chain`` holds BN running means and variances."""
    return any(key.endswith('avg_mean') for key in state_of(chain))


@dataclass(frozen=True)
class Parity:
    """What the contract suite (``test_contract.py``) needs of one model
    (CycleGAN: one preset), written once for both frameworks: each function
    takes the model's Chainer or PyTorch module ``F`` and/or its networks
    ``nets`` by name, and the inputs as NumPy arrays (PyTorch's converted by
    ``torch_args``)."""
    chainer: ModuleType
    torch: ModuleType
    inputs: Callable                    # inputs(rng, dtype): the arrays ``forward`` takes
    forward: Callable                   # forward(nets, *inputs): [(label, network.trace(...))]
    step_inputs: Callable               # step_inputs(rng, dtype): train_step's data arguments
    gradients: Callable                 # gradients(F, nets, *step_inputs): yields (label, losses, names of
    #                                     the networks that now hold those losses' gradients alone)
    loss_inputs: Callable = None        # loss_inputs(rng, dtype); None: the model's file tests its losses
    losses: Callable = None             # losses(F, *loss_inputs): [(label, loss)]
    networks: Callable = generator_and_discriminator  # networks(F): {name: network} in train_step's order
    training_networks: Callable = None  # the gradient and training tests' networks (default ``networks``)
    original: str = 'chainer'           # whose initial weights are copied into the other framework
    step_kwargs: Callable = lambda seed: {}  # step_kwargs(seed): one framework's train_step keyword arguments
    bn_counters_agree: bool = True      # ``state_drift``'s ``counters``
    layers_relative: bool = False       # every layer held to TOLERANCE * max(1, largest activation)
    forward_tolerance: dict = field(default_factory=lambda: dict(TOLERANCE))
    gradient_tolerance: dict = field(default_factory=lambda: dict(TOLERANCE))
    loss_tolerance_factor: float = 1.0  # the gradient test's losses: TOLERANCE * this

    def make_networks(self, dtype, seed=0, training=False):
        build = (self.training_networks if training else None) or self.networks
        return make_networks(self.chainer, self.torch, dtype, seed, self.original, build)

    def float64_twins(self, chains):
        """Float64 Chainer copies of the training networks ``chains``, weights and statistics included."""
        with chainer.using_config('dtype', np.float64):
            twins = (self.training_networks or self.networks)(self.chainer)
        for name, twin in twins.items():
            load_state(twin, float64_state(chains[name]))
        return twins
