"""PyTorch layers and initialisation with Chainer 7.8.1's defaults.

* ``L.BatchNormalization``: eps 2e-5 (PyTorch: 1e-5), decay 0.9 (= momentum 0.1).
* Default initialiser of Linear / Convolution2D / Deconvolution2D weights:
  LeCun normal, N(0, 1/sqrt(fan_in)), with zero bias (PyTorch: uniform).
  fan_in is computed as PyTorch does, which matches Chainer for all three
  (for a transposed convolution, W is (in, out, kh, kw) in both, fan_in = out*kh*kw).
"""
import math

import torch
from torch import nn

CHAINER_BN_EPS = 2e-5
CHAINER_BN_MOMENTUM = 0.1  # Chainer's decay 0.9


def batch_norm_2d(channels):
    return nn.BatchNorm2d(channels, eps=CHAINER_BN_EPS, momentum=CHAINER_BN_MOMENTUM)



@torch.no_grad()
def lecun_normal_(module):
    """Chainer's default: W ~ N(0, 1/sqrt(fan_in)), b = 0, for every
    Linear / Conv2d / ConvTranspose2d inside ``module``."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
            layer.weight.normal_(0.0, 1.0 / math.sqrt(fan_in))
            if layer.bias is not None:
                layer.bias.zero_()
    return module


@torch.no_grad()
def chainer_normal_(module, scale):
    """``chainer.initializers.Normal(scale)`` for every Linear / Conv2d /
    ConvTranspose2d weight inside ``module`` (N(0, scale)), and Chainer's zero bias."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            layer.weight.normal_(0.0, scale)
            if layer.bias is not None:
                layer.bias.zero_()
    return module
