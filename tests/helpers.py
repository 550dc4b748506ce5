"""Running the project's scripts as a user would, in a subprocess."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_script(name, *args, check=True):
    """Run ``scripts/NAME`` with ``args``; return the CompletedProcess."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / name), *map(str, args)],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f'{name} {args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}')
    return result


def assert_one_line_error(result, *fragments):
    """Exit status 1, exactly one line on stderr, no traceback, naming ``fragments``."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert len(lines) == 1 and 'Traceback' not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
