"""Two functions the CycleGAN paper preset needs that Chainer 7.8.1 lacks or
gets wrong.

* Instance normalisation: Chainer has no ``InstanceNormalization`` link or
  function. ``instance_normalization`` is group normalisation with one group
  per channel and no scale or shift, i.e. ``torch.nn.InstanceNorm2d(C)``
  (eps 1e-5, affine=False, no running statistics; the parity tests pin it).
* Reflection padding: ``F.pad(x, ..., mode='reflect')`` computes the forward
  pass, but its backward only crops the padded gradient, dropping the
  gradient of every reflected pixel. ``reflection_pad`` gathers the rows and
  columns with index arrays instead, whose backward adds them back.
"""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import numpy as np

INSTANCE_NORM_EPS = 1e-5  # torch.nn.InstanceNorm2d's default


def instance_normalization(x, eps=INSTANCE_NORM_EPS):
    """Normalise each (sample, channel) plane to zero mean, unit (biased) variance."""
    channels = x.shape[1]
    xp = chainer.backend.get_array_module(x)
    ones, zeros = xp.ones(channels, x.dtype), xp.zeros(channels, x.dtype)
    return F.group_normalization(x, channels, ones, zeros, eps=eps)


def reflect_indices(size, pad):
    """[pad, ..., 1, 0, 1, ..., size-1, size-2, ..., size-1-pad]: numpy's 'reflect'."""
    return np.concatenate([np.arange(pad, 0, -1), np.arange(size), np.arange(size - 2, size - 2 - pad, -1)])


def reflection_pad(x, pad):
    """Pad the last two axes by ``pad`` pixels, mirrored without repeating the edge."""
    x = x[:, :, reflect_indices(x.shape[2], pad)]
    return x[:, :, :, reflect_indices(x.shape[3], pad)]
