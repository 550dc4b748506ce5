"""The blog DCGAN: the facts both frameworks' model files share
(``chainer_impl.dcgan``, ``torch_impl.dcgan``)."""
from gan_common.recipes import Recipe

Z_DIM = 100
REAL, FAKE = 0, 1
ADAM = {'alpha': 1e-3, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8}  # the blog's Adam()
# z ~ U(-1, 1); one permutation per epoch; 64 fixed samples in the grid
RECIPE = Recipe(noise='uniform', sampling='epochs')
