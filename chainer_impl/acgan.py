"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary
Classifier GANs") on MNIST, in Chainer 7.8.1.

Architecture (ours; the paper's MNIST/CIFAR networks are larger): DCGAN-style
28x28. Generator: label -> EmbedID(10, 100), multiplied element-wise with z
(100) -> Linear(100, 128*7*7) -> (128, 7, 7) -> BN, ReLU ->
Deconvolution2D(128, 64, 4, 2, 1) -> BN, ReLU -> Deconvolution2D(64, 1, 4, 2,
1) -> tanh: 7 -> 14 -> 28. Discriminator: Convolution2D(1, 64, 4, 2, 1),
leaky ReLU 0.2 -> Convolution2D(64, 128, 4, 2, 1), BN, leaky ReLU 0.2 ->
flatten (6272) -> two heads: Linear(6272, 1), the source logit (real = 1),
and Linear(6272, 10), the class logits. Chainer's defaults: LeCun-normal
weights, zero biases, N(0, 1) embeddings, BN eps 2e-5 and decay 0.9; Adam
alpha 2e-4, beta1 0.5.

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

from gan_common.models.acgan import ADAM, FAKE, N_CLASSES, REAL, RECIPE, Z_DIM  # noqa: F401


# ---------------------------------------------------------------- networks
# Children are listed by name: Chainer orders parameters by child name, and
# the PyTorch port registers its modules in this same order.
class Generator(chainer.Chain):

    def __init__(self, z_dim=Z_DIM, n_classes=N_CLASSES):
        super().__init__()
        self.z_dim = z_dim
        with self.init_scope():
            self.bn0 = L.BatchNormalization(128)
            self.bn1 = L.BatchNormalization(64)
            self.dc1 = L.Deconvolution2D(128, 64, 4, stride=2, pad=1)
            self.dc2 = L.Deconvolution2D(64, 1, 4, stride=2, pad=1)
            self.embed = L.EmbedID(n_classes, z_dim)
            self.l0 = L.Linear(z_dim, 128 * 7 * 7)

    def trace(self, z, labels):
        """Yield (layer, output) after each stage, in forward order."""
        h = z * self.embed(labels)
        yield 'embed', h
        h = F.relu(self.bn0(F.reshape(self.l0(h), (len(h), 128, 7, 7))))
        yield 'l0', h
        h = F.relu(self.bn1(self.dc1(h)))
        yield 'dc1', h
        yield 'dc2', F.tanh(self.dc2(h))

    def forward(self, z, labels):
        for _, h in self.trace(z, labels):
            pass
        return h


class Discriminator(chainer.Chain):

    def __init__(self, n_classes=N_CLASSES):
        super().__init__()
        with self.init_scope():
            self.bn1 = L.BatchNormalization(128)
            self.c0 = L.Convolution2D(1, 64, 4, stride=2, pad=1)
            self.c1 = L.Convolution2D(64, 128, 4, stride=2, pad=1)
            self.cls = L.Linear(128 * 7 * 7, n_classes)
            self.src = L.Linear(128 * 7 * 7, 1)

    def trace(self, x):
        """Yield (layer, output) after each stage, in forward order."""
        h = F.leaky_relu(self.c0(x), 0.2)
        yield 'c0', h
        h = F.leaky_relu(self.bn1(self.c1(h)), 0.2)
        yield 'c1', h
        yield 'src', self.src(h)  # L.Linear flattens (N, 128, 7, 7) itself
        yield 'cls', self.cls(h)

    def forward(self, x):
        """(source logit (N, 1), class logits (N, 10))."""
        heads = dict(self.trace(x))
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
def train_step(gen, dis, opt_gen, opt_dis, x_real, labels_real, z, labels_fake):
    """D steps first, on the real batch and the fake batch G(z, labels_fake)
    (no gradient into G); then G, on the same fake batch, through the updated D."""
    x_fake = gen(z, labels_fake)
    src_real, cls_real = dis(x_real)
    src_fake, cls_fake = dis(x_fake.array)
    loss_dis = discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake)
    dis.cleargrads()
    loss_dis.backward()
    opt_dis.update()
    src_fake, cls_fake = dis(x_fake)
    loss_gen = generator_loss(src_fake, cls_fake, labels_fake)
    gen.cleargrads()
    loss_gen.backward()
    opt_gen.update()
    return loss_gen, loss_dis
