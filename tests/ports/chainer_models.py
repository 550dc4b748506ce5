"""Small Chainer models for the port checker's tests, each exercising some of
the catalogue's differences (their ports: ``torch_ports.py``)."""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L


class ConvNet(chainer.Chain):
    """(N, 3, 8, 8): conv, BN, leaky ReLU, max pooling (cover_all: 8 -> 5),
    strided conv (5 -> 3), ReLU, a lazily sized linear layer (54 -> 5)."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(3, 4, 3, pad=1)
            self.bn1 = L.BatchNormalization(4)
            self.conv2 = L.Convolution2D(4, 6, 3, stride=2, pad=1)
            self.fc = L.Linear(None, 5)

    def forward(self, x):
        h = F.max_pooling_2d(F.leaky_relu(self.bn1(self.conv1(x))), 3, 2, pad=1)
        h = F.relu(self.conv2(h))
        return self.fc(h)


class DeconvNet(chainer.Chain):
    """(N, 6): a linear layer without bias, reshape to (4, 5, 5), ReLU, a
    deconvolution with outsize (10, 10), softmax over the channels."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l0 = L.Linear(6, 4 * 5 * 5, nobias=True)
            self.dc = L.Deconvolution2D(4, 3, 3, stride=2, pad=1, outsize=(10, 10))

    def forward(self, z):
        h = F.relu(F.reshape(self.l0(z), (len(z), 4, 5, 5)))
        return F.softmax(self.dc(h))


class PadPoolNet(chainer.Chain):
    """(N, 2, 6, 6): conv, ReLU, average pooling with padding, reflection
    padding (F.pad, whose backward is wrong), conv."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.c1 = L.Convolution2D(2, 3, 3, pad=1)
            self.c2 = L.Convolution2D(3, 2, 3)

    def forward(self, x):
        h = F.average_pooling_2d(F.relu(self.c1(x)), 3, 1, 1)
        return self.c2(F.pad(h, ((0, 0), (0, 0), (1, 1), (1, 1)), mode='reflect'))


class DropoutNet(chainer.Chain):
    """(N, 8): linear, ReLU, dropout 0.5, linear."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l1 = L.Linear(8, 16)
            self.l2 = L.Linear(16, 3)

    def forward(self, x):
        return self.l2(F.dropout(F.relu(self.l1(x)), 0.5))


class LogSigmoidNet(chainer.Chain):
    """(N, 4): a linear layer with large weights, then log(sigmoid(.)): many
    pre-activations lie below -37, where Chainer's sigmoid is exactly 0."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l1 = L.Linear(4, 6, initialW=chainer.initializers.Normal(30.0))

    def forward(self, x):
        return F.log(F.sigmoid(self.l1(x)))


class SharedNet(chainer.Chain):
    """(N, 4): one linear layer applied twice."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l = L.Linear(4, 4)

    def forward(self, x):
        return self.l(F.relu(self.l(x)))


class EmbedNet(chainer.Chain):
    """(N,) int32 labels: an embedding, then a linear layer."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.embed = L.EmbedID(7, 5)
            self.out = L.Linear(5, 2)

    def forward(self, labels):
        return self.out(F.tanh(self.embed(labels)))


def needs_arguments(width):
    return ConvNet()
