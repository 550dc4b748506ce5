"""Train every model, score every run, and print the README's results table.

Make the README's results table: train each model (ganport train) in the
frameworks asked for with the same preset and seed, score each run's final
snapshot with the project's classifier (ganport evaluate: evaluation.json and
figures in RUN/evaluation-iter_N/), write one side-by-side report per model
where both frameworks trained to the same length (ganport report), and print
one Markdown table, a row per scored snapshot, each row with the classifier's
SHA-256 and the command that trained it.

--chainer-iterations N stops the Chainer runs at N iterations (Chainer is
2-3x slower on a CPU) and scores PyTorch's snapshot at N beside them, so each
Chainer row has a PyTorch row of the same length. --iterations N stops every
run at N, for a preset too long for the machine (each row's command says it).

Runs and scores already finished in --out are reused (delete them to redo).
Example: ganport results --preset quick --fashion-data-dir ../shared/data
         ganport results --preset source --frameworks torch --only acgan
         ganport results --preset source --only gan --chainer-iterations 9380
         ganport results --preset source --only dcgan --frameworks torch --iterations 500
         ganport results --table-only --out runs/results-source
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys

from gan_common import metrics
from gan_common.checkpoints import FRAMEWORK_NAME
from gan_common.errors import UserError, exit_on_user_error
from gan_common.frameworks import FRAMEWORKS
from gan_common.presets import default_preset, get_preset
from gan_common.rundir import read_json, read_log
from gan_common.training import SNAPSHOT_NAME, SNAPSHOT_SUFFIX, snapshot_iteration
from ganport.commands.report import ms_per_iteration, newest_checkpoint

ENTRIES = {  # name -> (model, extra `ganport train` arguments)
    'dcgan': ('dcgan', []),
    'gan': ('gan', []),
    'cgan': ('cgan', []),
    'acgan': ('acgan', []),
    'acgan-fashion': ('acgan', ['--dataset', 'fashion-mnist']),
}
SOURCE = 'source'  # --preset value: each model's own default, its source's settings
SCORED = 'evaluation-iter_{}'  # in a run directory: results.py's evaluate.py output for one snapshot


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', choices=list(ENTRIES), default=list(ENTRIES), help='entries to make')
    parser.add_argument('--preset', default='quick',
                        help=f'preset of every run (default quick; {SOURCE}: each model\'s default preset)')
    parser.add_argument('--frameworks', nargs='+', choices=FRAMEWORKS, default=list(FRAMEWORKS),
                        help='frameworks to train (default both)')
    parser.add_argument('--iterations', type=int, default=None,
                        help="stop every run here: a stated length short of the preset's (its rows' commands say so)")
    parser.add_argument('--chainer-iterations', type=int, default=None,
                        help="stop the Chainer runs here; PyTorch's snapshot at this iteration is scored too")
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads of each training run (PyTorch and OpenBLAS; default 1)')
    parser.add_argument('--n', type=int, default=1000, help='samples scored per snapshot (default 1000)')
    parser.add_argument('--out', default=None, help='where the runs and reports go (default runs/results-PRESET)')
    parser.add_argument('--fashion-data-dir', default=None,
                        help='folder holding fashion-mnist/ (default: $GAN_DATA_DIR or data/)')
    parser.add_argument('--table-only', action='store_true', help='only print the table of the runs scored in --out')
    return parser


def check_arguments(args):
    for name in ('iterations', 'chainer_iterations'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UserError(f'--{name.replace("_", "-")} must be at least 1, got {getattr(args, name)}')
    if None not in (args.iterations, args.chainer_iterations) and args.chainer_iterations >= args.iterations:
        raise UserError(f'--chainer-iterations {args.chainer_iterations} must be below --iterations {args.iterations}')
    if args.threads < 1:
        raise UserError(f'--threads must be at least 1, got {args.threads}')
    if args.out is None:
        args.out = os.path.join('runs', f'results-{args.preset}')


# ---------------------------------------------------------------- running ganport
def call(command, *args, env=None):
    line = [sys.executable, '-m', 'ganport', command, *map(str, args)]
    print('+ ganport', shlex.join(line[3:]), flush=True)
    if subprocess.run(line, env=env).returncode != 0:
        raise UserError(f'ganport {command} failed (see above); fix it and run ganport results again: '
                        'finished runs are reused')


def data_dir_arguments(name, args):
    return ['--data-dir', args.fashion_data_dir] if 'fashion' in name and args.fashion_data_dir else []


def train_arguments(name, framework, args):
    """The `ganport train` arguments of one run (without --out)."""
    model, extra = ENTRIES[name]
    preset = [] if args.preset == SOURCE else ['--preset', args.preset]
    data_dir = data_dir_arguments(name, args)
    stop = args.chainer_iterations if framework == 'chainer' and args.chainer_iterations is not None \
        else args.iterations
    length = [] if stop is None else ['--iterations', str(stop)]
    return ['--model', model, '--framework', framework, *preset, *extra, *data_dir, *length,
            '--threads', str(args.threads)]


def thread_environment(threads):
    return dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))


def train(run, arguments, args):
    """Train the run unless it has ended (loss.png is written when a run ends)."""
    if not os.path.exists(os.path.join(run, 'loss.png')):
        call('train', *arguments, '--out', run, '--no-progress', env=thread_environment(args.threads))


def scored_snapshots(run, framework, chainer_iterations):
    """The run's newest snapshot and, for PyTorch beside a shorter Chainer
    run, its snapshot at the Chainer length."""
    newest = newest_checkpoint(run, framework)
    paths = [newest]
    if framework == 'torch' and chainer_iterations is not None and snapshot_iteration(newest) > chainer_iterations:
        at = os.path.join(run, SNAPSHOT_NAME.format(chainer_iterations, SNAPSHOT_SUFFIX[framework]))
        if not os.path.exists(at):
            raise UserError(f'{run} has no snapshot at iteration {chainer_iterations} to set beside Chainer\'s; '
                            "choose --chainer-iterations at one of the preset's snapshot iterations")
        paths.insert(0, at)
    return paths


def score(snapshot, data_dir, args):
    """evaluation.json (ganport evaluate) of ``snapshot``, unless it has one."""
    out = os.path.join(os.path.dirname(snapshot), SCORED.format(snapshot_iteration(snapshot)))
    if not os.path.exists(os.path.join(out, 'evaluation.json')):
        call('evaluate', snapshot, '--n', args.n, *data_dir, '--out', out, '--no-progress')


def train_command(config):
    """The `ganport train` command that gives a run the settings results.py
    varies (model, framework, preset, dataset, seed, length), from its config.json."""
    preset = get_preset(config['model'], config['preset'])
    arguments = ['--model', config['model'], '--framework', config['framework']]
    if config['preset'] != default_preset(config['model']):
        arguments += ['--preset', config['preset']]
    if config['dataset'] != preset['dataset']:
        arguments += ['--dataset', config['dataset']]
    if config['seed'] != preset.get('seed', 0):
        arguments += ['--seed', str(config['seed'])]
    if config.get('epochs') is not None and config['epochs'] != preset.get('epochs'):
        arguments += ['--epochs', str(config['epochs'])]
    elif config.get('epochs') is None and config['iterations'] != preset.get('iterations'):
        arguments += ['--iterations', str(config['iterations'])]
    return 'ganport train ' + shlex.join(arguments)


def make_entry(name, args):
    runs = {}
    for framework in args.frameworks:
        run = os.path.join(args.out, f'{name}-{framework}')
        arguments = train_arguments(name, framework, args)
        train(run, arguments, args)
        for snapshot in scored_snapshots(run, framework, args.chainer_iterations):
            score(snapshot, data_dir_arguments(name, args), args)
        runs[framework] = run
    if set(runs) == set(FRAMEWORKS) and args.chainer_iterations is None:
        if not os.path.exists(os.path.join(args.out, f'{name}-report', 'report.json')):
            call('report', runs['chainer'], runs['torch'], '--out', os.path.join(args.out, f'{name}-report'),
                 '--n', args.n, *data_dir_arguments(name, args), '--no-progress')


# ---------------------------------------------------------------- the table
HEADER = ('| model | dataset | preset | framework | iterations | classifier accuracy (lowest class) | '
          'classes covered | classifier score | Fréchet distance | MS-SSIM mean (highest class; real highest) | '
          f'nearer a training image than {100 - metrics.REFERENCE_PERCENTILE:g}% of real test images | ms/iteration | '
          'classifier SHA-256 | command |')


def dataset_title(dataset):
    return 'Fashion-MNIST' if dataset == 'fashion-mnist' else 'MNIST'


def table_row(run, iteration, scores):
    config = read_json(os.path.join(run, 'config.json'))
    predictions, diversity = scores['predictions'], scores['diversity']
    accuracy = '-'
    if scores['conditional']:
        lowest = min(a for a in predictions['per_class_accuracy'] if a is not None)
        accuracy = f'{predictions["accuracy"]:.3f} ({lowest:.2f})'
    ms_ssim = (f'{diversity["mean"]:.3f} ({max(diversity["per_class"].values()):.3f}; '
               f'{max(diversity["real_per_class"].values()):.3f})')
    return (f'| {config["model"]} | {dataset_title(config["dataset"])} | {config.get("preset", "-")} | '
            f'{FRAMEWORK_NAME[config["framework"]]} | {iteration:,} | {accuracy} | '
            f'{predictions["covered"]}/10 | {scores["classifier_score"][0]:.2f} ± {scores["classifier_score"][1]:.2f} | '
            f'{scores["frechet_distance"]:.1f} | {ms_ssim} | {scores["nearest_neighbour"]["fraction_below"]:.1%} | '
            f'{ms_per_iteration(read_log(run)):.0f} | `{scores["classifier_sha256"][:16]}…` | `{train_command(config)}` |')


def real_row(scores):
    """Real test images' values, as the evaluation ``scores`` measured them."""
    real, diversity = scores['real_predictions'], scores['diversity']
    lowest = min(a for a in real['per_class_accuracy'] if a is not None)
    score = scores['real_classifier_score']
    return (f'| real test images | {dataset_title(scores["dataset"])} | - | - | - | '
            f'{real["accuracy"]:.3f} ({lowest:.2f}) | {real["covered"]}/10 | {score[0]:.2f} ± {score[1]:.2f} | '
            f'{scores["real_frechet_distance"]:.1f} | {diversity["real_mean"]:.3f} '
            f'({max(diversity["real_per_class"].values()):.3f}) | '
            f'{metrics.REFERENCE_PERCENTILE:g}% (the threshold is their {metrics.REFERENCE_PERCENTILE:g}th percentile) | - | '
            f'`{scores["classifier_sha256"][:16]}…` | - |')


