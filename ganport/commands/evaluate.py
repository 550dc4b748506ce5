"""Score a generator's samples with the project's classifiers.

Measure what a generator makes, with the project's MNIST / Fashion-MNIST
classifier (data/classifiers/), next to the same scores for real test images.

INPUT is a checkpoint (snapshot_iter_N.npz from Chainer, .pt from PyTorch),
which is sampled here (--n images; a conditional model draws classes 0-9 in
turn), or an .npz of samples as sample.py writes them (images in [0, 1],
optional labels). Writes into --out: evaluation.json (every score),
samples.png, neighbours.png (samples beside their nearest training image)
and, for a checkpoint, interpolation.png and (conditional) class_swap.png.

INPUT may also be a run directory: every snapshot in it (every --every-th,
and the newest) samples the same --n noise vectors (and classes), and
along_run.json and along_run.png (written into the run directory, or --out)
follow classes covered, the class histogram, classifier score, Fréchet
distance and MS-SSIM over the run (a conditional model: also the accuracy
on the requested classes and each class's MS-SSIM), beside real test
images' values.

The scores are "classifier accuracy", "classifier score" (the Inception
Score's formula on this classifier) and "Fréchet distance in classifier
features": comparable only across runs measured with the same classifier
weights (their SHA-256 is in the JSON), and not with published FID/IS.
Example: ganport evaluate runs/acgan-torch-paper/snapshot_iter_18740.pt --out runs/acgan-torch-paper/eval
         ganport evaluate runs/gan-torch-post --every 2
"""
import argparse
import os

import numpy as np
from tqdm import tqdm

from gan_common.checkpoints import first_line, require_file
from gan_common.cli import check_seed
from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import ensure_writable_dir
from gan_common.images import save_grid
from gan_common.rundir import read_json, write_json


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input', help='a checkpoint (.npz Chainer / .pt PyTorch), an .npz of samples, '
                        'or a run directory (every snapshot in it)')
    parser.add_argument('--n', type=int, default=1000,
                        help='samples drawn from a checkpoint, or from each snapshot of a run (default 1000)')
    parser.add_argument('--every', type=int, default=1,
                        help='run directory: evaluate every K-th snapshot, and the newest (default 1: all)')
    parser.add_argument('--dataset', choices=['mnist', 'fashion-mnist'], default=None,
                        help="the real data to compare with (default: the checkpoint's, or mnist)")
    parser.add_argument('--data-dir', default=None, help='where the IDX files are (default: $GAN_DATA_DIR or data/)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the noise and of the random pairs (default 0)')
    parser.add_argument('--device', default='cpu', help='where the generator runs: cpu, cuda, @cupy:0, ...')
    parser.add_argument('--pairs', type=int, default=100,
                        help="random same-class pairs behind each class's MS-SSIM, for samples and real images "
                        "alike (default 100, the AC-GAN paper's; more pairs, and a larger --n, narrow its "
                        "standard error)")
    parser.add_argument('--neighbours', type=int, default=500,
                        help='samples checked against the training set for copies (default 500)')
    parser.add_argument('--out', default=None, help='output directory (default: INPUT without suffix + -eval; '
                        'for a run directory, the run directory)')
    parser.add_argument('--no-progress', action='store_true')
    return parser


def npz_names(path):
    """The array names in the .npz ``path``, or a one-line refusal of an unreadable file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return archive.files
    except Exception as error:  # zero bytes, truncated, random bytes, a pickle: np.load raises many types
        raise UserError(f'{path} is not a readable .npz ({type(error).__name__}: {first_line(error)}); '
                        'pass a checkpoint or an .npz of samples as sample.py writes them') from None


def is_sample_file(path):
    return path.endswith('.npz') and 'images' in npz_names(path)


def load_samples(path):
    """(images, labels or None) of a sample.py .npz, checked."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            images = archive['images'].astype(np.float32)
            labels = archive['labels'].astype(np.int64) if 'labels' in archive.files else None
    except Exception as error:  # an object array (needs pickle), a damaged member, non-numbers
        raise UserError(f'{path}: images/labels are not readable numbers ({type(error).__name__}: '
                        f'{first_line(error)}); write them with sample.py --out FILE.npz') from None
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise UserError(f'{path}: images have shape {images.shape}; expected (N, 1, 28, 28) in [0, 1]')
    if labels is not None and labels.shape != (len(images),):
        raise UserError(f'{path}: {len(labels)} labels for {len(images)} images')
    return images, labels


