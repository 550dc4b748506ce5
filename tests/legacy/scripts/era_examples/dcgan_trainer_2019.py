#!/usr/bin/env python
"""DCGAN on MNIST, Chainer v6 style (2019), written for a GPU: CuPy imported
unconditionally, the model sent to GPU 0, a Trainer with a custom updater and
extensions, snapshots and the final generator saved with save_npz."""
import argparse
import os

import cupy as xp
import numpy as np
from PIL import Image

import chainer
import chainer.functions as F
import chainer.links as L
from chainer import training, serializers
from chainer.training import extensions

NZ = 100


class Generator(chainer.Chain):
    def __init__(self, wscale=0.02):
        super(Generator, self).__init__()
        with self.init_scope():
            w = chainer.initializers.Normal(wscale)
            self.l1 = L.Linear(NZ, 3 * 3 * 512, initialW=w)
            self.dc1 = L.Deconvolution2D(512, 256, 2, stride=2, pad=1, initialW=w)
            self.dc2 = L.Deconvolution2D(256, 128, 2, stride=2, pad=1, initialW=w)
            self.dc3 = L.Deconvolution2D(128, 64, 2, stride=2, pad=1, initialW=w)
            self.dc4 = L.Deconvolution2D(64, 1, 3, stride=3, pad=1, initialW=w)
            self.bn1 = L.BatchNormalization(512)
            self.bn2 = L.BatchNormalization(256)
            self.bn3 = L.BatchNormalization(128)
            self.bn4 = L.BatchNormalization(64)

    def make_hidden(self, batchsize):
        return xp.random.uniform(-1, 1, (batchsize, NZ)).astype(xp.float32)

    def forward(self, z):
        h = F.reshape(self.l1(z), (len(z), 512, 3, 3))
        h = F.relu(self.bn1(h))
        h = F.relu(self.bn2(self.dc1(h)))
        h = F.relu(self.bn3(self.dc2(h)))
        h = F.relu(self.bn4(self.dc3(h)))
        return self.dc4(h)


class Discriminator(chainer.Chain):
    def __init__(self, wscale=0.02):
        super(Discriminator, self).__init__()
        with self.init_scope():
            w = chainer.initializers.Normal(wscale)
            self.c1 = L.Convolution2D(1, 64, 3, stride=3, pad=1, initialW=w)
            self.c2 = L.Convolution2D(64, 128, 2, stride=2, pad=1, initialW=w)
            self.c3 = L.Convolution2D(128, 256, 2, stride=2, pad=1, initialW=w)
            self.c4 = L.Convolution2D(256, 512, 2, stride=2, pad=1, initialW=w)
            self.l1 = L.Linear(3 * 3 * 512, 2, initialW=w)
            self.bn1 = L.BatchNormalization(128)
            self.bn2 = L.BatchNormalization(256)
            self.bn3 = L.BatchNormalization(512)

    def forward(self, x):
        h = F.leaky_relu(self.c1(x))
        h = F.leaky_relu(self.bn1(self.c2(h)))
        h = F.leaky_relu(self.bn2(self.c3(h)))
        h = F.leaky_relu(self.bn3(self.c4(h)))
        return self.l1(h)


class DCGANUpdater(training.updaters.StandardUpdater):
    def __init__(self, *args, **kwargs):
        self.gen, self.dis = kwargs.pop('models')
        super(DCGANUpdater, self).__init__(*args, **kwargs)

    def update_core(self):
        gen_optimizer = self.get_optimizer('gen')
        dis_optimizer = self.get_optimizer('dis')
        batch = self.get_iterator('main').next()
        x_real = chainer.Variable(self.converter(batch, self.device))
        batchsize = len(batch)
        y_real = self.dis(x_real)
        x_fake = self.gen(chainer.Variable(self.gen.make_hidden(batchsize)))
        y_fake = self.dis(x_fake)
        zeros = xp.zeros(batchsize, dtype=xp.int32)
        ones = xp.ones(batchsize, dtype=xp.int32)
        loss_dis = F.softmax_cross_entropy(y_real, zeros) + F.softmax_cross_entropy(y_fake, ones)
        loss_gen = F.softmax_cross_entropy(y_fake, zeros)
        self.dis.cleargrads()
        loss_dis.backward()
        dis_optimizer.update()
        self.gen.cleargrads()
        loss_gen.backward()
        gen_optimizer.update()
        chainer.report({'loss': loss_gen}, self.gen)
        chainer.report({'loss': loss_dis}, self.dis)


def out_generated_image(gen, rows, cols, seed, dst):
    @chainer.training.make_extension()
    def make_image(trainer):
        np.random.seed(seed)
        z = chainer.Variable(xp.asarray(np.random.uniform(-1, 1, (rows * cols, NZ)).astype(np.float32)))
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            x = gen(z)
        x = chainer.backends.cuda.to_cpu(x.array)
        np.savez(os.path.join(dst, 'samples.npz'), z=chainer.backends.cuda.to_cpu(z.array), x=x)
        x = np.asarray(np.clip(x, 0.0, 1.0) * 255, dtype=np.uint8)
        x = x.reshape((rows, cols, 28, 28)).transpose(0, 2, 1, 3).reshape((rows * 28, cols * 28))
        name = 'image{:0>6}.png'.format(trainer.updater.iteration)
        Image.fromarray(x).save(os.path.join(dst, name))
    return make_image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--gpu', type=int, default=0)
    parser.add_argument('--batchsize', type=int, default=50)
    parser.add_argument('--epoch', type=int, default=20)
    parser.add_argument('--n_train', type=int, default=60000)
    parser.add_argument('--out', default='result')
    args = parser.parse_args()

    chainer.backends.cuda.get_device_from_id(args.gpu).use()
    gen, dis = Generator(), Discriminator()
    gen.to_gpu()
    dis.to_gpu()

    def make_optimizer(model):
        optimizer = chainer.optimizers.Adam(alpha=0.0002, beta1=0.5)
        optimizer.setup(model)
        optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(0.0001), 'hook_dec')
        return optimizer

    train = chainer.datasets.get_mnist(withlabel=False, ndim=3)[0][:args.n_train]
    train_iter = chainer.iterators.SerialIterator(train, args.batchsize)
    updater = DCGANUpdater(models=(gen, dis), iterator=train_iter,
                           optimizer={'gen': make_optimizer(gen), 'dis': make_optimizer(dis)}, device=args.gpu)
    trainer = training.Trainer(updater, (args.epoch, 'epoch'), out=args.out)
    trainer.extend(extensions.snapshot_object(gen, 'gen_iter_{.updater.iteration}.npz'), trigger=(1, 'epoch'))
    trainer.extend(extensions.LogReport(trigger=(10, 'iteration')))
    trainer.extend(extensions.PrintReport(['epoch', 'iteration', 'gen/loss', 'dis/loss']))
    trainer.extend(out_generated_image(gen, 5, 5, 0, args.out), trigger=(1, 'epoch'))
    trainer.run()
    serializers.save_npz(os.path.join(args.out, 'gen_final.npz'), gen)


if __name__ == '__main__':
    main()
