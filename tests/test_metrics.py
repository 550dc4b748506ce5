"""Evaluation instruments (gan_common.metrics, gan_common.figures) on known
answers: real MNIST test images, uniform noise and one repeated image."""
import warnings

import numpy as np
import pytest
from PIL import Image

from gan_common import metrics
from gan_common.errors import UserError
from gan_common.figures import interpolation_figure, neighbours_figure
from gan_common.idx import load_idx_dataset


@pytest.fixture(scope='module')
def mnist():
    """Test and train images (N, 1, 28, 28) in [0, 1] with labels."""
    test_images, test_labels = load_idx_dataset('mnist', 'test')
    train_images, train_labels = load_idx_dataset('mnist', 'train')
    return {'test': (test_images[:, None] / 255.0, test_labels.astype(np.int64)),
            'train': (train_images[:, None] / 255.0, train_labels.astype(np.int64))}


@pytest.fixture(scope='module')
def noise():
    return np.random.default_rng(1).uniform(size=(2000, 1, 28, 28))


def one_hot(labels, n_classes=10):
    return np.eye(n_classes)[labels]


def rotation(dim, seed):
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))[0]


# ---------------------------------------------------------------- classifier score

def test_classifier_score_spans_1_to_10():
    spread = one_hot(np.arange(1000) % 10)
    same = one_hot(np.full(1000, 3))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the zeros in one-hot rows must not warn
        spread_score, same_score = metrics.classifier_score(spread), metrics.classifier_score(same)
        uniform_score = metrics.classifier_score(np.full((1000, 10), 0.1))
    print(f'classifier score: spread one-hot {spread_score}, identical one-hot {same_score}, '
          f'uniform probs {uniform_score}')
    assert spread_score[0] == pytest.approx(10.0, abs=1e-9) and spread_score[1] < 1e-9
    assert same_score == pytest.approx((1.0, 0.0), abs=1e-12)
    assert uniform_score == pytest.approx((1.0, 0.0), abs=1e-12)


def test_classifier_score_of_softened_predictions_lies_between():
    probs = 0.9 * one_hot(np.arange(1000) % 10) + 0.01
    mean, _ = metrics.classifier_score(probs, splits=5)
    print(f'classifier score of 0.91-confident spread predictions: {mean:.4f}')
    assert 1.0 < mean < 10.0


def test_classifier_score_rejects_bad_input():
    with pytest.raises(UserError, match='at least 10 samples'):
        metrics.classifier_score(one_hot(np.arange(5)))
    with pytest.raises(UserError, match='logits'):
        metrics.classifier_score(np.full((20, 10), 0.5))
    with pytest.raises(UserError, match='shape'):
        metrics.classifier_score(np.ones(20))


# ---------------------------------------------------------------- Fréchet distance

def test_frechet_distance_is_zero_for_identical_sets():
    feats = np.random.default_rng(0).standard_normal((500, 64)) @ rotation(64, 1)
    distance = metrics.frechet_distance(feats, feats.copy())
    print(f'Fréchet distance of a feature set with itself: {distance:.3e}')
    assert distance < 1e-8


def test_frechet_distance_matches_the_closed_form_exactly():
    mu_a, mu_b = np.array([0.0, 1.0, 2.0, -1.0]), np.array([1.0, 1.0, 0.0, 0.5])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5, 3.0]), np.array([2.0, 0.5, 0.5, 1.0])
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    # Rotating both covariances alike keeps them commuting, so the closed form still holds.
    q = rotation(4, 2)
    exact = metrics.frechet_distance_gaussians(mu_a, np.diag(sd_a ** 2), mu_b, np.diag(sd_b ** 2))
    rotated = metrics.frechet_distance_gaussians(q @ mu_a, q @ np.diag(sd_a ** 2) @ q.T,
                                                 q @ mu_b, q @ np.diag(sd_b ** 2) @ q.T)
    print(f'Fréchet distance closed form {expected}, diagonal {exact}, rotated {rotated}')
    assert exact == pytest.approx(expected, abs=1e-12)
    assert rotated == pytest.approx(expected, abs=1e-10)


def test_frechet_distance_from_samples_approaches_the_closed_form():
    rng = np.random.default_rng(3)
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 1.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([1.5, 1.0, 0.5])
    feats_a = mu_a + sd_a * rng.standard_normal((200_000, 3))
    feats_b = mu_b + sd_b * rng.standard_normal((200_000, 3))
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    distance = metrics.frechet_distance(feats_a, feats_b)
    print(f'Fréchet distance from 200,000 samples {distance:.4f}, closed form {expected:.4f}')
    assert distance == pytest.approx(expected, abs=0.03)


