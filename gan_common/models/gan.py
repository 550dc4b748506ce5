"""The vanilla MLP GAN of the "Conditional GAN と GAN の違い" post: the facts both frameworks' model files share
(``chainer_impl.gan``, ``torch_impl.gan``)."""
from gan_common.recipes import Recipe

Z_DIM = 100
REAL, FAKE = 1.0, 0.0
ADAM = {'lr': 2e-4, 'betas': (0.9, 0.999), 'eps': 1e-8}

# z ~ N(0, 1) (the post's torch.randn); one permutation per epoch (its DataLoader(shuffle=True);
# the post preset keeps the partial last batch, as that DataLoader does)
RECIPE = Recipe(noise='normal', sampling='epochs')


def torch_adam_arguments(adam):
    """Chainer-named settings (alpha, beta1, beta2, eps) -> ``torch.optim.Adam``'s
    arguments (lr, betas, eps); None: the post's."""
    if adam is None:
        return dict(ADAM)
    return {'lr': adam['alpha'], 'betas': (adam['beta1'], adam['beta2']), 'eps': adam['eps']}
