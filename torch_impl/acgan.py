"""PyTorch port of the AC-GAN (see ``chainer_impl/acgan.py`` for the
architecture and the losses, and how they relate to the paper's).

Same layers, names and parameter order as the Chainer model, Chainer's
initialiser statistics and batch normalisation, the same losses (sigmoid
cross-entropy on the source logit, ONE softmax cross-entropy on the class
logits), the same update order, and Chainer's Adam (``ChainerAdam``).
"""
import torch
import torch.nn.functional as F
from torch import nn

from torch_impl.chainer_semantics import batch_norm_2d, lecun_normal_
from torch_impl.optim import ChainerAdam
from gan_common.models.acgan import ADAM, FAKE, N_CLASSES, REAL, RECIPE, Z_DIM  # noqa: F401


# ---------------------------------------------------------------- networks
# Modules are registered in the order Chainer lists its children (by name).
class Generator(nn.Module):

    def __init__(self, z_dim=Z_DIM, n_classes=N_CLASSES):
        super().__init__()
        self.z_dim = z_dim
        self.bn0 = batch_norm_2d(128)
        self.bn1 = batch_norm_2d(64)
        self.dc1 = nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1)
        self.dc2 = nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1)
        self.embed = nn.Embedding(n_classes, z_dim)  # N(0, 1), as Chainer's EmbedID
        self.l0 = nn.Linear(z_dim, 128 * 7 * 7)
        lecun_normal_(self)

    def trace(self, z, labels):
        """Yield (layer, output) after each stage, in forward order."""
        h = z * self.embed(labels)
        yield 'embed', h
        h = F.relu(self.bn0(self.l0(h).reshape(len(h), 128, 7, 7)))
        yield 'l0', h
        h = F.relu(self.bn1(self.dc1(h)))
        yield 'dc1', h
        yield 'dc2', torch.tanh(self.dc2(h))

    def forward(self, z, labels):
        for _, h in self.trace(z, labels):
            pass
        return h


class Discriminator(nn.Module):

    def __init__(self, n_classes=N_CLASSES):
        super().__init__()
        self.bn1 = batch_norm_2d(128)
        self.c0 = nn.Conv2d(1, 64, 4, stride=2, padding=1)
        self.c1 = nn.Conv2d(64, 128, 4, stride=2, padding=1)
        self.cls = nn.Linear(128 * 7 * 7, n_classes)
        self.src = nn.Linear(128 * 7 * 7, 1)
        lecun_normal_(self)

    def trace(self, x):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.leaky_relu(self.c0(x), 0.2)
        yield 'c0', h
        h = F.leaky_relu(self.bn1(self.c1(h)), 0.2)
        yield 'c1', h
        yield 'src', self.src(h.flatten(1))  # nn.Linear acts on the last axis only
        yield 'cls', self.cls(h.flatten(1))

    def forward(self, x):
        """(source logit (N, 1), class logits (N, 10))."""
        heads = dict(self.trace(x))
        return heads['src'], heads['cls']


# ---------------------------------------------------------------- losses
def source_loss(y, label):
    """Sigmoid cross-entropy of the source logit against REAL or FAKE."""
    return F.binary_cross_entropy_with_logits(y, torch.full_like(y, label))


def class_loss(logits, labels):
    """One softmax cross-entropy: -mean(log softmax(logits)[label])."""
    return F.cross_entropy(logits, labels.long())


def discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake):
    return (source_loss(src_real, REAL) + source_loss(src_fake, FAKE)
            + class_loss(cls_real, labels_real) + class_loss(cls_fake, labels_fake))


def generator_loss(src_fake, cls_fake, labels_fake):
    return source_loss(src_fake, REAL) + class_loss(cls_fake, labels_fake)


# ---------------------------------------------------------------- optimizer
def make_optimizer(module, adam=None):
    return ChainerAdam(module.parameters(), **(ADAM if adam is None else adam))


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, labels_real, z, labels_fake):
    """D steps first, on the real batch and the fake batch G(z, labels_fake)
    (detached); then G, on the same fake batch, through the updated D."""
    x_fake = gen(z, labels_fake)
    src_real, cls_real = dis(x_real)
    src_fake, cls_fake = dis(x_fake.detach())
    loss_dis = discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake)
    opt_dis.zero_grad()
    loss_dis.backward()
    opt_dis.step()
    src_fake, cls_fake = dis(x_fake)
    loss_gen = generator_loss(src_fake, cls_fake, labels_fake)
    opt_gen.zero_grad()
    loss_gen.backward()
    opt_gen.step()
    return loss_gen.detach(), loss_dis.detach()
