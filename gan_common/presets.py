"""Training settings of each model's presets. The first preset of each model
is its source's (dcgan: ``blog``, gan: ``post``, cgan: ``book``, acgan:
``paper``, cyclegan: ``blog``) and is the default; other presets say what they change and why.
``seed``, where a preset gives one, is its default for ``--seed`` (else 0).
``adam`` is always in Chainer's names (alpha, beta1, beta2, eps); a module
whose optimizer names them otherwise translates (``gan``: torch.optim.Adam)."""
import copy

from gan_common.errors import UserError

def _changed(preset, about, drop=(), **changes):
    """A preset that says what it changes from ``preset`` (``about``) and
    changes only that: ``changes`` replace settings, ``drop`` removes them."""
    changed = {key: value for key, value in copy.deepcopy(preset).items() if key not in drop}
    changed.update(about=about, **changes)
    return changed


_DCGAN_BLOG = {
    'about': 'the blog: Adam() defaults, batch 1000, 1000 epochs, all 70,000 MNIST images',
    'dataset': 'mnist', 'splits': ['train', 'test'], 'scaling': 'unit',
    'z_dim': 100, 'batch_size': 1000, 'epochs': 1000,
    'adam': {'alpha': 1e-3, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8},
    'sample_every': 1000, 'snapshot_every': 1000, 'log_every': 10,
}

_GAN_POST = {
    'about': "the post: torch.optim.Adam(lr 2e-4, betas (0.9, 0.999)), batch 64, 50 epochs over "
             "the 60,000 training images (DataLoader(shuffle=True): one shuffle per epoch, the partial last "
             "batch kept: 937 batches of 64 and one of 32, 938 steps an epoch), z ~ N(0, 1), "
             "images x / 127.5 - 1 in [-1, 1]",
    'dataset': 'mnist', 'splits': ['train'], 'scaling': 'symmetric', 'keep_partial_batch': True,
    'z_dim': 100, 'batch_size': 64, 'epochs': 50,
    'adam': {'alpha': 2e-4, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8},
    'sample_every': 938, 'snapshot_every': 4690, 'log_every': 10,
}

_CGAN_BOOK = {
    'about': "the book (GANs in Action ch. 8): Keras Adam() (lr 1e-3, epsilon 1e-7), batch 32, "
             "12,000 iterations, each batch drawn with replacement from the 60,000 training images, "
             "z ~ N(0, 1) with fresh noise for the G step, images x / 127.5 - 1, "
             "a 2x5 grid of digits 0-9 every 1,000 iterations; seed 1 unless --seed says otherwise (with "
             "seed 0 PyTorch's run reaches the book's dead end, at iteration 1,600 on one machine and 3,350 on "
             "another; seeds 1-5 were alive at 2,500 and seed 1 trains to the end)",
    'dataset': 'mnist', 'splits': ['train'], 'scaling': 'symmetric', 'seed': 1,
    'z_dim': 100, 'batch_size': 32, 'iterations': 12000,
    'adam': {'alpha': 1e-3, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-7},
    'sample_every': 1000, 'snapshot_every': 1000, 'log_every': 10,
}

_ACGAN_PAPER = {
    'about': "the AC-GAN paper: its CIFAR-10 networks adapted to 28x28x1 (see acgan.py), Adam (alpha "
             "2e-4, beta1 0.5), dropout 0.5 in D, z ~ N(0, 1) concatenated with the one-hot class, "
             "fake labels uniform over the classes, images x / 127.5 - 1; batch 64 (the paper: 100) "
             "and 10 epochs (9,370 iterations) over the 60,000 training images (one shuffle per epoch; "
             "the paper gives no MNIST length, and after 5 epochs the classifier read only 0.944 of "
             "the samples as their class, the 5s 0.85); --dataset fashion-mnist for Fashion-MNIST",
    'dataset': 'mnist', 'splits': ['train'], 'scaling': 'symmetric',
    'z_dim': 100, 'batch_size': 64, 'epochs': 10,
    'adam': {'alpha': 2e-4, 'beta1': 0.5, 'beta2': 0.999, 'eps': 1e-8},
    'sample_every': 500, 'snapshot_every': 500, 'log_every': 10,
}

_CYCLEGAN_BLOG = {
    'about': "IKEP's Chainer post: U-Net generators (16-128 channels), BN discriminators with a "
             "2-channel patch map and softmax cross-entropy (--gan-loss lsgan: 1 channel, MSE), "
             "cycle L1 x 10, four Adam(alpha 2e-4, beta1 0.5), images (x - 128) / 128; D_A and "
             "D_B step first; no identity loss, image pool or lr decay. Not stated in the post, our "
             "choices: 256x256 images as the datasets ship them (no crop or flip), batch 1, 200 epochs",
    'dataset': 'horse2zebra', 'architecture': 'blog', 'scaling': 'centered128',
    'gan_loss': 'sce', 'lambda_cycle': 10.0, 'lambda_identity': 0.0, 'dis_scale': 1.0, 'pool_size': 0,
    'lr_schedule': None, 'load_size': 256, 'image_size': 256, 'flip': False,
    'batch_size': 1, 'adam': {'alpha': 2e-4, 'beta1': 0.5, 'beta2': 0.999, 'eps': 1e-8},
    'epochs': 200, 'sample_every': 1000, 'snapshot_every': 5000, 'log_every': 50,
}

