"""DCGAN of the blog "DCGANをChainerで実装" (MNIST, Chainer v1), in Chainer 7.8.1.

Generator: z (100) -> Linear -> (512, 3, 3) -> four Deconvolution2D, spatial
sizes 3 -> 4 -> 6 -> 10 -> 28, linear output (no tanh). Discriminator: four
Convolution2D, 28 -> 10 -> 6 -> 4 -> 3, then Linear(4608, 2): two logits,
class 0 = real, class 1 = generated. Chainer's default initialisers (LeCun
normal, zero bias) and batch normalisation (eps 2e-5, decay 0.9).
"""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from gan_common.models.dcgan import ADAM, FAKE, REAL, RECIPE, Z_DIM  # noqa: F401


# ---------------------------------------------------------------- networks
# Children are listed by name: Chainer orders parameters by child name, and
# the PyTorch port registers its modules in this same order.
class Generator(chainer.Chain):

    def __init__(self, z_dim=Z_DIM):
        super().__init__()
        self.z_dim = z_dim
        with self.init_scope():
            self.bn0l = L.BatchNormalization(512)
            self.bn1 = L.BatchNormalization(256)
            self.bn2 = L.BatchNormalization(128)
            self.bn3 = L.BatchNormalization(64)
            self.dc1 = L.Deconvolution2D(512, 256, 2, stride=2, pad=1)
            self.dc2 = L.Deconvolution2D(256, 128, 2, stride=2, pad=1)
            self.dc3 = L.Deconvolution2D(128, 64, 2, stride=2, pad=1)
            self.dc4 = L.Deconvolution2D(64, 1, 3, stride=3, pad=1)
            self.l0z = L.Linear(z_dim, 3 * 3 * 512)

    def trace(self, z):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.relu(self.bn0l(F.reshape(self.l0z(z), (len(z), 512, 3, 3))))
        yield 'l0z', h
        h = F.relu(self.bn1(self.dc1(h)))
        yield 'dc1', h
        h = F.relu(self.bn2(self.dc2(h)))
        yield 'dc2', h
        h = F.relu(self.bn3(self.dc3(h)))
        yield 'dc3', h
        yield 'dc4', self.dc4(h)

    def forward(self, z):
        for _, h in self.trace(z):
            pass
        return h


class Discriminator(chainer.Chain):

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.bn1 = L.BatchNormalization(128)
            self.bn2 = L.BatchNormalization(256)
            self.bn3 = L.BatchNormalization(512)
            self.c0 = L.Convolution2D(1, 64, 3, stride=3, pad=1)
            self.c1 = L.Convolution2D(64, 128, 2, stride=2, pad=1)
            self.c2 = L.Convolution2D(128, 256, 2, stride=2, pad=1)
            self.c3 = L.Convolution2D(256, 512, 2, stride=2, pad=1)
            self.l4l = L.Linear(3 * 3 * 512, 2)

    def trace(self, x):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.relu(self.c0(x))
        yield 'c0', h
        h = F.relu(self.bn1(self.c1(h)))
        yield 'c1', h
        h = F.relu(self.bn2(self.c2(h)))
        yield 'c2', h
        h = F.relu(self.bn3(self.c3(h)))
        yield 'c3', h
        yield 'l4l', self.l4l(h)  # L.Linear flattens (N, 512, 3, 3) itself

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


# ---------------------------------------------------------------- losses
def _labels(y, label):
    return chainer.backend.get_array_module(y).full(len(y), label, dtype=np.int32)


def generator_loss(y_fake):
    """The generator wants its samples classified as real."""
    return F.softmax_cross_entropy(y_fake, _labels(y_fake, REAL))


def discriminator_loss(y_fake, y_real):
    return (F.softmax_cross_entropy(y_fake, _labels(y_fake, FAKE))
            + F.softmax_cross_entropy(y_real, _labels(y_real, REAL)))


# ---------------------------------------------------------------- optimizer
def make_optimizer(link, adam=None):
    """Chainer's Adam with ``adam`` (alpha, beta1, beta2, eps; default the blog's)."""
    optimizer = chainer.optimizers.Adam(**(ADAM if adam is None else adam))
    optimizer.setup(link)
    return optimizer


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, z):
    """The blog's iteration: G steps first, then D on the same ``y_fake``,
    computed before G's update. Each network's gradients are cleared right
    before its own backward pass, so D's step sees only the D loss."""
    fake = gen(z)
    fake_leaf = chainer.Variable(fake.array)  # D's graph stops here, as the
    y_fake = dis(fake_leaf)                   # port's does
    y_real = dis(x_real)
    loss_gen = generator_loss(y_fake)
    loss_dis = discriminator_loss(y_fake, y_real)
    gen.cleargrads()
    fake.grad_var, = chainer.grad([loss_gen], [fake_leaf])  # D's parameters untouched
    fake.backward()
    opt_gen.update()
    dis.cleargrads()
    loss_dis.backward()
    opt_dis.update()
    return loss_gen, loss_dis
