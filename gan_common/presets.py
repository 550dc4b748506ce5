"""Training settings of each model's presets. ``blog`` (or the model's
source) is faithful; other presets say what they change and why."""
import copy

from gan_common.errors import UserError

PRESETS = {
    'dcgan': {
        'blog': {
            'about': 'the blog: Adam() defaults, batch 1000, 1000 epochs, all 70,000 MNIST images',
            'dataset': 'mnist', 'splits': ['train', 'test'], 'scaling': 'unit',
            'noise': 'uniform', 'z_dim': 100, 'batch_size': 1000, 'epochs': 1000,
            'adam': {'alpha': 1e-3, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8},
            'sample_every': 1000, 'snapshot_every': 1000, 'log_every': 10,
        },
        'quick': {
            'about': 'the blog model on a CPU budget: batch 64, 1500 iterations and Adam beta1 0.5 '
                     '(the DCGAN paper\'s momentum) instead of batch 1000, 1000 epochs and beta1 0.9',
            'dataset': 'mnist', 'splits': ['train', 'test'], 'scaling': 'unit',
            'noise': 'uniform', 'z_dim': 100, 'batch_size': 64, 'iterations': 1500,
            'adam': {'alpha': 1e-3, 'beta1': 0.5, 'beta2': 0.999, 'eps': 1e-8},
            'sample_every': 250, 'snapshot_every': 500, 'log_every': 10,
        },
    },
}


def get_preset(model, preset):
    if model not in PRESETS:
        raise UserError(f'unknown --model {model!r}; choose from {", ".join(sorted(PRESETS))}')
    presets = PRESETS[model]
    if preset not in presets:
        raise UserError(f'unknown --preset {preset!r} for {model}; choose from {", ".join(presets)}')
    return copy.deepcopy(presets[preset])
