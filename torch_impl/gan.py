"""Vanilla MLP GAN of the post "Conditional GAN と GAN の違い" (MNIST), in PyTorch:
the original. ``chainer_impl/gan.py`` is the port.

Generator: z (100) -> Linear 256 -> ReLU -> Linear 512 -> ReLU -> Linear 1024
-> ReLU -> Linear 784 -> Tanh, reshaped to (N, 1, 28, 28). Discriminator:
784 -> Linear 1024 -> LeakyReLU(0.2) -> Linear 512 -> LeakyReLU(0.2) -> Linear 256
-> LeakyReLU(0.2) -> Linear 1 -> Sigmoid. PyTorch's default initialisation,
``nn.BCELoss`` on the probabilities, ``torch.optim.Adam(lr=2e-4, betas=(0.9,
0.999), eps=1e-8)``. Each network is one ``nn.Sequential`` named ``model``,
as in the post, so its ``state_dict`` keys are the post's (``model.0.weight``,
``model.2.weight``, ...).
"""
import torch
import torch.nn.functional as F
from torch import nn

from gan_common.models.gan import ADAM, FAKE, REAL, RECIPE, Z_DIM, torch_adam_arguments  # noqa: F401


# ---------------------------------------------------------------- networks
class Generator(nn.Module):

    def __init__(self, z_dim=Z_DIM):
        super().__init__()
        self.z_dim = z_dim
        self.model = nn.Sequential(
            nn.Linear(z_dim, 256), nn.ReLU(),
            nn.Linear(256, 512), nn.ReLU(),
            nn.Linear(512, 1024), nn.ReLU(),
            nn.Linear(1024, 28 * 28), nn.Tanh())

    def trace(self, z):
        """Yield (layer, output) after each Linear and its activation."""
        h = z
        for i in range(0, len(self.model), 2):
            h = self.model[i + 1](self.model[i](h))
            yield f'model[{i}]', h.reshape(len(h), 1, 28, 28) if i == 6 else h

    def forward(self, z):
        for _, h in self.trace(z):
            pass
        return h


class Discriminator(nn.Module):

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(28 * 28, 1024), nn.LeakyReLU(0.2),
            nn.Linear(1024, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 1), nn.Sigmoid())

    def trace(self, x):
        """Yield (layer, output) after each Linear and its activation."""
        h = x.reshape(len(x), -1)
        for i in range(0, len(self.model), 2):
            h = self.model[i + 1](self.model[i](h))
            yield f'model[{i}]', h

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


# ---------------------------------------------------------------- losses
def binary_cross_entropy(p, target):
    """``nn.BCELoss()(p, target)``: mean, each log clamped at -100."""
    return F.binary_cross_entropy(p, torch.full_like(p, target))


def generator_loss(p_fake):
    return binary_cross_entropy(p_fake, REAL)


def discriminator_loss(p_real, p_fake):
    return binary_cross_entropy(p_real, REAL) + binary_cross_entropy(p_fake, FAKE)


# ---------------------------------------------------------------- optimizer
def make_optimizer(module, adam=None):
    """The post's ``torch.optim.Adam`` (``adam``: Chainer-named overrides)."""
    return torch.optim.Adam(module.parameters(), **torch_adam_arguments(adam))


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, z):
    """The post's iteration: D steps first, on real images and the detached
    fake batch; then G, on the same fake batch, through the updated D."""
    x_fake = gen(z)
    loss_dis = discriminator_loss(dis(x_real), dis(x_fake.detach()))
    opt_dis.zero_grad()
    loss_dis.backward()
    opt_dis.step()
    loss_gen = generator_loss(dis(x_fake))
    opt_gen.zero_grad()
    loss_gen.backward()
    opt_gen.step()
    return loss_gen.detach(), loss_dis.detach()
