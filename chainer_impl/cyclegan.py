"""CycleGAN (Zhu et al. 2017) in Chainer 7.8.1, two presets.

``blog`` (IKEP's Chainer post). Generator: a U-Net. Down: four
Convolution2D(k4, s2, p1), 3 -> 16 -> 32 -> 64 -> 128, each with BN and leaky
ReLU 0.2. Up: Deconvolution2D(128, 64), then the matching down feature is
concatenated (after the up feature) before Deconvolution2D(128, 32),
Deconvolution2D(64, 16) and Deconvolution2D(32, 3) (all k4, s2, p1); BN and
leaky ReLU after every up layer but the last, tanh at the end.
Discriminator: Convolution2D(3, 16, 4, 2, 1), leaky ReLU; three more with
BN and leaky ReLU up to 128 channels; Convolution2D(128, C, 4, 2, 1): a
C-channel patch map. C = 2 with softmax cross-entropy (class 0 = real,
1 = translated, as the DCGAN), or C = 1 with ``gan_loss='lsgan'``. BN is
Chainer's (eps 2e-5, decay 0.9; gamma 1, beta 0) in both frameworks.

``paper`` (the paper and its reference implementation). Generator: ResNet,
reflection pad 3, 7x7 conv to 64, two stride-2 3x3 convs (128, 256),
``n_blocks`` residual blocks (reflection pad 1, 3x3 conv, IN, ReLU, again
without ReLU, plus the input), two transposed 3x3 convs (s2, p1, output
padding 1, written ``outsize=`` in Chainer), reflection pad 3, 7x7 conv,
tanh; instance normalisation without affine parameters and ReLU after every
conv but the last. Discriminator: the 70x70 PatchGAN, k4 p1 convs 64 (s2,
no norm), 128 (s2), 256 (s2), 512 (s1), 1 (s1), IN and leaky ReLU 0.2.

Both: every convolution weight N(0, 0.02), biases 0.
"""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from chainer_impl.functions import instance_normalization, reflection_pad
from gan_common.cycle import BLOG_LOSSES
from gan_common.models.cyclegan import (  # noqa: F401
    ADAM, FAKE, GAN_LOSS, NDF, NGF, PRESETS, REAL, RECIPE, check_preset)


def _conv(n_in, n_out, ksize, stride, pad):
    return L.Convolution2D(n_in, n_out, ksize, stride=stride, pad=pad, initialW=chainer.initializers.Normal(0.02))


def _deconv(n_in, n_out, ksize, stride, pad):
    return L.Deconvolution2D(n_in, n_out, ksize, stride=stride, pad=pad, initialW=chainer.initializers.Normal(0.02))


def _double(link, h):
    """A stride-2 transposed convolution to exactly twice the size (PyTorch's output_padding=1)."""
    return F.deconvolution_2d(h, link.W, link.b, stride=link.stride, pad=link.pad,
                              outsize=(2 * h.shape[2], 2 * h.shape[3]))


# ---------------------------------------------------------------- networks
# Children are listed by name: Chainer orders parameters by child name, and
# the PyTorch port registers its modules in this same order.
class ResidualBlock(chainer.Chain):

    def __init__(self, channels):
        super().__init__()
        with self.init_scope():
            self.c0 = _conv(channels, channels, 3, 1, 0)
            self.c1 = _conv(channels, channels, 3, 1, 0)

    def forward(self, x):
        h = F.relu(instance_normalization(self.c0(reflection_pad(x, 1))))
        return x + instance_normalization(self.c1(reflection_pad(h, 1)))


class Generator(chainer.Chain):
    """``preset='blog'``: the U-Net; ``'paper'``: the ResNet generator.
    ``ngf``: channels of the first layer (16 / 64); ``n_blocks``: residual blocks (paper)."""

    def __init__(self, preset='blog', channels=3, ngf=None, n_blocks=9):
        super().__init__()
        self.preset = check_preset(preset)
        n = ngf or NGF[preset]
        with self.init_scope():
            if preset == 'blog':
                self.bnc0, self.bnc1 = L.BatchNormalization(n), L.BatchNormalization(2 * n)
                self.bnc2, self.bnc3 = L.BatchNormalization(4 * n), L.BatchNormalization(8 * n)
                self.bndc0, self.bndc1 = L.BatchNormalization(4 * n), L.BatchNormalization(2 * n)
                self.bndc2 = L.BatchNormalization(n)
                self.c0, self.c1 = _conv(channels, n, 4, 2, 1), _conv(n, 2 * n, 4, 2, 1)
                self.c2, self.c3 = _conv(2 * n, 4 * n, 4, 2, 1), _conv(4 * n, 8 * n, 4, 2, 1)
                self.dc0, self.dc1 = _deconv(8 * n, 4 * n, 4, 2, 1), _deconv(8 * n, 2 * n, 4, 2, 1)
                self.dc2, self.dc3 = _deconv(4 * n, n, 4, 2, 1), _deconv(2 * n, channels, 4, 2, 1)
            else:
                self.c0, self.c1, self.c2 = _conv(channels, n, 7, 1, 0), _conv(n, 2 * n, 3, 2, 1), _conv(2 * n, 4 * n, 3, 2, 1)
                self.dc0, self.dc1 = _deconv(4 * n, 2 * n, 3, 2, 1), _deconv(2 * n, n, 3, 2, 1)
                self.out = _conv(n, channels, 7, 1, 0)
                self.res = chainer.ChainList(*[ResidualBlock(4 * n) for _ in range(n_blocks)])

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
        h = F.leaky_relu(self.bndc1(self.dc1(F.concat((h, h2)))), 0.2)
        yield 'dc1', h
        h = F.leaky_relu(self.bndc2(self.dc2(F.concat((h, h1)))), 0.2)
        yield 'dc2', h
        yield 'dc3', F.tanh(self.dc3(F.concat((h, h0))))

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
        yield 'out', F.tanh(self.out(reflection_pad(h, 3)))

    def forward(self, x):
        for _, h in self.trace(x):
            pass
        return h


