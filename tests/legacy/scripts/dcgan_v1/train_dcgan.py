# Train the DCGAN the way the 2016 post did: fetch_mldata, zero_grads, a loop
# over epochs, pickle.dump of both models, a figure per epoch.
import argparse
import os
import pickle

import numpy as np
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import chainer
import chainer.functions as F
from chainer import optimizers, Variable
from sklearn.datasets import fetch_mldata

from net import Discriminator, Generator, nz

parser = argparse.ArgumentParser()
parser.add_argument('--out', default='result')
parser.add_argument('--epochs', type=int, default=1000)
parser.add_argument('--images', type=int, default=70000)
parser.add_argument('--batchsize', type=int, default=100)
args = parser.parse_args()
if not os.path.exists(args.out):
    os.mkdir(args.out)

mnist = fetch_mldata('MNIST original')
x_train = mnist.data[:args.images].astype(np.float32) / 255.
x_train = x_train.reshape((len(x_train), 1, 28, 28))
N = len(x_train)

np.random.seed(0)
gen, dis = Generator(), Discriminator()
o_gen, o_dis = optimizers.Adam(), optimizers.Adam()
o_gen.setup(gen)
o_dis.setup(dis)
z_fixed = np.random.uniform(-1, 1, (16, nz)).astype(np.float32)

for epoch in range(args.epochs):
    perm = np.random.permutation(N)
    sum_gen, sum_dis = 0., 0.
    for i in range(0, N, args.batchsize):
        z = Variable(np.random.uniform(-1, 1, (args.batchsize, nz)).astype(np.float32))
        y_fake = dis(gen(z))
        loss_gen = F.softmax_cross_entropy(y_fake, Variable(np.zeros(args.batchsize, dtype=np.int32)))
        loss_dis = F.softmax_cross_entropy(y_fake, Variable(np.ones(args.batchsize, dtype=np.int32)))
        x = Variable(x_train[perm[i:i + args.batchsize]])
        y_real = dis(x)
        loss_dis += F.softmax_cross_entropy(y_real, Variable(np.zeros(len(x.data), dtype=np.int32)))

        o_gen.zero_grads()
        loss_gen.backward()
        o_gen.update()
        o_dis.zero_grads()
        loss_dis.backward()
        o_dis.update()
        sum_gen += float(loss_gen.data)
        sum_dis += float(loss_dis.data)
    print('epoch', epoch, 'loss_gen', sum_gen, 'loss_dis', sum_dis)

    samples = gen(Variable(z_fixed, volatile='on'), test=True).data
    plt.figure(figsize=(4, 4))
    for k in range(16):
        plt.subplot(4, 4, k + 1)
        plt.imshow(samples[k, 0], cmap=plt.cm.gray)
        plt.axis('off')
    plt.savefig(os.path.join(args.out, 'epoch%d.png' % epoch), papertype='a4')
    plt.close()

    with open(os.path.join(args.out, 'gen.pkl'), 'wb') as f:
        pickle.dump(gen, f)
    with open(os.path.join(args.out, 'dis.pkl'), 'wb') as f:
        pickle.dump(dis, f)
np.savez(os.path.join(args.out, 'samples.npz'), z=z_fixed, x=samples)
