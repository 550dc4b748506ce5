"""evaluate.py on a run directory: every snapshot scored on the same noise
(and, for a conditional model, the same classes), along_run.json and
along_run.png, and one-line refusals."""
import json
import shutil

import pytest

from bridge.along_run import run_snapshots
from gan_common.errors import UserError
from gan_common.metrics import COVERAGE_FRACTION
from tests.helpers import assert_one_line_error, run_script

N = 100


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """A four-iteration vanilla GAN run with snapshots at iterations 2 and 4,
    and a copy of the first as iteration 6 (the same generator)."""
    run = tmp_path_factory.mktemp('gan') / 'run'
    run_script('train.py', '--model', 'gan', '--framework', 'torch', '--preset', 'post', '--batch-size', '8',
               '--iterations', '4', '--snapshot-every', '2', '--sample-every', '4', '--log-every', '2',
               '--threads', '1', '--no-progress', '--out', run)
    shutil.copy(run / 'snapshot_iter_2.pt', run / 'snapshot_iter_6.pt')
    return run


@pytest.fixture(scope='module')
def along_run(tiny_run):
    result = run_script('evaluate.py', tiny_run, '--n', N, '--no-progress')
    print(result.stdout)
    return json.loads((tiny_run / 'along_run.json').read_text()), result.stdout


def test_every_snapshot_is_scored_in_order(along_run, tiny_run):
    scores, stdout = along_run
    assert [e['iteration'] for e in scores['snapshots']] == [2, 4, 6]
    assert scores['model'] == 'gan' and scores['framework'] == 'torch' and scores['preset'] == 'post'
    # 60,000 images in batches of 8: 7,500 steps an epoch
    assert scores['steps_per_epoch'] == 7500 and scores['snapshots'][1]['epoch'] == pytest.approx(4 / 7500)
    assert (tiny_run / 'along_run.png').stat().st_size > 10_000
    assert len([line for line in stdout.splitlines() if line.split()[:1] in (['2'], ['4'], ['6'])]) == 3


def test_the_scores_agree_with_the_histogram(along_run):
    scores, _ = along_run
    for entry in scores['snapshots'] + [scores['real']]:
        histogram = entry['histogram']
        assert sum(histogram) == entry['n_samples'] == N
        assert entry['most_common_share'] == max(histogram) / N
        assert entry['covered'] == sum(count >= COVERAGE_FRACTION * N for count in histogram)
        assert 1.0 <= entry['classifier_score'][0] <= 10.0
        assert set(entry['diversity_per_class']) == {str(c) for c, count in enumerate(histogram) if count >= 2}


def flat_numbers(value, prefix=''):
    """{path: number} of a nested JSON value."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat_numbers(item, f'{prefix}/{key}').items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flat_numbers(item, f'{prefix}/{i}').items()}
    return {prefix: value}


def test_the_same_generator_on_the_same_noise_scores_the_same(along_run):
    first, _, copy = along_run[0]['snapshots']
    first, copy = ({k: v for k, v in flat_numbers(e).items() if k not in ('/iteration', '/epoch')}
                   for e in (first, copy))
    assert first.keys() == copy.keys()
    # equal up to float32 summation order: PyTorch's CPU kernels may split a
    # reduction differently from one call to the next on a busy machine
    worst = max(abs(first[k] - copy[k]) / max(abs(first[k]), 1.0) for k in first)
    print(f'the same snapshot scored twice: largest difference {worst:.1e} (relative above 1)')
    assert worst <= 1e-5


def test_real_images_set_the_scale(along_run):
    scores, _ = along_run
    real, untrained = scores['real'], scores['snapshots'][0]
    print(f'real: covered {real["covered"]}, score {real["classifier_score"][0]:.2f}, '
          f'MS-SSIM {real["diversity_mean"]:.3f}; two steps: covered {untrained["covered"]}, '
          f'score {untrained["classifier_score"][0]:.2f}, MS-SSIM {untrained["diversity_mean"]:.3f}')
    assert real['covered'] == 10 and real['most_common_share'] < 0.25
    assert real['classifier_score'][0] > 2 * untrained['classifier_score'][0]
    assert real['diversity_max'] == max(real['diversity_per_class'].values()) >= real['diversity_mean']
    assert untrained['diversity_mean'] > real['diversity_max']  # two steps in: near-identical blobs


@pytest.fixture(scope='module')
def conditional_along_run(tmp_path_factory):
    """A two-iteration AC-GAN run, snapshots at 1 and 2, followed with 100 samples."""
    run = tmp_path_factory.mktemp('acgan') / 'run'
    run_script('train.py', '--model', 'acgan', '--framework', 'torch', '--batch-size', '8', '--iterations', '2',
               '--snapshot-every', '1', '--sample-every', '2', '--log-every', '1', '--threads', '1',
               '--no-progress', '--out', run)
    result = run_script('evaluate.py', run, '--n', N, '--no-progress')
    print(result.stdout)
    return json.loads((run / 'along_run.json').read_text()), result.stdout, run


def test_a_conditional_run_is_scored_on_the_classes_it_was_asked_for(conditional_along_run):
    scores, stdout, run = conditional_along_run
    assert scores['model'] == 'acgan' and scores['conditional']
    assert [e['iteration'] for e in scores['snapshots']] == [1, 2]
    for entry in scores['snapshots'] + [scores['real']]:
        print(f'accuracy {entry["accuracy"]:.3f}, lowest class {entry["lowest_class_accuracy"]:.2f}')
        assert 0.0 <= entry['lowest_class_accuracy'] <= entry['accuracy'] <= 1.0
        assert entry['diversity_max'] == max(entry['diversity_per_class'].values())
    # classes 0-9 in turn: every class requested ten times, so every class has an MS-SSIM,
    # whatever the untrained generator's images look like
    assert all(set(e['diversity_per_class']) == {str(c) for c in range(10)} for e in scores['snapshots'])
    assert scores['real']['accuracy'] > 0.9 > scores['snapshots'][0]['accuracy']
    assert 'accuracy' in stdout.splitlines()[0] and len(stdout.splitlines()) >= 4
    assert (run / 'along_run.png').stat().st_size > 10_000


def test_every_kth_snapshot_and_always_the_newest(tmp_path):
    for iteration in (2, 4, 6, 8):
        (tmp_path / f'snapshot_iter_{iteration}.pt').touch()
    assert [i for i, _ in run_snapshots(str(tmp_path), 2)] == [2, 6, 8]
    assert [i for i, _ in run_snapshots(str(tmp_path), 3)] == [2, 8]
    assert [i for i, _ in run_snapshots(str(tmp_path), 1)] == [2, 4, 6, 8]
    with pytest.raises(UserError, match='--every must be at least 1'):
        run_snapshots(str(tmp_path), 0)


def test_snapshots_of_both_frameworks_are_refused(tmp_path):
    (tmp_path / 'snapshot_iter_2.pt').touch()
    (tmp_path / 'snapshot_iter_2.npz').touch()
    with pytest.raises(UserError, match='both frameworks'):
        run_snapshots(str(tmp_path))


def test_a_folder_without_snapshots_is_one_line(tmp_path):
    result = run_script('evaluate.py', tmp_path, '--no-progress', check=False)
    assert_one_line_error(result, 'no snapshot_iter_', '--snapshot-every')
    assert not (tmp_path / 'along_run.json').exists()
