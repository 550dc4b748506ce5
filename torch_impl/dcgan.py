"""PyTorch port of the blog DCGAN (see ``chainer_impl/dcgan.py``).

Same layers, names and parameter order as the Chainer model, Chainer's
initialiser statistics and batch normalisation, the same losses, and the
same update order. Use ``torch_impl.optim.ChainerAdam`` for Chainer's Adam.
"""
import torch
import torch.nn.functional as F
from torch import nn

from torch_impl.chainer_semantics import batch_norm_2d, lecun_normal_
from torch_impl.optim import ChainerAdam
from gan_common.models.dcgan import ADAM, FAKE, REAL, RECIPE, Z_DIM  # noqa: F401


# ---------------------------------------------------------------- networks
# Modules are registered in the order Chainer lists its children (by name).
class Generator(nn.Module):

    def __init__(self, z_dim=Z_DIM):
        super().__init__()
        self.z_dim = z_dim
        self.bn0l = batch_norm_2d(512)
        self.bn1 = batch_norm_2d(256)
        self.bn2 = batch_norm_2d(128)
        self.bn3 = batch_norm_2d(64)
        self.dc1 = nn.ConvTranspose2d(512, 256, 2, stride=2, padding=1)
        self.dc2 = nn.ConvTranspose2d(256, 128, 2, stride=2, padding=1)
        self.dc3 = nn.ConvTranspose2d(128, 64, 2, stride=2, padding=1)
        self.dc4 = nn.ConvTranspose2d(64, 1, 3, stride=3, padding=1)
        self.l0z = nn.Linear(z_dim, 3 * 3 * 512)
        lecun_normal_(self)

    def trace(self, z):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.relu(self.bn0l(self.l0z(z).reshape(len(z), 512, 3, 3)))
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


class Discriminator(nn.Module):

    def __init__(self):
        super().__init__()
        self.bn1 = batch_norm_2d(128)
        self.bn2 = batch_norm_2d(256)
        self.bn3 = batch_norm_2d(512)
        self.c0 = nn.Conv2d(1, 64, 3, stride=3, padding=1)
        self.c1 = nn.Conv2d(64, 128, 2, stride=2, padding=1)
        self.c2 = nn.Conv2d(128, 256, 2, stride=2, padding=1)
        self.c3 = nn.Conv2d(256, 512, 2, stride=2, padding=1)
        self.l4l = nn.Linear(3 * 3 * 512, 2)
        lecun_normal_(self)

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
        yield 'l4l', self.l4l(h.flatten(1))  # nn.Linear acts on the last axis only

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


# ---------------------------------------------------------------- losses
def _labels(y, label):
    return torch.full((len(y),), label, dtype=torch.long, device=y.device)


def generator_loss(y_fake):
    """The generator wants its samples classified as real."""
    return F.cross_entropy(y_fake, _labels(y_fake, REAL))


def discriminator_loss(y_fake, y_real):
    return (F.cross_entropy(y_fake, _labels(y_fake, FAKE))
            + F.cross_entropy(y_real, _labels(y_real, REAL)))


# ---------------------------------------------------------------- optimizer
def make_optimizer(module, adam=None):
    """Chainer's Adam (``ChainerAdam``) with ``adam`` (default the blog's)."""
    return ChainerAdam(module.parameters(), **(ADAM if adam is None else adam))


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, z):
    """The blog's iteration: G steps first, then D on the same ``y_fake``,
    computed before G's update. Each network's gradients are cleared right
    before its own backward pass, so D's step sees only the D loss."""
    fake = gen(z)
    fake_leaf = fake.detach().requires_grad_()  # D's graph stops here, so it
    y_fake = dis(fake_leaf)                     # survives G's in-place step
    y_real = dis(x_real)
    loss_gen = generator_loss(y_fake)
    loss_dis = discriminator_loss(y_fake, y_real)
    opt_gen.zero_grad()
    loss_gen.backward(retain_graph=True)
    fake.backward(fake_leaf.grad)
    opt_gen.step()
    opt_dis.zero_grad()
    loss_dis.backward()
    opt_dis.step()
    return loss_gen.detach(), loss_dis.detach()
