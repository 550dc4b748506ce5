"""Command-line pieces shared by train.py and compare.py."""
from gan_common import presets
from gan_common.datasets import load_images, value_range
from gan_common.devices import chainer_device_spec, parse_device, require_gpu, torch_device_spec
from gan_common.errors import UserError


def add_model_arguments(parser, default_preset):
    """--model, --preset, data selection, --device, --batch-size, --seed, --dtype."""
    parser.add_argument('--model', default='dcgan', help='model: dcgan, gan, cgan, acgan or cyclegan (default: dcgan)')
    choices = '; '.join(f'{model}: {", ".join(names)}' for model, names in presets.PRESETS.items())
    default = default_preset or "the model's first, its source's settings"
    parser.add_argument('--preset', default=default_preset,
                        help=f'settings preset ({choices}; default: {default})')
    parser.add_argument('--dataset', default=None,
                        help="mnist or fashion-mnist; cyclegan: a folder holding trainA/ trainB/, or the name of "
                             "one under --data-dir or data/ (default: the preset's)")
    parser.add_argument('--data-dir', default=None, help='folder holding the dataset (default: $GAN_DATA_DIR, then data/)')
    parser.add_argument('--digits', default=None,
                        help="comma-separated classes to keep, e.g. 0 for the blog's digit-0 run")
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:N, @numpy, @cupy:N, -1 or N')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--seed', type=int, default=None,
                        help="seed of the initial weights, the batches and the noise (default: the preset's, "
                             "else 0)")
    parser.add_argument('--image-size', type=int, default=None,
                        help="cyclegan: training image size (default: the preset's); the load size scales with it")
    parser.add_argument('--gan-loss', choices=['sce', 'lsgan'], default=None,
                        help="cyclegan: adversarial loss, softmax cross-entropy on a 2-channel patch map or "
                             "least squares on a 1-channel one (default: the preset's)")


def parse_classes(text):
    if text is None:
        return None
    try:
        classes = sorted({int(part) for part in text.split(',') if part.strip()})
    except ValueError:
        raise UserError(f'--digits {text!r} is not a comma-separated list of class numbers, e.g. 0 or 3,5') from None
    if not classes:
        raise UserError(f'--digits {text!r} names no class; give class numbers, e.g. 0 or 3,5')
    return classes


MAX_SEED = 2 ** 32 - 1  # NumPy's global seed (Chainer's initialisers) takes no more


def check_seed(seed):
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f'--seed must be between 0 and {MAX_SEED}, got {seed}')
    return seed


def positive(name, value):
    if value is not None and value <= 0:
        raise UserError(f'--{name} must be positive, got {value}')
    return value


def make_config(args, dtype, frameworks=('chainer', 'torch')):
    """The preset's settings with the command line's overrides applied
    (``frameworks``: those that will run, which must be able to use --device)."""
    preset = args.preset or presets.default_preset(args.model)
    config = presets.get_preset(args.model, preset)
    seed = config.pop('seed', 0) if args.seed is None else args.seed
    config.update(model=args.model, preset=preset, seed=check_seed(seed), dtype=dtype,
                  classes=parse_classes(args.digits))
    if args.dataset is not None:
        config['dataset'] = args.dataset
    if args.batch_size is not None:
        config['batch_size'] = positive('batch-size', args.batch_size)
    if args.model == 'cyclegan':
        set_cyclegan_options(config, args)
    elif args.image_size is not None or args.gan_loss is not None:
        raise UserError('--image-size and --gan-loss are CycleGAN options; drop them or pass --model cyclegan')
    gpu = parse_device(args.device)
    require_gpu(gpu, frameworks)
    config.update(chainer_device=chainer_device_spec(gpu), torch_device=torch_device_spec(gpu),
                  value_range=list(value_range(config['scaling'])))
    return config


def set_cyclegan_options(config, args):
    """--image-size (the load size keeps its ratio: 286 / 256 in the paper) and --gan-loss."""
    from gan_common.cycle import check_image_size
    if args.image_size is not None:
        size = check_image_size(config['architecture'], positive('image-size', args.image_size))
        config['load_size'] = int(round(size * config['load_size'] / config['image_size']))
        config['image_size'] = size
    if args.gan_loss is not None:
        config['gan_loss'] = args.gan_loss


def load_training_data(config, data_dir):
    """(images, labels) of the training set ``config`` describes; for
    cyclegan an ``UnpairedImages`` and no labels."""
    if config['model'] == 'cyclegan':
        from gan_common.unpaired import load_unpaired
        data = load_unpaired(config['dataset'], data_dir, config['load_size'])
        config.update(dataset_dir=data.root, n_examples=max(len(data.a), len(data.b)),
                      n_a=len(data.a), n_b=len(data.b))
        return data, None
    images, labels = load_images(config['dataset'], data_dir, config['splits'], config['classes'],
                                 config['scaling'], dtype=config['dtype'])
    config['n_examples'] = len(images)
    return images, labels
