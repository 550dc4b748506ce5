"""Train a GAN in Chainer or PyTorch.

Models: dcgan, gan, cgan, acgan, cyclegan; --preset defaults to the model's
source (dcgan: blog, gan: post, cgan: book, acgan: paper, cyclegan: blog);
each also has `quick`; cyclegan has `paper` and gan `beta05`.

Example: ganport train --model dcgan --framework chainer --preset quick
         ganport train --model cyclegan --framework torch --preset quick --dataset DIR --threads 1
         ganport train --model gan --framework torch --workers 2 --threads 1   (data parallel)
"""
import argparse
import os
import subprocess
import sys

from gan_common.cli import add_model_arguments, load_training_data, make_config, positive
from gan_common.checkpoints import FRAMEWORK_NAME, framework_of
from gan_common.errors import UserError, exit_on_user_error
from gan_common.frameworks import FRAMEWORKS, implementation
from gan_common.parallel import (Shard, check_partial_batch, check_pool_files, check_same_workers, launch_command,
                                 launched_world, stop_launcher)
from gan_common.rundir import RunDir, read_json
from gan_common.streams import RandomStream, batches_per_epoch
from gan_common.training import SNAPSHOT_SUFFIX, check_length, check_resumable, resume_source



def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser, default_preset=None)
    parser.add_argument('--framework', choices=FRAMEWORKS, default='chainer')
    length = parser.add_mutually_exclusive_group()
    length.add_argument('--iterations', type=int, default=None)
    length.add_argument('--epochs', type=int, default=None)
    parser.add_argument('--dtype', choices=['float32', 'float64'], default='float32')
    parser.add_argument('--out', default=None, help='run directory (default: runs/MODEL-FRAMEWORK-PRESET)')
    parser.add_argument('--resume', action='store_true', help='continue the run in --out from its newest snapshot')
    parser.add_argument('--resume-from', default=None, metavar='CHECKPOINT',
                        help='start from a checkpoint file of this framework (e.g. one made by convert.py)')
    parser.add_argument('--learning-rate', type=float, default=None, help="Adam's alpha (default: the preset's)")
    parser.add_argument('--beta1', type=float, default=None, help="Adam's beta1 (default: the preset's)")
    parser.add_argument('--log-every', type=int, default=None)
    parser.add_argument('--sample-every', type=int, default=None)
    parser.add_argument('--snapshot-every', type=int, default=None)
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--threads', type=int, default=None,
                        help="PyTorch's CPU threads (torch.set_num_threads; default: PyTorch's). On a busy CPU 1 "
                             "can be many times faster for small batches; for Chainer set OPENBLAS_NUM_THREADS")
    parser.add_argument('--workers', type=int, default=1,
                        help='data-parallel ranks (ChainerMN under mpiexec, PyTorch DDP under torchrun), '
                             'started by this command; the global --batch-size is split across them')
    parser.add_argument('--sync-bn', action='store_true',
                        help='with --workers: batch normalisation over the global batch (ChainerMN '
                             'MultiNodeBatchNormalization / torch SyncBatchNorm) instead of per rank')
    return parser


def make_train_config(args):
    config = make_config(args, args.dtype, frameworks=(args.framework,))
    config.update(framework=args.framework, progress=not args.no_progress,
                  workers=positive('workers', args.workers), sync_bn=args.sync_bn)
    if args.sync_bn and args.workers == 1:
        raise UserError('--sync-bn needs --workers N with N > 1')
    for key in ('log_every', 'sample_every', 'snapshot_every'):
        value = getattr(args, key)
        if value is not None:
            config[key] = positive(key.replace('_', '-'), value)
    if args.learning_rate is not None:
        config['adam']['alpha'] = args.learning_rate
        config.get('adam_dis', {}).pop('alpha', None)  # one rate for both networks
    if args.beta1 is not None:
        config['adam']['beta1'] = args.beta1
    if args.iterations is not None:
        config.update(iterations=positive('iterations', args.iterations), epochs=None)
    elif args.epochs is not None:
        config.update(epochs=positive('epochs', args.epochs), iterations=None)
    return config


