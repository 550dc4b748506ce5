"""Fault injection: a tiny run is killed (SIGKILL) at random points, inside a
file write (the temporary half written, or written but not yet renamed) or
just after one, and resumed each time; the result must be bit-identical (the
same content checksum in every snapshot, the same log and loss plot) to the
uninterrupted run, with no temporary file left behind.

GAN_FAULT_SEED picks the kill points (default 0); the points are printed."""
import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from gan_common.checkpoints import CHECKSUM_KEY
from tests.helpers import REPO, checkout_env, leftovers

KILLS = 3
ITERATIONS = 6
ARGS = ['--model', 'dcgan', '--preset', 'quick', '--batch-size', '8', '--log-every', '1', '--sample-every', '2',
        '--snapshot-every', '2', '--iterations', str(ITERATIONS), '--no-progress']
SUFFIX = {'chainer': 'npz', 'torch': 'pt'}

# Runs train.py and kills itself at the KILL_AT-th atomic rename (gan_common.files'
# os.replace): 'partial' after cutting the temporary file in half, 'unrenamed'
# with it complete, 'renamed' just after the rename.
KILLER = '''
import os, runpy, signal, sys
at, how = int(os.environ['KILL_AT']), os.environ['KILL_HOW']
rename, calls = os.replace, [0]
def replace(src, dst):
    calls[0] += 1
    if calls[0] == at and how == 'partial':
        os.truncate(src, os.path.getsize(src) // 2)
    if calls[0] == at and how != 'renamed':
        os.kill(os.getpid(), signal.SIGKILL)
    rename(src, dst)
    if calls[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def train(framework, out, *extra, kill=None):
    env = checkout_env(PYTHONWARNINGS='ignore')
    command = [sys.executable, str(REPO / 'scripts' / 'train.py'), *ARGS, '--framework', framework, '--out', str(out),
               *extra]
    if kill is not None:
        env.update(KILL_AT=str(kill[0]), KILL_HOW=kill[1])
        command = [sys.executable, '-c', KILLER, *command[1:]]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=600)


def checksums(run_dir, framework):
    found = {}
    for path in sorted(run_dir.glob(f'snapshot_iter_*.{SUFFIX[framework]}')):
        if framework == 'torch':
            found[path.name] = torch.load(path, weights_only=True)[CHECKSUM_KEY]
        else:
            with np.load(path) as archive:
                found[path.name] = str(archive[CHECKSUM_KEY])
    return found


def log_without_times(run_dir):
    return [{k: v for k, v in json.loads(line).items() if k != 'elapsed_time'}
            for line in (run_dir / 'log.jsonl').read_text().splitlines()]


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_killed_and_resumed_runs_end_bit_identical(framework, tmp_path):
    reference = tmp_path / 'reference'
    assert train(framework, reference).returncode == 0
    rng = random.Random(int(os.environ.get('GAN_FAULT_SEED', '0')) * 2 + (framework == 'torch'))
    run, kills = tmp_path / 'killed', []
    while len(kills) < KILLS:
        kill = (rng.randint(1, 3), rng.choice(['partial', 'unrenamed', 'renamed']))
        resume = ['--resume'] if list(run.glob('snapshot_iter_*')) else []
        result = train(framework, run, *resume, kill=kill)
        if result.returncode == 0:
            break  # the run ended before the chosen write
        assert result.returncode == -signal.SIGKILL, result.stderr
        kills.append(kill)
    print(f'{framework}: killed at (write, how) {kills}')
    if len(kills) == KILLS:
        resume = ['--resume'] if list(run.glob('snapshot_iter_*')) else []
        result = train(framework, run, *resume)
        assert result.returncode == 0, result.stderr
    assert checksums(run, framework) == checksums(reference, framework)
    assert len(checksums(run, framework)) == ITERATIONS // 2
    assert log_without_times(run) == log_without_times(reference)
    assert (run / 'loss.png').read_bytes() == (reference / 'loss.png').read_bytes()
    assert leftovers(run) == leftovers(reference)
    assert not [name for name in leftovers(run / 'samples') if name.startswith('.partial-')]
