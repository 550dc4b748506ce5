"""The evaluation instrument (the committed classifiers), the scores of
``torch_impl.evaluation`` on cases with known answers (real test images,
uniform noise, one repeated training image), and evaluate.py, report.py and
results.py's table end to end on tiny runs."""
import json
import os
import shutil

import numpy as np
import pytest

from gan_common.datasets import load_images
from gan_common.errors import UserError
from tests.helpers import SHARED_DATA, assert_one_line_error, run_script
from torch_impl import classifier, evaluation

TINY = ['--batch-size', '8', '--log-every', '1', '--sample-every', '2', '--snapshot-every', '2',
        '--iterations', '2', '--no-progress']


@pytest.mark.parametrize('dataset, data_dir', [
    ('mnist', None),
    pytest.param('fashion-mnist', SHARED_DATA, marks=pytest.mark.shared_data('fashion-mnist'))])
def test_committed_classifier_reaches_its_test_accuracy(dataset, data_dir):
    model = classifier.load(dataset)
    accuracy = classifier.test_accuracy(model, dataset, data_dir)
    target = classifier.DATASETS[dataset][2]
    print(f'{dataset} classifier: test accuracy {accuracy:.4f} (target {target})')
    assert accuracy >= target


def test_classifier_with_a_wrong_checksum_is_refused(tmp_path, monkeypatch):
    shutil.copy(classifier.weights_path('mnist'), tmp_path / 'mnist.pt')
    (tmp_path / 'SHA256SUMS').write_text(f'{"0" * 64}  mnist.pt\n')
    monkeypatch.setattr(classifier, 'WEIGHTS_DIR', str(tmp_path))
    monkeypatch.setattr(classifier, 'CHECKSUMS', str(tmp_path / 'SHA256SUMS'))
    with pytest.raises(UserError, match='does not match its SHA-256'):
        classifier.load('mnist')


@pytest.fixture(scope='module')
def reference():
    return evaluation.Reference('mnist', progress=False)


@pytest.fixture(scope='module')
def scored(reference):
    """Scores of 500 real test images (with their labels as the request),
    500 uniform-noise images and 500 copies of one training image."""
    rng = np.random.default_rng(0)
    real_images, real_labels = reference.real_subset(500, np.random.default_rng(1))
    noise = rng.uniform(0.0, 1.0, real_images.shape).astype(np.float32)
    train_images, train_labels = load_images('mnist', None, ['train'], scaling='unit')
    repeated = np.repeat(train_images[:1], 500, axis=0)
    cases = {'real': (real_images, real_labels), 'noise': (noise, real_labels),
             'repeated': (repeated, np.full(500, train_labels[0]))}
    scores = {name: evaluation.evaluate(images, labels, reference, neighbours=200)
              for name, (images, labels) in cases.items()}
    for name, s in scores.items():
        print(f'{name:>8}: accuracy {s["predictions"]["accuracy"]:.3f}, covered {s["predictions"]["covered"]}, '
              f'classifier score {s["classifier_score"][0]:.2f}, Fréchet {s["frechet_distance"]:.2f}, '
              f'MS-SSIM {s["diversity"]["mean"]:.3f}, NN median {s["nearest_neighbour"]["median"]:.2f}')
    return scores


def test_real_images_score_like_real_data(scored):
    real = scored['real']
    assert real['predictions']['accuracy'] >= 0.98
    assert real['predictions']['covered'] == 10
    # 10 splits of 50: p(y) of a small split is noisy, so even real data stays below 10
    assert real['classifier_score'][0] > 8.0
    assert real['classifier_score'][0] == pytest.approx(real['real_classifier_score'][0], rel=0.05)
    assert real['frechet_distance'] < 5 * real['real_frechet_distance'] + 1.0


def test_noise_scores_at_the_bottom(scored):
    noise, real = scored['noise'], scored['real']
    assert noise['predictions']['accuracy'] < 0.3
    assert noise['classifier_score'][0] < 0.5 * real['classifier_score'][0]
    assert noise['frechet_distance'] > 20 * real['frechet_distance']
    assert noise['nearest_neighbour']['median'] > 2 * noise['nearest_neighbour']['reference_median']


