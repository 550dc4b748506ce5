"""The project as an installed package: every package listed, the ``ganport``
command finding its subcommands, and a non-editable install working from a
folder outside the checkout."""
import configparser
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ganport import cli
from tests.helpers import REPO

INSTALL_TIMEOUT_S = 300


def listed_packages():
    config = configparser.ConfigParser()
    config.read(REPO / 'setup.cfg')
    return set(config['options']['packages'].split())


def test_setup_cfg_lists_every_package():
    on_disk = set()
    for top in ('gan_common', 'chainer_impl', 'torch_impl', 'bridge', 'ganport'):
        for folder, dirs, files in os.walk(REPO / top):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            if '__init__.py' in files:
                on_disk.add('.'.join(os.path.relpath(folder, REPO).split(os.sep)))
    assert on_disk <= listed_packages(), on_disk - listed_packages()


def test_every_module_in_commands_is_a_subcommand_with_help(capsys):
    modules = sorted(p.stem for p in (REPO / 'ganport' / 'commands').glob('[a-z]*.py'))
    found = cli.discover()
    assert list(found) == sorted(cli.subcommand_name(m) for m in modules)
    assert cli.main(['--help']) == 0
    listing = capsys.readouterr().out
    for name, summary in found.items():
        assert summary and f'  {name}' in listing and summary in listing, name
        with pytest.raises(SystemExit) as done:
            cli.main([name, '--help'])
        assert done.value.code == 0, name
        assert capsys.readouterr().out.startswith(f'usage: ganport {name} '), name


def test_unknown_subcommand_is_one_line_and_status_1():
    result = subprocess.run([sys.executable, '-m', 'ganport', 'nope'], capture_output=True, text=True,
                            cwd=REPO, timeout=60)
    assert result.returncode == 1 and result.stderr.count('\n') == 1, result.stderr
    assert "unknown subcommand 'nope'" in result.stderr and 'sample' in result.stderr


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The committed and untracked (not ignored) files of the checkout, copied and
    installed non-editably (``pip install --target``), reusing this
    environment's numpy, torch and chainer; yields (target, env)."""
    source, target = tmp_path_factory.mktemp('source'), tmp_path_factory.mktemp('target')
    listing = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             cwd=REPO, capture_output=True, check=True).stdout.decode().split('\0')
    for name in filter(None, listing):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps', '--no-build-isolation',
                    '--disable-pip-version-check', '--target', str(target), str(source)],
                   check=True, capture_output=True, timeout=INSTALL_TIMEOUT_S)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(PYTHONPATH=str(target), PYTHONWARNINGS='ignore')
    yield target, env


def run_installed(installed, cwd, *args):
    target, env = installed
    result = subprocess.run([str(target / 'bin' / 'ganport'), *map(str, args)], capture_output=True, text=True,
                            cwd=cwd, env=env, timeout=300)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def test_installed_code_and_data_come_from_the_install(installed, tmp_path):
    target, env = installed
    probe = ('import bridge, chainer_impl, gan_common, ganport, torch_impl\n'
             'from gan_common import idx\nfrom torch_impl import classifier\n'
             'print(*[m.__file__ for m in (bridge, chainer_impl, gan_common, ganport, torch_impl)], '
             'idx.SHIPPED_DATA_DIR, classifier.WEIGHTS_DIR, sep="\\n")')
    result = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=120, check=True)
    for path in result.stdout.split():
        assert path.startswith(str(target)), path
    assert (target / 'gan_common' / 'data' / 'classifiers' / 'SHA256SUMS').is_file()
    usage = subprocess.run([sys.executable, '-m', 'ganport', '--help'], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=60, check=True).stdout
    assert all(f'  {name}' in usage for name in cli.discover())


def test_installed_command_trains_samples_and_evaluates_outside_the_checkout(installed, tmp_path):
    run_installed(installed, tmp_path, 'train', '--model', 'gan', '--framework', 'torch', '--iterations', '2',
                  '--batch-size', '8', '--out', 'run', '--no-progress')
    run_installed(installed, tmp_path, 'sample', 'run/snapshot_iter_2.pt', '--n', '20', '--out', 'samples.npz')
    with np.load(tmp_path / 'samples.npz') as archive:
        assert archive['images'].shape == (20, 1, 28, 28)
    report = run_installed(installed, tmp_path, 'evaluate', 'samples.npz', '--neighbours', '10', '--out', 'eval',
                           '--no-progress')
    assert 'classifier' in report.stdout and (tmp_path / 'eval' / 'evaluation.json').is_file()
