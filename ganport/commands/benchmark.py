"""Speed of Chainer, the PyTorch port and a plain PyTorch reference of the
same network, measured side by side in one run.

For each model at each of its distinct sizes (its default and quick
presets; CycleGAN's paper preset on a GPU or by name), the variants train on
the same synthetic inputs, interleaved: after warm-up, blocks of iterations
take turns, so the machine's noise hits all alike. Per variant: ms/iteration
(median, 10th and 90th percentile), images/s, peak memory, the FLOPs of one
training iteration counted from the layer shapes (a multiply-add is 2 FLOPs;
linear, convolution and transposed convolution layers; backward = weight
gradient + input gradient where needed), the achieved FLOP/s and its
fraction of the peak of an n x n matrix product of comparable size in the
same framework, measured in the same run; and the ratio to the port. Then
the goals, reported and never asserted.

Example: python scripts/benchmark.py --models dcgan --json runs/benchmark.json
         python scripts/benchmark.py --models dcgan:quick,cyclegan:quick --profile
         python scripts/benchmark.py --device cuda --models dcgan:blog,cyclegan:paper
"""
import argparse
import os
import sys

from gan_common.errors import UserError, exit_on_user_error

MODELS = 'dcgan,gan,cgan,acgan,cyclegan'


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', default=MODELS,
                        help=f'comma-separated models, each optionally model:preset (default {MODELS}: '
                             'every distinct size of each)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:N, @numpy, @cupy:N, -1 or N (default cpu)')
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads of PyTorch and of NumPy\'s BLAS (Chainer); default 1')
    parser.add_argument('--warmup', type=int, default=3, help='untimed iterations per variant (default 3)')
    parser.add_argument('--iterations', type=int, default=20, help='timed iterations per variant (default 20)')
    parser.add_argument('--block', type=int, default=5, help='iterations per turn while interleaving (default 5)')
    parser.add_argument('--tuned', default='',
                        help='also run tuned variants beside the defaults: comma-separated from '
                             'chainer-fast, chainer-2-threads, torch-channels-last, torch-compile, torch-2-threads')
    parser.add_argument('--profile', action='store_true',
                        help='also profile Chainer per function (TimerHook) and per layer (TimerLinkHook), '
                             'and PyTorch per operator, over --profile-iterations iterations')
    parser.add_argument('--profile-iterations', type=int, default=5)
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: batch 4, 32x32 CycleGAN, 1 warm-up and 4 timed iterations '
                             '(the figures mean nothing)')
    parser.add_argument('--json', default=None, metavar='OUT', help='also write every figure to this JSON file')
    return parser


def check_arguments(args):
    for name in ('threads', 'iterations', 'block', 'profile_iterations'):
        if getattr(args, name) <= 0:
            raise UserError(f'--{name.replace("_", "-")} must be positive, got {getattr(args, name)}')
    if args.warmup < 0:
        raise UserError(f'--warmup must be 0 or more, got {args.warmup}')
    if args.quick:
        args.warmup, args.iterations, args.block = 1, 4, 2


def set_threads(threads):
    """Before NumPy or PyTorch start their pools, and again after (in case they already have)."""
    for name in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[name] = str(threads)
    import torch
    from chainer_impl import speed
    torch.set_num_threads(threads)
    speed.set_blas_threads(threads)


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    check_arguments(args)
    from gan_common.devices import parse_device
    from gan_common.files import ensure_writable_dir
    gpu = parse_device(args.device)
    if args.json:
        ensure_writable_dir(os.path.dirname(os.path.abspath(args.json)))
    set_threads(args.threads)
    from bridge.benchmark import session  # imports both frameworks
    results = session.run(args, gpu, command=' '.join(['benchmark'] + list(sys.argv[1:] if argv is None else argv)))
    if args.json:
        from gan_common.rundir import write_json
        write_json(args.json, results)
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
