"""PyTorch port of the CycleGAN (see ``chainer_impl/cyclegan.py`` for both
presets' architectures).

Same layers, names and parameter order as the Chainer model, Chainer's
batch normalisation (eps 2e-5, decay 0.9) in the blog preset, weights
N(0, 0.02) with zero biases, the same losses, the same update order, and
Chainer's Adam (``ChainerAdam``). ``ConvTranspose2d(output_padding=1)`` is
Chainer's ``outsize=`` (twice the input size).
"""
import torch
import torch.nn.functional as F
from torch import nn

from gan_common.cycle import BLOG_LOSSES
from torch_impl.chainer_semantics import batch_norm_2d, chainer_normal_
from torch_impl.functions import instance_normalization, reflection_pad
from torch_impl.optim import ChainerAdam
from gan_common.models.cyclegan import (  # noqa: F401
    ADAM, FAKE, GAN_LOSS, NDF, NGF, PRESETS, REAL, RECIPE, check_preset)


def _conv(n_in, n_out, ksize, stride, pad):
    return nn.Conv2d(n_in, n_out, ksize, stride=stride, padding=pad)


def _deconv(n_in, n_out, ksize, stride, pad, output_padding=0):
    return nn.ConvTranspose2d(n_in, n_out, ksize, stride=stride, padding=pad, output_padding=output_padding)


def _double(layer, h):
    """``layer``, a stride-2 transposed convolution built with output_padding=1,
    which is what makes its output exactly twice the size (Chainer's ``outsize=``)."""
    return layer(h)


# ---------------------------------------------------------------- networks
# Modules are registered in the order Chainer lists its children (by name).
class ResidualBlock(nn.Module):

    def __init__(self, channels):
        super().__init__()
        self.c0 = _conv(channels, channels, 3, 1, 0)
        self.c1 = _conv(channels, channels, 3, 1, 0)

    def forward(self, x):
        h = F.relu(instance_normalization(self.c0(reflection_pad(x, 1))))
        return x + instance_normalization(self.c1(reflection_pad(h, 1)))


class Generator(nn.Module):
    """``preset='blog'``: the U-Net; ``'paper'``: the ResNet generator.
    ``ngf``: channels of the first layer (16 / 64); ``n_blocks``: residual blocks (paper)."""

    def __init__(self, preset='blog', channels=3, ngf=None, n_blocks=9):
        super().__init__()
        self.preset = check_preset(preset)
        n = ngf or NGF[preset]
        if preset == 'blog':
            self.bnc0, self.bnc1 = batch_norm_2d(n), batch_norm_2d(2 * n)
            self.bnc2, self.bnc3 = batch_norm_2d(4 * n), batch_norm_2d(8 * n)
            self.bndc0, self.bndc1 = batch_norm_2d(4 * n), batch_norm_2d(2 * n)
            self.bndc2 = batch_norm_2d(n)
            self.c0, self.c1 = _conv(channels, n, 4, 2, 1), _conv(n, 2 * n, 4, 2, 1)
            self.c2, self.c3 = _conv(2 * n, 4 * n, 4, 2, 1), _conv(4 * n, 8 * n, 4, 2, 1)
            self.dc0, self.dc1 = _deconv(8 * n, 4 * n, 4, 2, 1), _deconv(8 * n, 2 * n, 4, 2, 1)
            self.dc2, self.dc3 = _deconv(4 * n, n, 4, 2, 1), _deconv(2 * n, channels, 4, 2, 1)
        else:
            self.c0, self.c1, self.c2 = _conv(channels, n, 7, 1, 0), _conv(n, 2 * n, 3, 2, 1), _conv(2 * n, 4 * n, 3, 2, 1)
            self.dc0, self.dc1 = _deconv(4 * n, 2 * n, 3, 2, 1, 1), _deconv(2 * n, n, 3, 2, 1, 1)
            self.out = _conv(n, channels, 7, 1, 0)
            self.res = nn.ModuleList([ResidualBlock(4 * n) for _ in range(n_blocks)])
        chainer_normal_(self, 0.02)

    def trace(self, x):
        """Yield (layer, output) after each stage, in forward order."""
        yield from (self._unet(x) if self.preset == 'blog' else self._resnet(x))

    def _unet(self, x):
        h0 = F.leaky_relu(self.bnc0(self.c0(x)), 0.2)
        yield 'c0', h0
        h1 = F.leaky_relu(self.bnc1(self.c1(h0)), 0.2)
        yield 'c1', h1
        h2 = F.leaky_relu(self.bnc2(self.c2(h1)), 0.2)
        yield 'c2', h2
        h = F.leaky_relu(self.bnc3(self.c3(h2)), 0.2)
        yield 'c3', h
        h = F.leaky_relu(self.bndc0(self.dc0(h)), 0.2)
        yield 'dc0', h
        h = F.leaky_relu(self.bndc1(self.dc1(torch.cat((h, h2), dim=1))), 0.2)
        yield 'dc1', h
        h = F.leaky_relu(self.bndc2(self.dc2(torch.cat((h, h1), dim=1))), 0.2)
        yield 'dc2', h
        yield 'dc3', torch.tanh(self.dc3(torch.cat((h, h0), dim=1)))

    def _resnet(self, x):
        h = F.relu(instance_normalization(self.c0(reflection_pad(x, 3))))
        yield 'c0', h
        h = F.relu(instance_normalization(self.c1(h)))
        yield 'c1', h
        h = F.relu(instance_normalization(self.c2(h)))
        yield 'c2', h
        for block in self.res:
            h = block(h)
        yield 'res', h
        h = F.relu(instance_normalization(_double(self.dc0, h)))
        yield 'dc0', h
        h = F.relu(instance_normalization(_double(self.dc1, h)))
        yield 'dc1', h
        yield 'out', torch.tanh(self.out(reflection_pad(h, 3)))

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


