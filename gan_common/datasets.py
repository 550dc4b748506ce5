"""Training images as float arrays, prepared the way each model's source did."""
import numpy as np

from gan_common.errors import UserError
from gan_common.idx import load_idx_dataset

# How each source scaled uint8 pixels: name -> (divide by, then subtract)
SCALINGS = {
    'unit': (255.0, 0.0),        # x / 255 in [0, 1] (the DCGAN blog)
    'symmetric': (127.5, 1.0),   # x / 127.5 - 1 in [-1, 1] (GAN, CGAN, AC-GAN, the CycleGAN paper)
    'centered128': (128.0, 1.0),  # (x - 128) / 128 in [-1, 0.992] (the CycleGAN blog)
}


def value_range(scaling):
    divide, subtract = SCALINGS[scaling]
    return (0.0 - subtract, 255.0 / divide - subtract)


def load_images(dataset='mnist', data_dir=None, splits=('train', 'test'), classes=None,
                scaling='unit', dtype=np.float32):
    """Images (N, 1, 28, 28) scaled per ``scaling`` and their labels (N,),
    from the given splits concatenated (the DCGAN blog used all 70,000),
    keeping only ``classes`` when given (the blog's ``--digits 0`` run)."""
    parts = [load_idx_dataset(dataset, split, data_dir) for split in splits]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    if classes is not None:
        unknown = sorted(set(classes) - set(range(10)))
        if unknown:
            raise UserError(f'unknown class(es) {unknown}; classes are 0-9')
        keep = np.isin(labels, list(classes))
        images, labels = images[keep], labels[keep]
    divide, subtract = SCALINGS[scaling]
    dtype = np.dtype(dtype).type
    scaled = (images.astype(dtype) / dtype(divide) - dtype(subtract))[:, None]
    return scaled, labels
