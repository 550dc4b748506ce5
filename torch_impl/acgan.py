"""PyTorch port of the AC-GAN (see ``chainer_impl/acgan.py`` for the
architecture and the losses, and how they relate to the paper's).

Same layers, names and parameter order as the Chainer model (the paper's
networks adapted to 28x28x1), the same dropout masks (from the shared
stream), Chainer's initialiser statistics and batch normalisation, the same losses (sigmoid
cross-entropy on the source logit, ONE softmax cross-entropy on the class
logits), the same update order, and Chainer's Adam (``ChainerAdam``).
"""
import torch
import torch.nn.functional as F
from torch import nn

from torch_impl.chainer_semantics import batch_norm_2d, lecun_normal_
from torch_impl.optim import ChainerAdam
from gan_common.models.acgan import (  # noqa: F401
    ADAM, CHANNELS, CONVOLUTIONS, DROPOUT, FAKE, IMAGE_SIZE, N_CLASSES, REAL, RECIPE, Z_DIM, upsampled_sizes)


def same_deconvolution(in_channels, out_channels, in_size, out_size):
    """5x5 stride-2 transposed convolution, pad 2, ``output_padding`` for the
    extra row and column of a doubled size (Chainer's ``outsize``)."""
    return nn.ConvTranspose2d(in_channels, out_channels, 5, stride=2, padding=2,
                              output_padding=out_size - (2 * in_size - 1))


# ---------------------------------------------------------------- networks
# Modules are registered in the order Chainer lists its children (by name).
class Generator(nn.Module):

    def __init__(self, z_dim=Z_DIM, n_classes=N_CLASSES, image_size=IMAGE_SIZE, channels=CHANNELS):
        super().__init__()
        self.z_dim = z_dim
        self.n_classes = n_classes
        sizes = upsampled_sizes(image_size)
        self.bn1 = batch_norm_2d(192)
        self.bn2 = batch_norm_2d(96)
        self.dc1 = same_deconvolution(384, 192, sizes[0], sizes[1])
        self.dc2 = same_deconvolution(192, 96, sizes[1], sizes[2])
        self.dc3 = same_deconvolution(96, channels, sizes[2], sizes[3])
        self.l0 = nn.Linear(z_dim + n_classes, 384 * 4 * 4)
        lecun_normal_(self)

    def trace(self, z, labels):
        """Yield (layer, output) after each stage, in forward order."""
        h = torch.cat((z, F.one_hot(labels.long(), self.n_classes).to(z.dtype)), dim=1)
        yield 'input', h
        h = F.relu(self.l0(h).reshape(len(h), 384, 4, 4))
        yield 'l0', h
        h = F.relu(self.bn1(self.dc1(h)))
        yield 'dc1', h
        h = F.relu(self.bn2(self.dc2(h)))
        yield 'dc2', h
        yield 'dc3', torch.tanh(self.dc3(h))

    def forward(self, z, labels):
        for _, h in self.trace(z, labels):
            pass
        return h


class Discriminator(nn.Module):

    def __init__(self, n_classes=N_CLASSES, channels=CHANNELS):
        super().__init__()
        widths = [channels] + [width for width, _ in CONVOLUTIONS]
        for i in range(1, len(CONVOLUTIONS)):
            setattr(self, f'bn{i}', batch_norm_2d(widths[i + 1]))
        for i, (width, stride) in enumerate(CONVOLUTIONS):
            setattr(self, f'c{i}', nn.Conv2d(widths[i], width, 3, stride=stride, padding=1))
        self.cls = nn.Linear(512 * 4 * 4, n_classes)
        self.src = nn.Linear(512 * 4 * 4, 1)
        lecun_normal_(self)

    def trace(self, x, dropout=None):
        """Yield (layer, output) after each stage, in forward order."""
        h = x
        for i in range(len(CONVOLUTIONS)):
            h = getattr(self, f'c{i}')(h)
            if i > 0:
                h = getattr(self, f'bn{i}')(h)
            h = F.leaky_relu(h, 0.2)
            if dropout is not None:
                h = h * h.new_tensor(dropout(h.shape, DROPOUT))
            yield f'c{i}', h
        yield 'src', self.src(h.flatten(1))  # nn.Linear acts on the last axis only
        yield 'cls', self.cls(h.flatten(1))

    def forward(self, x, dropout=None):
        """(source logit (N, 1), class logits (N, 10))."""
        heads = dict(self.trace(x, dropout))
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
def train_step(gen, dis, opt_gen, opt_dis, x_real, labels_real, z, labels_fake, dropout=None):
    """D steps first, on the real batch and the fake batch G(z, labels_fake)
    (detached); then G, on the same fake batch, through the updated D.
    Each of the three D passes draws its own dropout masks from ``dropout``."""
    x_fake = gen(z, labels_fake)
    src_real, cls_real = dis(x_real, dropout)
    src_fake, cls_fake = dis(x_fake.detach(), dropout)
    loss_dis = discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake)
    opt_dis.zero_grad()
    loss_dis.backward()
    opt_dis.step()
    src_fake, cls_fake = dis(x_fake, dropout)
    loss_gen = generator_loss(src_fake, cls_fake, labels_fake)
    opt_gen.zero_grad()
    loss_gen.backward()
    opt_gen.step()
    return loss_gen.detach(), loss_dis.detach()
