"""The PyTorch side of ``chainer_impl/functions.py``, under the same names."""
import torch.nn.functional as F

INSTANCE_NORM_EPS = 1e-5  # torch.nn.InstanceNorm2d's default


def instance_normalization(x, eps=INSTANCE_NORM_EPS):
    """Normalise each (sample, channel) plane to zero mean, unit (biased) variance."""
    return F.instance_norm(x, eps=eps)


def reflection_pad(x, pad):
    """Pad the last two axes by ``pad`` pixels, mirrored without repeating the edge."""
    return F.pad(x, (pad, pad, pad, pad), mode='reflect')
