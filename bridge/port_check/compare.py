"""Distances between a Chainer value and a PyTorch value, and the tolerance
they are judged by."""
from dataclasses import dataclass

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import numpy as np
import torch

TOLERANCE = {'float64': 1e-10, 'float32': 1e-4}


def to_numpy(x):
    """chainer.Variable / torch.Tensor / CuPy or NumPy array / number -> NumPy array."""
    if isinstance(x, chainer.Variable):
        x = x.array
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if np.isscalar(x):
        return np.asarray(x)
    return chainer.backend.CpuDevice().send(x)


def max_abs_diff(a, b):
    return float(np.max(np.abs(to_numpy(a).astype(np.float64) - to_numpy(b).astype(np.float64))))


def max_rel_diff(a, b):
    """max |a - b| / max(1, |a|): absolute for small values, relative for large ones."""
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))


@dataclass
class Difference:
    abs: float
    rel: float
    shapes_differ: bool = False

    def within(self, tolerance):
        return self.rel <= tolerance


SAME = Difference(0.0, 0.0)
MISSING = Difference(float('inf'), float('inf'), True)


def difference(a, b):
    """Chainer value ``a`` against PyTorch value ``b``. Equal sizes with
    different shapes (L.Linear flattens its input itself) are compared
    flattened per sample; equal infinities count as equal; a NaN on one side
    only, or a missing value, is an infinite difference."""
    if a is None and b is None:
        return SAME
    if a is None or b is None:
        return MISSING
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    if a.shape != b.shape:
        if a.size != b.size or a.ndim == 0 or b.ndim == 0 or len(a) != len(b):
            return MISSING
        a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if a.size == 0:
        return SAME
    with np.errstate(invalid='ignore'):
        gap = np.where(a == b, 0.0, np.abs(a - b))
    gap = np.where(np.isnan(a) & np.isnan(b), 0.0, np.where(np.isnan(gap), np.inf, gap))
    with np.errstate(invalid='ignore'):
        rel = gap / np.maximum(1.0, np.where(np.isfinite(a), np.abs(a), 1.0))
    return Difference(float(gap.max()), float(rel.max()))


def worst(differences):
    differences = list(differences)
    if not differences:
        return SAME
    return max(differences, key=lambda d: (d.rel, d.abs))
