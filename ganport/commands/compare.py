"""Train a model in both frameworks in lock-step and measure how far apart they drift.

Train a model in Chainer and in PyTorch side by side, from the same
initial weights on the same batches and noise, and measure how far apart they
are: per-step loss differences, parameter drift and ms/step for each.

Writes into --out: log.jsonl (one row per step), loss.png (both frameworks'
curves), samples/ (both grids, side by side), parity.json and parity.md.
Exits with status 1 past --tolerance. In float64 it bounds the parameter
drift over the whole run (default 1e-9). Float32 training is chaotic (Adam
turns gradients that are pure rounding noise into steps of about alpha), so
in float32 it bounds the first step's loss difference (default 1e-5) and the
drift is reported, not judged.

For cyclegan the G and D columns are the generators' loss and the mean of
D_A's and D_B's; the grids are the translation grids of the first test images.

Example: ganport compare --model dcgan --steps 100 --dtype float64
         ganport compare --model cyclegan --dataset DIR --image-size 32 --steps 20
"""
import argparse
import os

# One BLAS thread: NumPy's (Chainer's) spinning BLAS threads otherwise slow the
# PyTorch step that follows each Chainer step (measured: 424 -> 371 ms/iteration).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import numpy as np

from gan_common.cli import add_model_arguments, load_training_data, make_config, positive
from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import ensure_writable_dir
from gan_common.images import save_grid, side_by_side
from gan_common.plots import plot_log
from gan_common.rundir import append_log, write_json

# float64: max parameter drift over the run; float32: loss difference at step 1.
DEFAULT_TOLERANCE = {'float64': 1e-9, 'float32': 1e-5}


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser, default_preset='quick')
    parser.add_argument('--steps', type=int, default=100, help='training iterations in each framework (default 100)')
    parser.add_argument('--dtype', choices=['float32', 'float64'], default='float64')
    parser.add_argument('--tolerance', type=float, default=None,
                        help='float64: largest parameter drift (default 1e-9); '
                             'float32: largest step-1 loss difference (default 1e-5)')
    parser.add_argument('--print-every', type=int, default=None, help='table row every N steps (default: about 20 rows)')
    parser.add_argument('--sample-every', type=int, default=None, help='sample grids every N steps (default: at the end)')
    parser.add_argument('--out', default=None, help='output directory (default runs/compare-MODEL)')
    return parser


ROW = ('{iteration:>6} {chainer_loss_gen:>10.5f} {torch_loss_gen:>10.5f} {chainer_loss_dis:>10.5f} '
       '{torch_loss_dis:>10.5f} {loss_diff:>10.2e} {param_drift:>10.2e} {chainer_ms:>9.1f} {torch_ms:>9.1f}')
HEADER = (f'{"iter":>6} {"G chainer":>10} {"G torch":>10} {"D chainer":>10} {"D torch":>10} '
          f'{"|dloss|":>10} {"drift":>10} {"ms chainer":>9} {"ms torch":>9}')


def run(lockstep, args, out, fixed):
    print(HEADER)
    rows, every = [], args.print_every or max(1, args.steps // 20)
    for _ in range(args.steps):
        row = lockstep.step()
        rows.append(row)
        append_log(out, row)
        if row['iteration'] % every == 0 or row['iteration'] in (1, args.steps):
            print(ROW.format(**row), flush=True)
        if args.sample_every and row['iteration'] % args.sample_every == 0 and row['iteration'] != args.steps:
            write_samples(lockstep, fixed, out)
    return rows


def write_samples(lockstep, fixed, out):
    value_range = lockstep.config['value_range']
    paths = []
    grids, cols = lockstep.samples(fixed)
    for framework, images in zip(('chainer', 'torch'), grids):
        path = os.path.join(out, 'samples', f'{framework}_iter_{lockstep.iteration:07d}.png')
        paths.append(save_grid(images, path, cols=cols, value_range=value_range, scale=2))
    return side_by_side(paths, os.path.join(out, 'samples', f'side_by_side_iter_{lockstep.iteration:07d}.png'))


def summarise(rows, lockstep, tolerance):
    steady = rows[1:] or rows  # the first step includes one-time set-up
    return {
        'model': lockstep.config['model'], 'preset': lockstep.config['preset'],
        'dtype': lockstep.config['dtype'], 'steps': len(rows), 'batch_size': lockstep.config['batch_size'],
        'device': lockstep.config['torch_device'],
        'step1_loss_diff': rows[0]['loss_diff'],
        'max_loss_diff': max(r['loss_diff'] for r in rows),
        'final_param_drift': rows[-1]['param_drift'],
        'max_param_drift': max(r['param_drift'] for r in rows),
        'bn_statistics_drift': lockstep.bn_statistics_drift(),
        'chainer_ms_per_step': float(np.median([r['chainer_ms'] for r in steady])),
        'torch_ms_per_step': float(np.median([r['torch_ms'] for r in steady])),
        'tolerance': tolerance,
    }


def markdown(summary):
    lines = ['| quantity | value |', '| --- | --- |']
    lines += [f'| {key} | {value:.3g} |' if isinstance(value, float) else f'| {key} | {value} |'
              for key, value in summary.items()]
    return '\n'.join(lines) + '\n'


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    positive('steps', args.steps)
    config = make_config(args, args.dtype)
    images, labels = load_training_data(config, args.data_dir)
    out = ensure_writable_dir(args.out or os.path.join('runs', f'compare-{args.model}'))
    os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
    if os.path.exists(os.path.join(out, 'log.jsonl')):
        os.remove(os.path.join(out, 'log.jsonl'))
    write_json(os.path.join(out, 'config.json'), dict(config, steps=args.steps))
    tolerance = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE[args.dtype]

    from bridge.lockstep import Lockstep  # imports both frameworks
    lockstep = Lockstep(config, images, labels)
    fixed = lockstep.fixed_samples(args.seed + 1)
    rows = run(lockstep, args, out, fixed)
    grid = write_samples(lockstep, fixed, out)
    plot_log(rows, ['chainer_loss_gen', 'torch_loss_gen', 'chainer_loss_dis', 'torch_loss_dis'],
             os.path.join(out, 'loss.png'), title=f'{args.model}: Chainer vs PyTorch ({args.dtype})')
    summary = summarise(rows, lockstep, tolerance)
    write_json(os.path.join(out, 'parity.json'), summary)
    with open(os.path.join(out, 'parity.md'), 'w') as f:
        f.write(markdown(summary))
    print('\n' + markdown(summary))
    print(f'wrote {out}/: samples side by side {grid}, loss.png, log.jsonl, parity.json, parity.md')
    judged = 'max_param_drift' if args.dtype == 'float64' else 'step1_loss_diff'
    if summary[judged] > tolerance:
        raise UserError(f'{judged} {summary[judged]:.3g} is past the tolerance {tolerance:.3g}')
    print(f'parity OK: {judged} {summary[judged]:.3g} <= {tolerance:.3g}')


if __name__ == '__main__':
    main()
