"""Conditional GAN of "GANs in Action" ch. 8 (Keras 2.1.6, MNIST), in Chainer 7.8.1.

Generator: label -> Embedding(10, 100), multiplied element-wise with z (100,
N(0, 1)) -> Dense(7*7*256) reshaped to 7x7x256 -> Conv2DTranspose(128, 3,
stride 2) + BN + LeakyReLU(0.01) -> Conv2DTranspose(64, 3, stride 1) + BN +
LeakyReLU(0.01) -> Conv2DTranspose(1, 3, stride 2) -> tanh, all 'same':
7 -> 14 -> 14 -> 28. Discriminator: label -> Embedding(10, 784) reshaped to
28x28x1 and concatenated after the image (2 channels) -> Conv2D(64, 3, stride
2) + LeakyReLU(0.01) -> Conv2D(64, 3, stride 2) + BN + LeakyReLU(0.01) ->
Conv2D(128, 3, stride 2) + BN + LeakyReLU(0.01), 'same': 28 -> 14 -> 7 -> 4
(the book's comment says 3x3x128; its code gives 4x4x128) -> flatten ->
Dense(1) -> sigmoid: a probability. Keras 2.1.6's initialisers, padding, batch
normalisation and binary cross-entropy: see ``chainer_impl.keras_semantics``.
Keras's ``Adam()``: lr 1e-3, beta 0.9 / 0.999, epsilon 1e-7, in the same form
as ``chainer.optimizers.Adam``. Keras is NHWC: the Dense output is reshaped
and the last feature map flattened in NHWC order, so Keras weights load as is.
"""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F

from chainer_impl import keras_semantics as K
from gan_common.models.cgan import ADAM, FAKE, N_CLASSES, REAL, RECIPE, Z_DIM  # noqa: F401


# ---------------------------------------------------------------- networks
# Children are listed by name: Chainer orders parameters by child name, and
# the PyTorch port registers its modules in this same order.
class Generator(chainer.Chain):

    def __init__(self, z_dim=Z_DIM, n_classes=N_CLASSES):
        super().__init__()
        self.z_dim = z_dim
        with self.init_scope():
            self.bn1 = K.BatchNormalization(128)
            self.bn2 = K.BatchNormalization(64)
            self.dc1 = K.Conv2DTranspose(256, 128, 3, stride=2)
            self.dc2 = K.Conv2DTranspose(128, 64, 3, stride=1)
            self.dc3 = K.Conv2DTranspose(64, 1, 3, stride=2)
            self.embed = K.Embedding(n_classes, z_dim)
            self.l0 = K.Dense(z_dim, 7 * 7 * 256)

    def trace(self, z, labels):
        """Yield (layer, output) after each stage, in forward order."""
        h = z * self.embed(labels)
        yield 'embed', h
        h = F.transpose(F.reshape(self.l0(h), (len(h), 7, 7, 256)), (0, 3, 1, 2))  # NHWC -> NCHW
        yield 'l0', h
        h = F.leaky_relu(self.bn1(self.dc1(h)), 0.01)
        yield 'dc1', h
        h = F.leaky_relu(self.bn2(self.dc2(h)), 0.01)
        yield 'dc2', h
        yield 'dc3', F.tanh(self.dc3(h))

    def forward(self, z, labels):
        for _, h in self.trace(z, labels):
            pass
        return h


class Discriminator(chainer.Chain):

    def __init__(self, n_classes=N_CLASSES):
        super().__init__()
        with self.init_scope():
            self.bn2 = K.BatchNormalization(64)
            self.bn3 = K.BatchNormalization(128)
            self.c1 = K.Conv2D(2, 64, 3, stride=2)
            self.c2 = K.Conv2D(64, 64, 3, stride=2)
            self.c3 = K.Conv2D(64, 128, 3, stride=2)
            self.embed = K.Embedding(n_classes, 28 * 28)
            self.l4 = K.Dense(4 * 4 * 128, 1)

    def trace(self, x, labels):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.concat((x, F.reshape(self.embed(labels), (len(x), 1, 28, 28))), axis=1)  # one channel: NHWC = NCHW
        yield 'embed', h
        h = F.leaky_relu(self.c1(h), 0.01)
        yield 'c1', h
        h = F.leaky_relu(self.bn2(self.c2(h)), 0.01)
        yield 'c2', h
        h = F.leaky_relu(self.bn3(self.c3(h)), 0.01)
        yield 'c3', h
        yield 'l4', F.sigmoid(self.l4(F.reshape(F.transpose(h, (0, 2, 3, 1)), (len(h), -1))))  # NHWC flatten

    def forward(self, x, labels):
        for _, h in self.trace(x, labels):
            pass
        return h


# ---------------------------------------------------------------- losses
def generator_loss(p_fake):
    """The combined model's ``train_on_batch(..., real)``."""
    return K.binary_crossentropy(p_fake, REAL)


def discriminator_loss(p, target):
    """The discriminator's ``train_on_batch(..., real | fake)``: one batch, one target."""
    return K.binary_crossentropy(p, target)


# ---------------------------------------------------------------- optimizer
def make_optimizer(link, adam=None):
    """Keras 2.1.6's ``Adam()``: the same update as Chainer's Adam."""
    optimizer = chainer.optimizers.Adam(**(ADAM if adam is None else adam))
    optimizer.setup(link)
    return optimizer


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, labels_real, z, labels_fake, z_gen=None):
    """The book's iteration, three Adam steps:

    1. ``generator.predict([z, labels_real])``: G in inference mode (BN with
       its moving statistics), no update;
    2. D on (x_real, labels_real) toward 1, then D on those fakes with the
       same labels toward 0: two ``train_on_batch`` calls, two D steps;
    3. G through D toward 1 on (``z_gen``, ``labels_fake``): the book draws
       fresh noise here (pass it as ``z_gen``; None reuses ``z``).

    D has ``trainable = False`` by its first ``train_on_batch`` in the book,
    so Keras 2.1.6 never runs its BN moving-average updates: D always
    normalises with batch statistics and its moving statistics stay at 0 / 1.
    G's are updated once, in step 3. Returns (loss_gen, loss_dis_real,
    loss_dis_fake); the book prints d_loss = (loss_dis_real + loss_dis_fake) / 2.
    """
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        x_fake = gen(z, labels_real).array
    with K.statistics_frozen(dis):
        loss_dis_real = discriminator_loss(dis(x_real, labels_real), REAL)
        dis.cleargrads()
        loss_dis_real.backward()
        opt_dis.update()
        loss_dis_fake = discriminator_loss(dis(x_fake, labels_real), FAKE)
        dis.cleargrads()
        loss_dis_fake.backward()
        opt_dis.update()
        loss_gen = generator_loss(dis(gen(z if z_gen is None else z_gen, labels_fake), labels_fake))
    gen.cleargrads()
    loss_gen.backward()
    opt_gen.update()
    return loss_gen, loss_dis_real, loss_dis_fake
