"""Running fixture scripts under the legacy runner, as a user would."""
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

SCRIPTS = Path(__file__).resolve().parent / 'scripts'


def run_legacy(script, *script_args, runner_args=(), cwd=None, check=True, env=None):
    """``python -m chainer_impl.legacy RUNNER_ARGS SCRIPT SCRIPT_ARGS``; the CompletedProcess."""
    environment = dict(os.environ, PYTHONWARNINGS='ignore', OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1')
    environment['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    environment.update(env or {})
    command = [sys.executable, '-m', 'chainer_impl.legacy', *map(str, runner_args), str(script),
               *map(str, script_args)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd or REPO, env=environment, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f'{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}')
    return result


def run_fixture(name, tmp_path, runner_args=('--device', 'cpu')):
    """Run ``scripts/NAME`` with a results file; return (results dict, CompletedProcess)."""
    out = tmp_path / 'results.json'
    report = tmp_path / 'report.json'
    result = run_legacy(SCRIPTS / name, out, runner_args=[*runner_args, '--report', report])
    return json.loads(out.read_text()), json.loads(report.read_text()), result


def reported_apis(report):
    return {row['old_api'] for row in report['uses']}
