"""Train every model in both frameworks and print the README's results table.

Make the README's results table: train each model in Chainer and in
PyTorch with the same preset and seed (ganport train), write one report per model
(ganport report: grids, losses, scores, speed, parity) and print one Markdown
table of the headline scores of all of them.

Runs already finished in --out are reused (delete them to retrain).
Example: ganport results --preset quick --fashion-data-dir ../shared/data
         ganport results --table-only     (just the table of existing reports)
"""
import argparse
import json
import os
import subprocess
import sys

from gan_common.errors import UserError, exit_on_user_error

ENTRIES = {  # name -> (model, extra `ganport train` arguments)
    'dcgan': ('dcgan', []),
    'gan': ('gan', []),
    # With seed 0 the PyTorch float32 run reaches the book's dead end at iteration
    # 1,600 (D outputs 1 for everything; Keras's clipped BCE then passes no
    # gradient); seed 1 trains in both frameworks (see the README).
    'cgan': ('cgan', ['--seed', '1']),
    'acgan': ('acgan', []),
    'acgan-fashion': ('acgan', ['--dataset', 'fashion-mnist']),
}
FRAMEWORKS = ('chainer', 'torch')


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', choices=list(ENTRIES), default=list(ENTRIES), help='entries to make')
    parser.add_argument('--preset', default='quick', help='preset of every run (default quick)')
    parser.add_argument('--out', default='runs/results', help='where the runs and reports go (default runs/results)')
    parser.add_argument('--fashion-data-dir', default=None,
                        help='folder holding fashion-mnist/ (default: $GAN_DATA_DIR or data/)')
    parser.add_argument('--table-only', action='store_true', help='only print the table of existing reports')
    return parser


def call(command, *args):
    line = [sys.executable, '-m', 'ganport', command, *map(str, args)]
    print('+ ganport', ' '.join(line[3:]), flush=True)
    if subprocess.run(line).returncode != 0:
        raise UserError(f'ganport {command} failed (see above); fix it and run ganport results again: '
                        'finished runs are reused')


def make_entry(name, args):
    model, extra = ENTRIES[name]
    data_dir = ['--data-dir', args.fashion_data_dir] if 'fashion-mnist' in extra and args.fashion_data_dir else []
    runs = [os.path.join(args.out, f'{name}-{framework}') for framework in FRAMEWORKS]
    for framework, run in zip(FRAMEWORKS, runs):
        if not os.path.exists(os.path.join(run, 'loss.png')):  # written when a run ends
            call('train', '--model', model, '--framework', framework, '--preset', args.preset,
                 *extra, *data_dir, '--out', run, '--no-progress')
    call('report', *runs, '--out', os.path.join(args.out, f'{name}-report'), *data_dir, '--no-progress')


def table(out, names):
    """One row per report: accuracy, coverage, classifier score, Fréchet
    distance, MS-SSIM and ms/iteration, Chainer / PyTorch."""
    lines = ['| model | dataset | classifier accuracy | classes covered | classifier score | '
             'Fréchet distance | MS-SSIM | ms/iteration |', '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for name in names:
        path = os.path.join(out, f'{name}-report', 'report.json')
        if not os.path.exists(path):
            continue
        with open(path) as f:
            report = json.load(f)
        c, t = (report['scores'][framework] for framework in FRAMEWORKS)

        def pair(get, fmt='{:.2f}'):
            return ' / '.join(fmt.format(get(s)) for s in (c, t))

        accuracy = pair(lambda s: s['predictions']['accuracy'], '{:.3f}') if c['conditional'] else '-'
        speed = ' / '.join(f'{report["ms_per_iteration"][f]:.0f}' for f in FRAMEWORKS)
        dataset = 'Fashion-MNIST' if 'fashion' in name else 'MNIST'
        lines.append(f'| {ENTRIES[name][0]} | {dataset} | {accuracy} | {pair(lambda s: s["predictions"]["covered"], "{}")} | '
                     f'{pair(lambda s: s["classifier_score"][0])} | {pair(lambda s: s["frechet_distance"])} | '
                     f'{pair(lambda s: s["diversity"]["mean"], "{:.3f}")} | {speed} |')
    return '\n'.join(lines)


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    if not args.table_only:
        for name in args.only:
            make_entry(name, args)
    print('\nChainer / PyTorch in each cell:\n')
    print(table(args.out, args.only))


if __name__ == '__main__':
    main()
