# A Chainer v1 script of 2016 written for Python 2: print statements, xrange,
# iteritems, cPickle on a text-mode file, integer division, v1's positional
# link arguments and scipy.misc.imsave. It calls nothing only v1 had, so its
# link arguments are read by value (a number where v7 wants nobias is wscale).
import json
import os
import sys
import cPickle

import numpy as np
import chainer.links as L
from scipy.misc import imread, imresize, imsave

np.random.seed(0)
fc = L.Linear(1000, 200, 0.5)                         # wscale=0.5
conv = L.Convolution2D(16, 8, 3, 1, 1, 2.0, 0.25)     # wscale=2.0, bias=0.25
v2_nobias = L.Linear(3, 2, True)                      # a v2 script's nobias=True
v2_constant = L.Linear(3, 2, False, 0.5)              # a v2 script's nobias, initialW

counts = {}
for i in xrange(10):
    counts[i % 3] = counts.get(i % 3, 0) + 1
total = 0
for key, value in counts.iteritems():
    total += key * value

steps = 9
steps /= 2
array = np.arange(6)
array /= 4
floats = np.ones(2, np.float32)
floats /= 4

folder = os.path.dirname(os.path.abspath(sys.argv[1]))
image = np.array([[0.0, 0.5], [1.0, 2.0]], np.float32)
imsave(os.path.join(folder, 'sample.png'), image)
colour = np.zeros((4, 6, 3), np.uint8)
colour[:, :3, 0] = 255
imsave(os.path.join(folder, 'colour.png'), colour)
cPickle.dump(counts, open(os.path.join(folder, 'counts.pkl'), 'w'))
open(os.path.join(folder, 'py2.pkl'), 'wb').write(b'\x80\x02U\x02\xff\xfeq\x00.')  # a str Python 2 pickled

try:
    raise KeyError('gone')
except KeyError, error:
    caught = str(error)

print 'half of 7 is', 7 / 2
results = {
    'fc_std': float(fc.W.data.std()), 'fc_has_bias': fc.b is not None,
    'conv_std': float(conv.W.data.std()), 'conv_bias': sorted(set(conv.b.data.tolist())),
    'v2_nobias_has_bias': v2_nobias.b is not None, 'v2_constant': sorted(set(v2_constant.W.data.ravel().tolist())),
    'total': total, 'has_key': counts.has_key(2), 'caught': caught,
    'divisions': [7 / 2, -7 / 2, 7.0 / 2, 7 / 2.0, int(np.int32(7) / 2)] + (np.arange(5) / 2).tolist(),
    'steps': steps, 'array': array.tolist(), 'floats': floats.tolist(),
    'sample': imread(os.path.join(folder, 'sample.png')).tolist(),
    'colour': list(imread(os.path.join(folder, 'colour.png'))[0, [0, 5]].ravel().tolist()),
    'resized': list(imresize(colour, (2, 3)).shape),
    'counts': cPickle.load(open(os.path.join(folder, 'counts.pkl'))),
    'python2_pickle': cPickle.load(open(os.path.join(folder, 'py2.pkl'), 'rb')),
}
json.dump(results, open(sys.argv[1], 'w'))