class Discriminator(nn.Module):
    """A patch map of logits (``gan_loss='sce'``, 2 channels) or scores ('lsgan', 1)."""

    def __init__(self, preset='blog', gan_loss=None, channels=3, ndf=None):
        super().__init__()
        self.preset = check_preset(preset)
        self.gan_loss = gan_loss or GAN_LOSS[preset]
        n, n_out = ndf or NDF[preset], 2 if self.gan_loss == 'sce' else 1
        last_stride = 2 if preset == 'blog' else 1
        if preset == 'blog':
            self.bn1, self.bn2, self.bn3 = (batch_norm_2d(c) for c in (2 * n, 4 * n, 8 * n))
        self.c0, self.c1, self.c2 = _conv(channels, n, 4, 2, 1), _conv(n, 2 * n, 4, 2, 1), _conv(2 * n, 4 * n, 4, 2, 1)
        self.c3 = _conv(4 * n, 8 * n, 4, last_stride, 1)
        self.c4 = _conv(8 * n, n_out, 4, last_stride, 1)
        chainer_normal_(self, 0.02)

    def _norm(self, i, h):
        return getattr(self, f'bn{i}')(h) if self.preset == 'blog' else instance_normalization(h)

    def trace(self, x):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.leaky_relu(self.c0(x), 0.2)
        yield 'c0', h
        for i, conv in ((1, self.c1), (2, self.c2), (3, self.c3)):
            h = F.leaky_relu(self._norm(i, conv(h)), 0.2)
            yield f'c{i}', h
        yield 'c4', self.c4(h)

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


# ---------------------------------------------------------------- losses
def adversarial_loss(y, label, gan_loss):
    """'sce': softmax cross-entropy of every patch against ``label``;
    'lsgan': mean squared error to 1 (REAL) or 0 (FAKE)."""
    if gan_loss == 'sce':
        return F.cross_entropy(y, torch.full((y.shape[0],) + y.shape[2:], label, dtype=torch.long, device=y.device))
    return F.mse_loss(y, torch.full_like(y, 1.0 if label == REAL else 0.0))


def cycle_loss(reconstructed, x):
    """Mean absolute error (L1), used for the cycle and the identity terms."""
    return F.l1_loss(reconstructed, x)


