"""Image grids written with Pillow."""
import math

import numpy as np
from PIL import Image

from gan_common.files import atomic_path


def to_unit_range(images, value_range):
    """Floats in ``value_range`` -> float32 in [0, 1], clipped (what sample.py writes)."""
    low, high = value_range
    return np.clip((np.asarray(images) - low) / (high - low), 0.0, 1.0).astype(np.float32)


def to_uint8(images, value_range=(0.0, 1.0)):
    """(N, C, H, W) floats in ``value_range`` -> (N, H, W, C) uint8, clipped."""
    low, high = value_range
    scaled = (np.asarray(images, dtype=np.float64) - low) / (high - low)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)


def tile(images, rows=None, cols=None, padding=2, value_range=(0.0, 1.0)):
    """Arrange (N, C, H, W) images into one (H', W', C) uint8 grid."""
    pixels = to_uint8(images, value_range)
    n, h, w, c = pixels.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = rows or int(math.ceil(n / cols))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), 255, np.uint8)
    for i in range(min(n, rows * cols)):
        top = padding + (i // cols) * (h + padding)
        left = padding + (i % cols) * (w + padding)
        grid[top:top + h, left:left + w] = pixels[i]
    return grid


def save_grid(images, path, rows=None, cols=None, value_range=(0.0, 1.0), scale=1):
    """Write ``images`` (N, C, H, W) as a grid PNG, atomically."""
    return save_png(tile(images, rows, cols, value_range=value_range), path, scale)


def save_png(canvas, path, scale=1):
    """Write an (H, W, C) uint8 canvas as a PNG (``scale``: nearest-neighbour
    enlargement), atomically."""
    picture = Image.fromarray(canvas[..., 0] if canvas.shape[2] == 1 else canvas)
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        picture.save(tmp, format='PNG')
    return path


def side_by_side(paths, out_path, labels=None, gap=8):
    """Join PNG files horizontally (e.g. the Chainer and PyTorch grids)."""
    pictures = [Image.open(p).convert('RGB') for p in paths]
    height = max(p.height for p in pictures)
    canvas = Image.new('RGB', (sum(p.width for p in pictures) + gap * (len(pictures) - 1), height), 'white')
    left = 0
    for picture in pictures:
        canvas.paste(picture, (left, 0))
        left += picture.width + gap
    with atomic_path(out_path) as tmp:
        canvas.save(tmp, format='PNG')
    return out_path