def set_length(config):
    """Turn an epoch count into iterations (one permutation per epoch; the
    remainder dropped unless the preset keeps the partial last batch)."""
    if config.get('iterations') is None:
        config['iterations'] = config['epochs'] * batches_per_epoch(
            config['n_examples'], config['batch_size'], config.get('keep_partial_batch', False))


def framework_modules(args):
    """The framework's ``training`` module and its ``MODULES``."""
    if args.framework == 'torch' and args.threads is not None:
        import torch
        torch.set_num_threads(positive('threads', args.threads))
    return implementation(args.framework, 'training'), implementation(args.framework, 'models').MODULES


def read_start(training, args, config, out):
    """(path, state, iteration, the settings it was trained with) of the
    checkpoint to continue, checked against the command line, or None for a fresh start."""
    source = resume_source(out, args.resume, args.resume_from, SNAPSHOT_SUFFIX[args.framework])
    if source is None:
        return None
    state, then, iteration = training.read_start(source, config['model'])
    check_resumable(then, config, source)
    check_length(iteration, config['iterations'], source)
    return source, state, iteration, then


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    config = make_train_config(args)
    if args.resume_from is not None and framework_of(args.resume_from) != args.framework:
        raise UserError(f'{args.resume_from} is a {FRAMEWORK_NAME[framework_of(args.resume_from)]} checkpoint; '
                        f'convert it first: ganport convert {args.resume_from} OUT')
    out = args.out or os.path.join('runs', f'{args.model}-{args.framework}-{config["preset"]}')
    rank, size = launched_world()
    if size == 1:
        Shard(0, config['workers']).check_batch_size(config['batch_size'])
        if args.resume and os.path.exists(os.path.join(out, 'config.json')):
            check_same_workers(read_json(os.path.join(out, 'config.json')), config['workers'])
    images, labels = load_training_data(config, args.data_dir)
    check_partial_batch(config, config['n_examples'], config['workers'])
    set_length(config)
    training, modules = framework_modules(args)
    modules[args.model].RECIPE.batches(images, config, RandomStream(config['seed']))  # refuses a too-large batch
    start = read_start(training, args, config, out)
    if start is not None and start[2] == config['iterations']:
        print(f'{start[0]} is already at iteration {start[2]} of {config["iterations"]}; nothing to train')
        return
    if size > 1:  # one rank of a run launched below: the launching command holds the run directory
        training.train(config, images, out, start=None if start is None else start[:2], labels=labels)
        return
    if start is not None and config['workers'] > 1:  # the ranks' own image pools, beside the snapshot
        check_pool_files(start[0], start[3], config['workers'], training.pool_streams_saved(start[1]))
    run = RunDir(out, config, resume=args.resume)
    try:
        if config['workers'] > 1:
            launch_ranks(args.framework, config['workers'], out, argv)
        else:
            training.train(config, images, out, start=None if start is None else start[:2], labels=labels)
    except BaseException:
        run.discard()  # a run that died before its first snapshot leaves nothing behind
        raise
    run.close()
    print(f'run directory: {os.path.abspath(out)} (samples/, loss.png, log.jsonl, snapshots)')


def launch_ranks(framework, workers, out, argv):
    """Run this command line again as ``workers`` ranks (the run directory is ready)."""
    command = launch_command(framework, workers, ['train', *(sys.argv[1:] if argv is None else argv)])
    with subprocess.Popen(command) as launcher:
        try:
            code = launcher.wait()
        except BaseException:  # Ctrl-C or SIGTERM here
            stop_launcher(launcher)
            raise
    if code:
        raise UserError(f'a rank of the {workers}-rank run failed (its message is above); '
                        f'fix that and rerun, with --resume to continue from the last snapshot in {out}')

if __name__ == '__main__':
    main()
