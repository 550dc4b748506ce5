"""Command-line pieces shared by train.py and compare.py."""
from gan_common import presets
from gan_common.datasets import load_images, value_range
from gan_common.devices import chainer_device_spec, parse_device, torch_device_spec
from gan_common.errors import UserError


def add_model_arguments(parser, default_preset):
    """--model, --preset, data selection, --device, --batch-size, --seed, --dtype."""
    parser.add_argument('--model', default='dcgan', help='model: dcgan, gan, cgan or acgan (default: dcgan)')
    choices = '; '.join(f'{model}: {", ".join(names)}' for model, names in presets.PRESETS.items())
    default = default_preset or "the model's first, its source's settings"
    parser.add_argument('--preset', default=default_preset,
                        help=f'settings preset ({choices}; default: {default})')
    parser.add_argument('--dataset', default=None, help="mnist or fashion-mnist (default: the preset's)")
    parser.add_argument('--data-dir', default=None, help='folder holding the dataset (default: $GAN_DATA_DIR, then data/)')
    parser.add_argument('--digits', default=None,
                        help="comma-separated classes to keep, e.g. 0 for the blog's digit-0 run")
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:N, @numpy, @cupy:N, -1 or N')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--seed', type=int, default=0)


def parse_classes(text):
    if text is None:
        return None
    try:
        return sorted({int(part) for part in text.split(',') if part.strip()})
    except ValueError:
        raise UserError(f'--digits {text!r} is not a comma-separated list of class numbers, e.g. 0 or 3,5') from None


def positive(name, value):
    if value is not None and value <= 0:
        raise UserError(f'--{name} must be positive, got {value}')
    return value


def make_config(args, dtype):
    """The preset's settings with the command line's overrides applied."""
    preset = args.preset or presets.default_preset(args.model)
    config = presets.get_preset(args.model, preset)
    config.update(model=args.model, preset=preset, seed=args.seed, dtype=dtype,
                  classes=parse_classes(args.digits))
    if args.dataset is not None:
        config['dataset'] = args.dataset
    if args.batch_size is not None:
        config['batch_size'] = positive('batch-size', args.batch_size)
    gpu = parse_device(args.device)
    config.update(chainer_device=chainer_device_spec(gpu), torch_device=torch_device_spec(gpu),
                  value_range=list(value_range(config['scaling'])))
    return config


def load_training_data(config, data_dir):
    """(images, labels) of the training set ``config`` describes."""
    images, labels = load_images(config['dataset'], data_dir, config['splits'], config['classes'],
                                 config['scaling'], dtype=config['dtype'])
    config['n_examples'] = len(images)
    return images, labels


def load_training_images(config, data_dir):
    """The images only; ``config['data_dir']`` records where they came from so
    that a conditional model's labels can be read again (``bridge.lockstep``)."""
    images, _ = load_training_data(config, data_dir)
    config['data_dir'] = data_dir
    return images