def test_a_repeated_training_image_is_collapsed_and_memorised(scored):
    repeated = scored['repeated']
    assert repeated['predictions']['covered'] == 1
    assert repeated['diversity']['mean'] == pytest.approx(1.0, abs=1e-12)
    assert repeated['diversity']['fraction_more_diverse_than_least_diverse_real_class'] == 0.0
    assert repeated['nearest_neighbour']['median'] == 0.0
    assert repeated['nearest_neighbour']['fraction_below'] == 1.0
    assert repeated['classifier_score'][0] == pytest.approx(1.0, abs=1e-6)


def test_downsampling_lowers_real_accuracy_gradually(scored):
    accuracy = scored['real']['downsampled_accuracy']
    print('real accuracy at 28/14/7:', accuracy)
    assert accuracy['28'] >= accuracy['14'] >= accuracy['7']


def test_evaluate_a_sample_file(tmp_path, reference):
    images, labels = reference.real_subset(100, np.random.default_rng(2))
    np.savez(tmp_path / 'real.npz', images=images, labels=labels)
    result = run_script('evaluate.py', tmp_path / 'real.npz', '--out', tmp_path / 'eval', '--no-progress')
    scores = json.loads((tmp_path / 'eval' / 'evaluation.json').read_text())
    assert scores['predictions']['accuracy'] >= 0.95 and 'classifier accuracy' in result.stdout
    per_class = next(line for line in result.stdout.splitlines() if 'per class:' in line)
    assert len(per_class.split(':')) - 2 == len(set(labels.tolist()))  # one "c: accuracy" per class present
    assert {p.name for p in (tmp_path / 'eval').iterdir()} >= {'samples.png', 'neighbours.png', 'evaluation.json'}


def test_evaluate_pairs_sets_the_ms_ssim_draws_and_reports_their_standard_error(tmp_path, reference):
    images, labels = reference.real_subset(200, np.random.default_rng(4))
    np.savez(tmp_path / 'real.npz', images=images, labels=labels)
    result = run_script('evaluate.py', tmp_path / 'real.npz', '--out', tmp_path / 'eval', '--pairs', '400',
                        '--neighbours', '50', '--no-progress')
    diversity = json.loads((tmp_path / 'eval' / 'evaluation.json').read_text())['diversity']
    line = next(line for line in result.stdout.splitlines() if 'least diverse class' in line)
    print(line, diversity['per_class_standard_error'])
    assert diversity['pairs'] == 400 and '400 pairs each' in line and line.count('±') == 2
    assert set(diversity['per_class_standard_error']) == set(diversity['per_class'])
    assert all(0 < error < 0.05 for error in diversity['per_class_standard_error'].values())
    refused = run_script('evaluate.py', tmp_path / 'real.npz', '--pairs', '0', check=False)
    assert_one_line_error(refused, '--pairs must be at least 1')


def test_evaluate_a_sample_file_of_the_wrong_shape_is_one_line(tmp_path):
    np.savez(tmp_path / 'bad.npz', images=np.zeros((10, 3, 32, 32), np.float32))
    result = run_script('evaluate.py', tmp_path / 'bad.npz', '--out', tmp_path / 'eval', check=False)
    assert_one_line_error(result, 'bad.npz', '(N, 1, 28, 28)')


@pytest.fixture(scope='module')
def acgan_runs(tmp_path_factory):
    """Two-iteration AC-GAN runs in both frameworks with the same settings."""
    root = tmp_path_factory.mktemp('acgan')
    for framework in ('chainer', 'torch'):
        run_script('train.py', '--model', 'acgan', '--framework', framework, '--preset', 'quick', *TINY,
                   '--out', root / framework)
    return root


