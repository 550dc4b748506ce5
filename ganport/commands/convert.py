"""Convert a checkpoint between Chainer (.npz) and PyTorch (.pt), or import an old Chainer model.

Convert a checkpoint between Chainer (.npz) and PyTorch (.pt); the
direction comes from the suffixes. Weights, BN statistics, Adam state, the
iteration and the batch order carry over, so training can continue in the
other framework with `train.py --resume-from DST`.

It also imports one network that an old Chainer script saved, in any
Chainer version, into the project's checkpoint of either framework (by
DST's suffix), for `ganport sample`: a pickled link (pickle.dump(gen, f); only with
--trust-pickle), a pickle written by Chainer v1, or a save_npz/save_hdf5
file keyed with the source's own link names (the DCGAN blog's l1, bn1..bn4,
dc1..dc4 and c1..c4, bn1..bn3, l1) or with this project's. Pass --model.

Example: ganport convert runs/dcgan-chainer-quick/snapshot_iter_1500.npz dcgan.pt
         ganport convert gen.pkl gen.pt --model dcgan --trust-pickle
"""
import argparse
import os
import sys

from gan_common.checkpoints import framework_of
from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import check_new_file, ensure_writable_dir


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='checkpoint to read (.npz Chainer snapshot or .pt PyTorch checkpoint)')
    parser.add_argument('dst', help='file to write, of the other framework (.pt or .npz)')
    parser.add_argument('--model', default=None,
                        help='refuse a checkpoint of any other model; required to import an old model file')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='allow SRC to be a pickle. Unpickling can run code; convert reads it data-only '
                             '(none of its classes is imported, only NumPy arrays are rebuilt), but pass this '
                             'only for a file you trust')
    parser.add_argument('--v1-20-batchnorm', action='store_true',
                        help='SRC was trained and sampled under Chainer v1.20 or older, whose test-mode batch '
                             'normalisation left eps out of the denominator: store var - eps so the samples '
                             'equal that Chainer\'s (default: keep the statistics, as Chainer >= v1.21 reads them)')
    return parser


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    from bridge.legacy_models import ROLES, import_legacy_model, is_project_checkpoint
    if os.path.isfile(args.src) and not is_project_checkpoint(args.src):
        ensure_writable_dir(os.path.dirname(os.path.abspath(args.dst)))
        role, clamped = import_legacy_model(args.src, args.dst, args.model, args.trust_pickle, args.v1_20_batchnorm)
        if clamped:
            print(f'warning: {clamped} BN variance(s) below eps were set to 0 (v1.20 divided by less)', file=sys.stderr)
        print(f'wrote {args.dst} (the {args.model} {ROLES[role]}, imported from {args.src})')
        return
    if os.path.isfile(args.src) and (args.trust_pickle or args.v1_20_batchnorm):
        raise UserError(f'{args.src} is a checkpoint of this project; --trust-pickle and --v1-20-batchnorm '
                        'are for importing old model files: drop them')
    source, target = framework_of(args.src), framework_of(args.dst)
    if source == target:
        raise UserError(f'{args.src} and {args.dst} are both {source} files; give the other suffix to DST')
    check_new_file(args.dst, 'DST')
    from bridge.convert import CONVERTERS
    CONVERTERS[source](args.src, args.dst, args.model)
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
