"""One declaration per model, framework-free: ``gan_common.models.<model>``
holds what the Chainer and the PyTorch model files of that model share (the
noise size, the real/fake labels, the default Adam, the training recipe;
CycleGAN's presets and widths), so that those files hold only what must
differ: networks, losses, optimizer and ``train_step``.

``networks(config)`` says which networks a run with ``config`` has, by the
names its recipe gives them, as (class name, constructor arguments); each
framework's ``models.build_named_networks`` builds them."""
import importlib

MODELS = ('dcgan', 'gan', 'cgan', 'acgan', 'cyclegan')


def declaration(model):
    """The module ``gan_common.models.<model>``."""
    if model not in MODELS:
        raise ValueError(f'unknown model {model!r}; choose from {MODELS}')
    return importlib.import_module(f'{__name__}.{model}')


def networks(config):
    """{name: (class name, constructor arguments)} of a run with ``config``:
    the model's own ``networks`` where it has one, else a generator of the
    run's noise size and a default discriminator."""
    own = getattr(declaration(config['model']), 'networks', None)
    if own is not None:
        return own(config)
    return {'gen': ('Generator', {'z_dim': config['z_dim']}), 'dis': ('Discriminator', {})}
