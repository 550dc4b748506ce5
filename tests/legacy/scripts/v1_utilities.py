# Chainer v1-v4 odds and ends: caffe's old home, snapshot(trigger=), cuda.zeros,
# init_weight, and hooks under their pre-v4 names.
import json
import sys

import numpy as np
import chainer
from chainer import cuda
from chainer.functions.caffe import CaffeFunction
from chainer.training import extensions

weights = np.empty((3, 4), np.float32)
chainer.initializers.init_weight(weights, chainer.initializers.Constant(2.0), scale=0.5)
hook = chainer.optimizer.WeightDecay(0.01)
with open(sys.argv[1], 'w') as out:
    json.dump({
        'caffe_module': CaffeFunction.__module__,
        'snapshot_trigger': list(extensions.snapshot(trigger=(2, 'epoch')).trigger),
        'zeros': cuda.zeros((2, 2), np.float32).tolist(),
        'init_weight': sorted({float(w) for w in weights.ravel()}),
        'hook_rate': hook.rate,
    }, out)
