# The DCGAN of the blog post, written as Chainer v1 code of late 2016:
# links passed to the Chain constructor, wscale, test= flags.
import math

import chainer
import chainer.functions as F
import chainer.links as L

nz = 100


class Generator(chainer.Chain):
    def __init__(self):
        super(Generator, self).__init__(
            l1=L.Linear(nz, 3 * 3 * 512, wscale=0.02 * math.sqrt(nz)),
            dc1=L.Deconvolution2D(512, 256, 2, stride=2, pad=1, wscale=0.02 * math.sqrt(3 * 3 * 512)),
            dc2=L.Deconvolution2D(256, 128, 2, stride=2, pad=1, wscale=0.02 * math.sqrt(2 * 2 * 256)),
            dc3=L.Deconvolution2D(128, 64, 2, stride=2, pad=1, wscale=0.02 * math.sqrt(2 * 2 * 128)),
            dc4=L.Deconvolution2D(64, 1, 3, stride=3, pad=1, wscale=0.02 * math.sqrt(3 * 3 * 64)),
            bn1=L.BatchNormalization(512),
            bn2=L.BatchNormalization(256),
            bn3=L.BatchNormalization(128),
            bn4=L.BatchNormalization(64),
        )

    def __call__(self, z, test=False):
        h = F.relu(self.bn1(F.reshape(self.l1(z), (z.data.shape[0], 512, 3, 3)), test=test))
        h = F.relu(self.bn2(self.dc1(h), test=test))
        h = F.relu(self.bn3(self.dc2(h), test=test))
        h = F.relu(self.bn4(self.dc3(h), test=test))
        return self.dc4(h)


class Discriminator(chainer.Chain):
    def __init__(self):
        super(Discriminator, self).__init__(
            c1=L.Convolution2D(1, 64, 3, stride=3, pad=1, wscale=0.02 * math.sqrt(3 * 3 * 1)),
            c2=L.Convolution2D(64, 128, 2, stride=2, pad=1, wscale=0.02 * math.sqrt(2 * 2 * 64)),
            c3=L.Convolution2D(128, 256, 2, stride=2, pad=1, wscale=0.02 * math.sqrt(2 * 2 * 128)),
            c4=L.Convolution2D(256, 512, 2, stride=2, pad=1, wscale=0.02 * math.sqrt(2 * 2 * 256)),
            l1=L.Linear(3 * 3 * 512, 2, wscale=0.02 * math.sqrt(3 * 3 * 512)),
            bn1=L.BatchNormalization(128),
            bn2=L.BatchNormalization(256),
            bn3=L.BatchNormalization(512),
        )

    def __call__(self, x, test=False):
        h = F.relu(self.c1(x))
        h = F.relu(self.bn1(self.c2(h), test=test))
        h = F.relu(self.bn2(self.c3(h), test=test))
        h = F.relu(self.bn3(self.c4(h), test=test))
        return self.l1(h)
