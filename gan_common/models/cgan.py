"""The conditional GAN of *GANs in Action* ch. 8: the facts both frameworks' model files share
(``chainer_impl.cgan``, ``torch_impl.cgan``)."""
from gan_common.recipes import N_CLASSES, Recipe  # noqa: F401 (N_CLASSES: declared for the model)

Z_DIM = 100
REAL, FAKE = 1.0, 0.0
ADAM = {'alpha': 1e-3, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-7}
# The book: real examples drawn with replacement each iteration, z ~ N(0, 1),
# fresh noise and random labels for the G step; a 2x5 grid of digits 0-9.
RECIPE = Recipe(noise='normal', sampling='replacement', conditional=True, fresh_gen_noise=True,
                loss_names=('loss_gen', 'loss_dis_real', 'loss_dis_fake'), grid_size=10, grid_cols=5)
