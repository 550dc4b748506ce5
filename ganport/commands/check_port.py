"""Check that a PyTorch port computes what a Chainer model computes.

The Chainer model's weights are copied into the port, both run on the same
random inputs, and every paired layer's output, the outputs, the loss, every
gradient (and with --steps, K optimizer steps) are compared. Prints one row
per layer and, at the first divergence, its cause from a catalogue of known
Chainer/PyTorch differences, each tested on the spot. Exit status 0: the
same program; 1: a divergence (or a bad input).

Example:
  python scripts/check_port.py --chainer examples/resnet_chainer.py:ResNet \\
      --torch examples/resnet_torch.py:ResNet --input-shape 4,3,16,16 --json report.json
"""
import argparse
import json
import os

from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import atomic_path

OPTIMIZERS = ('chainer-adam', 'torch-adam')


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--chainer', required=True, metavar='MODULE_OR_FILE:FACTORY',
                        help='the Chainer model: an importable module or a .py file, and a callable with no '
                             'required arguments returning a chainer.Link (a class counts)')
    parser.add_argument('--torch', required=True, metavar='MODULE_OR_FILE:FACTORY',
                        help='the PyTorch port, the same way (returning a torch.nn.Module)')
    parser.add_argument('--input-shape', required=True, action='append', metavar='N,C,H,W',
                        help='shape of the random input; repeat for a model taking several inputs')
    parser.add_argument('--input-dtype', action='append', choices=('float32', 'int32'), metavar='float32|int32',
                        help='per --input-shape (default float32): float32 draws N(0, 1) in --dtype, int32 '
                             'draws labels in [0, the smallest EmbedID size, or 10)')
    parser.add_argument('--dtype', default='float64', choices=('float64', 'float32'),
                        help='precision of both models (default float64, tolerance 1e-10; float32: 1e-4)')
    parser.add_argument('--mode', default='both', choices=('train', 'test', 'both'),
                        help="Chainer's config.train and PyTorch's train()/eval(): both (the default) checks "
                             'train mode, then test mode from the same start; --steps run in train mode')
    parser.add_argument('--independent-dropout', action='store_true',
                        help="in train mode let each framework draw its own dropout masks (default: PyTorch's "
                             "dropouts apply Chainer's masks, so a correct port passes; differing masks are "
                             'then diagnosed as dropout_mask)')
    parser.add_argument('--steps', type=int, default=0, metavar='K', help='also compare K optimizer steps')
    parser.add_argument('--optimizer', default='chainer-adam', choices=OPTIMIZERS,
                        help="for --steps: Chainer's Adam() against torch_impl.optim.ChainerAdam "
                             '(chainer-adam, the default) or against torch.optim.Adam (torch-adam)')
    parser.add_argument('--map', metavar='FILE',
                        help='JSON {chainer layer or save_npz key: torch module or state_dict key} to pair by')
    parser.add_argument('--json', metavar='OUT', help='also write the report as JSON')
    parser.add_argument('--seed', type=int, default=0, help='seed of the inputs, the models and dropout (default 0)')
    parser.add_argument('--tolerance', type=float, default=None,
                        help='max |chainer - torch| / max(1, |chainer|) allowed (default by --dtype)')
    return parser


def parse_shape(text):
    try:
        shape = tuple(int(part) for part in text.split(','))
    except ValueError:
        shape = ()
    if not shape or any(n <= 0 for n in shape):
        raise UserError(f'--input-shape {text}: give positive integers separated by commas, e.g. 8,3,32,32')
    return shape


def random_inputs(shapes, dtypes, dtype, seed, chainer_model):
    import numpy as np
    import chainer.links as L
    sizes = [link.W.shape[0] for link in chainer_model.links()
             if isinstance(link, L.EmbedID) and link.W.array is not None]
    high = min(sizes) if sizes else 10
    rng = np.random.RandomState(seed)
    return [rng.randint(0, high, shape).astype(np.int32) if kind == 'int32'
            else rng.standard_normal(shape).astype(dtype) for shape, kind in zip(shapes, dtypes)]


def optimizers(choice):
    import chainer
    import torch
    from torch_impl.optim import ChainerAdam
    torch_optimizer = ChainerAdam if choice == 'chainer-adam' else torch.optim.Adam
    return chainer.optimizers.Adam, lambda params: torch_optimizer(params)


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    shapes = [parse_shape(text) for text in args.input_shape]
    dtypes = args.input_dtype or ['float32'] * len(shapes)
    if len(dtypes) != len(shapes):
        raise UserError(f'{len(shapes)} --input-shape but {len(dtypes)} --input-dtype; give one per input or none')
    if args.steps < 0:
        raise UserError(f'--steps {args.steps}: give 0 or more')
    from bridge.port_check.pairing import read_name_map
    name_map = read_name_map(args.map) if args.map else None
    folder = os.path.dirname(os.path.abspath(args.json)) if args.json else None
    if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
        raise UserError(f'--json {args.json}: cannot write in {folder}; give a file in an existing, writable folder')
    from chainer_impl import compat  # noqa: F401  (before chainer)
    import chainer
    import numpy as np
    import torch
    from bridge.port_check import check_port
    from bridge.port_check.loading import load_model
    torch.set_num_threads(1)
    np.random.seed(args.seed)
    with chainer.using_config('dtype', np.dtype(args.dtype)):
        chainer_model = load_model(args.chainer, '--chainer', chainer.Link, 'chainer.Link')
    torch.manual_seed(args.seed)
    torch_model = load_model(args.torch, '--torch', torch.nn.Module, 'torch.nn.Module')
    inputs = random_inputs(shapes, dtypes, args.dtype, args.seed, chainer_model)
    chainer_optimizer, torch_optimizer = optimizers(args.optimizer)
    result = check_port(chainer_model, torch_model, inputs, steps=args.steps, chainer_optimizer=chainer_optimizer,
                        torch_optimizer=torch_optimizer, dtype=args.dtype, mode=args.mode, seed=args.seed,
                        name_map=name_map, tolerance=args.tolerance,
                        share_dropout_masks=not args.independent_dropout)
    print(result.text())
    if args.json:
        with atomic_path(args.json) as tmp:
            with open(tmp, 'w') as handle:
                json.dump(result.to_json(), handle, indent=2)
        print(f'wrote {args.json}')
    raise SystemExit(0 if result.passed else 1)


if __name__ == '__main__':
    main()
