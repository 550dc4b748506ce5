"""CycleGAN, both presets: the facts both frameworks' model files share
(``chainer_impl.cyclegan``, ``torch_impl.cyclegan``)."""
from gan_common.cycle import CycleLosses, UnpairedRecipe

PRESETS = ('blog', 'paper')
NGF = {'blog': 16, 'paper': 64}
NDF = {'blog': 16, 'paper': 64}
GAN_LOSS = {'blog': 'sce', 'paper': 'lsgan'}
REAL, FAKE = 0, 1
ADAM = {'alpha': 2e-4, 'beta1': 0.5}
RECIPE = UnpairedRecipe()


def check_preset(preset):
    if preset not in PRESETS:
        raise ValueError(f'unknown CycleGAN preset {preset!r}; choose from {PRESETS}')
    return preset


def networks(config):
    """The run's four networks, named as ``RECIPE.networks``: (class name, constructor arguments)."""
    preset, gan_loss = config['architecture'], CycleLosses.from_config(config).gan_loss
    generator = ('Generator', dict(preset=preset, ngf=config.get('ngf'), n_blocks=config.get('n_blocks', 9)))
    discriminator = ('Discriminator', dict(preset=preset, gan_loss=gan_loss, ndf=config.get('ndf')))
    return {'gen_ab': generator, 'gen_ba': generator, 'dis_a': discriminator, 'dis_b': discriminator}
