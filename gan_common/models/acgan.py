"""AC-GAN: the facts both frameworks' model files share
(``chainer_impl.acgan``, ``torch_impl.acgan``)."""
from gan_common.recipes import N_CLASSES, Recipe  # noqa: F401 (N_CLASSES: declared for the model)

Z_DIM = 100
REAL, FAKE = 1, 0
ADAM = {'alpha': 2e-4, 'beta1': 0.5}
# z ~ N(0, 1) (the scale of the N(0, 1) label embedding it is multiplied with);
# one permutation per epoch; fake labels uniform over the classes; a 10x10 grid, one class a column.
RECIPE = Recipe(noise='normal', sampling='epochs', conditional=True, grid_size=100, grid_cols=10)
