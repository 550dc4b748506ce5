"""scripts/check_port.py as users run it: models from files and from
modules, exit status 0 / 1, the JSON report, and one line for each bad input."""
import json
import subprocess
import sys

import pytest

from ganport.commands.check_port import main
from tests.helpers import REPO, checkout_env

PORTS = REPO / 'tests' / 'ports'
CHAINER_FILE, TORCH_FILE = PORTS / 'chainer_models.py', PORTS / 'torch_ports.py'


def run(capsys, *args):
    """(exit status, stdout, stderr lines) of ``main(args)`` in this process."""
    with pytest.raises(SystemExit) as stopped:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return stopped.value.code, out, [line for line in err.splitlines() if line.strip()]


def test_files_diverging_port_exits_1_with_the_json(tmp_path):
    report = tmp_path / 'report.json'
    env = checkout_env(PYTHONWARNINGS='ignore')
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'check_port.py'),
                             '--chainer', f'{CHAINER_FILE}:ConvNet', '--torch', f'{TORCH_FILE}:leaky_relu_slope',
                             '--input-shape', '2,3,8,8', '--json', report],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    print(result.stdout, result.stderr)
    assert result.returncode == 1, result.stderr
    assert 'cause: leaky_relu_slope' in result.stdout
    divergence = json.loads(report.read_text())['first_divergence']
    assert (divergence['chainer'], divergence['torch'], divergence['cause']) == ('bn1', 'norm', 'leaky_relu_slope')


def test_modules_and_a_class_factory_pass(capsys, tmp_path):
    report = tmp_path / 'report.json'
    status, out, err = run(capsys, '--chainer', 'tests.ports.chainer_models:ConvNet',
                           '--torch', 'tests.ports.torch_ports:ConvNetPort', '--input-shape', '2,3,8,8',
                           '--mode', 'both', '--steps', '1', '--json', report)
    print(out)
    assert (status, err) == (0, [])
    assert json.loads(report.read_text())['passed'] is True
    assert 'PASS' in out


def test_two_inputs_with_labels_and_torch_adam(capsys):
    status, out, _ = run(capsys, '--chainer', f'{CHAINER_FILE}:EmbedNet', '--torch', f'{TORCH_FILE}:EmbedNetPort',
                         '--input-shape', '5', '--input-dtype', 'int32')
    assert status == 0, out
    status, out, _ = run(capsys, '--chainer', f'{CHAINER_FILE}:ConvNet', '--torch', f'{TORCH_FILE}:correct',
                         '--input-shape', '2,3,8,8', '--steps', '1', '--optimizer', 'torch-adam')
    assert status == 1 and 'cause: adam_eps' in out, out


def test_a_map_file_pairs_by_names(capsys, tmp_path):
    name_map = tmp_path / 'map.json'
    name_map.write_text(json.dumps({'conv1': 'first', 'bn1': 'norm', 'conv2/W': 'second.weight', 'fc': 'classifier'}))
    status, out, _ = run(capsys, '--chainer', f'{CHAINER_FILE}:ConvNet', '--torch', f'{TORCH_FILE}:correct',
                         '--input-shape', '2,3,8,8', '--map', name_map)
    assert status == 0 and 'pairing by names' in out, out


@pytest.mark.parametrize('chainer, torch_, shape, extra, fragment', [
    ('no_such_module_here:Net', 'tests.ports.torch_ports:correct', '2,3,8,8', [], 'cannot import no_such_module_here'),
    (f'{CHAINER_FILE}:Missing', f'{TORCH_FILE}:correct', '2,3,8,8', [], "has no 'Missing'"),
    (f'{CHAINER_FILE}:needs_arguments', f'{TORCH_FILE}:correct', '2,3,8,8', [], 'needs arguments (width)'),
    (f'{CHAINER_FILE}', f'{TORCH_FILE}:correct', '2,3,8,8', [], 'give MODULE_OR_FILE:FACTORY'),
    (f'{CHAINER_FILE}:ConvNet', f'{TORCH_FILE}:correct', '2,x', [], 'give positive integers'),
    (f'{CHAINER_FILE}:ConvNet', f'{TORCH_FILE}:correct', '2,3,8', [], 'Chainer model fails on inputs of shape 2x3x8'),
    (f'{CHAINER_FILE}:ConvNet', f'{CHAINER_FILE}:ConvNet', '2,3,8,8', [], 'not a torch.nn.Module'),
    (f'{CHAINER_FILE}:SharedNet', f'{TORCH_FILE}:TwoLayers', '2,4', [], 'ambiguous pairing'),
    (f'{CHAINER_FILE}:ConvNet', f'{TORCH_FILE}:ConvNetMissingLayer', '2,3,8,8', [], 'has no partner'),
    (f'{CHAINER_FILE}:ConvNet', f'{TORCH_FILE}:correct', '2,3,8,8', ['--map', '/nonexistent/m.json'], 'cannot read'),
    (f'{CHAINER_FILE}:ConvNet', f'{TORCH_FILE}:correct', '2,3,8,8', ['--json', f'{CHAINER_FILE}/r.json'],
     'cannot write in'),
], ids=['unimportable', 'no-factory', 'factory-arguments', 'no-factory-name', 'bad-shape', 'wrong-shape',
        'wrong-framework', 'ambiguous', 'no-partner', 'bad-map', 'unwritable-json'])
def test_bad_inputs_end_in_one_line(capsys, chainer, torch_, shape, extra, fragment):
    status, out, err = run(capsys, '--chainer', chainer, '--torch', torch_, '--input-shape', shape, *extra)
    assert status == 1
    assert len(err) == 1 and fragment in err[0], err


def test_a_correct_port_with_dropout_passes_by_default_and_shows_its_masks_apart_on_request(capsys, tmp_path):
    report = tmp_path / 'report.json'
    model = ['--chainer', f'{CHAINER_FILE}:DropoutNet', '--torch', f'{TORCH_FILE}:DropoutNetPort', '--input-shape', '4,8']
    status, out, _ = run(capsys, *model, '--steps', '1', '--json', report)
    assert status == 0 and 'dropout masks shared' in out, out
    assert json.loads(report.read_text())['dropout_masks'] == 'shared'
    status, out, _ = run(capsys, *model, '--independent-dropout', '--json', report)
    assert status == 1 and 'cause: dropout_mask' in out, out
    assert json.loads(report.read_text())['first_divergence']['cause'] == 'dropout_mask'
