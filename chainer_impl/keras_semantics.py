"""Chainer links with the behaviour of Keras 2.1.6 on TensorFlow 1.x, for
models whose source is Keras (``torch_impl/keras_semantics.py`` is the
PyTorch twin, line for line). What they reproduce, the constants and the
'same' padding are framework-free, in ``gan_common.keras_semantics``.

Arrays are NCHW here and NHWC in Keras. Keras weights load as: Dense kernel
(in, out) -> ``W = kernel.T``; Conv2D kernel (k, k, in, out) and
Conv2DTranspose kernel (k, k, out, in) -> ``W = kernel.transpose(3, 2, 0, 1)``.
"""
import contextlib

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import initializers

from gan_common.keras_semantics import (  # noqa: F401
    BN_EPSILON, BN_MOMENTUM, EMBEDDING_SCALE, EPSILON, same_padding)


# ---------------------------------------------------------------- 'same' padding
def conv2d_same(x, W, b, stride):
    (top, bottom), (left, right) = (same_padding(n, k, stride) for n, k in zip(x.shape[2:], W.shape[2:]))
    return F.convolution_2d(F.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), 'constant'), W, b, stride)


def conv2d_transpose_same(x, W, b, stride):
    """Output n*stride: the full transposed convolution, cropped as the
    forward convolution of an n*stride input would have been padded."""
    if min(W.shape[2:]) < stride:
        raise ValueError('kernel smaller than stride is not supported')
    (top, _), (left, _) = (same_padding(n * stride, k, stride) for n, k in zip(x.shape[2:], W.shape[2:]))
    height, width = x.shape[2] * stride, x.shape[3] * stride
    return F.deconvolution_2d(x, W, b, stride)[:, :, top:top + height, left:left + width]


# ---------------------------------------------------------------- layers
class Dense(L.Linear):
    """``keras.layers.Dense``: Glorot-uniform kernel, zero bias."""

    def __init__(self, in_size, out_size):
        super().__init__(in_size, out_size, initialW=initializers.GlorotUniform())


class Conv2D(L.Convolution2D):
    """``keras.layers.Conv2D(..., padding='same')``."""

    def __init__(self, in_channels, out_channels, ksize, stride=1):
        super().__init__(in_channels, out_channels, ksize, stride, initialW=initializers.GlorotUniform())

    def forward(self, x):
        return conv2d_same(x, self.W, self.b, self.stride[0])


class Conv2DTranspose(L.Deconvolution2D):
    """``keras.layers.Conv2DTranspose(..., padding='same')``."""

    def __init__(self, in_channels, out_channels, ksize, stride=1):
        super().__init__(in_channels, out_channels, ksize, stride, initialW=initializers.GlorotUniform())

    def forward(self, x):
        return conv2d_transpose_same(x, self.W, self.b, self.stride[0])


class Embedding(L.EmbedID):
    """``keras.layers.Embedding``: U(-0.05, 0.05)."""

    def __init__(self, in_size, out_size):
        super().__init__(in_size, out_size, initialW=initializers.Uniform(EMBEDDING_SCALE))


class BatchNormalization(L.BatchNormalization):
    """``keras.layers.BatchNormalization()`` of Keras 2.1.6 on TensorFlow 1.x, on NCHW input.

    Training mode normalises with the batch mean and biased variance, test
    mode with the moving statistics, as Chainer does. The moving statistics
    are Keras 2.1.6's, not Chainer's:

    * the batch variance averaged in is corrected twice: TensorFlow's fused
      kernel returns var * n/(n-1), and Keras multiplies by n/(n - 1 - epsilon)
      again (n = N*H*W);
    * ``K.moving_average_update`` uses ``zero_debias=True``: shadow averages
      ``biased_mean`` / ``biased_var`` start at 0, and after the t-th update
      (t = ``N``) the moving statistic is biased / (1 - 0.99**t), so the first
      update sets it to the batch's value and the initial 0 / 1 never count.

    With ``update_statistics = False`` (see ``statistics_frozen``) training mode
    still normalises with the batch statistics but updates nothing.
    """

    def __init__(self, size):
        super().__init__(size, decay=BN_MOMENTUM, eps=BN_EPSILON)
        self.biased_mean = self.xp.zeros_like(self.avg_mean)
        self.biased_var = self.xp.zeros_like(self.avg_var)
        self.register_persistent('biased_mean')
        self.register_persistent('biased_var')
        self.update_statistics = True

    def forward(self, x):
        if not chainer.config.train:
            return F.fixed_batch_normalization(x, self.gamma, self.beta, self.avg_mean, self.avg_var, self.eps)
        if self.update_statistics:
            self._update_statistics(x.array if isinstance(x, chainer.Variable) else x)
        return F.batch_normalization(x, self.gamma, self.beta, eps=self.eps)

    def _update_statistics(self, x):
        n = x.size // x.shape[1]
        mean = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3)) * (n / max(n - 1, 1))  # TensorFlow's fused kernel
        var = var * (n / (n - (1.0 + self.eps)))           # Keras 2.1.6, once more
        self.N += 1
        decay = 1.0 - self.decay  # TensorFlow's assign_moving_average gets 1 - momentum
        debias = 1.0 - (1.0 - decay) ** int(self.N)
        for biased, average, value in ((self.biased_mean, self.avg_mean, mean),
                                       (self.biased_var, self.avg_var, var)):
            biased -= (biased - value) * decay
            average -= average - biased / debias


@contextlib.contextmanager
def statistics_frozen(link):
    """Training-mode batch normalisation that updates no moving statistics."""
    layers = [m for m in link.links() if isinstance(m, BatchNormalization)]
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
    p = F.clip(p, EPSILON, 1 - EPSILON)
    logits = F.log(p / (1 - p))
    return F.mean(F.relu(logits) - logits * target + F.log1p(F.exp(-F.absolute(logits))))
