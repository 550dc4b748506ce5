"""Write one Markdown report on a model trained in both frameworks.

One Markdown report on a model trained in Chainer and in PyTorch with the
same settings (two train.py run directories): both sample grids side by side
(the same noise and classes), both loss curves on one plot, every evaluation
score (evaluate.py's) for each framework and for real test images in one
table, ms/iteration of each, and the parity drift of the two frameworks on
this model and preset, measured here from the same weights on the same
batches (--parity-steps in float64 and float32).

Example: ganport report runs/acgan-chainer-quick runs/acgan-torch-quick --out runs/acgan-report
"""
import argparse
import os

import numpy as np

from gan_common.checkpoints import FRAMEWORK_NAME
from gan_common.errors import UserError, exit_on_user_error
from gan_common.frameworks import FRAMEWORKS
from gan_common.files import atomic_path, ensure_writable_dir
from gan_common.images import save_grid, side_by_side
from gan_common.plots import plot_losses
from gan_common.rundir import read_json, read_log, write_json



def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('chainer_run', help='run directory of train.py --framework chainer')
    parser.add_argument('torch_run', help='run directory of train.py --framework torch (same model and preset)')
    parser.add_argument('--out', default=None, help='report directory (default runs/report-MODEL-PRESET)')
    parser.add_argument('--n', type=int, default=1000, help='samples evaluated per framework (default 1000)')
    parser.add_argument('--parity-steps', type=int, default=20,
                        help='lockstep iterations for the drift measurement (default 20; 0 skips it)')
    parser.add_argument('--data-dir', default=None, help='where the IDX files are (default: $GAN_DATA_DIR or data/)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-progress', action='store_true')
    return parser


# ---------------------------------------------------------------- run directories
def newest_checkpoint(run_dir, framework):
    from gan_common.training import SNAPSHOT_SUFFIX, newest_snapshot
    path = newest_snapshot(run_dir, SNAPSHOT_SUFFIX[framework])
    if path is None:
        raise UserError(f'{run_dir} holds no {FRAMEWORK_NAME[framework]} snapshot; train it first with '
                        f'ganport train --framework {framework} --out {run_dir}')
    return path


def read_run(run_dir, framework):
    config_path = os.path.join(run_dir, 'config.json')
    if not os.path.exists(config_path):
        raise UserError(f'{run_dir} is not a run directory (no config.json); pass a train.py --out directory')
    config = read_json(config_path)
    if config.get('framework') != framework:
        raise UserError(f'{run_dir} is a {config.get("framework")} run; expected {framework} in that position')
    return {'dir': run_dir, 'config': config, 'log': read_log(run_dir),
            'checkpoint': newest_checkpoint(run_dir, framework)}


def check_same_settings(chainer_config, torch_config):
    keys = ('model', 'preset', 'dataset', 'classes', 'batch_size', 'iterations', 'seed', 'adam', 'dtype')
    differ = [k for k in keys if chainer_config.get(k) != torch_config.get(k)]
    if differ:
        raise UserError(f'the two runs differ in {", ".join(differ)}; report on runs trained with the same settings')


def ms_per_iteration(log):
    """Median over logged intervals (sample grids and snapshots excluded by the median)."""
    rows = [e for e in log if 'elapsed_time' in e]
    rates = [(b['elapsed_time'] - a['elapsed_time']) / (b['iteration'] - a['iteration']) * 1e3
             for a, b in zip(rows, rows[1:]) if b['iteration'] > a['iteration']]
    return float(np.median(rates)) if rates else float('nan')


# ---------------------------------------------------------------- measuring
def parity(config, steps, data_dir):
    """Loss difference at step 1 and parameter drift after ``steps``, float64 and float32."""
    from bridge.lockstep import Lockstep
    from gan_common.cli import load_training_data
    measured = {}
    for dtype in ('float64', 'float32'):
        run_config = dict(config, dtype=dtype, chainer_device='@numpy', torch_device='cpu', data_dir=data_dir)
        images, labels = load_training_data(run_config, data_dir)
        lockstep = Lockstep(run_config, images, labels)
        rows = [lockstep.step() for _ in range(steps)]
        measured[dtype] = {'step1_loss_diff': rows[0]['loss_diff'], 'final_param_drift': rows[-1]['param_drift']}
    return measured


def evaluate_both(runs, n, seed, data_dir, progress):
    from bridge.generation import TrainedGenerator
    from torch_impl import evaluation
    reference = evaluation.Reference(runs['chainer']['config']['dataset'], data_dir, progress)
    results, grids = {}, {}
    for framework, run in runs.items():
        generator = TrainedGenerator(run['checkpoint'])
        images, labels = generator.sample(n, seed)
        results[framework] = evaluation.evaluate(images, labels, reference, seed=seed)
        grids[framework] = images[:100]
    return reference, results, grids


# ---------------------------------------------------------------- writing
def loss_figure(runs, path):
    series = {}
    for framework, run in runs.items():
        for key in sorted({k for e in run['log'] for k in e if k.startswith('loss')}):
            rows = [e for e in run['log'] if key in e]
            series[f'{FRAMEWORK_NAME[framework]} {key}'] = ([e['iteration'] for e in rows], [e[key] for e in rows])
    config = runs['chainer']['config']
    return plot_losses(series, path, title=f'{config["model"]} ({config["preset"]}): Chainer and PyTorch')


