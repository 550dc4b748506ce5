#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""DCGAN on MNIST, Chainer v1.17 style (late 2016), Python 2: networks built
with positional wscale, batch normalisation switched with test=, zero_grads,
samples written with scipy.misc.imsave, models pickled every epoch."""
import argparse
import math
import os
import pickle

import numpy as np
from scipy.misc import imsave
from sklearn.datasets import fetch_mldata

import chainer
from chainer import cuda, optimizers, Variable
import chainer.functions as F
import chainer.links as L

nz = 100


class Generator(chainer.Chain):
    def __init__(self):
        super(Generator, self).__init__(
            l1=L.Linear(nz, 3 * 3 * 512, 0.02 * math.sqrt(nz)),
            dc1=L.Deconvolution2D(512, 256, 2, 2, 1, 0.02 * math.sqrt(3 * 3 * 512)),
            dc2=L.Deconvolution2D(256, 128, 2, 2, 1, 0.02 * math.sqrt(2 * 2 * 256)),
            dc3=L.Deconvolution2D(128, 64, 2, 2, 1, 0.02 * math.sqrt(2 * 2 * 128)),
            dc4=L.Deconvolution2D(64, 1, 3, 3, 1, 0.02 * math.sqrt(3 * 3 * 64)),
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
            c1=L.Convolution2D(1, 64, 3, 3, 1, 0.02 * math.sqrt(3 * 3 * 1)),
            c2=L.Convolution2D(64, 128, 2, 2, 1, 0.02 * math.sqrt(2 * 2 * 64)),
            c3=L.Convolution2D(128, 256, 2, 2, 1, 0.02 * math.sqrt(2 * 2 * 128)),
            c4=L.Convolution2D(256, 512, 2, 2, 1, 0.02 * math.sqrt(2 * 2 * 256)),
            l1=L.Linear(3 * 3 * 512, 2, 0.02 * math.sqrt(3 * 3 * 512)),
            bn1=L.BatchNormalization(128),
            bn2=L.BatchNormalization(256),
            bn3=L.BatchNormalization(512),
        )

    def __call__(self, x, test=False):
        h = F.leaky_relu(self.c1(x))
        h = F.leaky_relu(self.bn1(self.c2(h), test=test))
        h = F.leaky_relu(self.bn2(self.c3(h), test=test))
        h = F.leaky_relu(self.bn3(self.c4(h), test=test))
        return self.l1(h)


parser = argparse.ArgumentParser()
parser.add_argument('--gpu', type=int, default=-1)
parser.add_argument('--epoch', type=int, default=100)
parser.add_argument('--n_train', type=int, default=60000)
parser.add_argument('--batchsize', type=int, default=100)
parser.add_argument('--out', default='out_images')
args = parser.parse_args()

if args.gpu >= 0:
    cuda.get_device(args.gpu).use()
xp = cuda.cupy if args.gpu >= 0 else np

mnist = fetch_mldata('MNIST original')
x_train = (mnist.data[:args.n_train].astype(np.float32) / 255.).reshape((-1, 1, 28, 28))
N = len(x_train)
print 'training on', N, 'images,', N / args.batchsize, 'batches an epoch'
if not os.path.exists(args.out):
    os.makedirs(args.out)

gen = Generator()
dis = Discriminator()
if args.gpu >= 0:
    gen.to_gpu()
    dis.to_gpu()
o_gen = optimizers.Adam(alpha=0.0002, beta1=0.5)
o_dis = optimizers.Adam(alpha=0.0002, beta1=0.5)
o_gen.setup(gen)
o_dis.setup(dis)
o_gen.add_hook(chainer.optimizer.WeightDecay(0.00001))
o_dis.add_hook(chainer.optimizer.WeightDecay(0.00001))

np.random.seed(1234)
z_fixed = np.random.uniform(-1, 1, (25, nz)).astype(np.float32)

for epoch in xrange(args.epoch):
    perm = np.random.permutation(N)
    sum_l_dis = np.float32(0)
    sum_l_gen = np.float32(0)
    for i in xrange(0, N, args.batchsize):
        z = Variable(xp.random.uniform(-1, 1, (args.batchsize, nz), dtype=np.float32))
        x = gen(z)
        yl = dis(x)
        L_gen = F.softmax_cross_entropy(yl, Variable(xp.zeros(args.batchsize, dtype=np.int32)))
        L_dis = F.softmax_cross_entropy(yl, Variable(xp.ones(args.batchsize, dtype=np.int32)))

        x2 = Variable(cuda.to_gpu(x_train[perm[i:i + args.batchsize]]) if args.gpu >= 0
                      else x_train[perm[i:i + args.batchsize]])
        yl2 = dis(x2)
        L_dis += F.softmax_cross_entropy(yl2, Variable(xp.zeros(args.batchsize, dtype=np.int32)))

        o_gen.zero_grads()
        L_gen.backward()
        o_gen.update()

        o_dis.zero_grads()
        L_dis.backward()
        o_dis.update()

        sum_l_gen += L_gen.data.get() if args.gpu >= 0 else L_gen.data
        sum_l_dis += L_dis.data.get() if args.gpu >= 0 else L_dis.data
    print 'epoch', epoch, 'loss gen', sum_l_gen / (N / args.batchsize), 'loss dis', sum_l_dis / (N / args.batchsize)

    z = Variable(xp.asarray(z_fixed), volatile=True)
    x = gen(z, test=True)
    samples = cuda.to_cpu(x.data)
    grid = samples.reshape(5, 5, 28, 28).transpose(0, 2, 1, 3).reshape(5 * 28, 5 * 28)
    imsave('%s/vis_%d.png' % (args.out, epoch), np.clip(grid, 0, 1))
    np.savez('%s/samples.npz' % args.out, z=z_fixed, x=samples)

    gen_cpu = gen.copy()
    gen_cpu.to_cpu()
    pickle.dump(gen_cpu, open('%s/generator.pkl' % args.out, 'w'))
    pickle.dump(dis, open('%s/discriminator.pkl' % args.out, 'wb'))
