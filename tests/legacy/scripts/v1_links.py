# Chainer v1 style: wscale=, bias=, FunctionSet, F.Linear & co., links passed to Chain.
import json
import sys

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L

np.random.seed(0)
linear = L.Linear(2000, 300, wscale=4.0, bias=0.5)
conv = L.Convolution2D(64, 32, 3, stride=1, pad=1, wscale=0.02)
deconv = L.Deconvolution2D(64, 32, 4, stride=2, pad=1, wscale=2.0, use_cudnn=False)
given = L.Linear(3, 2, wscale=9.0, initialW=np.ones((2, 3), np.float32))

model = chainer.FunctionSet(fc=F.Linear(5, 4), embed=F.EmbedID(10, 4), conv=F.Convolution2D(1, 2, 3))
parameters = model.collect_parameters()
x = np.ones((2, 5), np.float32)


class Net(chainer.Chain):
    def __init__(self):
        super(Net, self).__init__(a=L.Linear(3, 3), b=L.Linear(3, 1))


net = Net()
with open(sys.argv[1], 'w') as out:
    json.dump({
        'linear_std': float(linear.W.data.std()), 'linear_bias': sorted({float(b) for b in linear.b.data}),
        'conv_std': float(conv.W.data.std()), 'deconv_std': float(deconv.W.data.std()),
        'given_values': sorted({float(w) for w in given.W.data.ravel()}),
        'functionset_children': sorted(child.name for child in model.children()),
        'functionset_parameters': len(parameters.parameters),
        'fc_is_link': isinstance(model.fc, L.Linear), 'fc_output': list(model.fc(x).shape),
        'net_params': sorted(name for name, _ in net.namedparams()),
    }, out)
