"""Run Chainer v7.8.1's own tests with the compatibility layer, area by area.

Runs Chainer v7.8.1's own tests against an interpreter's Chainer and NumPy,
with the compatibility layer (chainer_impl.compat) imported before pytest
starts (or, --without-layer, not), and prints one Markdown row per area:
passed, failed, skipped, errors, time.

The PyPI sdist of Chainer has no tests: take them from the v7.8.1 tag of the
Chainer repository, e.g.
    git clone --depth 1 --branch v7.8.1 https://github.com/chainer/chainer chainer-v7.8.1
and pass that checkout (it needs tests/ and the setup.cfg beside it, whose
[tool:pytest] section upstream's tests run under). GPU, cuDNN, iDeep,
Theano, ChainerX and slow tests are deselected, as in upstream's CPU runs.
Not part of the project's test suite: the five areas take 20 to 50 minutes on
two shared cores, depending on their load.

--compare takes two tests for the same when their ids agree once NumPy 2's
scalar reprs in the parameters (np.float32(0.5), bool) are written as NumPy
1's (0.5, bool_), and also lists the failing tests that have no counterpart in
the baseline (ids that hold random arrays, files the baseline could not
collect), to be judged by hand.

Example: ganport upstream-chainer-tests ~/src/chainer-v7.8.1 --areas links optimizers --json layer.json
         ganport upstream-chainer-tests ~/src/chainer-v7.8.1 --python /venvs/np126/bin/python \\
             --without-layer --json np126.json
         ganport upstream-chainer-tests ~/src/chainer-v7.8.1 --compare np126.json --json layer.json
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from tqdm import tqdm

from gan_common.errors import UserError, exit_on_user_error

REPO = Path(__file__).resolve().parents[2]
AREAS = {
    'links': ['links_tests'],
    'functions': ['functions_tests'],
    'optimizers': ['optimizers_tests', 'test_optimizer.py'],
    'serializers': ['serializers_tests'],
    'training': ['training_tests'],
}
CPU_ONLY = 'not gpu and not cudnn and not ideep and not theano and not multi_gpu and not chainerx and not slow'
OUTCOMES = ('passed', 'failed', 'skipped', 'errors')
NUMPY2_SCALAR = re.compile(r'np\.(?:bool|int|uint|float|complex|longdouble|clongdouble)\w*\(([^()]*)\)')
NUMPY2_BOOL_SCALAR = re.compile(r'np\.(True|False)_')
NUMPY_BOOL = re.compile(r'\bbool\b(?!_)')
# Chainer is imported before pytest reads upstream's setup.cfg: resolving its
# warning filters imports chainer while 'error' is already in force, so an
# import-time warning of this environment (numpy.distutils' deprecation
# under NumPy 1.26) would stop every run before a test is collected.
IMPORT_QUIETLY = ('import warnings\nwith warnings.catch_warnings():\n'
                  '    warnings.simplefilter("ignore")\n    import chainer\n')
PRELOAD = {True: 'import chainer_impl.compat\n', False: IMPORT_QUIETLY}
LAUNCH_PYTEST = 'import sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))\n'


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkout', help='a checkout of the Chainer repository at tag v7.8.1 (tests/ and setup.cfg)')
    parser.add_argument('--areas', nargs='+', default=list(AREAS), metavar='AREA',
                        help=f'areas to run: {", ".join(AREAS)}, or a folder under tests/chainer_tests '
                             '(e.g. functions_tests/math_tests); default all five')
    parser.add_argument('--python', default=sys.executable,
                        help='interpreter whose Chainer and NumPy are tested (default this one)')
    parser.add_argument('--without-layer', action='store_true',
                        help='do not preload chainer_impl.compat (the baseline run, e.g. under NumPy 1.26)')
    parser.add_argument('--json', metavar='FILE', help='write every test\'s outcome and the table to FILE')
    parser.add_argument('--compare', metavar='FILE',
                        help='a --json file of a baseline run: list the tests that fail here and pass there, '
                             'and those that fail here and did not run there')
    return parser


def area_paths(checkout, area):
    root = Path(checkout) / 'tests' / 'chainer_tests'
    paths = [root / part for part in AREAS.get(area, [area])]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise UserError(f'{missing[0]} does not exist; pass a checkout of Chainer at tag v7.8.1 '
                        f'and areas from {", ".join(AREAS)} or folders under tests/chainer_tests')
    return paths


def check_checkout(checkout):
    if not (Path(checkout) / 'setup.cfg').is_file() or not (Path(checkout) / 'tests' / 'chainer_tests').is_dir():
        raise UserError(f'{checkout} is not a Chainer checkout (no setup.cfg and tests/chainer_tests); '
                        'clone https://github.com/chainer/chainer at tag v7.8.1')


def run_area(args, area):
    """{test id: outcome} and the wall time of one area's pytest run."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, 'junit.xml')
        command = [args.python, '-c', PRELOAD[not args.without_layer] + LAUNCH_PYTEST,
                   '-q', '-p', 'no:cacheprovider', '--continue-on-collection-errors', '-m', CPU_ONLY,
                   f'--junitxml={report}', *map(str, area_paths(args.checkout, area))]
        env = dict(os.environ, OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MKL_NUM_THREADS='1',
                   PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get('PYTHONPATH')])))
        start = time.monotonic()
        subprocess.run(command, cwd=args.checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        if not os.path.exists(report):
            raise UserError(f'pytest wrote no report for {area}: run pytest on {area_paths(args.checkout, area)[0]} '
                            'by hand to see why')
        return read_junit(report), seconds


def read_junit(path):
    outcomes = {}
    for case in ElementTree.parse(path).iter('testcase'):
        test = f'{case.get("classname")}::{case.get("name")}'
        tags = {child.tag for child in case}
        outcomes[test] = ('errors' if 'error' in tags else 'failed' if 'failure' in tags
                          else 'skipped' if 'skipped' in tags else 'passed')
    return outcomes


def table(rows):
    lines = ['| area | passed | failed | skipped | errors | time |', '|---|---:|---:|---:|---:|---:|']
    for area, row in rows.items():
        counts = [sum(1 for outcome in row['outcomes'].values() if outcome == name) for name in OUTCOMES]
        lines.append(f'| {area} | ' + ' | '.join(map(str, counts)) + f' | {row["seconds"] / 60:.1f} min |')
    return '\n'.join(lines)


def comparable_id(test):
    """``test`` with NumPy 2's scalar reprs in its parameters (``np.float32(0.5)``,
    ``bool``) written as NumPy 1 writes them (``0.5``, ``bool_``), so that one
    test has one id under both."""
    return NUMPY_BOOL.sub('bool_', NUMPY2_BOOL_SCALAR.sub(r'\1', NUMPY2_SCALAR.sub(r'\1', test)))


def compare(rows, baseline_path):
    """Tests that fail or error here and pass in the baseline, and those that
    fail or error here and have no counterpart there."""
    try:
        with open(baseline_path) as handle:
            baseline = json.load(handle)['areas']
    except (OSError, ValueError, KeyError) as error:
        raise UserError(f'--compare {baseline_path}: not a --json file of this command ({error})') from None
    there = {comparable_id(test): outcome for row in baseline.values() for test, outcome in row['outcomes'].items()}
    failing = [test for row in rows.values() for test, outcome in row['outcomes'].items()
               if outcome in ('failed', 'errors')]
    return (sorted(test for test in failing if there.get(comparable_id(test)) == 'passed'),
            sorted(test for test in failing if comparable_id(test) not in there))


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    args.checkout = os.path.abspath(os.path.expanduser(args.checkout))
    check_checkout(args.checkout)
    for area in args.areas:
        area_paths(args.checkout, area)
    rows = {}
    for area in tqdm(args.areas, desc='areas', unit='area'):
        outcomes, seconds = run_area(args, area)
        rows[area] = {'outcomes': outcomes, 'seconds': seconds}
    print(table(rows))
    report = {'python': args.python, 'layer': not args.without_layer, 'areas': rows}
    if args.compare:
        report['regressions'], report['unmatched_failures'] = compare(rows, args.compare)
        print(f'{len(report["regressions"])} test(s) fail here and pass in {args.compare}')
        for test in report['regressions']:
            print(f'  {test}')
        print(f'{len(report["unmatched_failures"])} test(s) fail here and did not run in {args.compare}')
        for test in report['unmatched_failures']:
            print(f'  {test}')
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(report, handle, indent=1)


if __name__ == '__main__':
    main()
