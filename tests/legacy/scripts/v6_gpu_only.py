# Chainer v6 style, written for a GPU: CuPy imported unconditionally, the
# model sent to GPU 0, batches made on the device.
import json
import sys

import cupy as xp
import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import optimizers

chainer.backends.cuda.get_device_from_id(0).use()
np.random.seed(3)
xp.random.seed(3)
model = L.Classifier(L.Linear(10, 3))
model.to_gpu(0)
optimizer = optimizers.MomentumSGD(lr=0.1)
optimizer.setup(model)
inputs = xp.random.normal(size=(64, 10)).astype(xp.float32)
targets = (inputs[:, 0] > 0).astype(xp.int32) + (inputs[:, 1] > 0).astype(xp.int32)
losses = []
for step in range(20):
    model.cleargrads()
    loss = model(inputs, targets)
    loss.backward()
    optimizer.update()
    losses.append(float(loss.array))
weights = chainer.backends.cuda.to_cpu(model.predictor.W.array)
np.save(sys.argv[1].replace('.json', '_W.npy'), weights)
with open(sys.argv[1], 'w') as out:
    json.dump({'losses': losses, 'device': str(model.device), 'array_module': xp.__name__}, out)
