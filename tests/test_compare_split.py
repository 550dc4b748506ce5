"""compare --lockstep-steps K: K iterations in lock-step, then PyTorch in a
forked child and Chainer in the parent. The split must not change what
either framework computes: in float64 each framework's losses after the split
equal those of a run entirely in lock-step, step for step (the same batches
and noise), and the final drift, measured once the child's weights are back,
is the lock-step run's."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.helpers import REPO, assert_one_line_error, checkout_env, run_script

STEPS, LOCKSTEP = 6, 3
TINY = ['--model', 'dcgan', '--preset', 'quick', '--digits', '0', '--batch-size', '8', '--dtype', 'float64']
TIMES = ('chainer_ms', 'torch_ms')


def log(out):
    return [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp('compare')
    common = [*TINY, '--steps', STEPS, '--sample-every', LOCKSTEP, '--print-every', 1]
    run_script('compare.py', *common, '--out', root / 'lockstep')
    split = run_script('compare.py', *common, '--lockstep-steps', LOCKSTEP, '--final-samples', 10,
                       '--out', root / 'split')
    print(split.stdout)
    return root / 'lockstep', root / 'split', split.stdout


def test_the_lockstep_phase_rows_are_those_of_a_lockstep_run(runs):
    lockstep, split, _ = runs
    for full_row, split_row in zip(log(lockstep)[:LOCKSTEP], log(split)[:LOCKSTEP]):
        assert {k: v for k, v in full_row.items() if k not in TIMES} == \
               {k: v for k, v in split_row.items() if k not in TIMES}


def test_each_framework_after_the_split_trains_as_in_lockstep(runs):
    lockstep, split, _ = runs
    full_rows, split_rows = log(lockstep), log(split)
    assert [r['iteration'] for r in split_rows] == list(range(1, STEPS + 1))
    for framework in ('chainer', 'torch'):
        keys = [f'{framework}_loss_gen', f'{framework}_loss_dis']
        diff = max(abs(full[k] - part[k]) for full, part in zip(full_rows[LOCKSTEP:], split_rows[LOCKSTEP:])
                   for k in keys)
        print(f'{framework}: steps {LOCKSTEP + 1}-{STEPS}, split vs lock-step run: max |loss diff| = {diff:.3e}')
        assert diff <= 1e-12
    full_drift, split_drift = full_rows[-1]['param_drift'], split_rows[-1]['param_drift']
    print(f'final drift: lock-step run {full_drift:.3e}, split run {split_drift:.3e}')
    assert split_drift < 1e-9 and abs(full_drift - split_drift) <= 1e-12
    assert all(r['param_drift'] is None for r in split_rows[LOCKSTEP:-1])


def test_the_split_run_writes_every_output(runs):
    _, split, stdout = runs
    assert re.search(r'PyTorch in pid \d+', stdout) and 'parity OK' in stdout
    summary = json.loads((split / 'parity.json').read_text())
    assert summary['steps'] == STEPS and summary['lockstep_steps'] == LOCKSTEP
    assert summary['final_param_drift'] == log(split)[-1]['param_drift'] < 1e-9
    for name in ('loss.png', 'parity.md', 'final_samples.json', 'config.json',
                 f'samples/side_by_side_iter_{LOCKSTEP:07d}.png', f'samples/side_by_side_iter_{STEPS:07d}.png'):
        assert (split / name).is_file(), name
    for framework in ('chainer', 'torch'):
        with np.load(split / f'final_{framework}.npz') as archive:
            assert archive['images'].shape == (10, 1, 28, 28)
    assert 'read as 0' in stdout


def start_split_run(out):
    """A long split run, once PyTorch's process started: (the Popen, PyTorch's pid)."""
    command = [sys.executable, str(REPO / 'scripts' / 'compare.py'), *TINY, '--steps', '3000',
               '--lockstep-steps', '1', '--print-every', '1000', '--out', str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env=checkout_env(PYTHONWARNINGS='ignore'))
    for line in process.stdout:
        found = re.search(r'PyTorch in pid (\d+)', line)
        if found:
            return process, int(found.group(1))
    process.wait()
    raise AssertionError(f'no split: {process.stderr.read()}')


def running(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def test_a_killed_pytorch_process_is_one_line_and_keeps_nothing(tmp_path):
    out = tmp_path / 'killed'
    process, child = start_split_run(out)
    try:
        os.kill(child, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    print(stderr)
    assert_one_line_error(result, 'the PyTorch process', 'died (killed by SIGKILL)', 'run the command again')
    assert not out.exists()


def test_the_pytorch_process_ends_with_a_killed_parent(tmp_path):
    process, child = start_split_run(tmp_path / 'orphan')
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 60
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = running(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, 'the PyTorch process outlived its parent by a minute'


def test_lockstep_steps_must_be_positive(tmp_path):
    result = run_script('compare.py', '--steps', '2', '--lockstep-steps', '0', '--out', tmp_path, check=False)
    assert_one_line_error(result, '--lockstep-steps')
