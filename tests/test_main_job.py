"""The main job's end: compare.py --final-samples writes both frameworks'
final samples as sample.py writes them and prints the classifier's verdict."""
import json

import numpy as np

from tests.helpers import assert_one_line_error, run_script


def test_final_samples_are_written_and_judged(tmp_path):
    out = tmp_path / 'main'
    result = run_script('compare.py', '--model', 'dcgan', '--preset', 'quick', '--digits', '0', '--steps', '2',
                        '--batch-size', '8', '--dtype', 'float32', '--final-samples', '20', '--out', out)
    print(result.stdout)
    for framework in ('chainer', 'torch'):
        with np.load(out / f'final_{framework}.npz') as archive:
            assert archive.files == ['images']
            images = archive['images']
        assert images.shape == (20, 1, 28, 28) and images.dtype == np.float32
        assert images.min() >= 0 and images.max() <= 1
    verdict = json.loads((out / 'final_samples.json').read_text())
    assert set(verdict) == {'chainer', 'torch', 'real', 'classifier_sha256'}
    assert verdict['real']['read_as_digits'] >= 0.95  # real test zeros read as 0
    for name in ('chainer', 'torch'):
        assert 0 <= verdict[name]['read_as_digits'] <= 1 and verdict[name]['n'] == 20
    line = next(line for line in result.stdout.splitlines() if line.startswith('Chainer: '))
    assert 'read as 0' in line and 'PyTorch: ' in line and 'real test images: ' in line
    assert verdict['classifier_sha256'][:16] in line


def test_all_digits_are_judged_by_classifier_score(tmp_path):
    result = run_script('compare.py', '--model', 'gan', '--preset', 'quick', '--steps', '1', '--batch-size', '8',
                        '--dtype', 'float32', '--final-samples', '10', '--out', tmp_path)
    verdict = json.loads((tmp_path / 'final_samples.json').read_text())
    assert 'read_as_digits' not in verdict['torch'] and 1 <= verdict['torch']['classifier_score'] <= 10
    assert 'classifier score' in result.stdout and '/10 classes' in result.stdout


def test_too_few_final_samples_and_conditional_models_are_one_line(tmp_path):
    few = run_script('compare.py', '--steps', '1', '--final-samples', '5', '--out', tmp_path, check=False)
    assert_one_line_error(few, '--final-samples 5', 'at least 10')
    conditional = run_script('compare.py', '--model', 'acgan', '--steps', '1', '--final-samples', '100',
                             '--out', tmp_path, check=False)
    assert_one_line_error(conditional, 'unconditional MNIST generators')
    assert not (tmp_path / 'final_chainer.npz').exists()