class Discriminator(chainer.Chain):
    """A patch map of logits (``gan_loss='sce'``, 2 channels) or scores ('lsgan', 1)."""

    def __init__(self, preset='blog', gan_loss=None, channels=3, ndf=None):
        super().__init__()
        self.preset = check_preset(preset)
        self.gan_loss = gan_loss or GAN_LOSS[preset]
        n, n_out = ndf or NDF[preset], 2 if self.gan_loss == 'sce' else 1
        last_stride = 2 if preset == 'blog' else 1
        with self.init_scope():
            if preset == 'blog':
                self.bn1, self.bn2, self.bn3 = (L.BatchNormalization(c) for c in (2 * n, 4 * n, 8 * n))
            self.c0, self.c1, self.c2 = _conv(channels, n, 4, 2, 1), _conv(n, 2 * n, 4, 2, 1), _conv(2 * n, 4 * n, 4, 2, 1)
            self.c3 = _conv(4 * n, 8 * n, 4, last_stride, 1)
            self.c4 = _conv(8 * n, n_out, 4, last_stride, 1)

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
    xp = chainer.backend.get_array_module(y)
    if gan_loss == 'sce':
        return F.softmax_cross_entropy(y, xp.full((y.shape[0],) + y.shape[2:], label, dtype=np.int32))
    return F.mean_squared_error(y, xp.full(y.shape, 1.0 if label == REAL else 0.0, dtype=y.dtype))


def cycle_loss(reconstructed, x):
    """Mean absolute error (L1), used for the cycle and the identity terms."""
    return F.mean_absolute_error(reconstructed, x)


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
def make_optimizer(link, adam=None):
    optimizer = chainer.optimizers.Adam(**(ADAM if adam is None else adam))
    optimizer.setup(link)
    return optimizer


# ---------------------------------------------------------------- one training step
def _pooled(pool, fake, device):
    """The pool's answer for the fakes of this step (the pool works in NumPy)."""
    return device.send(pool.query(chainer.backend.CpuDevice().send(fake.array)))


def train_step(gen_ab, gen_ba, dis_a, dis_b, opt_gen_ab, opt_gen_ba, opt_dis_a, opt_dis_b, x_a, x_b,
               losses=BLOG_LOSSES, pool_a=None, pool_b=None):
    """One iteration: ``backward`` (see there), then D_A, D_B, G, F step, in that
    order; returns (loss_gen, loss_dis_a, loss_dis_b, loss_cycle)."""
    results = backward(gen_ab, gen_ba, dis_a, dis_b, x_a, x_b, losses, pool_a, pool_b)
    for optimizer in (opt_dis_a, opt_dis_b, opt_gen_ab, opt_gen_ba):
        optimizer.update()
    return results


def backward(gen_ab, gen_ba, dis_a, dis_b, x_a, x_b, losses=BLOG_LOSSES, pool_a=None, pool_b=None):
    """Every network's gradient for one iteration, none of them updated;
    returns (loss_gen, loss_dis_a, loss_dis_b, loss_cycle).

    Each network runs forward once on each of its inputs. The discriminators
    see the translations through leaves cut from the generators' graph.
    Every gradient is taken before any parameter changes, so "D steps first,
    then G steps on D's outputs computed before that update" means exactly:
    G's gradient runs through D's weights and BN batch statistics as they
    were in this forward pass.
    With pools, each discriminator is scored on the pool's answer (a second
    forward pass on it) instead of this step's translations."""
    fake_b, fake_a = gen_ab(x_a), gen_ba(x_b)
    rec_a, rec_b = gen_ba(fake_b), gen_ab(fake_a)
    same_a, same_b = (gen_ba(x_a), gen_ab(x_b)) if losses.identity else (None, None)
    leaf_b, leaf_a = chainer.Variable(fake_b.array), chainer.Variable(fake_a.array)
    y_fake_b, y_fake_a = dis_b(leaf_b), dis_a(leaf_a)
    adversarial, reconstruction, loss_cycle = generator_loss(
        y_fake_b, y_fake_a, x_a, rec_a, x_b, rec_b, same_a, same_b, losses)
    if pool_b is not None:
        y_fake_b = dis_b(_pooled(pool_b, fake_b, dis_b.device))
        y_fake_a = dis_a(_pooled(pool_a, fake_a, dis_a.device))
    loss_dis_a = discriminator_loss(dis_a(x_a), y_fake_a, losses)
    loss_dis_b = discriminator_loss(dis_b(x_b), y_fake_b, losses)
    grad_b, grad_a = chainer.grad([adversarial], [leaf_b, leaf_a])
    for network in (gen_ab, gen_ba, dis_a, dis_b):
        network.cleargrads()
    (reconstruction + F.sum(fake_b * grad_b.array) + F.sum(fake_a * grad_a.array)).backward()
    (loss_dis_a + loss_dis_b).backward()
    return adversarial + reconstruction, loss_dis_a, loss_dis_b, loss_cycle
