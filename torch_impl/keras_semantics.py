"""PyTorch layers with the behaviour of Keras 2.1.6 on TensorFlow 1.x, for
models whose source is Keras (``chainer_impl/keras_semantics.py`` is the
Chainer twin, line for line). What they reproduce, the constants and the
'same' padding are framework-free, in ``gan_common.keras_semantics``.

Tensors are NCHW here and NHWC in Keras. Keras weights load as: Dense kernel
(in, out) -> ``weight = kernel.T``; Conv2D kernel (k, k, in, out) and
Conv2DTranspose kernel (k, k, out, in) -> ``weight = kernel.permute(3, 2, 0, 1)``.
"""
import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from gan_common.keras_semantics import (  # noqa: F401
    BN_EPSILON, BN_MOMENTUM, EMBEDDING_SCALE, EPSILON, same_padding)


# ---------------------------------------------------------------- 'same' padding
def conv2d_same(x, weight, bias, stride):
    (top, bottom), (left, right) = (same_padding(n, k, stride) for n, k in zip(x.shape[2:], weight.shape[2:]))
    return F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias, stride)


def conv2d_transpose_same(x, weight, bias, stride):
    """Output n*stride: the full transposed convolution, cropped as the
    forward convolution of an n*stride input would have been padded."""
    if min(weight.shape[2:]) < stride:
        raise ValueError('kernel smaller than stride is not supported')
    (top, _), (left, _) = (same_padding(n * stride, k, stride) for n, k in zip(x.shape[2:], weight.shape[2:]))
    height, width = x.shape[2] * stride, x.shape[3] * stride
    return F.conv_transpose2d(x, weight, bias, stride)[:, :, top:top + height, left:left + width]


# ---------------------------------------------------------------- layers
class Dense(nn.Linear):
    """``keras.layers.Dense``: Glorot-uniform kernel, zero bias."""

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)


class Conv2D(nn.Conv2d):
    """``keras.layers.Conv2D(..., padding='same')``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        super().__init__(in_channels, out_channels, kernel_size, stride)

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return conv2d_same(x, self.weight, self.bias, self.stride[0])


class Conv2DTranspose(nn.ConvTranspose2d):
    """``keras.layers.Conv2DTranspose(..., padding='same')``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        super().__init__(in_channels, out_channels, kernel_size, stride)

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return conv2d_transpose_same(x, self.weight, self.bias, self.stride[0])


class Embedding(nn.Embedding):
    """``keras.layers.Embedding``: U(-0.05, 0.05)."""

    def reset_parameters(self):
        nn.init.uniform_(self.weight, -EMBEDDING_SCALE, EMBEDDING_SCALE)


class BatchNormalization(nn.BatchNorm2d):
    """``keras.layers.BatchNormalization()`` of Keras 2.1.6 on TensorFlow 1.x, on NCHW input.

    Training mode normalises with the batch mean and biased variance, inference
    mode with the moving statistics, as PyTorch does. The moving statistics are
    Keras 2.1.6's, not PyTorch's:

    * the batch variance averaged in is corrected twice: TensorFlow's fused
      kernel returns var * n/(n-1), and Keras multiplies by n/(n - 1 - epsilon)
      again (n = N*H*W);
    * ``K.moving_average_update`` uses ``zero_debias=True``: shadow averages
      ``biased_mean`` / ``biased_var`` start at 0, and after the t-th update
      (t = ``num_batches_tracked``) the moving statistic is biased / (1 - 0.99**t),
      so the first update sets it to the batch's value and the initial 0 / 1
      never count.

    With ``update_statistics = False`` (see ``statistics_frozen``) training mode
    still normalises with the batch statistics but updates nothing.
    """

    def __init__(self, channels):
        super().__init__(channels, eps=BN_EPSILON, momentum=1.0 - BN_MOMENTUM)
        self.register_buffer('biased_mean', torch.zeros(channels))
        self.register_buffer('biased_var', torch.zeros(channels))
        self.update_statistics = True

    def forward(self, x):
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        if self.update_statistics:
            with torch.no_grad():
                self._update_statistics(x)
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)

    def _update_statistics(self, x):
        n = x.numel() // x.shape[1]
        mean = x.mean((0, 2, 3))
        var = x.var((0, 2, 3), correction=0) * (n / max(n - 1, 1))  # TensorFlow's fused kernel
        var = var * (n / (n - (1.0 + self.eps)))                     # Keras 2.1.6, once more
        self.num_batches_tracked += 1
        decay = self.momentum  # TensorFlow's assign_moving_average gets 1 - momentum
        debias = 1.0 - (1.0 - decay) ** int(self.num_batches_tracked)
        for biased, average, value in ((self.biased_mean, self.running_mean, mean),
                                       (self.biased_var, self.running_var, var)):
            biased.sub_((biased - value) * decay)
            average.sub_(average - biased / debias)


@contextlib.contextmanager
def statistics_frozen(module):
    """Training-mode batch normalisation that updates no moving statistics."""
    layers = [m for m in module.modules() if isinstance(m, BatchNormalization)]
    previous = [m.update_statistics for m in layers]
    for m in layers:
        m.update_statistics = False
    try:
        yield
    finally:
        for m, flag in zip(layers, previous):
            m.update_statistics = flag


# ---------------------------------------------------------------- loss
def binary_crossentropy(p, target):
    """``keras.losses.binary_crossentropy`` averaged over the batch, as Keras
    2.1.6 computes it from probabilities ``p`` and a constant ``target``."""
    p = torch.clamp(p, EPSILON, 1 - EPSILON)
    logits = torch.log(p / (1 - p))
    return torch.mean(torch.relu(logits) - logits * target + torch.log1p(torch.exp(-torch.abs(logits))))