def test_frechet_distance_of_a_rank_deficient_set_is_finite():
    feats = np.random.default_rng(4).standard_normal((20, 64))  # fewer samples than dimensions
    same, shifted = metrics.frechet_distance(feats, feats), metrics.frechet_distance(feats, feats + 1.0)
    # The square roots of rounding-level eigenvalues (~1e-15) cost about 1e-6 here.
    print(f'rank-deficient Fréchet distance: with itself {same:.3e}, shifted by 1 in 64 dims {shifted!r}')
    assert same < 1e-4 and shifted == pytest.approx(64.0, abs=1e-4)


# ---------------------------------------------------------------- MS-SSIM

def test_ms_ssim_is_one_for_identical_images_and_symmetric(mnist, noise):
    real = mnist['test'][0][:200]
    others = mnist['test'][0][200:400]
    identical = metrics.ms_ssim(real, real.copy())
    print(f'MS-SSIM(x, x): min {identical.min()!r}, max {identical.max()!r}')
    assert np.abs(identical - 1.0).max() <= 1e-12
    assert np.array_equal(metrics.ms_ssim(real, others), metrics.ms_ssim(others, real))
    assert np.array_equal(metrics.ms_ssim(real, noise[:200]), metrics.ms_ssim(noise[:200], real))
    assert np.array_equal(metrics.ms_ssim(real[:, 0], others[:, 0]), metrics.ms_ssim(real, others))


def test_ms_ssim_is_lower_for_unrelated_images(mnist, noise):
    images, labels = mnist['test']
    rng = np.random.default_rng(5)
    first = rng.integers(0, len(images), 300)
    same_class = np.array([rng.choice(np.flatnonzero(labels == labels[i])) for i in first])
    real_vs_noise = metrics.ms_ssim(images[first], noise[:300]).mean()
    real_vs_real = metrics.ms_ssim(images[first], images[same_class]).mean()
    print(f'mean MS-SSIM: same-class digit pairs {real_vs_real:.4f}, digit vs noise {real_vs_noise:.4f}')
    assert 0.0 <= real_vs_noise < real_vs_real < 1.0


def test_ms_ssim_rejects_bad_shapes():
    with pytest.raises(UserError, match='same shape'):
        metrics.ms_ssim(np.zeros((2, 28, 28)), np.zeros((3, 28, 28)))
    with pytest.raises(UserError, match='larger than 24'):
        metrics.ms_ssim(np.zeros((2, 24, 24)), np.zeros((2, 24, 24)))
    with pytest.raises(UserError, match='grayscale'):
        metrics.ms_ssim(np.zeros((2, 3, 28, 28)), np.zeros((2, 3, 28, 28)))


def test_ms_ssim_settings_are_consistent():
    assert len(metrics.MS_SSIM_WEIGHTS) == metrics.MS_SSIM_SCALES
    assert metrics.MS_SSIM_WEIGHTS.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- diversity

def test_class_diversity_real_vs_repeated_vs_noise(mnist, noise):
    images, labels = mnist['test']
    real = metrics.class_diversity(images, labels, np.random.default_rng(6), pairs=200)
    train = metrics.class_diversity(*mnist['train'], np.random.default_rng(7), pairs=200)
    repeated = metrics.class_diversity(np.repeat(images[:1], 50, axis=0), np.arange(50) % 10, 8)
    noisy = metrics.class_diversity(noise, np.arange(len(noise)) % 10, 9, pairs=200)
    print('per-class MS-SSIM (200 pairs):')
    for name, values in (('real test', real), ('real train', train), ('repeated', repeated), ('noise', noisy)):
        print(f'  {name:10s}', ' '.join(f'{values[c]:.3f}' for c in range(10)))
    print(f'  fraction of classes more diverse than the least diverse real class: '
          f'real test {metrics.fraction_more_diverse(real, train)}, '
          f'repeated {metrics.fraction_more_diverse(repeated, train)}, '
          f'noise {metrics.fraction_more_diverse(noisy, train)}')
    assert sorted(real) == sorted(repeated) == list(range(10))
    assert all(value == 1.0 for value in repeated.values())
    assert all(noisy[c] < min(real.values()) and max(real.values()) < 1.0 for c in range(10))
    assert metrics.fraction_more_diverse(repeated, train) == 0.0
    assert metrics.fraction_more_diverse(noisy, train) == 1.0


