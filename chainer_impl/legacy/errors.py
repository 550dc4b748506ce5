"""Errors the runner turns into one line on stderr and exit status 1."""


class RunnerStop(RuntimeError):
    """The script cannot go on under the runner; the message says the fix.
    (A RuntimeError, as Chainer's own "CUDA is not available" errors are.)"""
