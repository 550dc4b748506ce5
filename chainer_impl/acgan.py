"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary
Classifier GANs") on MNIST, in Chainer 7.8.1.

Architecture: the paper's CIFAR-10 networks (its appendix), adapted to
28x28x1 (``image_size=32, channels=3`` builds them at CIFAR's 32x32x3).
Generator: z (100) concatenated with the one-hot class (10) -> Linear(110,
384*4*4) -> ReLU -> three 5x5 stride-2 transposed convolutions 384 -> 192 ->
96 -> channels, BN and ReLU after the first two, tanh at the end. The
adaptation: the first one grows 4 -> 7 instead of 4 -> 8 (then 14, 28), i.e.
TensorFlow's 'same' padding (pad 2, and one extra output row and column where
the size doubles: Chainer's ``outsize``). Discriminator: six 3x3 convolutions
(pad 1) of 16, 32, 64, 128, 256, 512 channels with strides 2, 1, 2, 1, 2, 1
(28 -> 14 -> 14 -> 7 -> 7 -> 4 -> 4; at 32x32: 16, 16, 8, 8, 4, 4), each
followed by BN (all but the first), LeakyReLU 0.2 and dropout 0.5; then two
heads on the flattened 512*4*4 features: Linear(8192, 1), the source logit
(real = 1), and Linear(8192, 10), the class logits. Chainer's defaults:
LeCun-normal weights, zero biases, BN eps 2e-5 and decay 0.9; Adam alpha 2e-4,
beta1 0.5 (the paper's).

Dropout masks come from the shared ``RandomStream`` (``train_step``'s
``dropout``, a ``gan_common.streams.DropoutMasks``), so both frameworks drop
the same units; the discriminator called without masks applies no dropout
(as at test time).

Losses. The paper's log-likelihoods of the correct source and class are
L_S = E[log P(S=real | x_real)] + E[log P(S=fake | x_fake)] and
L_C = E[log P(C=c | x_real)] + E[log P(C=c | x_fake)]; D maximises L_S + L_C,
G maximises L_C - L_S. As minimised here:

* D: BCE(source(x_real), 1) + BCE(source(x_fake), 0) + CE(class(x_real), c_real)
  + CE(class(x_fake), c_fake), i.e. -(L_S + L_C) with batch means;
* G: BCE(source(x_fake), 1) + CE(class(x_fake), c_fake). The source term is the
  usual non-saturating -log D(G(z)), not the paper's literal saturating
  log(1 - D(G(z))) from "maximise -L_S"; G's class term is the fake half of L_C.

BCE is sigmoid cross-entropy on the source logit; CE is ONE softmax
cross-entropy on the class logits (a popular PyTorch version applies softmax
in the model and again inside ``cross_entropy``).
"""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from gan_common.models.acgan import (  # noqa: F401
    ADAM, CHANNELS, CONVOLUTIONS, DROPOUT, FAKE, IMAGE_SIZE, N_CLASSES, REAL, RECIPE, Z_DIM, upsampled_sizes)


# ---------------------------------------------------------------- networks
# Children are listed by name: Chainer orders parameters by child name, and
# the PyTorch port registers its modules in this same order.
class Generator(chainer.Chain):

    def __init__(self, z_dim=Z_DIM, n_classes=N_CLASSES, image_size=IMAGE_SIZE, channels=CHANNELS):
        super().__init__()
        self.z_dim = z_dim
        self.n_classes = n_classes
        sizes = upsampled_sizes(image_size)
        with self.init_scope():
            self.bn1 = L.BatchNormalization(192)
            self.bn2 = L.BatchNormalization(96)
            self.dc1 = L.Deconvolution2D(384, 192, 5, stride=2, pad=2, outsize=(sizes[1],) * 2)
            self.dc2 = L.Deconvolution2D(192, 96, 5, stride=2, pad=2, outsize=(sizes[2],) * 2)
            self.dc3 = L.Deconvolution2D(96, channels, 5, stride=2, pad=2, outsize=(sizes[3],) * 2)
            self.l0 = L.Linear(z_dim + n_classes, 384 * 4 * 4)

    def trace(self, z, labels):
        """Yield (layer, output) after each stage, in forward order."""
        one_hot = chainer.backend.get_array_module(z).eye(self.n_classes, dtype=z.dtype)[labels]
        h = F.concat((z, one_hot))
        yield 'input', h
        h = F.relu(F.reshape(self.l0(h), (len(h), 384, 4, 4)))
        yield 'l0', h
        h = F.relu(self.bn1(self.dc1(h)))
        yield 'dc1', h
        h = F.relu(self.bn2(self.dc2(h)))
        yield 'dc2', h
        yield 'dc3', F.tanh(self.dc3(h))

    def forward(self, z, labels):
        for _, h in self.trace(z, labels):
            pass
        return h


class Discriminator(chainer.Chain):

    def __init__(self, n_classes=N_CLASSES, channels=CHANNELS):
        super().__init__()
        widths = [channels] + [width for width, _ in CONVOLUTIONS]
        with self.init_scope():
            for i in range(1, len(CONVOLUTIONS)):
                setattr(self, f'bn{i}', L.BatchNormalization(widths[i + 1]))
            for i, (width, stride) in enumerate(CONVOLUTIONS):
                setattr(self, f'c{i}', L.Convolution2D(widths[i], width, 3, stride=stride, pad=1))
            self.cls = L.Linear(512 * 4 * 4, n_classes)
            self.src = L.Linear(512 * 4 * 4, 1)

    def trace(self, x, dropout=None):
        """Yield (layer, output) after each stage, in forward order."""
        h = x
        for i in range(len(CONVOLUTIONS)):
            h = getattr(self, f'c{i}')(h)
            if i > 0:
                h = getattr(self, f'bn{i}')(h)
            h = F.leaky_relu(h, 0.2)
            if dropout is not None:
                h = h * chainer.backend.get_array_module(h).asarray(dropout(h.shape, DROPOUT), h.dtype)
            yield f'c{i}', h
        yield 'src', self.src(h)  # L.Linear flattens (N, 512, 4, 4) itself
        yield 'cls', self.cls(h)

    def forward(self, x, dropout=None):
        """(source logit (N, 1), class logits (N, 10))."""
        heads = dict(self.trace(x, dropout))
        return heads['src'], heads['cls']


# ---------------------------------------------------------------- losses
def source_loss(y, label):
    """Sigmoid cross-entropy of the source logit against REAL or FAKE."""
    return F.sigmoid_cross_entropy(y, chainer.backend.get_array_module(y).full(y.shape, label, dtype=np.int32))


def class_loss(logits, labels):
    """One softmax cross-entropy: -mean(log softmax(logits)[label])."""
    return F.softmax_cross_entropy(logits, labels)


def discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake):
    return (source_loss(src_real, REAL) + source_loss(src_fake, FAKE)
            + class_loss(cls_real, labels_real) + class_loss(cls_fake, labels_fake))


def generator_loss(src_fake, cls_fake, labels_fake):
    return source_loss(src_fake, REAL) + class_loss(cls_fake, labels_fake)


# ---------------------------------------------------------------- optimizer
def make_optimizer(link, adam=None):
    optimizer = chainer.optimizers.Adam(**(ADAM if adam is None else adam))
    optimizer.setup(link)
    return optimizer


# ---------------------------------------------------------------- one training step
def train_step(gen, dis, opt_gen, opt_dis, x_real, labels_real, z, labels_fake, dropout=None):
    """D steps first, on the real batch and the fake batch G(z, labels_fake)
    (no gradient into G); then G, on the same fake batch, through the updated D.
    Each of the three D passes draws its own dropout masks from ``dropout``."""
    x_fake = gen(z, labels_fake)
    src_real, cls_real = dis(x_real, dropout)
    src_fake, cls_fake = dis(x_fake.array, dropout)
    loss_dis = discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake)
    dis.cleargrads()
    loss_dis.backward()
    opt_dis.update()
    src_fake, cls_fake = dis(x_fake, dropout)
    loss_gen = generator_loss(src_fake, cls_fake, labels_fake)
    gen.cleargrads()
    loss_gen.backward()
    opt_gen.update()
    return loss_gen, loss_dis
