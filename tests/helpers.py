"""Running the project's scripts as a user would, in a subprocess; where the
datasets the repository does not ship are; a local HTTP server for the download tests; comparing training snapshots."""
import contextlib
import functools
import http.server
import importlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Datasets the repository does not ship (Fashion-MNIST, horse2zebra-mini) are
# read from the data kept beside the checkout, as CI has it; $GANPORT_TEST_DATA
# names another folder. A test that needs one is marked
# ``@pytest.mark.shared_data(NAME)`` and skips, saying so, where it is absent
# (tests/conftest.py), as on a bare clone.
SHARED_DATA_ENV = 'GANPORT_TEST_DATA'
SHARED_DATA = Path(os.environ.get(SHARED_DATA_ENV) or REPO.parent / 'shared' / 'data')


def missing_shared_data(name):
    """Why a test needing dataset ``name`` cannot run here, or None when it can."""
    if (SHARED_DATA / name).is_dir():
        return None
    return (f'needs {name}, which the repository does not ship: {SHARED_DATA / name} does not exist '
            f'(set ${SHARED_DATA_ENV} to a folder holding {name}/)')


def run_script(name, *args, check=True):
    """Run ``scripts/NAME`` with ``args``; return the CompletedProcess."""
    env = checkout_env(PYTHONWARNINGS='ignore')
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / name), *map(str, args)],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f'{name} {args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}')
    return result


def run_command(name, *args, check=True):
    """``ganport NAME ARGS`` in this process (quicker than a subprocess: the
    frameworks are imported once); a CompletedProcess as ``run_script`` returns."""
    command = importlib.import_module(f'ganport.commands.{name}')
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            command.main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    result = subprocess.CompletedProcess([name, *argv], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f'{name} {argv} failed ({code}):\n{result.stdout}\n{result.stderr}')
    return result


def checkout_env(**extra):
    """The environment with this checkout first on PYTHONPATH, so that a
    subprocess runs the code under test, whatever else is installed."""
    paths = [str(REPO), *filter(None, [os.environ.get('PYTHONPATH')])]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), **extra)


def sigterm_once_logged(command, log, lines, **popen):
    """Start ``command``; once ``log`` holds ``lines`` lines, send it SIGTERM.
    (exit status, stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    deadline = time.monotonic() + 300
    while not (log.exists() and len(log.read_text().splitlines()) >= lines) and process.poll() is None:
        assert time.monotonic() < deadline, f'{log} got no {lines} lines in 5 minutes'
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # the test fails; the process it ignored must not outlive it
        process.kill()
        process.communicate()
        raise
    return process.returncode, stderr


def assert_one_line_error(result, *fragments):
    """Exit status 1, exactly one line on stderr, no traceback, naming ``fragments``."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert len(lines) == 1 and 'Traceback' not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(root):
    """Serve the folder ``root`` over HTTP on 127.0.0.1; yield its base URL."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}/'
    finally:
        server.shutdown()
        server.server_close()


def leftovers(directory):
    """The sorted names in ``directory`` ([] when it does not exist)."""
    directory = Path(directory)
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def snapshot_weight_difference(chainer_snapshot, torch_snapshot, leave_out=()):
    """Max |difference| between the networks of a Chainer .npz and a PyTorch
    .pt training snapshot (parameters and BN statistics, matched by name;
    leaving out the Chainer arrays whose names end in one of ``leave_out``)."""
    import numpy as np
    import torch
    from gan_common.keymap import chainer_to_torch_key
    state = torch.load(torch_snapshot, weights_only=True)['model']
    with np.load(chainer_snapshot) as archive:
        chainer = {k: archive[k] for k in archive.files if k.startswith('updater/model:')}
    differences = []
    for key, value in chainer.items():
        if key.endswith(('/N', *leave_out)):  # Chainer's N counts fine-tuning calls only; PyTorch every batch
            continue
        net, name = key.split(':', 1)[1].split('/', 1)
        differences.append(float(np.abs(value - state[net][chainer_to_torch_key(name)].numpy()).max()))
    return max(differences)