def test_class_diversity_pairs_distinct_images_and_skips_singletons():
    images = np.stack([np.zeros((28, 28)), np.ones((28, 28)), np.full((28, 28), 0.5)])
    # Class 0 holds a black and a white image, so every pair is black vs white:
    # flat images have contrast-structure 1, and only the coarsest scale's
    # luminance c1 / (1 + c1) remains.
    diversity = metrics.class_diversity(images, [0, 0, 1], np.random.default_rng(0), pairs=50)
    c1 = (metrics.MS_SSIM_K1 * metrics.MS_SSIM_DATA_RANGE) ** 2
    expected = (c1 / (1 + c1)) ** metrics.MS_SSIM_WEIGHTS[-1]
    print(f'black-vs-white class diversity: {diversity}, expected {expected}')
    assert list(diversity) == [0] and diversity[0] == pytest.approx(expected, rel=1e-9)


def test_pair_scores_give_the_class_means_and_a_standard_error_that_shrinks_with_pairs(mnist):
    images, labels = mnist['test']
    ones = images[labels == 1]
    for pairs in (100, 2000):
        scores = metrics.class_pair_ms_ssim(ones, np.ones(len(ones)), np.random.default_rng(3), pairs)[1]
        means = [metrics.class_diversity(ones, np.ones(len(ones)), np.random.default_rng(seed), pairs)[1]
                 for seed in range(8)]
        error = metrics.standard_error(scores)
        print(f'real 1s, {pairs} pairs: MS-SSIM {scores.mean():.4f} ± {error:.4f} (standard error); '
              f'8 seeds: {np.min(means):.4f}-{np.max(means):.4f}, sd {np.std(means, ddof=1):.4f}')
        assert scores.shape == (pairs,)
        assert metrics.class_diversity(ones, np.ones(len(ones)), np.random.default_rng(3), pairs)[1] == scores.mean()
        # The formula's error is the spread the estimate shows across seeds.
        assert 0.5 * error < np.std(means, ddof=1) < 2.0 * error
    assert error < 0.01
    # The paper's test as evaluate.py runs it on 1,000 images: about 100 1s, 100 pairs.
    subsets = [metrics.class_diversity(ones[np.random.default_rng(seed).choice(len(ones), 100, replace=False)],
                                       np.ones(100), np.random.default_rng(seed), 100)[1] for seed in range(30)]
    print(f'100 real 1s, 100 pairs, 30 seeds: {np.mean(subsets):.3f} ± {np.std(subsets):.3f} '
          f'({np.min(subsets):.3f}-{np.max(subsets):.3f})')
    assert np.std(subsets) > error
    assert metrics.standard_error([0.5]) == 0.0
    assert metrics.standard_error([0.0, 1.0]) == pytest.approx(0.5)


def test_fraction_more_diverse_uses_the_real_maximum():
    assert metrics.fraction_more_diverse([0.1, 0.3, 0.5, 0.6], [0.2, 0.5]) == 0.5
    assert metrics.fraction_more_diverse({0: 0.1, 1: 0.4}, {0: 0.2, 1: 0.5}) == 1.0


# ---------------------------------------------------------------- predictions

def test_prediction_summary_flags_a_collapsed_generator():
    collapsed = metrics.prediction_summary(one_hot(np.full(500, 7)), requested=np.arange(500) % 10)
    print(f'collapsed: {collapsed}')
    assert collapsed['covered'] == 1 and collapsed['histogram'][7] == 500
    assert collapsed['accuracy'] == pytest.approx(0.1)
    assert collapsed['per_class_accuracy'] == [0.0] * 7 + [1.0] + [0.0] * 2


def test_prediction_summary_coverage_threshold_and_unrequested_classes():
    predicted = np.array([0] * 95 + [1] * 4 + [2])  # class 2 is 1% of samples: covered
    summary = metrics.prediction_summary(one_hot(predicted), requested=np.where(predicted == 1, 0, predicted))
    print(f'coverage summary: {summary}')
    assert summary['covered'] == 3
    assert summary['accuracy'] == pytest.approx(0.96)
    assert summary['per_class_accuracy'][:3] == [pytest.approx(95 / 99), None, 1.0]
    assert summary['per_class_accuracy'][3:] == [None] * 7
    assert 'accuracy' not in metrics.prediction_summary(one_hot(predicted))
    assert metrics.prediction_summary(one_hot(predicted), requested=0)['accuracy'] == 0.95


# ---------------------------------------------------------------- memorisation