def test_evaluate_a_checkpoint_writes_every_figure(acgan_runs, tmp_path):
    run_script('evaluate.py', acgan_runs / 'torch' / 'snapshot_iter_2.pt', '--n', '100', '--neighbours', '50',
               '--out', tmp_path, '--no-progress')
    scores = json.loads((tmp_path / 'evaluation.json').read_text())
    assert scores['model'] == 'acgan' and scores['n_samples'] == 100 and scores['conditional']
    assert {'interpolation.png', 'class_swap.png', 'neighbours.png'} <= {p.name for p in tmp_path.iterdir()}


def test_report_on_both_frameworks_and_the_results_table(acgan_runs, tmp_path):
    out = tmp_path / 'acgan-report'  # where results.py keeps the acgan entry's report
    run_script('report.py', acgan_runs / 'chainer', acgan_runs / 'torch', '--n', '100', '--parity-steps', '2',
               '--out', out, '--no-progress')
    report = (out / 'report.md').read_text()
    for fragment in ('| classifier accuracy (requested class) |', 'ms/iteration', '| float64 |',
                     'samples_side_by_side.png'):
        assert fragment in report
    scores = json.loads((out / 'report.json').read_text())
    drift = scores['parity']['float64']['final_param_drift']
    print(f'report parity: float64 drift after 2 steps {drift:.2e}')
    assert drift < 1e-9
    for framework in ('chainer', 'torch'):  # finished runs where results.py keeps them are reused
        shutil.copytree(acgan_runs / framework, tmp_path / f'acgan-{framework}')
    table = run_script('results.py', '--only', 'acgan', '--out', tmp_path, '--n', '100').stdout
    for framework, title in (('chainer', 'Chainer'), ('torch', 'PyTorch')):
        scored = json.loads((tmp_path / f'acgan-{framework}' / 'evaluation-iter_2' / 'evaluation.json').read_text())
        accuracy = scored['predictions']['accuracy']
        row = next(line for line in table.splitlines() if line.startswith(f'| acgan | MNIST | quick | {title} | 2 |'))
        print(row)
        assert f'| {accuracy:.3f} (' in row and scored['classifier_sha256'][:16] in row
        assert f'`ganport train --model acgan --framework {framework} --preset quick --iterations 2`' in row
    assert '| real test images | MNIST |' in table


def test_results_scores_pytorch_at_the_shorter_chainer_length(tmp_path):
    from ganport.commands import results
    for iteration in (2, 4):
        (tmp_path / f'snapshot_iter_{iteration}.pt').write_bytes(b'')
    scored = results.scored_snapshots(str(tmp_path), 'torch', chainer_iterations=2)
    assert [os.path.basename(p) for p in scored] == ['snapshot_iter_2.pt', 'snapshot_iter_4.pt']
    assert len(results.scored_snapshots(str(tmp_path), 'torch', chainer_iterations=None)) == 1
    with pytest.raises(UserError, match='no snapshot at iteration 3'):
        results.scored_snapshots(str(tmp_path), 'torch', chainer_iterations=3)


def test_results_stops_runs_at_the_stated_lengths():
    from ganport.commands import results

    def length(framework, *argv):
        args = results.build_parser().parse_args(['--preset', 'source', *argv])
        results.check_arguments(args)
        arguments = results.train_arguments('dcgan', framework, args)
        return arguments[arguments.index('--iterations') + 1] if '--iterations' in arguments else None

    assert length('torch') is None and length('chainer') is None
    assert length('torch', '--iterations', '500') == '500' and length('chainer', '--iterations', '500') == '500'
    assert length('torch', '--iterations', '500', '--chainer-iterations', '100') == '500'
    assert length('chainer', '--iterations', '500', '--chainer-iterations', '100') == '100'
    for bad, message in ((['--iterations', '0'], '--iterations must be at least 1'),
                         (['--iterations', '100', '--chainer-iterations', '100'], 'must be below --iterations 100')):
        with pytest.raises(UserError, match=message):
            results.check_arguments(results.build_parser().parse_args(bad))


def test_report_refuses_runs_in_the_wrong_order(acgan_runs, tmp_path):
    result = run_script('report.py', acgan_runs / 'torch', acgan_runs / 'chainer', '--out', tmp_path, check=False)
    assert_one_line_error(result, 'expected chainer')
