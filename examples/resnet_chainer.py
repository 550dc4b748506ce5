"""A small residual network in Chainer 7.8.1, to show ``check_port`` on a
model that is not one of the project's: a stem convolution, two residual
blocks (conv, BN, ReLU, conv, BN, add, ReLU), global average pooling and a
lazily sized linear classifier. Input (N, 3, H, W)."""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L


class ResBlock(chainer.Chain):

    def __init__(self, channels):
        super().__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(channels, channels, 3, pad=1, nobias=True)
            self.bn1 = L.BatchNormalization(channels)
            self.conv2 = L.Convolution2D(channels, channels, 3, pad=1, nobias=True)
            self.bn2 = L.BatchNormalization(channels)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(h)))


class ResNet(chainer.Chain):

    def __init__(self, channels=16, n_classes=10):
        super().__init__()
        with self.init_scope():
            self.stem = L.Convolution2D(3, channels, 3, pad=1)
            self.block1 = ResBlock(channels)
            self.block2 = ResBlock(channels)
            self.head = L.Linear(None, n_classes)

    def forward(self, x):
        h = self.block2(self.block1(F.relu(self.stem(x))))
        return self.head(F.average_pooling_2d(h, h.shape[2:]))
