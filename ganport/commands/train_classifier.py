"""Train the evaluation classifier of a dataset.

Train the evaluation classifier of a dataset and write its weights and
SHA-256 (default: data/classifiers/DATASET.pt and SHA256SUMS there).

The committed weights are the instrument that ganport evaluate measures
with; rebuild them only knowing that scores made with other weights are not
comparable. Stops with status 1 if the test accuracy misses its target
(MNIST 99.0%, Fashion-MNIST 91%).
Example: ganport train-classifier --dataset fashion-mnist
"""
import argparse

from gan_common.errors import UserError, exit_on_user_error
from torch_impl import classifier


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--dataset', choices=sorted(classifier.DATASETS), default='mnist')
    parser.add_argument('--data-dir', default=None, help='where the IDX files are (default: $GAN_DATA_DIR or data/)')
    parser.add_argument('--epochs', type=int, default=None, help='default: 5 (MNIST), 10 (Fashion-MNIST)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None, help='weights file (default: data/classifiers/DATASET.pt)')
    parser.add_argument('--no-progress', action='store_true')
    return parser


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.epochs is not None and args.epochs <= 0:
        raise UserError(f'--epochs must be positive, got {args.epochs}')
    model, accuracy = classifier.train(args.dataset, args.data_dir, args.epochs, args.seed,
                                       progress=not args.no_progress)
    target = classifier.DATASETS[args.dataset][2]
    path = classifier.save(model, args.dataset, args.out)
    print(f'{args.dataset}: test accuracy {accuracy:.4f} (target {target:.3f}); weights: {path} '
          f'(SHA-256 {classifier.sha256_of(path)[:16]}...)')
    if accuracy < target:
        raise UserError(f'test accuracy {accuracy:.4f} is below the target {target:.3f}; train longer with --epochs')


if __name__ == '__main__':
    main()
