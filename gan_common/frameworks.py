"""The two frameworks by name, and the one place a name becomes the package
that implements it. The package is imported only when asked for, so that a
user with one framework installed can use that half."""
import importlib

PACKAGES = {'chainer': 'chainer_impl', 'torch': 'torch_impl'}
FRAMEWORKS = tuple(PACKAGES)


def implementation(framework, module):
    """The module ``module`` of ``framework``'s package: ``chainer_impl.<module>``
    or ``torch_impl.<module>``."""
    if framework not in PACKAGES:
        raise ValueError(f'unknown framework {framework!r}; choose from {FRAMEWORKS}')
    return importlib.import_module(f'{PACKAGES[framework]}.{module}')
