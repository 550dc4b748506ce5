"""Instruments for judging generated 28x28 grayscale images (floats in [0, 1]).

A separately trained classifier supplies class probabilities (N, 10) and
penultimate features (N, D) as NumPy arrays; everything here is NumPy only.

- ``classifier_score``: exp(E_x KL(p(y|x) || p(y))) over splits (the
  Inception-Score formula, computed with our own MNIST classifier).
- ``frechet_distance``: Fréchet distance in classifier features.
- ``ms_ssim`` and ``class_diversity``: multi-scale SSIM between image pairs
  and per-class sample diversity, as in the AC-GAN paper.
- ``prediction_summary``: which classes the classifier sees, and whether the
  requested class came out.
- ``nearest_neighbours`` and ``memorisation_summary``: pixel-space distance
  to the closest training image, judged against real test images.
- ``downsample_upsample``: the blurred copies used to ask whether the
  classifier can still tell samples apart at lower resolution.
"""
import numpy as np

from gan_common.errors import UserError

# MS-SSIM settings for 28x28 images (data range 1). The standard 11x11 window
# and 5 scales need images of at least 161 pixels a side; here a 7x7 Gaussian
# window (sigma 1.5, the standard sigma) over 3 scales (28, 14, 7 pixels, each
# halved by 2x2 average pooling) fits, because valid filtering at the coarsest
# scale needs (7 - 1) * 2 ** (3 - 1) = 24 < 28 pixels. The weights are the
# first three of Wang et al.'s five (0.0448, 0.2856, 0.3001), renormalised to
# sum to 1. As in Wang et al., luminance enters at the coarsest scale only.
# A scale's mean contrast-structure term below 0 is clipped to 0 before the
# power (a negative base has no real fractional power), so images that
# anti-correlate at some scale score 0.
MS_SSIM_WINDOW = 7
MS_SSIM_SIGMA = 1.5
MS_SSIM_SCALES = 3
MS_SSIM_WEIGHTS = np.array([0.0448, 0.2856, 0.3001]) / (0.0448 + 0.2856 + 0.3001)
MS_SSIM_K1, MS_SSIM_K2 = 0.01, 0.03
MS_SSIM_DATA_RANGE = 1.0

# A class counts as covered when at least this fraction of samples is predicted as it.
COVERAGE_FRACTION = 0.01

# Memorisation threshold: this percentile of real test images' distances to the training set.
REFERENCE_PERCENTILE = 5.0


# ---------------------------------------------------------------- classifier score

def classifier_score(probs, splits=10):
    """Return (mean, std) over ``splits`` equal splits of the classifier score
    exp(E_x[KL(p(y|x) || p(y))]) of class probabilities ``probs`` (N, K).

    Each split has N // splits samples (the remainder is dropped); p(y) is the
    split's mean prediction; terms with p(y|x) = 0 contribute 0. The score runs
    from 1 (every sample gets the same prediction) to K (confident predictions
    spread evenly over the K classes)."""
    probs = _probabilities(probs)
    size = len(probs) // splits if splits >= 1 else 0
    if size < 1:
        raise UserError(f'classifier score needs at least {max(splits, 1)} samples and splits >= 1 '
                        f'(got {len(probs)} samples, {splits} splits)')
    scores = [_split_score(probs[i * size:(i + 1) * size]) for i in range(splits)]
    return float(np.mean(scores)), float(np.std(scores))


def _split_score(probs):
    marginal = probs.mean(axis=0, keepdims=True)
    positive = probs > 0
    # Where p(y|x) > 0 the marginal is > 0 too, so both logs are finite there.
    log_ratio = np.log(np.where(positive, probs, 1.0)) - np.log(np.where(positive, marginal, 1.0))
    kl = np.sum(np.where(positive, probs * log_ratio, 0.0), axis=1)
    return float(np.exp(kl.mean()))


def _probabilities(probs):
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 1:
        raise UserError(f'class probabilities must have shape (N, classes), got {probs.shape}')
    if not np.all(np.isfinite(probs)) or probs.min(initial=0.0) < 0:
        raise UserError('class probabilities must be finite and non-negative; pass softmax outputs')
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise UserError('class probabilities must sum to 1 per sample; pass softmax outputs, not logits')
    return probs


# ---------------------------------------------------------------- Fréchet distance

