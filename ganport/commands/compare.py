"""Train a model in both frameworks in lock-step and measure how far apart they drift.

Train a model in Chainer and in PyTorch side by side, from the same
initial weights on the same batches and noise, and measure how far apart they
are: per-step loss differences, parameter drift and ms/step for each.

Writes into --out: log.jsonl (one row per step), loss.png (both frameworks'
curves), samples/ (both grids, side by side), parity.json and parity.md; with
--final-samples N also final_chainer.npz, final_torch.npz (N images each, as
sample.py writes them) and final_samples.json (the classifier's verdict).
Exits with status 1 past --tolerance. In float64 it bounds the parameter
drift over the whole run (default 1e-9). Float32 training is chaotic (Adam
turns gradients that are pure rounding noise into steps of about alpha), so
in float32 it bounds the first step's loss difference (default 1e-5) and the
drift is reported, not judged.

With --lockstep-steps K only the first K iterations run in lock-step in one
process; then PyTorch goes on in a forked process (one thread) and Chainer in
this one, a core each, on the same batches and noise (each draws them from its
copy of the stream as it was at the fork). The table keeps both frameworks'
losses and their difference; the drift column is blank until the end, when
PyTorch's weights come back and the drift is measured again. A run cut short
(a PyTorch process that died, Ctrl-C) keeps nothing in --out.

For cyclegan the G and D columns are the generators' loss and the mean of
D_A's and D_B's; the grids are the translation grids of the first test images.

Example: ganport compare --model dcgan --steps 100 --dtype float64
         ganport compare --model dcgan --digits 0 --steps 700 --lockstep-steps 50 --dtype float32
         ganport compare --model cyclegan --dataset DIR --image-size 32 --steps 20
"""
import argparse
import contextlib
import os

# One BLAS thread: NumPy's (Chainer's) spinning BLAS threads otherwise slow the
# PyTorch step that follows each Chainer step (measured: 424 -> 371 ms/iteration).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import numpy as np

from gan_common.cli import add_model_arguments, load_training_data, make_config, positive
from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import atomic_path
from gan_common.images import save_grid, side_by_side
from gan_common.plots import plot_log
from gan_common.rundir import RunDir, append_log, write_json

# float64: max parameter drift over the run; float32: loss difference at step 1.
DEFAULT_TOLERANCE = {'float64': 1e-9, 'float32': 1e-5}
# written beside RunDir's config.json, log.jsonl, loss.png and samples/
OUTPUTS = ('parity.json', 'parity.md', 'final_chainer.npz', 'final_torch.npz', 'final_samples.json')


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser, default_preset='quick')
    parser.add_argument('--steps', type=int, default=100, help='training iterations in each framework (default 100)')
    parser.add_argument('--lockstep-steps', type=int, default=None, metavar='K',
                        help='the first K iterations in lock-step in one process, with the parameter drift measured '
                             'at each; then each framework in a process of its own, a core each, on the same '
                             'batches, the drift measured again at the end (CPU, Linux; default: all steps in lock-step)')
    parser.add_argument('--dtype', choices=['float32', 'float64'], default='float64')
    parser.add_argument('--tolerance', type=float, default=None,
                        help='float64: largest parameter drift (default 1e-9); '
                             'float32: largest step-1 loss difference (default 1e-5)')
    parser.add_argument('--print-every', type=int, default=None, help='table row every N steps (default: about 20 rows)')
    parser.add_argument('--sample-every', type=int, default=None, help='sample grids every N steps (default: at the end)')
    parser.add_argument('--final-samples', type=int, default=0, metavar='N',
                        help='at the end, N samples of each framework as final_chainer.npz and final_torch.npz '
                             "and the MNIST classifier's verdict on them (dcgan, gan; default: none)")
    parser.add_argument('--out', default=None, help='output directory (default runs/compare-MODEL)')
    return parser


ROW = ('{iteration:>6} {chainer_loss_gen:>10.5f} {torch_loss_gen:>10.5f} {chainer_loss_dis:>10.5f} '
       '{torch_loss_dis:>10.5f} {loss_diff:>10.2e} {drift:>10} {chainer_ms:>9.1f} {torch_ms:>9.1f}')
