"""What ``scripts/gpu_checks.sh`` does without a GPU: its help, bad options,
the check for the carried Chainer wheel, and the clean skip."""
import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import REPO

SCRIPT = REPO / 'scripts' / 'gpu_checks.sh'


def gpu_checks(*args, env=None):
    env = dict(os.environ, PYTHON=sys.executable, **(env or {}))
    env.pop('OUT', None)
    return subprocess.run(['bash', str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_help_names_the_options():
    result = gpu_checks('--help')
    assert result.returncode == 0
    for option in ('--carry DIR', '--out DIR', '--no-benchmark'):
        assert option in result.stdout


@pytest.mark.parametrize('args, fragment', [
    (['--bogus'], "unknown option '--bogus'"),
    (['--carry'], '--carry needs a folder'),
])
def test_bad_options_end_in_one_line(args, fragment):
    result = gpu_checks(*args)
    assert result.returncode == 1 and result.stderr.strip().count('\n') == 0 and fragment in result.stderr


def test_a_missing_wheel_names_the_command_that_builds_it(tmp_path):
    result = gpu_checks('--carry', tmp_path / 'empty', '--out', tmp_path / 'out')
    assert result.returncode == 1
    assert 'no Chainer 7.8.1 wheel' in result.stderr and 'pip wheel --no-deps chainer==7.8.1' in result.stderr
    assert not (tmp_path / 'out').exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason='the skip path is taken only without a GPU')
def test_without_a_gpu_it_skips_cleanly_and_says_so(tmp_path):
    carry = tmp_path / 'carry'
    carry.mkdir()
    (carry / 'chainer-7.8.1-py3-none-any.whl').write_bytes(b'')  # present; never installed on the skip path
    result = gpu_checks('--carry', carry, '--out', tmp_path / 'out')
    assert result.returncode == 0, result.stderr
    assert 'skipped: no GPU' in result.stdout
    assert 'skipped: no GPU' in (tmp_path / 'out' / 'summary.txt').read_text()