def frechet_distance(feats_a, feats_b):
    """Return the Fréchet distance in classifier features between Gaussians
    fitted (mean, unbiased covariance, float64) to ``feats_a`` (N, D) and
    ``feats_b`` (M, D)."""
    feats_a, feats_b = _features(feats_a), _features(feats_b)
    if feats_a.shape[1] != feats_b.shape[1]:
        raise UserError(f'feature sets differ in width: {feats_a.shape[1]} vs {feats_b.shape[1]}')
    return frechet_distance_gaussians(feats_a.mean(axis=0), np.cov(feats_a, rowvar=False),
                                      feats_b.mean(axis=0), np.cov(feats_b, rowvar=False))


def frechet_distance_gaussians(mu_a, cov_a, mu_b, cov_b):
    """Return ||mu_a - mu_b||^2 + Tr(cov_a + cov_b - 2 (cov_a cov_b)^(1/2)),
    the Fréchet distance between two Gaussians, clipped at 0 against rounding.

    Tr((cov_a cov_b)^(1/2)) = Tr((S cov_b S)^(1/2)) with S = cov_a^(1/2): the
    latter matrix is symmetric PSD, so its trace root is the sum of the square
    roots of its (clipped) eigenvalues; no general matrix square root needed."""
    mu_a, mu_b = np.atleast_1d(np.asarray(mu_a, np.float64)), np.atleast_1d(np.asarray(mu_b, np.float64))
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, np.float64)), np.atleast_2d(np.asarray(cov_b, np.float64))
    root_a = sqrtm_psd(cov_a)
    product = root_a @ cov_b @ root_a
    eigenvalues = np.linalg.eigvalsh((product + product.T) / 2)
    trace_root = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


def sqrtm_psd(matrix):
    """Return the symmetric square root of a symmetric PSD matrix (negative
    eigenvalues from rounding are clipped to 0)."""
    matrix = np.asarray(matrix, np.float64)
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def _features(feats):
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2 or len(feats) < 2:
        raise UserError(f'features must have shape (N, D) with N >= 2, got {feats.shape}')
    if not np.all(np.isfinite(feats)):
        raise UserError('features contain NaN or infinity; check the classifier outputs')
    return feats


# ---------------------------------------------------------------- MS-SSIM

def ms_ssim(a, b):
    """Return the (N,) multi-scale SSIM of image pairs ``a[i]``, ``b[i]``
    ((N, H, W) or (N, 1, H, W), data range 1), with the settings in the
    ``MS_SSIM_*`` constants: 1 for identical images, symmetric in a and b."""
    a, b = _grayscale_batch(a), _grayscale_batch(b)
    if a.shape != b.shape:
        raise UserError(f'MS-SSIM needs image batches of the same shape, got {a.shape} and {b.shape}')
    smallest = (MS_SSIM_WINDOW - 1) * 2 ** (MS_SSIM_SCALES - 1)
    if min(a.shape[1:]) <= smallest:
        raise UserError(f'MS-SSIM needs images larger than {smallest} pixels a side, got {a.shape[1:]}')
    window = _gaussian_window(MS_SSIM_WINDOW, MS_SSIM_SIGMA)
    result = np.ones(len(a))
    for scale, weight in enumerate(MS_SSIM_WEIGHTS):
        luminance, contrast_structure = _ssim_terms(a, b, window)
        term = contrast_structure
        if scale == MS_SSIM_SCALES - 1:
            term = luminance * contrast_structure
        else:
            a, b = _average_pool(a), _average_pool(b)
        result *= np.clip(term.mean(axis=(1, 2)), 0.0, None) ** weight
    return result


def _ssim_terms(a, b, window):
    """Luminance and contrast-structure maps (valid filtering) of two batches."""
    c1 = (MS_SSIM_K1 * MS_SSIM_DATA_RANGE) ** 2
    c2 = (MS_SSIM_K2 * MS_SSIM_DATA_RANGE) ** 2
    mean_a, mean_b = _filter(a, window), _filter(b, window)
    var_a = _filter(a * a, window) - mean_a * mean_a
    var_b = _filter(b * b, window) - mean_b * mean_b
    covariance = _filter(a * b, window) - mean_a * mean_b
    luminance = (2 * mean_a * mean_b + c1) / (mean_a * mean_a + mean_b * mean_b + c1)
    contrast_structure = (2 * covariance + c2) / (var_a + var_b + c2)
    return luminance, contrast_structure


