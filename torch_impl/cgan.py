"""PyTorch port of the conditional GAN of "GANs in Action" ch. 8 (Keras 2.1.6;
see ``chainer_impl/cgan.py``).

Same layers, names and parameter order as the Chainer model, Keras 2.1.6's
initialisers, padding, batch normalisation and binary cross-entropy (see
``torch_impl.keras_semantics``), the same update order. Keras's ``Adam()``
is Chainer's Adam form: ``torch_impl.optim.ChainerAdam(alpha=1e-3, eps=1e-7)``.
Keras is NHWC: the Dense output is reshaped and the last feature map
flattened in NHWC order, so Keras weights load as is.
"""
import torch
import torch.nn.functional as F
from torch import nn

from torch_impl import keras_semantics as K
from torch_impl.optim import ChainerAdam
from gan_common.models.cgan import ADAM, FAKE, N_CLASSES, REAL, RECIPE, Z_DIM  # noqa: F401


# ---------------------------------------------------------------- networks
# Modules are registered in the order Chainer lists its children (by name).
class Generator(nn.Module):

    def __init__(self, z_dim=Z_DIM, n_classes=N_CLASSES):
        super().__init__()
        self.z_dim = z_dim
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
        h = self.l0(h).reshape(len(h), 7, 7, 256).permute(0, 3, 1, 2)  # NHWC -> NCHW
        yield 'l0', h
        h = F.leaky_relu(self.bn1(self.dc1(h)), 0.01)
        yield 'dc1', h
        h = F.leaky_relu(self.bn2(self.dc2(h)), 0.01)
        yield 'dc2', h
        yield 'dc3', torch.tanh(self.dc3(h))

    def forward(self, z, labels):
        for _, h in self.trace(z, labels):
            pass
        return h


class Discriminator(nn.Module):

    def __init__(self, n_classes=N_CLASSES):
        super().__init__()
        self.bn2 = K.BatchNormalization(64)
        self.bn3 = K.BatchNormalization(128)
        self.c1 = K.Conv2D(2, 64, 3, stride=2)
        self.c2 = K.Conv2D(64, 64, 3, stride=2)
        self.c3 = K.Conv2D(64, 128, 3, stride=2)
        self.embed = K.Embedding(n_classes, 28 * 28)
        self.l4 = K.Dense(4 * 4 * 128, 1)

    def trace(self, x, labels):
        """Yield (layer, output) after each stage, in forward order."""
        h = torch.cat((x, self.embed(labels).reshape(len(x), 1, 28, 28)), dim=1)  # one channel: NHWC = NCHW
        yield 'embed', h
        h = F.leaky_relu(self.c1(h), 0.01)
        yield 'c1', h
        h = F.leaky_relu(self.bn2(self.c2(h)), 0.01)
        yield 'c2', h
        h = F.leaky_relu(self.bn3(self.c3(h)), 0.01)
        yield 'c3', h
        yield 'l4', torch.sigmoid(self.l4(h.permute(0, 2, 3, 1).reshape(len(h), -1)))  # NHWC flatten

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
def make_optimizer(module, adam=None):
    """Keras 2.1.6's ``Adam()``: the same update as Chainer's Adam."""
    return ChainerAdam(module.parameters(), **(ADAM if adam is None else adam))


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, labels_real, z, labels_fake, z_gen=None):
    """The book's iteration, three Adam steps (see ``chainer_impl.cgan.train_step``):
    G predicts fakes in eval mode; D steps on the real batch, then on the fakes
    (with the real labels); G steps through D. D's BN never updates its moving
    statistics. Returns (loss_gen, loss_dis_real, loss_dis_fake), detached."""
    was_training = gen.training
    gen.eval()
    with torch.no_grad():
        x_fake = gen(z, labels_real)
    gen.train(was_training)
    with K.statistics_frozen(dis):
        loss_dis_real = discriminator_loss(dis(x_real, labels_real), REAL)
        opt_dis.zero_grad()
        loss_dis_real.backward()
        opt_dis.step()
        loss_dis_fake = discriminator_loss(dis(x_fake, labels_real), FAKE)
        opt_dis.zero_grad()
        loss_dis_fake.backward()
        opt_dis.step()
        loss_gen = generator_loss(dis(gen(z if z_gen is None else z_gen, labels_fake), labels_fake))
    opt_gen.zero_grad()
    loss_gen.backward()
    opt_gen.step()
    return loss_gen.detach(), loss_dis_real.detach(), loss_dis_fake.detach()
