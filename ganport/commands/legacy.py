"""Run an old Chainer (v1-v6) script unchanged on Chainer 7.8.1, NumPy 2 and CuPy 14 (see chainer_impl.legacy)."""
from chainer_impl.legacy.runner import build_parser as _build_parser
from chainer_impl.legacy.runner import main as _main


def build_parser():
    return _build_parser(prog='ganport legacy')


def main(argv=None):
    return _main(argv, prog='ganport legacy')
