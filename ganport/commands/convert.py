"""Convert a checkpoint between Chainer (.npz) and PyTorch (.pt).

Convert a checkpoint between Chainer (.npz) and PyTorch (.pt); the
direction comes from the suffixes. Weights, BN statistics, Adam state, the
iteration and the batch order carry over, so training can continue in the
other framework with `train.py --resume-from DST`.

Example: ganport convert runs/dcgan-chainer-quick/snapshot_iter_1500.npz dcgan.pt
"""
import argparse

from gan_common.checkpoints import framework_of
from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import check_new_file


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='checkpoint to read (.npz Chainer snapshot or .pt PyTorch checkpoint)')
    parser.add_argument('dst', help='file to write, of the other framework (.pt or .npz)')
    parser.add_argument('--model', default=None, help='refuse a checkpoint of any other model')
    return parser


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    source, target = framework_of(args.src), framework_of(args.dst)
    if source == target:
        raise UserError(f'{args.src} and {args.dst} are both {source} files; give the other suffix to DST')
    check_new_file(args.dst, 'DST')
    from bridge.convert import chainer_to_torch_checkpoint, torch_to_chainer_checkpoint
    convert = chainer_to_torch_checkpoint if source == 'chainer' else torch_to_chainer_checkpoint
    convert(args.src, args.dst, args.model)
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
