# Chainer v1 style: test= / train= flags and use_cudnn= on each call.
import json
import sys

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L

rng = np.random.RandomState(0)
x = rng.normal(2.0, 3.0, (8, 5)).astype(np.float32)
bn = L.BatchNormalization(5)
for _ in range(3):
    bn(chainer.Variable(x * rng.uniform(0.5, 1.5)))        # v1 default test=False: training mode
stats_after_train = bn.avg_mean.copy()

old_test = bn(chainer.Variable(x), test=True).data            # v1 test mode
old_positional = bn(chainer.Variable(x), True).data           # bn(x, test) positionally
stats_after_test = bn.avg_mean.copy()
with chainer.using_config('train', False):
    modern_test = bn(x).data
modern_train = bn.copy()(x).data

h = np.ones((4, 1000), np.float32)
dropped_old = F.dropout(chainer.Variable(h), ratio=0.5, train=False).data
dropped_positional = F.dropout(chainer.Variable(h), 0.5, False).data
dropped_train = F.dropout(chainer.Variable(h), ratio=0.5, train=True).data

gamma, beta = np.ones(5, np.float32), np.zeros(5, np.float32)
mean, var = x.mean(axis=0), x.var(axis=0)
fixed_old = F.fixed_batch_normalization(x, gamma, beta, mean, var, use_cudnn=False).data
fixed_new = F.fixed_batch_normalization(x, gamma, beta, mean, var).data
relu_old = F.relu(chainer.Variable(x), use_cudnn=False).data

with open(sys.argv[1], 'w') as out:
    json.dump({
        'test_vs_modern': float(np.abs(old_test - modern_test).max()),
        'positional_vs_modern': float(np.abs(old_positional - modern_test).max()),
        'test_vs_train_mode': float(np.abs(old_test - modern_train).max()),
        'stats_changed_by_test_call': float(np.abs(stats_after_test - stats_after_train).max()),
        'stats_changed_by_training': float(np.abs(stats_after_train).max()),
        'dropout_train_false_changed': float(np.abs(dropped_old - h).max()),
        'dropout_positional_changed': float(np.abs(dropped_positional - h).max()),
        'dropout_train_true_zeros': float((dropped_train == 0).mean()),
        'fixed_bn_use_cudnn': float(np.abs(fixed_old - fixed_new).max()),
        'relu_use_cudnn': float(np.abs(relu_old - np.maximum(x, 0)).max()),
    }, out)
