"""Download MNIST, Fashion-MNIST or a CycleGAN dataset into data/, or check a copy; see --help."""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_common import idx, unpaired  # noqa: E402
from gan_common.errors import exit_on_user_error  # noqa: E402


def pick(argv):
    """The module whose command line handles ``argv``'s dataset: IDX or unpaired."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument('dataset', nargs='?')
    for option in ('--dest', '--url', '--data-dir'):
        probe.add_argument(option)
    probe.add_argument('--check', action='store_true')
    args, _ = probe.parse_known_args(argv)
    return unpaired if args.dataset in unpaired.DOWNLOADS else idx


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ('-h', '--help'):
        print(f'datasets: {", ".join(idx.DATASETS)} (IDX .gz files, md5-checked); '
              f'{", ".join(unpaired.DOWNLOADS)} (CycleGAN zips).\n')
        idx.build_parser().print_help()
        print()
        unpaired.build_parser().print_help()
        return
    pick(argv).main(argv)


if __name__ == '__main__':
    exit_on_user_error(main)()
