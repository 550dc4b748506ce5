"""What a generator makes, measured with the project's classifier
(``torch_impl.classifier``) and the metrics of ``gan_common.metrics``, each
next to the same number for real test images, which sets its scale.

Conditional samples are scored against the class they were drawn for;
unconditional ones are grouped by the class the classifier gives them."""
import numpy as np

from gan_common import figures, metrics
from gan_common.datasets import load_images
from torch_impl import classifier

DOWNSAMPLE_SIZES = (14, 7)
NEIGHBOUR_FIGURE_PAIRS = 16


class Reference:
    """One dataset's real images measured once: the test set (the reference
    of every score) and the training set (for nearest neighbours)."""

    def __init__(self, dataset, data_dir=None, progress=True):
        self.dataset = dataset
        self.model = classifier.load(dataset, data_dir, progress)
        self.classifier_sha256 = classifier.sha256_of(classifier.weights_path(dataset))
        self.test_images, self.test_labels = load_images(dataset, data_dir, ['test'], scaling='unit')
        self.train_images, _ = load_images(dataset, data_dir, ['train'], scaling='unit')
        self.test_probs, self.test_features = classifier.run(self.model, self.test_images)

    def real_subset(self, n, rng):
        """``n`` random test images and their labels (a real set the size of the samples)."""
        index = rng.choice(len(self.test_images), size=min(n, len(self.test_images)), replace=False)
        return self.test_images[index], self.test_labels[index]


def evaluate(images, requested, reference, seed=0, neighbours=500, pairs=100):
    """Every score of ``images`` (N, 1, 28, 28) in [0, 1] (``requested``: the
    classes they were drawn for, or None), with real test images' values;
    ``pairs``: random same-class pairs behind each class's MS-SSIM."""
    rng = np.random.default_rng(seed)
    probs, features = classifier.run(reference.model, images)
    real_images, real_labels = reference.real_subset(len(images), rng)
    real_probs, real_features = classifier.run(reference.model, real_images)
    groups = requested if requested is not None else probs.argmax(1)
    return {
        'n_samples': len(images),
        'conditional': requested is not None,
        'predictions': metrics.prediction_summary(probs, requested),
        'real_predictions': metrics.prediction_summary(real_probs, real_labels),
        'classifier_score': metrics.classifier_score(probs),
        'real_classifier_score': metrics.classifier_score(real_probs),
        'frechet_distance': metrics.frechet_distance(features, reference.test_features),
        'real_frechet_distance': metrics.frechet_distance(real_features, reference.test_features),
        'diversity': diversity(images, groups, real_images, real_labels, rng, pairs),
        'downsampled_accuracy': downsampled_accuracy(reference.model, images, probs, groups),
        'real_downsampled_accuracy': downsampled_accuracy(reference.model, real_images, real_probs, real_labels),
        'nearest_neighbour': nearest_neighbour_check(images, real_images, reference, rng, neighbours),
    }


def snapshot_scores(images, reference, seed=0, pairs=100, requested=None):
    """The scores followed along a run: the classifier's histogram and classes
    covered, the share of the most common class, classifier score, Fréchet
    distance and per-class MS-SSIM. Unconditional ``images`` are grouped by
    the class the classifier reads; conditional ones by ``requested`` (the
    classes they were drawn for), and add the accuracy on those classes."""
    probs, features = classifier.run(reference.model, images)
    groups = probs.argmax(1) if requested is None else requested
    return _along_run_entry(images, probs, features, groups, requested, reference, seed, pairs)


def real_snapshot_scores(reference, n, seed=0, pairs=100):
    """``snapshot_scores``'s numbers for ``n`` real test images (their true
    labels group the MS-SSIM and set the accuracy), the scale of every curve
    along a run."""
    images, labels = reference.real_subset(n, np.random.default_rng(seed))
    probs, features = classifier.run(reference.model, images)
    return _along_run_entry(images, probs, features, labels, labels, reference, seed, pairs)


def _along_run_entry(images, probs, features, groups, requested, reference, seed, pairs):
    predictions = metrics.prediction_summary(probs, requested)
    per_class = by_name(metrics.class_diversity(images, groups, np.random.default_rng(seed), pairs))
    entry = {'n_samples': len(images), 'histogram': predictions['histogram'], 'covered': predictions['covered'],
             'most_common_share': max(predictions['histogram']) / len(images),
             'classifier_score': metrics.classifier_score(probs),
             'frechet_distance': metrics.frechet_distance(features, reference.test_features),
             'diversity_per_class': per_class, 'diversity_mean': float(np.mean(list(per_class.values()))),
             'diversity_max': max(per_class.values())}
    if requested is not None:
        per_class_accuracy = [a for a in predictions['per_class_accuracy'] if a is not None]
        entry.update(accuracy=predictions['accuracy'], lowest_class_accuracy=min(per_class_accuracy))
    return entry