def scored(out, names):
    """(run, iteration, evaluation.json) of every snapshot results.py scored for ``names``,
    in entry, framework and iteration order."""
    found = []
    for name in names:
        for framework in FRAMEWORKS:
            run = os.path.join(out, f'{name}-{framework}')
            paths = glob.glob(os.path.join(run, SCORED.format('*'), 'evaluation.json'))
            iterations = sorted(int(os.path.basename(os.path.dirname(p)).rsplit('_', 1)[-1]) for p in paths)
            found += [(run, i, read_json(os.path.join(run, SCORED.format(i), 'evaluation.json'))) for i in iterations]
    return found


def table(out, names):
    """One row per scored snapshot, then real test images' row for each dataset."""
    rows = scored(out, names)
    first_of_dataset = {}
    for _, _, scores in rows:
        first_of_dataset.setdefault(scores['dataset'], scores)
    lines = [HEADER, '|' + ' --- |' * (HEADER.count('|') - 1)]
    lines += [table_row(*row) for row in rows] + [real_row(scores) for scores in first_of_dataset.values()]
    return '\n'.join(lines)


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    check_arguments(args)
    if not args.table_only:
        for name in args.only:
            make_entry(name, args)
    print(f'\nScored with `ganport evaluate SNAPSHOT --n {args.n}` (real test images: see each evaluation.json):\n')
    print(table(args.out, args.only))


if __name__ == '__main__':
    main()
