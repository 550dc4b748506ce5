# Chainer v1 style: Optimizer.zero_grads / weight_decay / clip_grads / compute_grads_norm.
import json
import math
import sys

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import optimizers


class MLP(chainer.Chain):
    def __init__(self):
        super(MLP, self).__init__(l1=L.Linear(4, 8), l2=L.Linear(8, 3))

    def __call__(self, x):
        return self.l2(F.tanh(self.l1(x)))


rng = np.random.RandomState(1)
data = rng.normal(size=(6, 16, 4)).astype(np.float32)
labels = rng.randint(0, 3, size=(6, 16)).astype(np.int32)
base = MLP()


def train(clear, decay=None, clip=None):
    model = base.copy(mode='copy')
    optimizer = optimizers.Adam(alpha=0.01)
    optimizer.setup(model)
    if decay is not None and clear == 'hooks':
        optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(decay))
    if clip is not None and clear == 'hooks':
        optimizer.add_hook(chainer.optimizer_hooks.GradientClipping(clip))
    norms = []
    for x, t in zip(data, labels):
        if clear == 'v1':
            optimizer.zero_grads()
        else:
            model.cleargrads()
        F.softmax_cross_entropy(model(x), t).backward()
        if clear == 'v1':
            norms.append(optimizer.compute_grads_norm())
            if decay is not None:
                optimizer.weight_decay(decay)
            if clip is not None:
                optimizer.clip_grads(clip)
        else:
            norms.append(math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.params())))
        optimizer.update()
    return model, norms


def max_difference(a, b):
    return max(float(np.abs(p.data - q.data).max()) for p, q in zip(a.params(), b.params()))


v1, v1_norms = train('v1')
modern, modern_norms = train('modern')
v1_decay, _ = train('v1', decay=0.1, clip=0.5)
hooks_decay, _ = train('hooks', decay=0.1, clip=0.5)
with open(sys.argv[1], 'w') as out:
    json.dump({
        'zero_grads_vs_cleargrads': max_difference(v1, modern),
        'moved_from_start': max_difference(v1, base),
        'norms_difference': max(abs(a - b) for a, b in zip(v1_norms, modern_norms)),
        'first_norm': v1_norms[0],
        'decay_clip_vs_hooks': max_difference(v1_decay, hooks_decay),
        'decay_clip_vs_plain': max_difference(v1_decay, v1),
    }, out)