def score_rows(results):
    """(name, Chainer value, PyTorch value, real value) of every headline score."""
    c, t = results['chainer'], results['torch']

    def both(get, fmt='{:.3f}'):
        return fmt.format(get(c)), fmt.format(get(t))

    def pm(pair):
        return f'{pair[0]:.3f} ± {pair[1]:.3f}'

    rows = []
    if c['conditional']:
        rows.append(('classifier accuracy (requested class)', *both(lambda r: r['predictions']['accuracy']),
                     f'{c["real_predictions"]["accuracy"]:.3f}'))
    rows += [
        ('classes covered', *both(lambda r: r['predictions']['covered'], '{}/10'),
         f'{c["real_predictions"]["covered"]}/10'),
        ('classifier score (10 splits)', pm(c['classifier_score']), pm(t['classifier_score']),
         pm(c['real_classifier_score'])),
        ('Fréchet distance in classifier features', *both(lambda r: r['frechet_distance']),
         f'{c["real_frechet_distance"]:.3f}'),
        ('MS-SSIM diversity, mean over classes (lower: more diverse)',
         *both(lambda r: r['diversity']['mean']), f'{c["diversity"]["real_mean"]:.3f}'),
        ('classes more diverse than the least diverse real class',
         *both(lambda r: r['diversity']['fraction_more_diverse_than_least_diverse_real_class'], '{:.0%}'), '-'),
    ]
    # unconditional samples are grouped by their 28x28 prediction, so only the blurred sizes say anything
    for size in ('28', '14', '7') if c['conditional'] else ('14', '7'):
        rows.append((f'accuracy at {size}×{size}', *both(lambda r: r['downsampled_accuracy'][size]),
                     f'{c["real_downsampled_accuracy"][size]:.3f}'))
    rows.append(('nearest training image, median L2', *both(lambda r: r['nearest_neighbour']['median']),
                 f'{c["nearest_neighbour"]["reference_median"]:.3f}'))
    return rows


def markdown(runs, results, speed, drift, reference):
    config = runs['chainer']['config']
    lines = [f'# {config["model"]} ({config["preset"]} preset) in Chainer and PyTorch', '',
             f'Runs: `{runs["chainer"]["dir"]}` (Chainer, {os.path.basename(runs["chainer"]["checkpoint"])}) and '
             f'`{runs["torch"]["dir"]}` (PyTorch, {os.path.basename(runs["torch"]["checkpoint"])}); '
             f'dataset {config["dataset"]}, batch {config["batch_size"]}, seed {config["seed"]}.', '',
             '## Samples (the same noise and classes; Chainer left, PyTorch right)', '',
             '![samples](samples_side_by_side.png)', '', '## Losses', '', '![losses](loss.png)', '',
             f'## Scores ({results["chainer"]["n_samples"]} samples each; classifier SHA-256 '
             f'`{reference.classifier_sha256[:16]}…`)', '',
             '| score | Chainer | PyTorch | real test images |', '| --- | --- | --- | --- |']
    lines += [f'| {name} | {a} | {b} | {real} |' for name, a, b, real in score_rows(results)]
    lines += ['', '## Speed (this machine)', '', '| framework | ms/iteration |', '| --- | --- |']
    lines += [f'| {FRAMEWORK_NAME[f]} | {speed[f]:.1f} |' for f in FRAMEWORKS]
    if drift:
        lines += ['', f'## Parity ({drift["steps"]} lockstep steps from the same weights on the same batches)', '',
                  '| dtype | loss difference at step 1 | parameter drift at the end |', '| --- | --- | --- |']
        lines += [f'| {dtype} | {drift[dtype]["step1_loss_diff"]:.2e} | {drift[dtype]["final_param_drift"]:.2e} |'
                  for dtype in ('float64', 'float32')]
    return '\n'.join(lines) + '\n'


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.n < 20:
        raise UserError(f'--n must be at least 20, got {args.n}')
    if args.parity_steps < 0:
        raise UserError(f'--parity-steps must be 0 or more, got {args.parity_steps}')
    runs = {'chainer': read_run(args.chainer_run, 'chainer'), 'torch': read_run(args.torch_run, 'torch')}
    config = runs['chainer']['config']
    check_same_settings(config, runs['torch']['config'])
    out = ensure_writable_dir(args.out or os.path.join('runs', f'report-{config["model"]}-{config["preset"]}'))
    reference, results, grids = evaluate_both(runs, args.n, args.seed, args.data_dir, not args.no_progress)
    paths = [save_grid(grids[f], os.path.join(out, f'samples_{f}.png'), cols=10, scale=2) for f in FRAMEWORKS]
    side_by_side(paths, os.path.join(out, 'samples_side_by_side.png'))
    loss_figure(runs, os.path.join(out, 'loss.png'))
    speed = {f: ms_per_iteration(runs[f]['log']) for f in FRAMEWORKS}
    drift = dict(parity(config, args.parity_steps, args.data_dir), steps=args.parity_steps) if args.parity_steps else None
    write_json(os.path.join(out, 'report.json'), {'runs': {f: runs[f]['dir'] for f in FRAMEWORKS},
                                                  'scores': results, 'ms_per_iteration': speed, 'parity': drift})
    with atomic_path(os.path.join(out, 'report.md')) as tmp, open(tmp, 'w') as f:
        f.write(markdown(runs, results, speed, drift, reference))
    print(f'wrote {out}/report.md (samples_side_by_side.png, loss.png, report.json)')


if __name__ == '__main__':
    main()
