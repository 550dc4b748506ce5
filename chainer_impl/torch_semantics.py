"""Chainer layers and functions with PyTorch's semantics, for the model whose
source is PyTorch (the twin of ``torch_impl/chainer_semantics.py``).

* ``linear``: ``nn.Linear``'s initialisation, W and b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)).
* ``sigmoid``: ``torch.sigmoid``, 1 / (1 + exp(-x)); Chainer's tanh-based
  ``F.sigmoid`` is exactly 0 from x = -38 in float64 (-20 in float32), where
  PyTorch's is still positive.
* ``binary_cross_entropy``: ``nn.BCELoss`` (mean), each log clamped at -100,
  and its gradient (p - t) / max(p(1 - p), 1e-12), so a saturated probability
  gives a finite loss and gradient (not inf / NaN).

PyTorch's Adam is ``chainer_impl.torch_adam.TorchAdam``.
"""
import math

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import initializers

_ATEN_EPSILON = float(np.float32(1e-12))  # ATen's clamp is a float constant: 9.99999996e-13


def linear(in_size, out_size):
    """``nn.Linear``'s initialisation: W and b ~ U(-1/sqrt(in), 1/sqrt(in))."""
    bound = initializers.Uniform(1.0 / math.sqrt(in_size))
    return L.Linear(in_size, out_size, initialW=bound, initial_bias=bound)


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
