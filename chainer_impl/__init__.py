"""Chainer 7.8.1 implementations. Importing this package first makes Chainer
importable on NumPy 2 and Python 3.12 (see ``chainer_impl.compat``)."""
from chainer_impl import compat  # noqa: F401  (must run before chainer is imported)