def test_nearest_neighbours_flag_copies_and_separate_noise(mnist, noise):
    train = mnist['train'][0]
    test = mnist['test'][0]
    copies = train[np.random.default_rng(10).choice(len(train), 200, replace=False)]
    _, reference = metrics.nearest_neighbours(test[:500], train)
    copy_index, copy_dists = metrics.nearest_neighbours(copies, train)
    _, noise_dists = metrics.nearest_neighbours(noise[:200], train)
    _, held_out = metrics.nearest_neighbours(test[500:1000], train)
    summaries = {name: metrics.memorisation_summary(dists, reference)
                 for name, dists in (('real test', held_out), ('copies', copy_dists), ('noise', noise_dists))}
    for name, summary in summaries.items():
        print(f'NN distance {name:9s}: mean {summary["mean"]:.3f}, median {summary["median"]:.3f}, '
              f'p5 {summary["p5"]:.3f}, threshold {summary["threshold"]:.3f}, '
              f'fraction below {summary["fraction_below"]:.3f}')
    assert np.all(copy_dists == 0.0) and np.array_equal(train[copy_index], copies)
    assert summaries['copies']['fraction_below'] == 1.0
    assert summaries['noise']['fraction_below'] == 0.0
    assert summaries['real test']['fraction_below'] < 0.15
    assert noise_dists.min() > reference.max()
    assert np.median(noise_dists) > 2 * np.median(reference)


def test_nearest_neighbours_chunks_agree_with_brute_force(noise):
    rng = np.random.default_rng(11)
    train = rng.uniform(size=(300, 1, 28, 28)).astype(np.float32)
    samples = rng.uniform(size=(23, 1, 28, 28))
    brute = np.sqrt(((samples.reshape(23, 1, -1) - train.reshape(1, 300, -1).astype(np.float64)) ** 2).sum(-1))
    indices, dists = metrics.nearest_neighbours(samples, train, batch=5)
    assert np.array_equal(indices, brute.argmin(axis=1))
    np.testing.assert_allclose(dists, brute.min(axis=1), rtol=1e-12)
    assert np.array_equal(metrics.nearest_neighbours(samples, train, batch=1000)[0], indices)


def test_memorisation_summary_threshold():
    summary = metrics.memorisation_summary([0.0, 1.0, 5.0, 10.0], np.arange(1.0, 101.0))
    assert summary['threshold'] == pytest.approx(5.95)
    assert summary['fraction_below'] == 0.75


# ---------------------------------------------------------------- resolution

def test_downsample_upsample_averages_blocks(mnist):
    images = mnist['test'][0][:50].astype(np.float32)
    for size in (14, 7):
        blurred = metrics.downsample_upsample(images, size)
        factor = 28 // size
        assert blurred.shape == images.shape and blurred.dtype == np.float32
        np.testing.assert_allclose(blurred.mean(axis=(2, 3)), images.mean(axis=(2, 3)), atol=1e-6)
        np.testing.assert_allclose(metrics.downsample_upsample(blurred, size), blurred, atol=1e-6)
        block = images[:, 0, :factor, :factor].mean(axis=(1, 2))
        np.testing.assert_allclose(blurred[:, 0, :factor, :factor], np.broadcast_to(block[:, None, None],
                                                                                    (50, factor, factor)), atol=1e-6)
        print(f'downsample to {size}: mean |change| {np.abs(blurred - images).mean():.4f}')
    with pytest.raises(UserError, match='must divide'):
        metrics.downsample_upsample(images, 10)


# ---------------------------------------------------------------- figures

def test_interpolation_figure_draws_rows_with_separators(tmp_path, mnist):
    images = mnist['test'][0]
    path = interpolation_figure([images[:8], images[8:16, 0], images[16:20]], tmp_path / 'interp.png',
                                gap=1, scale=1)
    picture = np.asarray(Image.open(path))
    assert picture.shape == (3 * 29 + 1, 8 * 29 + 1)
    assert np.all(picture[0] == 128) and np.all(picture[:, 0] == 128)
    assert np.array_equal(picture[1:29, 1:29], np.round(images[0, 0] * 255).astype(np.uint8))
    assert np.all(picture[59:87, 117:] == 128)  # the short third row ends in gray
    assert [p.name for p in tmp_path.iterdir()] == ['interp.png']


def test_neighbours_figure_puts_each_neighbour_beside_its_sample(tmp_path, mnist):
    samples, neighbours = mnist['test'][0][:10], mnist['train'][0][:10]
    path = neighbours_figure(samples, neighbours, tmp_path / 'nn.png', pairs_per_row=4, gap=1, pair_gap=3,
                             scale=2)
    picture = np.asarray(Image.open(path))[::2, ::2]
    pair_width = 28 + 1 + 28
    assert picture.shape == (3 * 31 + 3, 4 * (pair_width + 3) + 3)
    expected = np.round(np.concatenate([samples[5, 0], np.full((28, 1), 128 / 255), neighbours[5, 0]], axis=1)
                        * 255).astype(np.uint8)
    top, left = 3 + 31, 3 + (pair_width + 3)
    assert np.array_equal(picture[top:top + 28, left:left + pair_width], expected)
    with pytest.raises(UserError, match='one neighbour per sample'):
        neighbours_figure(samples, neighbours[:3], tmp_path / 'bad.png')
