# Data loading of that era: fetch_mldata and Chainer's downloading getters.
import json
import sys

import numpy as np
import chainer
from chainer.dataset import download
from sklearn.datasets import fetch_mldata

mnist = fetch_mldata('MNIST original')
train, test = chainer.datasets.get_mnist()
local = download.cached_download('http://example.invalid/some/where/local-file.bin')
with open(sys.argv[1], 'w') as out:
    json.dump({
        'data_shape': list(mnist.data.shape), 'data_dtype': str(mnist.data.dtype),
        'data_range': [int(mnist.data.min()), int(mnist.data.max())],
        'target_dtype': str(mnist.target.dtype), 'target_head': mnist.target[:3].tolist(),
        'target_at_60000': mnist.target[60000:60003].tolist(),
        'get_mnist_lengths': [len(train), len(test)],
        'get_mnist_first': float(np.abs(train[0][0] - mnist.data[0] / 255.).max()),
        'get_mnist_label': int(train[0][1]),
        'local_download': open(local).read(),
    }, out)
