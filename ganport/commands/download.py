"""Download or check MNIST, Fashion-MNIST or a CycleGAN dataset.

Download MNIST, Fashion-MNIST (IDX .gz files, md5-checked) or a CycleGAN
dataset (zip, CRC32-, layout- and count-checked), or check a copy.

The files go into the checkout's data/, or for an installed package into
$XDG_CACHE_HOME/ganport (default ~/.cache/ganport), where every command looks
after --data-dir, $GAN_DATA_DIR and data/."""
import argparse
from pathlib import Path

from gan_common import idx, unpaired
from gan_common.errors import exit_on_user_error


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('dataset', choices=[*idx.DATASETS, *unpaired.DOWNLOADS])
    parser.add_argument('--dest', type=Path, default=idx.DOWNLOAD_DIR, metavar='DIR',
                        help='parent folder; the dataset goes into DIR/<dataset>/ (default: %(default)s)')
    parser.add_argument('--url', action='append', metavar='BASE',
                        help='base URL to use instead of the built-in ones (repeatable)')
    parser.add_argument('--check', action='store_true',
                        help='download nothing; verify an existing copy (exit status 0 if good, 1 if not)')
    parser.add_argument('--data-dir', type=Path, metavar='DIR',
                        help=f'with --check: the folder holding the dataset or its parent '
                             f'(default: ${idx.DATA_DIR_ENV}, then {idx.SHIPPED_DATA_DIR}, then {idx.CACHE_DATA_DIR})')
    return parser


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    is_cyclegan = args.dataset in unpaired.DOWNLOADS
    if args.check:
        check = unpaired.check_unpaired if is_cyclegan else idx.check_dataset
        directory, counts = check(args.dataset, args.data_dir)
        print(f'{args.dataset} OK in {directory} ({", ".join(f"{k} {v}" for k, v in counts.items())})')
    elif is_cyclegan:
        print(f'{args.dataset} ready in {unpaired.download_unpaired(args.dataset, args.dest, base_urls=args.url)}')
    else:
        directory = idx.download_dataset(args.dataset, args.dest / args.dataset, base_urls=args.url)
        print(f'{args.dataset} ready in {directory}')


if __name__ == '__main__':
    main()
