"""Keras 2.1.6 on TensorFlow 1.x, framework-free: the constants and the
'same' padding that ``chainer_impl.keras_semantics`` and
``torch_impl.keras_semantics`` (twins, line for line) build their layers on,
for the models whose source is Keras.

* ``padding='same'`` the TensorFlow way: ``max((ceil(n/s) - 1)*s + k - n, 0)``
  padding in all, the odd one at the bottom / right (``same_padding``).
  ``Conv2DTranspose`` is the exact gradient of that convolution: a full
  transposed convolution (output (n-1)*s + k), cropped the same way to n*s.
* Kernels Glorot-uniform, U(+-sqrt(6 / (fan_in + fan_out))), with Keras's fans
  (conv: k*k*in, k*k*out); biases zero; ``Embedding`` U(-0.05, 0.05).
* ``BatchNormalization``: momentum 0.99, epsilon 1e-3, and Keras 2.1.6's
  moving statistics (see the frameworks' ``BatchNormalization``).
* ``binary_crossentropy``: probabilities clipped to [1e-7, 1 - 1e-7], turned
  back into logits, then TensorFlow's ``sigmoid_cross_entropy_with_logits``.

Arrays are NCHW in both frameworks and NHWC in Keras. Keras weights load as:
Dense kernel (in, out) -> its transpose; Conv2D kernel (k, k, in, out) and
Conv2DTranspose kernel (k, k, out, in) -> axes (3, 2, 0, 1).
"""
EPSILON = 1e-7         # keras.backend.epsilon()
BN_MOMENTUM = 0.99
BN_EPSILON = 1e-3
EMBEDDING_SCALE = 0.05


def same_padding(size, kernel, stride):
    """TensorFlow's 'SAME' padding of one axis: (before, after)."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2
