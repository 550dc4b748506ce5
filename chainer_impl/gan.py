"""Chainer port of the vanilla MLP GAN whose source is PyTorch (see
``torch_impl/gan.py``, the original).

Same layers, with PyTorch's semantics where Chainer's differ
(``chainer_impl.torch_semantics``: ``nn.Linear``'s initialisation, ``torch.sigmoid``,
``nn.BCELoss``) and ``torch.optim.Adam`` (``chainer_impl.torch_adam.TorchAdam``).

Each network is a ``ChainList`` named ``model`` whose indices are the
``nn.Sequential``'s: the activations are parameterless links in between, so
``save_npz`` keys are ``model/0/W``, ``model/2/W``, ..., which
``gan_common.keymap`` maps to ``model.0.weight``, ``model.2.weight``, ...
"""
import functools

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F

from chainer_impl.torch_adam import TorchAdam
from chainer_impl.torch_semantics import binary_cross_entropy, linear, sigmoid
from gan_common.models.gan import ADAM, FAKE, REAL, RECIPE, Z_DIM, torch_adam_arguments  # noqa: F401


# ---------------------------------------------------------------- networks
class Activation(chainer.Link):
    """A parameterless link, so that ``ChainList`` indices follow ``nn.Sequential``'s."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


leaky_relu = functools.partial(F.leaky_relu, slope=0.2)


class Generator(chainer.Chain):

    def __init__(self, z_dim=Z_DIM):
        super().__init__()
        self.z_dim = z_dim
        with self.init_scope():
            self.model = chainer.ChainList(
                linear(z_dim, 256), Activation(F.relu),
                linear(256, 512), Activation(F.relu),
                linear(512, 1024), Activation(F.relu),
                linear(1024, 28 * 28), Activation(F.tanh))

    def trace(self, z):
        """Yield (layer, output) after each Linear and its activation."""
        h = z
        for i in range(0, len(self.model), 2):
            h = self.model[i + 1](self.model[i](h))
            yield f'model[{i}]', F.reshape(h, (len(h), 1, 28, 28)) if i == 6 else h

    def forward(self, z):
        for _, h in self.trace(z):
            pass
        return h


class Discriminator(chainer.Chain):

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.model = chainer.ChainList(
                linear(28 * 28, 1024), Activation(leaky_relu),
                linear(1024, 512), Activation(leaky_relu),
                linear(512, 256), Activation(leaky_relu),
                linear(256, 1), Activation(sigmoid))

    def trace(self, x):
        """Yield (layer, output) after each Linear and its activation."""
        h = F.reshape(x, (len(x), -1))
        for i in range(0, len(self.model), 2):
            h = self.model[i + 1](self.model[i](h))
            yield f'model[{i}]', h

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


# ---------------------------------------------------------------- losses
def generator_loss(p_fake):
    return binary_cross_entropy(p_fake, REAL)


def discriminator_loss(p_real, p_fake):
    return binary_cross_entropy(p_real, REAL) + binary_cross_entropy(p_fake, FAKE)


# ---------------------------------------------------------------- optimizer
def make_optimizer(link, adam=None):
    """The post's ``torch.optim.Adam``, as ``TorchAdam`` (``adam``: Chainer-named overrides)."""
    optimizer = TorchAdam(**torch_adam_arguments(adam))
    optimizer.setup(link)
    return optimizer


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, z):
    """The post's iteration: D steps first, on real images and the detached
    fake batch; then G, on the same fake batch, through the updated D."""
    x_fake = gen(z)
    loss_dis = discriminator_loss(dis(x_real), dis(x_fake.array))
    dis.cleargrads()
    loss_dis.backward()
    opt_dis.update()
    loss_gen = generator_loss(dis(x_fake))
    gen.cleargrads()
    loss_gen.backward()
    opt_gen.update()
    return loss_gen, loss_dis
