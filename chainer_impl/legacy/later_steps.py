"""Chainer v3-v7: what those releases deprecated still runs on 7.8.1, with a
DeprecationWarning. The runner lists each such use in the report (with
Chainer's own message as the fix) instead of printing the warning."""
import os
import warnings

import chainer

from chainer_impl.legacy.report import record

_CHAINER_DIR = os.path.dirname(os.path.abspath(chainer.__file__)) + os.sep
_CATEGORIES = (DeprecationWarning, FutureWarning)


def _from_chainer(filename):
    return os.path.abspath(filename).startswith(_CHAINER_DIR)


def install():
    original = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, _CATEGORIES) and _from_chainer(filename):
            record('deprecated', str(message).strip().splitlines()[0])
            return
        original(message, category, filename, lineno, file, line)
    warnings.showwarning = showwarning
    for category in _CATEGORIES:
        warnings.filterwarnings('always', category=category, module='chainer')
