"""Replacing an attribute with a wrapper that can reach the original."""
import contextlib
import functools

import chainer


def replace(owner, name, make_wrapper):
    """Set ``owner.name`` to ``make_wrapper(original)``, keeping the original's name and doc."""
    original = getattr(owner, name)
    wrapper = make_wrapper(original)
    if callable(original) and not isinstance(original, type):
        functools.update_wrapper(wrapper, original)
    setattr(owner, name, wrapper)
    return original


@contextlib.contextmanager
def using_configs(settings):
    """``chainer.using_config`` for each (name, value) of ``settings``."""
    with contextlib.ExitStack() as stack:
        for name, value in settings.items():
            stack.enter_context(chainer.using_config(name, value))
        yield