def _gaussian_window(size, sigma):
    offsets = np.arange(size) - (size - 1) / 2
    weights = np.exp(-offsets ** 2 / (2 * sigma ** 2))
    return weights / weights.sum()


def _filter(images, window):
    """Separable valid filtering of (N, H, W) with the 1-D ``window``."""
    size = len(window)
    rows = sum(w * images[:, k:images.shape[1] - size + 1 + k, :] for k, w in enumerate(window))
    return sum(w * rows[:, :, k:rows.shape[2] - size + 1 + k] for k, w in enumerate(window))


def _average_pool(images):
    """2x2 average pooling of (N, H, W); an odd last row or column is dropped."""
    n, h, w = images.shape
    images = images[:, :h // 2 * 2, :w // 2 * 2]
    return images.reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def _grayscale_batch(images):
    """(N, H, W) float64 from (N, H, W) or (N, 1, H, W)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise UserError(f'expected grayscale images (N, H, W) or (N, 1, H, W), got shape {images.shape}')
    return images


# ---------------------------------------------------------------- diversity

def class_diversity(images, labels, rng, pairs=100):
    """Return {class: mean MS-SSIM over ``pairs`` random pairs of distinct
    images of that class} (lower = more diverse; the AC-GAN paper's measure,
    with its 100 pairs by default).

    Classes with fewer than two images are left out. ``rng`` is a NumPy
    ``Generator``, a seed, or a ``gan_common.streams.RandomStream``."""
    return {label: float(scores.mean()) for label, scores in class_pair_ms_ssim(images, labels, rng, pairs).items()}


def class_pair_ms_ssim(images, labels, rng, pairs=100):
    """Return {class: MS-SSIM of each of ``pairs`` random pairs of distinct
    images of that class}, the draws behind ``class_diversity``."""
    images, labels = _grayscale_batch(images), np.asarray(labels).reshape(-1)
    if len(images) != len(labels):
        raise UserError(f'{len(images)} images but {len(labels)} labels; pass one label per image')
    if pairs < 1:
        raise UserError(f'pairs must be at least 1, got {pairs}')
    generator = _generator(rng)
    scores = {}
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            continue
        first = generator.integers(0, len(members), pairs)
        # Draw the second index from the other n - 1 members, so the two differ.
        second = generator.integers(0, len(members) - 1, pairs)
        second += second >= first
        scores[int(label)] = ms_ssim(images[members[first]], images[members[second]])
    return scores


def standard_error(scores):
    """Standard error of the mean of ``scores`` (0 for a single score)."""
    scores = np.asarray(scores, np.float64)
    return float(scores.std(ddof=1) / np.sqrt(scores.size)) if scores.size > 1 else 0.0


def fraction_more_diverse(generated, real):
    """Return the fraction of generated classes whose MS-SSIM is below the
    least diverse real class's (the real maximum), the AC-GAN paper's test.

    ``generated`` and ``real`` are per-class values: dicts (as from
    ``class_diversity``) or sequences."""
    generated = np.asarray(list(generated.values()) if isinstance(generated, dict) else generated, np.float64)
    real = np.asarray(list(real.values()) if isinstance(real, dict) else real, np.float64)
    if generated.size == 0 or real.size == 0:
        raise UserError('need per-class MS-SSIM values for both generated and real images')
    return float(np.mean(generated < real.max()))


def _generator(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if hasattr(rng, 'generator'):
        return rng.generator
    return np.random.default_rng(rng)


# ---------------------------------------------------------------- predictions

def prediction_summary(probs, requested=None, n_classes=10):
    """Return a JSON-ready dict about the classifier's predictions (argmax):

    ``histogram`` (count per class), ``covered`` (number of classes predicted
    for at least ``COVERAGE_FRACTION`` of the samples) and, given the
    ``requested`` labels (one per sample, or one for all), ``accuracy``
    (predicted == requested) and ``per_class_accuracy`` (None for classes
    never requested)."""
    probs = _probabilities(probs)
    if probs.shape[1] != n_classes or len(probs) == 0:
        raise UserError(f'expected probabilities of shape (N >= 1, {n_classes}), got {probs.shape}')
    predicted = probs.argmax(axis=1)
    histogram = np.bincount(predicted, minlength=n_classes)
    summary = {'samples': len(probs), 'histogram': histogram.tolist(),
               'covered': int(np.sum(histogram >= COVERAGE_FRACTION * len(probs)))}
    if requested is not None:
        requested = np.asarray(requested)
        requested = np.full(len(probs), requested) if requested.ndim == 0 else requested.reshape(-1)
        if len(requested) != len(probs):
            raise UserError(f'{len(requested)} requested labels for {len(probs)} samples; pass one per sample')
        correct = predicted == requested
        summary['accuracy'] = float(correct.mean())
        summary['per_class_accuracy'] = [float(correct[requested == c].mean()) if np.any(requested == c) else None
                                         for c in range(n_classes)]
    return summary


# ---------------------------------------------------------------- memorisation

def nearest_neighbours(samples, train, batch=256):
    """Return (indices (N,), L2 distances (N,)) of each sample's closest
    training image in pixel space.

    The search runs ``batch`` samples at a time in float32 (|s|^2 - 2 s.t +
    |t|^2, one (batch, len(train)) block at a time); the reported distance to
    the chosen neighbour is then recomputed directly in float64, so an exact
    copy of a training image has distance exactly 0."""
    samples, train = _flat(samples), _flat(train)
    if samples.shape[1] != train.shape[1] or len(train) == 0:
        raise UserError(f'samples ({samples.shape[1]} pixels) and training images ({train.shape[1]} pixels, '
                        f'{len(train)} images) must be non-empty images of the same size')
    if batch < 1:
        raise UserError(f'batch must be at least 1, got {batch}')
    train32 = train.astype(np.float32, copy=False)
    train_norms = np.einsum('ij,ij->i', train32, train32)
    indices = np.empty(len(samples), dtype=np.int64)
    for start in range(0, len(samples), batch):
        chunk = samples[start:start + batch].astype(np.float32)
        # |s|^2 is the same for a whole row, so it does not change the argmin.
        indices[start:start + batch] = np.argmin(train_norms[None, :] - 2 * (chunk @ train32.T), axis=1)
    differences = samples.astype(np.float64) - train[indices].astype(np.float64)
    return indices, np.sqrt(np.einsum('ij,ij->i', differences, differences))


def memorisation_summary(sample_dists, reference_dists):
    """Return a JSON-ready dict of nearest-training-image distances: mean,
    median and 5th percentile of the samples' and of the reference (real
    test images') distances, the ``threshold`` (the reference's
    ``REFERENCE_PERCENTILE``th percentile) and ``fraction_below``: the
    fraction of samples strictly closer to the training set than that
    (about 0.05 for real test images, 1.0 for copies of training images)."""
    sample_dists = np.asarray(sample_dists, np.float64).reshape(-1)
    reference_dists = np.asarray(reference_dists, np.float64).reshape(-1)
    if sample_dists.size == 0 or reference_dists.size == 0:
        raise UserError('need nearest-neighbour distances for both samples and reference images')
    threshold = float(np.percentile(reference_dists, REFERENCE_PERCENTILE))
    return {'mean': float(sample_dists.mean()), 'median': float(np.median(sample_dists)),
            'p5': float(np.percentile(sample_dists, 5)),
            'reference_mean': float(reference_dists.mean()), 'reference_median': float(np.median(reference_dists)),
            'reference_p5': float(np.percentile(reference_dists, 5)),
            'threshold': threshold, 'fraction_below': float(np.mean(sample_dists < threshold))}


def _flat(images):
    images = np.asarray(images)
    if images.ndim < 2:
        raise UserError(f'expected a batch of images, got shape {images.shape}')
    return images.reshape(len(images), -1)


# ---------------------------------------------------------------- resolution

def downsample_upsample(images, size):
    """Return ``images`` (N, H, W) or (N, 1, H, W) box-averaged down to
    ``size`` x ``size`` and blown back up to H x W by nearest-neighbour
    repetition (so each block shows its mean): same shape, and same dtype
    when floating (float64 otherwise)."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[1] != 1):
        raise UserError(f'expected grayscale images (N, H, W) or (N, 1, H, W), got shape {images.shape}')
    height, width = images.shape[-2:]
    if size < 1 or height % size or width % size:
        raise UserError(f'size {size} must divide the image size {height}x{width} (e.g. 14 or 7 for 28x28)')
    fy, fx = height // size, width // size
    blocks = images.reshape(*images.shape[:-2], size, fy, size, fx).astype(np.float64).mean(axis=(-3, -1))
    dtype = images.dtype if np.issubdtype(images.dtype, np.floating) else np.float64
    return np.repeat(np.repeat(blocks, fy, axis=-2), fx, axis=-1).astype(dtype)