def verdict(images, reference, digits=None):
    """The classifier's short verdict on unconditional samples and, for scale,
    on as many real test images (of ``digits``, where given): classifier score,
    classes covered and, given ``digits``, the fraction read as one of them."""
    real = reference.test_images
    if digits is not None:
        real = real[np.isin(reference.test_labels, digits)]
    result = {}
    for name, batch in (('samples', images), ('real', real[:len(images)])):
        probs = classifier.predict(reference.model, batch)
        result[name] = {'n': len(batch), 'classifier_score': metrics.classifier_score(probs)[0],
                        'classes_covered': metrics.prediction_summary(probs)['covered']}
        if digits is not None:
            result[name]['read_as_digits'] = float(np.isin(probs.argmax(1), digits).mean())
    return result


def diversity(images, groups, real_images, real_labels, rng, pairs=100):
    """Mean MS-SSIM of ``pairs`` random same-class pairs per class (lower:
    more diverse) and its standard error, against real images' values."""
    generated = metrics.class_pair_ms_ssim(images, groups, rng, pairs)
    real = metrics.class_pair_ms_ssim(real_images, real_labels, rng, pairs)
    generated_mean, real_mean = (by_name({c: s.mean() for c, s in d.items()}) for d in (generated, real))
    return {'pairs': pairs, 'per_class': generated_mean, 'real_per_class': real_mean,
            'per_class_standard_error': by_name({c: metrics.standard_error(s) for c, s in generated.items()}),
            'real_per_class_standard_error': by_name({c: metrics.standard_error(s) for c, s in real.items()}),
            'mean': float(np.mean(list(generated_mean.values()))),
            'real_mean': float(np.mean(list(real_mean.values()))),
            'fraction_more_diverse_than_least_diverse_real_class': metrics.fraction_more_diverse(generated_mean,
                                                                                                  real_mean)}


def by_name(per_class):
    return {str(int(k)): float(v) for k, v in sorted(per_class.items())}


def downsampled_accuracy(model, images, probs, groups):
    """Fraction classified as ``groups`` at 28x28 (``probs``: the classifier's
    output on ``images``) and after downsampling to each of DOWNSAMPLE_SIZES
    and back (the paper's resolution check)."""
    scores = {'28': float((probs.argmax(1) == groups).mean())}
    for size in DOWNSAMPLE_SIZES:
        blurred = metrics.downsample_upsample(images, size)
        scores[str(size)] = float((classifier.predict(model, blurred).argmax(1) == groups).mean())
    return scores


def nearest_neighbour_check(images, real_images, reference, rng, n):
    """Pixel L2 distance of ``n`` samples to their nearest training image,
    against the same for ``n`` real test images (memorised samples sit
    much closer than real unseen images do)."""
    picked = rng.choice(len(images), size=min(n, len(images)), replace=False)
    index, distances = metrics.nearest_neighbours(images[picked], reference.train_images)
    _, real_distances = metrics.nearest_neighbours(real_images[:len(picked)], reference.train_images)
    summary = metrics.memorisation_summary(distances, real_distances)
    summary['figure_pairs'] = [(int(i), int(j)) for i, j in zip(picked[:NEIGHBOUR_FIGURE_PAIRS],
                                                               index[:NEIGHBOUR_FIGURE_PAIRS])]
    return summary


# ---------------------------------------------------------------- figures
def neighbours_figure(images, reference, result, path):
    pairs = result['nearest_neighbour']['figure_pairs']
    return figures.neighbours_figure(images[[i for i, _ in pairs]],
                                     reference.train_images[[j for _, j in pairs]], path)


def interpolation_figure(generator, path, rows=8, steps=10, seed=0):
    """Each row walks in a straight line between two noise vectors (a
    conditional model keeps one class a row): no sudden jumps means the
    generator has not memorised isolated points."""
    z = generator.noise(2 * rows, seed)
    t = np.linspace(0.0, 1.0, steps, dtype=z.dtype)[None, :, None]
    walks = ((1 - t) * z[:rows, None] + t * z[rows:, None]).reshape(rows * steps, -1)
    labels = np.repeat(np.arange(rows) % 10, steps) if generator.conditional else None
    return figures.interpolation_figure(list(generator.images(walks, labels).reshape(rows, steps, 1, 28, 28)), path)


def class_swap_figure(generator, path, rows=8, seed=0):
    """Fixed noise in each row, classes 0-9 across: a shared style per row
    means the noise carries style and the class carries content."""
    z = np.repeat(generator.noise(rows, seed), 10, axis=0)
    labels = np.tile(np.arange(10), rows)
    return figures.interpolation_figure(list(generator.images(z, labels).reshape(rows, 10, 1, 28, 28)), path)