_CYCLEGAN_PAPER = {
    'about': 'the CycleGAN paper and its reference implementation: ResNet generators (9 blocks), '
             '70x70 PatchGAN discriminators, instance normalisation, LSGAN, cycle L1 x 10, identity '
             'L1 x 5, discriminator losses halved, image pools of 50, Adam(2e-4, 0.5) constant for '
             '100 epochs then linearly to 0 over 100 more; load 286, random crop 256, random '
             'horizontal flip, batch 1, images x / 127.5 - 1',
    'dataset': 'horse2zebra', 'architecture': 'paper', 'scaling': 'symmetric',
    'gan_loss': 'lsgan', 'lambda_cycle': 10.0, 'lambda_identity': 0.5, 'dis_scale': 0.5, 'pool_size': 50,
    'lr_schedule': {'constant_epochs': 100, 'decay_epochs': 100},
    'load_size': 286, 'image_size': 256, 'flip': True,
    'batch_size': 1, 'epochs': 200, 'adam': {'alpha': 2e-4, 'beta1': 0.5, 'beta2': 0.999, 'eps': 1e-8},
    'sample_every': 1000, 'snapshot_every': 5000, 'log_every': 50,
}

PRESETS = {
    'dcgan': {
        'blog': _DCGAN_BLOG,
        'quick': _changed(
            _DCGAN_BLOG, 'the blog model on a CPU budget: batch 64 and 800 iterations instead of batch 1000 '
                         'and 1000 epochs, Adam beta1 0.5 (the DCGAN paper\'s momentum) instead of 0.9, and '
                         'alpha 2.5e-4 for the discriminator (the generator keeps 1e-3)',
            drop=['epochs'], batch_size=64, iterations=800, adam=dict(_DCGAN_BLOG['adam'], beta1=0.5),
            adam_dis={'alpha': 2.5e-4}, sample_every=200, snapshot_every=400),
    },
    'gan': {
        'post': _GAN_POST,
        'quick': _changed(_GAN_POST, 'the post on a CPU budget: 5 epochs instead of 50, everything else as the post',
                          epochs=5, sample_every=500, snapshot_every=1000),
        'beta05': _changed(_GAN_POST, "the post with Adam beta1 0.5 (the DCGAN paper's momentum) instead of 0.9, "
                                      "everything else as the post: all ten digits by epoch 10 (the post: nine at "
                                      "epoch 50); the 1s still about 31% of the samples",
                           adam=dict(_GAN_POST['adam'], beta1=0.5)),
    },
    'cgan': {
        'book': _CGAN_BOOK,
        'quick': _changed(_CGAN_BOOK, 'the book on a CPU budget: 2,000 iterations instead of 12,000 and a grid '
                                      'every 250, seed 0', drop=['seed'], iterations=2000, sample_every=250,
                          snapshot_every=500),
    },
    'acgan': {
        'paper': _ACGAN_PAPER,
        'quick': _changed(_ACGAN_PAPER, 'the paper preset on a CPU budget: 1,500 iterations instead of 10 epochs',
                          drop=['epochs'], iterations=1500, sample_every=250),
    },
    'cyclegan': {
        'blog': _CYCLEGAN_BLOG,
        'paper': _CYCLEGAN_PAPER,
        'quick': _changed(
            _CYCLEGAN_BLOG, 'the blog model on a CPU budget: 64x64 images (resized, no crop), batch 1, 12,000 '
                            'iterations (about 7 min in PyTorch, 14 in Chainer, on 2 free CPU cores)',
            load_size=64, image_size=64, iterations=12000, epochs=None, snapshot_every=3000),
    },
}


def check_model(model):
    if model not in PRESETS:
        raise UserError(f'unknown --model {model!r}; choose from {", ".join(sorted(PRESETS))}')
    return PRESETS[model]


def default_preset(model):
    """The model's first preset: its source's settings."""
    return next(iter(check_model(model)))


def adam_settings(config, network):
    """Adam's settings for ``network`` ('gen' or 'dis'; CycleGAN: 'gen_ab',
    'dis_a', ...): ``adam``, updated by ``adam_dis`` for a discriminator
    where a preset gives one."""
    settings = dict(config['adam'])
    if network.startswith('dis'):
        settings.update(config.get('adam_dis', {}))
    return settings


def get_preset(model, preset):
    presets = check_model(model)
    if preset not in presets:
        raise UserError(f'unknown --preset {preset!r} for {model}; choose from {", ".join(presets)}')
    return copy.deepcopy(presets[preset])
