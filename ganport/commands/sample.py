"""Generate images from a checkpoint: a grid PNG, or N images as .npz.

The framework is read from the suffix (.npz: Chainer, .pt: PyTorch). An
.npz output holds ``images`` in [0, 1] as (N, C, H, W) float32, and for a
conditional model (cgan, acgan) their ``labels`` (N,) int64. A conditional
model draws class --class, or without it classes 0-9 in turn (a grid then has
one class a column). The noise is drawn as the model was trained on it.
Example: ganport sample runs/dcgan-chainer-quick/snapshot_iter_1000.npz --out digits.png
         ganport sample runs/cgan-torch-book/snapshot_iter_12000.pt --class 7 --out sevens.png
"""
import argparse
import os

import numpy as np

from bridge.generation import TrainedGenerator
from gan_common.errors import UserError, exit_on_user_error
from gan_common.cli import check_seed
from gan_common.files import atomic_path, check_new_file, ensure_writable_dir
from gan_common.images import save_grid
from gan_common.recipes import N_CLASSES


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='snapshot_iter_N.npz (Chainer) or snapshot_iter_N.pt (PyTorch)')
    parser.add_argument('--n', type=int, default=64, help='number of images (default 64)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the noise (default 0)')
    parser.add_argument('--out', default='samples.png', help='FILE.png (a grid) or FILE.npz (arrays)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:N, @numpy, @cupy:N, -1 or N')
    parser.add_argument('--class', dest='label', type=int, default=None, metavar='C',
                        help=f'conditional models (cgan, acgan): the class to draw, 0-{N_CLASSES - 1} '
                             '(default: 0-9 in turn)')
    return parser


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.n <= 0:
        raise UserError(f'--n must be positive, got {args.n}')
    check_new_file(args.out)
    suffix = os.path.splitext(args.out)[1]
    if suffix not in ('.png', '.npz'):
        raise UserError(f'--out {args.out}: use a .png (grid) or .npz (arrays) file name')
    if args.label is not None and not 0 <= args.label < N_CLASSES:
        raise UserError(f'--class {args.label} is out of range; classes are 0-{N_CLASSES - 1}')
    check_seed(args.seed)
    images, labels = TrainedGenerator(args.checkpoint, args.device).sample(args.n, args.seed, args.label)
    ensure_writable_dir(os.path.dirname(os.path.abspath(args.out)))
    if suffix == '.png':
        cycling = labels is not None and args.label is None
        save_grid(images, args.out, cols=N_CLASSES if cycling else None, scale=2)
    else:
        arrays = {'images': images} if labels is None else {'images': images, 'labels': labels}
        with atomic_path(args.out) as tmp:
            np.savez(tmp, **arrays)
    what = '' if labels is None else (f' of class {args.label}' if args.label is not None else ' of classes 0-9 in turn')
    print(f'wrote {args.n} images{what} to {args.out}')


if __name__ == '__main__':
    main()
