# Chainer v1 style GPU selection, meant for a GPU machine.
import json
import sys

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import cuda

gpu = 0
cuda.get_device(gpu).use()
xp = cuda.cupy
model = L.Linear(3, 2)
model.to_gpu()
x = chainer.Variable(xp.asarray(np.ones((4, 3), np.float32)))
x.to_gpu()
y = model(cuda.to_gpu(np.ones((4, 3), np.float32)))
with cuda.get_device_from_id(gpu):
    z = F.sum(y)
with open(sys.argv[1], 'w') as out:
    json.dump({'sum': float(cuda.to_cpu(z.data)), 'expected': float(model.W.data.sum(axis=1).sum() * 4 +
                                                                      model.b.data.sum() * 4),
               'array_type': type(y.data).__module__}, out)