HEADER = (f'{"iter":>6} {"G chainer":>10} {"G torch":>10} {"D chainer":>10} {"D torch":>10} '
          f'{"|dloss|":>10} {"drift":>10} {"ms chainer":>9} {"ms torch":>9}')


def format_row(row):
    """A table line; the drift is blank where it was not measured (between the split and the end)."""
    drift = '' if row['param_drift'] is None else f"{row['param_drift']:.2e}"
    return ROW.format(drift=drift, **row)


def run(lockstep, args, out, fixed):
    print(HEADER)
    rows, every = [], args.print_every or max(1, args.steps // 20)
    parity_steps = lockstep_steps(args)
    for row, torch_grid in training_rows(lockstep, args, fixed, parity_steps):
        rows.append(row)
        append_log(out, row)
        if row['iteration'] % every == 0 or row['iteration'] in (1, parity_steps, args.steps):
            print(format_row(row), flush=True)
        if sample_point(args, row['iteration']):
            write_samples(lockstep, fixed, out, torch_grid)
    return rows


def lockstep_steps(args):
    return min(args.lockstep_steps or args.steps, args.steps)


def sample_point(args, iteration):
    """Whether a grid is written during training at ``iteration`` (the last one's is written after)."""
    return bool(args.sample_every) and iteration % args.sample_every == 0 and iteration != args.steps


def training_rows(lockstep, args, fixed, parity_steps):
    """(row, PyTorch grid or None) of each iteration: ``parity_steps`` in
    lock-step, then the rest in two processes where the machine allows it."""
    for _ in range(parity_steps):
        yield lockstep.step(), None
    rest = args.steps - parity_steps
    if rest == 0:
        return
    from bridge.split import Split, can_split
    if not can_split(lockstep):
        print(f'(two processes need a fork and CPUs; the {rest} remaining steps run in lock-step)')
        for _ in range(rest):
            yield lockstep.step(), None
        return
    grid_at = [i for i in range(parity_steps + 1, args.steps + 1) if sample_point(args, i)]
    with Split(lockstep, rest, grid_at, fixed) as split:
        print(f'lock-step parity phase done ({parity_steps} steps); the other {rest} run in two processes: '
              f'PyTorch in pid {split.pid} (1 thread), Chainer in pid {os.getpid()}; '
              'the drift is measured again at the end', flush=True)
        yield from split.rows()


def write_samples(lockstep, fixed, out, torch_grid=None):
    """Both frameworks' grids side by side; ``torch_grid`` (images, columns)
    where the PyTorch networks are in another process."""
    value_range = lockstep.config['value_range']
    paths = []
    if torch_grid is None:
        grids, cols = lockstep.samples(fixed)
    else:
        (c_images, cols), t_images = lockstep.grid('chainer', fixed), torch_grid[0]
        grids = (c_images, t_images)
    for framework, images in zip(('chainer', 'torch'), grids):
        path = os.path.join(out, 'samples', f'{framework}_iter_{lockstep.iteration:07d}.png')
        paths.append(save_grid(images, path, cols=cols, value_range=value_range, scale=2))
    return side_by_side(paths, os.path.join(out, 'samples', f'side_by_side_iter_{lockstep.iteration:07d}.png'))


def final_samples(lockstep, n, out):
    """Write both frameworks' final samples (as sample.py writes them) and
    print the classifier's verdict on each next to real test images'."""
    from torch_impl.evaluation import Reference, verdict
    digits = lockstep.config.get('classes')
    reference = Reference('mnist', lockstep.config.get('data_dir'), progress=False)
    verdicts = {}
    for framework, images in zip(('chainer', 'torch'), lockstep.final_images(n)):
        with atomic_path(os.path.join(out, f'final_{framework}.npz')) as tmp:
            np.savez(tmp, images=images)
        verdicts[framework] = verdict(images, reference, digits)
    verdicts['real'] = verdicts['torch'].pop('real')
    verdicts['chainer'].pop('real')
    verdicts = {name: value.get('samples', value) for name, value in verdicts.items()}
    print(verdict_line(verdicts, digits) + f' (MNIST classifier, SHA-256 {reference.classifier_sha256[:16]}...)')
    return dict(verdicts, classifier_sha256=reference.classifier_sha256)


def verdict_line(verdicts, digits):
    names = {'chainer': 'Chainer', 'torch': 'PyTorch', 'real': 'real test images'}
    if digits is not None:
        wanted = ','.join(str(d) for d in digits)
        return ', '.join(f'{names[k]}: {v["read_as_digits"]:.1%} read as {wanted}' for k, v in verdicts.items())
    return ', '.join(f'{names[k]}: classifier score {v["classifier_score"]:.2f}, {v["classes_covered"]}/10 classes'
                     for k, v in verdicts.items())


def summarise(rows, lockstep, tolerance, parity_steps):
    steady = rows[1:] or rows  # the first step includes one-time set-up
    measured = [r['param_drift'] for r in rows if r['param_drift'] is not None]
    return {
        'model': lockstep.config['model'], 'preset': lockstep.config['preset'],
        'dtype': lockstep.config['dtype'], 'steps': len(rows), 'batch_size': lockstep.config['batch_size'],
        'device': lockstep.config['torch_device'],
        'lockstep_steps': parity_steps,
        'step1_loss_diff': rows[0]['loss_diff'],
        'max_loss_diff': max(r['loss_diff'] for r in rows),
        'lockstep_param_drift': rows[parity_steps - 1]['param_drift'],
        'final_param_drift': rows[-1]['param_drift'],
        'max_param_drift': max(measured),
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
    if args.lockstep_steps is not None:
        positive('lockstep-steps', args.lockstep_steps)
    if args.final_samples and args.model not in ('dcgan', 'gan'):
        raise UserError(f'--final-samples scores unconditional MNIST generators (dcgan, gan), not {args.model}')
    if args.final_samples < 0 or 0 < args.final_samples < 10:
        raise UserError(f'--final-samples {args.final_samples}: give at least 10 (the classifier score uses 10 splits)')
    config = make_config(args, args.dtype)
    images, labels = load_training_data(config, args.data_dir)
    out = args.out or os.path.join('runs', f'compare-{args.model}')
    run_dir = RunDir(out, dict(config, steps=args.steps, lockstep_steps=args.lockstep_steps))
    remove_outputs(out)
    try:
        summary = compare(args, config, images, labels, out)
    except BaseException:  # a run cut short keeps nothing
        remove_outputs(out)
        run_dir.discard()
        raise
    run_dir.close()
    judged = 'max_param_drift' if args.dtype == 'float64' else 'step1_loss_diff'
    if summary[judged] > summary['tolerance']:
        raise UserError(f'{judged} {summary[judged]:.3g} is past the tolerance {summary["tolerance"]:.3g}')
    print(f'parity OK: {judged} {summary[judged]:.3g} <= {summary["tolerance"]:.3g}')


def compare(args, config, images, labels, out):
    """Train both frameworks and write everything into ``out``; the parity summary."""
    from bridge.lockstep import Lockstep  # imports both frameworks
    tolerance = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE[args.dtype]
    lockstep = Lockstep(config, images, labels)
    fixed = lockstep.fixed_samples(config['seed'] + 1)
    rows = run(lockstep, args, out, fixed)
    grid = write_samples(lockstep, fixed, out)
    plot_log(rows, ['chainer_loss_gen', 'torch_loss_gen', 'chainer_loss_dis', 'torch_loss_dis'],
             os.path.join(out, 'loss.png'), title=f'{args.model}: Chainer vs PyTorch ({args.dtype})')
    summary = summarise(rows, lockstep, tolerance, lockstep_steps(args))
    write_json(os.path.join(out, 'parity.json'), summary)
    with atomic_path(os.path.join(out, 'parity.md')) as tmp:
        with open(tmp, 'w') as f:
            f.write(markdown(summary))
    print('\n' + markdown(summary))
    print(f'wrote {out}/: samples side by side {grid}, loss.png, log.jsonl, parity.json, parity.md')
    if args.final_samples:
        write_json(os.path.join(out, 'final_samples.json'), final_samples(lockstep, args.final_samples, out))
    return summary


def remove_outputs(out):
    """What an earlier compare into ``out`` wrote beside the run files (``RunDir`` handles those)."""
    for name in OUTPUTS:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(out, name))


if __name__ == '__main__':
    main()