def gather(args):
    """(images, labels or None, generator or None, dataset)."""
    require_file(args.input)
    if is_sample_file(args.input):
        images, labels = load_samples(args.input)
        return images, labels, None, args.dataset or 'mnist'
    from bridge.generation import TrainedGenerator
    generator = TrainedGenerator(args.input, args.device)
    if generator.config['dataset'] not in ('mnist', 'fashion-mnist'):
        raise UserError(f'{args.input}: a {generator.model} model of {generator.config["dataset"]}; '
                        'evaluate.py measures MNIST and Fashion-MNIST models')
    images, labels = generator.sample(args.n, args.seed)
    return images, labels, generator, args.dataset or generator.config['dataset']


def write_figures(images, generator, reference, result, out, progress):
    from torch_impl import evaluation
    jobs = [('samples.png', lambda p: save_grid(images[:100], p, cols=10, scale=2)),
            ('neighbours.png', lambda p: evaluation.neighbours_figure(images, reference, result, p))]
    if generator is not None:
        jobs.append(('interpolation.png', lambda p: evaluation.interpolation_figure(generator, p)))
        if generator.conditional:
            jobs.append(('class_swap.png', lambda p: evaluation.class_swap_figure(generator, p)))
    for name, write in tqdm(jobs, desc='figures', disable=not progress):
        write(os.path.join(out, name))
    return [name for name, _ in jobs]


def summary_lines(result):
    """The headline numbers, sample vs real test images."""
    pred, real = result['predictions'], result['real_predictions']
    lines = []
    if result['conditional']:
        lines.append(f'classifier accuracy (requested class): {pred["accuracy"]:.4f}   real: {real["accuracy"]:.4f}')
        lines.append('  per class: ' + '  '.join(f'{c}: {a:.2f}' for c, a in enumerate(pred['per_class_accuracy'])
                                                 if a is not None))
    lines += [
        f'classes covered: {pred["covered"]}/10   real: {real["covered"]}/10',
        'classifier score: {0[0]:.3f} ± {0[1]:.3f}   real: {1[0]:.3f} ± {1[1]:.3f}'.format(
            result['classifier_score'], result['real_classifier_score']),
        f'Fréchet distance in classifier features: {result["frechet_distance"]:.3f}   '
        f'real vs real: {result["real_frechet_distance"]:.3f}',
        'MS-SSIM diversity (mean over classes): {:.3f}   real: {:.3f}   fraction of classes more diverse '
        'than the least diverse real class: {:.2f}'.format(
            result['diversity']['mean'], result['diversity']['real_mean'],
            result['diversity']['fraction_more_diverse_than_least_diverse_real_class']),
        least_diverse_line(result['diversity']),
        'accuracy at 28/14/7 px{}: {}   real: {}'.format(
            '' if result['conditional'] else ' (agreement with the 28 px prediction)',
            ' / '.join(f'{v:.3f}' for v in result['downsampled_accuracy'].values()),
            ' / '.join(f'{v:.3f}' for v in result['real_downsampled_accuracy'].values())),
        'nearest training image, median L2: {:.3f}   real test images: {:.3f}'.format(
            result['nearest_neighbour']['median'], result['nearest_neighbour']['reference_median']),
    ]
    return lines


def least_diverse_line(diversity):
    """The least diverse class of the samples and of real images, each
    MS-SSIM with its standard error over the random pairs."""
    def least(values, errors):
        name = max(values, key=values.get)
        return f'{name}s {values[name]:.3f} ± {errors[name]:.3f}'
    return (f'  least diverse class ({diversity["pairs"]} pairs each): '
            f'{least(diversity["per_class"], diversity["per_class_standard_error"])}   '
            f'real: {least(diversity["real_per_class"], diversity["real_per_class_standard_error"])}')


