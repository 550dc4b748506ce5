#!/usr/bin/env python
"""Chainer v1 MNIST MLP in the style of 2015: Python 2, FunctionSet,
parameterised functions, volatile test variables, --gpu flag."""
import argparse
import cPickle as pickle
import time

import numpy as np
from sklearn.datasets import fetch_mldata
from chainer import cuda, Variable, FunctionSet, optimizers
import chainer.functions as F

parser = argparse.ArgumentParser(description='Chainer example: MNIST')
parser.add_argument('--gpu', '-g', default=-1, type=int, help='GPU ID (negative value indicates CPU)')
parser.add_argument('--epoch', default=20, type=int)
parser.add_argument('--train', default=60000, type=int)
parser.add_argument('--out', default='mlp.pkl')
args = parser.parse_args()

batchsize = 100
n_units = 1000

print 'fetch MNIST dataset'
mnist = fetch_mldata('MNIST original')
mnist.data = mnist.data.astype(np.float32)
mnist.data /= 255
mnist.target = mnist.target.astype(np.int32)

N = 60000
x_train, x_test = np.split(mnist.data, [N])
y_train, y_test = np.split(mnist.target, [N])
x_train, y_train = x_train[:args.train], y_train[:args.train]
N = args.train
N_test = y_test.size / 10
x_test, y_test = x_test[:N_test], y_test[:N_test]

model = FunctionSet(l1=F.Linear(784, n_units),
                    l2=F.Linear(n_units, n_units),
                    l3=F.Linear(n_units, 10))
if args.gpu >= 0:
    cuda.get_device(args.gpu).use()
    model.to_gpu()
xp = np if args.gpu < 0 else cuda.cupy


def forward(x_data, y_data, train=True):
    x, t = Variable(x_data, volatile=not train), Variable(y_data, volatile=not train)
    h1 = F.dropout(F.relu(model.l1(x)), train=train)
    h2 = F.dropout(F.relu(model.l2(h1)), train=train)
    y = model.l3(h2)
    return F.softmax_cross_entropy(y, t), F.accuracy(y, t)


optimizer = optimizers.Adam()
optimizer.setup(model.collect_parameters())

for epoch in xrange(1, args.epoch + 1):
    print 'epoch', epoch
    perm = np.random.permutation(N)
    sum_accuracy = 0
    sum_loss = 0
    start = time.clock()
    for i in xrange(0, N, batchsize):
        x_batch = xp.asarray(x_train[perm[i:i + batchsize]])
        y_batch = xp.asarray(y_train[perm[i:i + batchsize]])
        optimizer.zero_grads()
        loss, acc = forward(x_batch, y_batch)
        loss.backward()
        optimizer.update()
        sum_loss += float(cuda.to_cpu(loss.data)) * batchsize
        sum_accuracy += float(cuda.to_cpu(acc.data)) * batchsize
    print 'train mean loss={}, accuracy={}, {} images/s'.format(
        sum_loss / N, sum_accuracy / N, N / max(time.clock() - start, 1e-6))

    sum_accuracy = 0
    sum_loss = 0
    for i in xrange(0, N_test, batchsize):
        x_batch = xp.asarray(x_test[i:i + batchsize])
        y_batch = xp.asarray(y_test[i:i + batchsize])
        loss, acc = forward(x_batch, y_batch, train=False)
        sum_loss += float(cuda.to_cpu(loss.data)) * batchsize
        sum_accuracy += float(cuda.to_cpu(acc.data)) * batchsize
    print 'test  mean loss={}, accuracy={}'.format(sum_loss / N_test, sum_accuracy / N_test)

model.to_cpu()
pickle.dump(model, open(args.out, 'wb'), -1)
print 'saved', args.out
