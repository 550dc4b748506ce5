"""Whole scripts in the styles of their eras (scripts/era_examples/), run
unchanged on the CPU under the legacy runner as a user would: a Python 2
MNIST MLP of 2015 (FunctionSet, volatile, --gpu 0), a Python 2 DCGAN of 2016
(positional wscale, test=, zero_grads, scipy.misc.imsave, text-mode pickles,
x.data.get()) and a GPU-only v6 DCGAN Trainer of 2019 (import cupy,
save_npz). The GANs' saved generators convert to PyTorch and draw the
script's own samples."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import REPO
from tests.legacy.legacy_helpers import SCRIPTS, run_legacy

EXAMPLES = SCRIPTS / 'era_examples'
CPU_STAND_INS = ['--device', 'cpu', '--data-stand-ins']


def _convert(source, target, *flags, cwd):
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'convert.py'), str(source), str(target),
                             '--model', 'dcgan', *flags], capture_output=True, text=True, cwd=cwd,
                            env=dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS='1'), timeout=600)
    assert result.returncode == 0, result.stderr


def _converted_samples_match(target, samples_file):
    from bridge.generation import TrainedGenerator
    with np.load(samples_file) as samples:
        z, chainer_samples = samples['z'], samples['x']
    torch_samples = TrainedGenerator(str(target)).raw(z)
    difference = float(np.abs(torch_samples - chainer_samples).max())
    scale = float(np.abs(chainer_samples).max())
    print(f'{target.name} vs the script\'s own samples: max |difference| {difference:.3g} (outputs up to {scale:.3g})')
    assert difference <= 1e-5 * max(1.0, scale)


def test_python2_mlp_of_2015_trains_and_pickles_its_functionset(tmp_path):
    result = run_legacy(EXAMPLES / 'mnist_mlp_2015.py', '--gpu', '0', '--epoch', '1', '--train', '1000',
                        runner_args=CPU_STAND_INS, cwd=tmp_path)
    test_line = next(line for line in result.stdout.splitlines() if line.startswith('test  mean loss='))
    accuracy = float(test_line.rsplit('=', 1)[1])
    print(test_line)
    assert accuracy > 0.5  # 10 classes: chance is 0.1
    assert 'saved mlp.pkl' in result.stdout and 'is Python 2' in result.stderr
    with open(tmp_path / 'mlp.pkl', 'rb') as file:
        model = pickle.load(file)
    assert model.l1.W.shape == (1000, 784) and model.l3.b.shape == (10,)


def test_python2_dcgan_of_2016_runs_on_the_cpu_and_its_pickle_converts(tmp_path):
    result = run_legacy(EXAMPLES / 'dcgan_mnist_2016.py', '--gpu', '0', '--epoch', '1', '--n_train', '200',
                        '--batchsize', '50', runner_args=[*CPU_STAND_INS, '--report', 'checklist.md'], cwd=tmp_path)
    out = tmp_path / 'out_images'
    assert sorted(p.name for p in out.iterdir()) == ['discriminator.pkl', 'generator.pkl', 'samples.npz',
                                                      'vis_0.png']
    assert 'epoch 0 loss gen' in result.stdout and 'reads as Chainer v1 code' in result.stderr
    checklist = (tmp_path / 'checklist.md').read_text()
    for entry in ("read by v1's signature (wscale by position)", '`array.get()`', '`scipy.misc.imsave(...)`',
                  '`pickle.dump(obj, open(path, "w"))`', '`optimizer.zero_grads()`', 'lib2to3 (print)',
                  'BatchNormalization.__call__(..., test=...)', '`a / b of two integers`'):
        assert entry in checklist, entry
    _convert(out / 'generator.pkl', tmp_path / 'gen.pt', '--trust-pickle', cwd=tmp_path)
    _converted_samples_match(tmp_path / 'gen.pt', out / 'samples.npz')


def test_gpu_only_v6_trainer_of_2019_runs_on_the_cpu_and_its_npz_converts(tmp_path):
    run_legacy(EXAMPLES / 'dcgan_trainer_2019.py', '--epoch', '2', '--n_train', '100', runner_args=CPU_STAND_INS,
               cwd=tmp_path)
    out = tmp_path / 'result'
    assert {'gen_final.npz', 'gen_iter_2.npz', 'gen_iter_4.npz', 'image000004.png',
            'samples.npz'} <= {p.name for p in out.iterdir()}
    _convert(out / 'gen_final.npz', tmp_path / 'gen.pt', cwd=tmp_path)
    _converted_samples_match(tmp_path / 'gen.pt', out / 'samples.npz')


@pytest.mark.parametrize('script', ['mnist_mlp_2015.py', 'dcgan_mnist_2016.py'])
def test_era_examples_are_python2_files(script):
    with pytest.raises(SyntaxError):
        compile((EXAMPLES / script).read_text(), script, 'exec')
