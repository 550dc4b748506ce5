"""The weight scaling of Chainer v1's ``wscale`` (kept apart: links built
with it refer to this class, so unpickling them needs only this module)."""
import numpy

from chainer import initializer


class Scaled(initializer.Initializer):
    """Fill with ``inner``, then multiply by ``scale`` (v1's ``init_weight``)."""

    def __init__(self, inner, scale):
        super().__init__(getattr(inner, 'dtype', None))
        self.inner = inner
        self.scale = scale

    def __call__(self, array):
        self.inner(array)
        array *= numpy.asarray(self.scale, dtype=array.dtype)
