"""The public port checker (``bridge.port_check.check_port``) on the
project's own five models: each generator and discriminator, Chainer's
weights copied into the PyTorch port, forward and every gradient in float64,
train mode. Prints the checker's table and figures."""
import numpy as np
import pytest

from bridge.port_check import check_port
from chainer_impl.models import MODULES as CHAINER_MODULES
from torch_impl.models import MODULES as TORCH_MODULES

TOLERANCE = 1e-10
N = 4


def inputs(model, network, rng):
    """The positional arguments of each network, small batches."""
    z = rng.standard_normal((N, 100))
    labels = rng.randint(0, 10, N).astype(np.int32)
    image = rng.standard_normal((N, 1, 28, 28))
    if model == 'cyclegan':
        return [rng.standard_normal((2, 3, 32, 32))]
    if network == 'Generator':
        return [z, labels] if model in ('cgan', 'acgan') else [z]
    return [image, labels] if model == 'cgan' else [image]


@pytest.mark.parametrize('network', ['Generator', 'Discriminator'])
@pytest.mark.parametrize('model', ['dcgan', 'gan', 'cgan', 'acgan', 'cyclegan'])
def test_check_port_passes_on_our_models(model, network):
    import chainer
    np.random.seed(0)
    with chainer.using_config('dtype', np.float64):
        chain = getattr(CHAINER_MODULES[model], network)()
    module = getattr(TORCH_MODULES[model], network)()
    result = check_port(chain, module, inputs(model, network, np.random.RandomState(1)), dtype='float64',
                        mode='train', tolerance=TOLERANCE)
    print(result.text())
    assert result.passed, result.text()
