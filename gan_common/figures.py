"""Evaluation figures with Pillow: rows of images (latent interpolations,
class swaps) and samples beside their nearest training images."""
import numpy as np

from gan_common.errors import UserError
from gan_common.images import save_png, to_uint8

SEPARATOR_GRAY = 128  # visible against both black and white backgrounds


def interpolation_figure(rows, path, gap=1, scale=2, value_range=(0.0, 1.0)):
    """Write ``rows`` (a sequence of (K, C, H, W) or (K, H, W) image arrays,
    one figure row each; shorter rows end in gray) as one PNG, atomically,
    with ``gap``-pixel gray lines between images. Returns ``path``."""
    rows = [_cells(row, value_range) for row in rows]
    if not rows or not any(len(row) for row in rows):
        raise UserError('no images to draw; pass at least one non-empty row')
    return save_png(_layout(rows, gap), path, scale)


def neighbours_figure(samples, neighbours, path, pairs_per_row=8, gap=1, pair_gap=4, scale=2,
                      value_range=(0.0, 1.0)):
    """Write each sample with its nearest training image to its right, as
    ``pairs_per_row`` pairs per row (``pair_gap`` gray pixels between pairs,
    ``gap`` within a pair), to one PNG, atomically. Returns ``path``."""
    samples, neighbours = _cells(samples, value_range), _cells(neighbours, value_range)
    if len(samples) != len(neighbours) or len(samples) == 0:
        raise UserError(f'need one neighbour per sample, got {len(samples)} samples and {len(neighbours)} neighbours')
    line = np.full((samples.shape[1], gap, samples.shape[3]), SEPARATOR_GRAY, np.uint8)
    pairs = [np.concatenate([s, line, n], axis=1) for s, n in zip(samples, neighbours)]
    rows = [pairs[i:i + pairs_per_row] for i in range(0, len(pairs), max(1, pairs_per_row))]
    return save_png(_layout(rows, pair_gap), path, scale)


def _cells(images, value_range):
    """(K, H, W, C) uint8 from (K, C, H, W) or (K, H, W) floats."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise UserError(f'expected images (K, C, H, W) or (K, H, W), got shape {images.shape}')
    return to_uint8(images, value_range)


def _layout(rows, gap):
    """One (H', W', C) uint8 canvas: equal-size cells in rows, ``gap`` gray pixels around each."""
    cells = [cell for row in rows for cell in row]
    h, w, c = cells[0].shape
    if any(cell.shape != (h, w, c) for cell in cells):
        raise UserError('all images in a figure must have the same size and channels')
    cols = max(len(row) for row in rows)
    canvas = np.full((len(rows) * (h + gap) + gap, cols * (w + gap) + gap, c), SEPARATOR_GRAY, np.uint8)
    for r, row in enumerate(rows):
        for k, cell in enumerate(row):
            top, left = gap + r * (h + gap), gap + k * (w + gap)
            canvas[top:top + h, left:left + w] = cell
    return canvas