def generator_loss(y_fake_b, y_fake_a, x_a, rec_a, x_b, rec_b, same_a=None, same_b=None, losses=BLOG_LOSSES):
    """(adversarial part, reconstruction part, unweighted cycle L1 of both
    directions); the generators' loss is the sum of the first two.
    ``same_a = F(A)``, ``same_b = G(B)``: the identity terms, where weighted."""
    adversarial = adversarial_loss(y_fake_b, REAL, losses.gan_loss) + adversarial_loss(y_fake_a, REAL, losses.gan_loss)
    cycle = cycle_loss(rec_a, x_a) + cycle_loss(rec_b, x_b)
    reconstruction = losses.cycle * cycle
    if losses.identity:
        reconstruction = reconstruction + losses.cycle * losses.identity * (cycle_loss(same_a, x_a) + cycle_loss(same_b, x_b))
    return adversarial, reconstruction, cycle


def discriminator_loss(y_real, y_fake, losses=BLOG_LOSSES):
    return losses.dis_scale * (adversarial_loss(y_real, REAL, losses.gan_loss)
                               + adversarial_loss(y_fake, FAKE, losses.gan_loss))


# ---------------------------------------------------------------- optimizer
def make_optimizer(module, adam=None):
    return ChainerAdam(module.parameters(), **(ADAM if adam is None else adam))


# ---------------------------------------------------------------- one training step
def _pooled(pool, fake):
    """The pool's answer for the fakes of this step (the pool works in NumPy)."""
    return torch.as_tensor(pool.query(fake.detach().cpu().numpy()), device=fake.device)


def train_step(gen_ab, gen_ba, dis_a, dis_b, opt_gen_ab, opt_gen_ba, opt_dis_a, opt_dis_b, x_a, x_b,
               losses=BLOG_LOSSES, pool_a=None, pool_b=None):
    """One iteration: ``backward`` (see there), then D_A, D_B, G, F step, in that
    order; returns (loss_gen, loss_dis_a, loss_dis_b, loss_cycle)."""
    results = backward(gen_ab, gen_ba, dis_a, dis_b, x_a, x_b, losses, pool_a, pool_b)
    for optimizer in (opt_dis_a, opt_dis_b, opt_gen_ab, opt_gen_ba):
        optimizer.step()
    return results


def backward(gen_ab, gen_ba, dis_a, dis_b, x_a, x_b, losses=BLOG_LOSSES, pool_a=None, pool_b=None):
    """Every network's gradient for one iteration, none of them updated;
    returns (loss_gen, loss_dis_a, loss_dis_b, loss_cycle). The same passes
    as the Chainer ``backward`` (see there): G's gradient runs through D's
    weights as they were in this forward pass."""
    fake_b, fake_a = gen_ab(x_a), gen_ba(x_b)
    rec_a, rec_b = gen_ba(fake_b), gen_ab(fake_a)
    same_a, same_b = (gen_ba(x_a), gen_ab(x_b)) if losses.identity else (None, None)
    leaf_b, leaf_a = fake_b.detach().requires_grad_(), fake_a.detach().requires_grad_()
    y_fake_b, y_fake_a = dis_b(leaf_b), dis_a(leaf_a)
    adversarial, reconstruction, loss_cycle = generator_loss(
        y_fake_b, y_fake_a, x_a, rec_a, x_b, rec_b, same_a, same_b, losses)
    if pool_b is not None:
        y_fake_b = dis_b(_pooled(pool_b, fake_b))
        y_fake_a = dis_a(_pooled(pool_a, fake_a))
    loss_dis_a = discriminator_loss(dis_a(x_a), y_fake_a, losses)
    loss_dis_b = discriminator_loss(dis_b(x_b), y_fake_b, losses)
    grad_b, grad_a = torch.autograd.grad(adversarial, (leaf_b, leaf_a), retain_graph=True)
    for network in (gen_ab, gen_ba, dis_a, dis_b):
        network.zero_grad()
    (reconstruction + (fake_b * grad_b).sum() + (fake_a * grad_a).sum()).backward()
    (loss_dis_a + loss_dis_b).backward()
    return (adversarial + reconstruction).detach(), loss_dis_a.detach(), loss_dis_b.detach(), loss_cycle.detach()
