"""A Chainer v1 DCGAN trainer shaped like the blog's (scripts/dcgan_v1/) runs
end to end under the legacy runner, and its pickled generator converts to a
PyTorch checkpoint that draws the same samples."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import REPO
from tests.legacy.legacy_helpers import SCRIPTS, run_legacy

TRAINER = SCRIPTS / 'dcgan_v1' / 'train_dcgan.py'


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp('dcgan_v1')
    result = run_legacy(TRAINER, '--out', 'result', '--epochs', '2', '--images', '2000', cwd=folder,
                        runner_args=['--data-stand-ins', '--report', 'checklist.json'])
    return folder, result


def test_v1_dcgan_trainer_runs_two_epochs_and_writes_its_outputs(trained):
    folder, result = trained
    out = folder / 'result'
    assert sorted(p.name for p in out.iterdir()) == ['dis.pkl', 'epoch0.png', 'epoch1.png', 'gen.pkl',
                                                      'samples.npz']
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith('epoch')] == ['0', '1']
    with np.load(out / 'samples.npz') as samples:
        assert samples['x'].shape == (16, 1, 28, 28) and np.isfinite(samples['x']).all()
    report = json.loads((folder / 'checklist.json').read_text())
    found = {(os.path.basename(row['file']), row['old_api']) for row in report['uses']}
    for expected in [('train_dcgan.py', "fetch_mldata('MNIST original')"),
                     ('train_dcgan.py', 'optimizer.zero_grads()'),
                     ('train_dcgan.py', 'savefig(..., papertype=...)'),
                     ('net.py', 'BatchNormalization.__call__(..., test=...)'),
                     ('net.py', 'L.Linear(..., wscale=0.2)')]:
        assert expected in found, expected
    assert any(api.startswith('Generator: Chain.__init__(l1=...') for _, api in found)


def test_unpickled_generator_draws_the_samples_the_trainer_drew(trained):
    folder, _ = trained
    run_legacy(SCRIPTS / 'dcgan_v1' / 'sample_pickle.py', 'result/gen.pkl', 'result/samples.npz', 'again.npy',
               cwd=folder)
    with np.load(folder / 'result' / 'samples.npz') as samples:
        difference = float(np.abs(np.load(folder / 'again.npy') - samples['x']).max())
    print(f'unpickled generator vs the trainer\'s own samples: {difference:.3g}')
    assert difference == 0


def _convert_takes_pickles():
    help_text = subprocess.run([sys.executable, str(REPO / 'scripts' / 'convert.py'), '--help'],
                               capture_output=True, text=True, cwd=REPO,
                               env=dict(os.environ, PYTHONPATH=str(REPO))).stdout
    return '--trust-pickle' in help_text


def test_pickled_generator_converts_to_a_pt_drawing_the_same_samples(trained):
    if not _convert_takes_pickles():
        pytest.skip('scripts/convert.py has no --trust-pickle yet, so it cannot read a pickled Chainer link')
    folder, _ = trained
    target = folder / 'gen.pt'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TRAINER.parent), str(REPO)]))
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'convert.py'), 'result/gen.pkl', str(target),
                             '--model', 'dcgan', '--trust-pickle'], capture_output=True, text=True,
                            cwd=folder, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    from bridge.generation import TrainedGenerator
    with np.load(folder / 'result' / 'samples.npz') as samples:
        z, chainer_samples = samples['z'], samples['x']
    torch_samples = TrainedGenerator(str(target)).raw(z)
    difference = float(np.abs(torch_samples - chainer_samples).max())
    scale = float(np.abs(chainer_samples).max())
    print(f'converted .pt vs the pickled Chainer generator: max |difference| {difference:.3g} '
          f'(outputs up to {scale:.3g})')
    assert difference <= 1e-5 * max(1.0, scale)
