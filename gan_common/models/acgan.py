"""AC-GAN: the facts both frameworks' model files share
(``chainer_impl.acgan``, ``torch_impl.acgan``)."""
from gan_common.recipes import N_CLASSES, Recipe  # noqa: F401 (N_CLASSES: declared for the model)

Z_DIM = 100
REAL, FAKE = 1, 0
IMAGE_SIZE, CHANNELS = 28, 1
CONVOLUTIONS = ((16, 2), (32, 1), (64, 2), (128, 1), (256, 2), (512, 1))  # D: (channels, stride), 3x3, pad 1
DROPOUT = 0.5
ADAM = {'alpha': 2e-4, 'beta1': 0.5}
# z ~ N(0, 1); one permutation per epoch; fake labels uniform over the classes;
# D's dropout masks from the shared stream; a 10x10 grid, one class a column.
RECIPE = Recipe(noise='normal', sampling='epochs', conditional=True, dropout_masks=True,
                grid_size=100, grid_cols=10)


def upsampled_sizes(image_size):
    """The generator's spatial sizes: 4, then doubling to ``image_size``
    ('same' padding: 28 -> (4, 7, 14, 28), 32 -> (4, 8, 16, 32))."""
    sizes = [image_size]
    for _ in range(3):
        sizes.insert(0, (sizes[0] + 1) // 2)
    if sizes[0] != 4:
        raise ValueError(f'image_size {image_size}: the generator starts at 4x4 and doubles three times (25-32)')
    return sizes
