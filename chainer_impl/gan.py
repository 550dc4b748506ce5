"""Chainer port of the vanilla MLP GAN whose source is PyTorch (see
``torch_impl/gan.py``, the original).

Same layers, with PyTorch's semantics where Chainer's differ:

* initialisation: ``nn.Linear``'s default, W and b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in));
* ``torch.sigmoid``, 1 / (1 + exp(-x)): Chainer's tanh-based ``F.sigmoid`` is exactly 0
  from x = -38 in float64 (-20 in float32), where PyTorch's is still positive;
* ``nn.BCELoss``: each log clamped at -100, and its gradient (p - t) / max(p(1 - p), 1e-12),
  so a saturated probability gives a finite loss and gradient (not inf / NaN);
* ``torch.optim.Adam``: ``chainer_impl.torch_adam.TorchAdam`` (eps added to the
  bias-corrected sqrt(v), unlike ``chainer.optimizers.Adam``).

Each network is a ``ChainList`` named ``model`` whose indices are the
``nn.Sequential``'s: the activations are parameterless links in between, so
``save_npz`` keys are ``model/0/W``, ``model/2/W``, ..., which
``gan_common.keymap`` maps to ``model.0.weight``, ``model.2.weight``, ...
"""
import functools
import math

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import initializers

from chainer_impl.torch_adam import TorchAdam
from gan_common.models.gan import ADAM, FAKE, REAL, RECIPE, Z_DIM, torch_adam_arguments  # noqa: F401


# ---------------------------------------------------------------- networks
def linear(in_size, out_size):
    """``nn.Linear``'s initialisation: W and b ~ U(-1/sqrt(in), 1/sqrt(in))."""
    bound = initializers.Uniform(1.0 / math.sqrt(in_size))
    return L.Linear(in_size, out_size, initialW=bound, initial_bias=bound)


class Activation(chainer.Link):
    """A parameterless link, so that ``ChainList`` indices follow ``nn.Sequential``'s."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


class Sigmoid(chainer.FunctionNode):
    """``torch.sigmoid``: y = 1 / (1 + exp(-x)), gradient gy * (1 - y) * y."""

    def forward(self, inputs):
        x, = inputs
        xp = chainer.backend.get_array_module(x)
        with np.errstate(over='ignore'):  # exp(-x) = inf gives y = 0
            y = 1 / (1 + xp.exp(-x))
        self.retain_outputs((0,))
        return xp.asarray(y, dtype=x.dtype),

    def backward(self, indexes, grad_outputs):
        y, = self.get_retained_outputs()
        return grad_outputs[0] * (1 - y) * y,


def sigmoid(x):
    return Sigmoid().apply((x,))[0]


leaky_relu = functools.partial(F.leaky_relu, slope=0.2)


class Generator(chainer.Chain):

    def __init__(self, z_dim=Z_DIM):
        super().__init__()
        self.z_dim = z_dim
        with self.init_scope():
            self.model = chainer.ChainList(
                linear(z_dim, 256), Activation(F.relu),
                linear(256, 512), Activation(F.relu),
                linear(512, 1024), Activation(F.relu),
                linear(1024, 28 * 28), Activation(F.tanh))

    def trace(self, z):
        """Yield (layer, output) after each Linear and its activation."""
        h = z
        for i in range(0, len(self.model), 2):
            h = self.model[i + 1](self.model[i](h))
            yield f'model[{i}]', F.reshape(h, (len(h), 1, 28, 28)) if i == 6 else h

    def forward(self, z):
        for _, h in self.trace(z):
            pass
        return h


class Discriminator(chainer.Chain):

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.model = chainer.ChainList(
                linear(28 * 28, 1024), Activation(leaky_relu),
                linear(1024, 512), Activation(leaky_relu),
                linear(512, 256), Activation(leaky_relu),
                linear(256, 1), Activation(sigmoid))

    def trace(self, x):
        """Yield (layer, output) after each Linear and its activation."""
        h = F.reshape(x, (len(x), -1))
        for i in range(0, len(self.model), 2):
            h = self.model[i + 1](self.model[i](h))
            yield f'model[{i}]', h

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


# ---------------------------------------------------------------- losses
_ATEN_EPSILON = float(np.float32(1e-12))  # ATen's clamp is a float constant: 9.99999996e-13


class BinaryCrossEntropy(chainer.FunctionNode):
    """PyTorch's ``binary_cross_entropy`` (mean): forward and gradient as ATen computes them."""

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        p, t = inputs
        xp = chainer.backend.get_array_module(p)
        with np.errstate(divide='ignore'):  # log(0) = -inf, clamped to -100
            loss = (t - 1) * xp.maximum(xp.log1p(-p), -100) - t * xp.maximum(xp.log(p), -100)
        return xp.asarray(loss.mean(), dtype=p.dtype),

    def backward(self, indexes, grad_outputs):
        p, t = (v.array for v in self.get_retained_inputs())
        xp = chainer.backend.get_array_module(p)
        gp = (p - t) / xp.maximum((1 - p) * p, _ATEN_EPSILON) / p.size
        return F.broadcast_to(grad_outputs[0], p.shape) * gp, None


def binary_cross_entropy(p, target):
    """``nn.BCELoss()(p, target)``: mean, each log clamped at -100."""
    xp = chainer.backend.get_array_module(p)
    return BinaryCrossEntropy().apply((p, xp.full(p.shape, target, dtype=p.dtype)))[0]


def generator_loss(p_fake):
    return binary_cross_entropy(p_fake, REAL)


def discriminator_loss(p_real, p_fake):
    return binary_cross_entropy(p_real, REAL) + binary_cross_entropy(p_fake, FAKE)


# ---------------------------------------------------------------- optimizer
def make_optimizer(link, adam=None):
    """The post's ``torch.optim.Adam``, as ``TorchAdam`` (``adam``: Chainer-named overrides)."""
    optimizer = TorchAdam(**torch_adam_arguments(adam))
    optimizer.setup(link)
    return optimizer


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, z):
    """The post's iteration: D steps first, on real images and the detached
    fake batch; then G, on the same fake batch, through the updated D."""
    x_fake = gen(z)
    loss_dis = discriminator_loss(dis(x_real), dis(x_fake.array))
    dis.cleargrads()
    loss_dis.backward()
    opt_dis.update()
    loss_gen = generator_loss(dis(x_fake))
    gen.cleargrads()
    loss_gen.backward()
    opt_gen.update()
    return loss_gen, loss_dis