def along_run_lines(result):
    """One line a snapshot, then real test images'."""
    conditional = result.get('conditional', False)
    header = f'{"iteration":>9} {"epoch":>6} {"covered":>7} {"top class":>12} {"score":>6} {"MS-SSIM":>7} {"Fréchet":>8}'
    if conditional:
        header += f' {"accuracy":>8} {"lowest":>6} {"least diverse":>13}'
    rows = [(f'{e["iteration"]:>9} {e["epoch"]:>6.1f}', e) for e in result['snapshots']]
    rows.append((f'{"real":>9} {"":>6}', result['real']))
    return [header] + [f'{label} {along_run_columns(e, conditional)}' for label, e in rows]


def along_run_columns(entry, conditional):
    top = max(range(len(entry['histogram'])), key=entry['histogram'].__getitem__)
    top_share = f'{top}: {entry["most_common_share"]:.1%}'
    columns = (f'{entry["covered"]:>5}/10 {top_share:>12} {entry["classifier_score"][0]:>6.2f} '
               f'{entry["diversity_mean"]:>7.3f} {entry["frechet_distance"]:>8.2f}')
    if not conditional:
        return columns
    least = max(entry['diversity_per_class'], key=entry['diversity_per_class'].get)
    least = f'{least}s {entry["diversity_max"]:.3f}'
    return f'{columns} {entry["accuracy"]:>8.3f} {entry["lowest_class_accuracy"]:>6.2f} {least:>13}'


def run_dataset(run_dir):
    """The dataset in the run's config.json, or mnist."""
    path = os.path.join(run_dir, 'config.json')
    dataset = read_json(path).get('dataset', 'mnist') if os.path.exists(path) else 'mnist'
    if dataset not in ('mnist', 'fashion-mnist'):
        raise UserError(f'{run_dir}: a run on {dataset}; evaluate.py measures MNIST and Fashion-MNIST models')
    return dataset


def evaluate_run(args):
    from bridge.along_run import evaluate_along_run, run_snapshots
    from gan_common.plots import plot_along_run
    from torch_impl import evaluation
    snapshots = run_snapshots(args.input, args.every)
    out = ensure_writable_dir(args.out or args.input)
    reference = evaluation.Reference(args.dataset or run_dataset(args.input), args.data_dir,
                                     progress=not args.no_progress)
    result = evaluate_along_run(snapshots, reference, args.n, args.seed, args.device, not args.no_progress, args.pairs)
    result.update(run=os.path.abspath(args.input), classifier_sha256=reference.classifier_sha256, seed=args.seed,
                  pairs=args.pairs)
    write_json(os.path.join(out, 'along_run.json'), result)
    plot_along_run(result, os.path.join(out, 'along_run.png'))
    print('\n'.join(along_run_lines(result)))
    print(f'wrote {out}/: along_run.json, along_run.png')


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.n < 20:
        raise UserError(f'--n must be at least 20 (10 classifier-score splits of 2), got {args.n}')
    if args.pairs < 1:
        raise UserError(f'--pairs must be at least 1, got {args.pairs}')
    check_seed(args.seed)
    if os.path.isdir(args.input):
        return evaluate_run(args)
    images, labels, generator, dataset = gather(args)
    from torch_impl import evaluation
    reference = evaluation.Reference(dataset, args.data_dir, progress=not args.no_progress)
    result = evaluation.evaluate(images, labels, reference, seed=args.seed, neighbours=args.neighbours,
                                 pairs=args.pairs)
    out = ensure_writable_dir(args.out or os.path.splitext(args.input)[0] + '-eval')
    result.update(input=os.path.abspath(args.input), dataset=dataset, classifier_sha256=reference.classifier_sha256,
                  model=None if generator is None else generator.model)
    result['figures'] = write_figures(images, generator, reference, result, out, not args.no_progress)
    write_json(os.path.join(out, 'evaluation.json'), result)
    print('\n'.join(summary_lines(result)))
    print(f'wrote {out}/: evaluation.json, {", ".join(result["figures"])}')


if __name__ == '__main__':
    main()
