# Draw from a pickled generator the way a v1 script did: unpickle, volatile z, test=True.
import pickle
import sys

import numpy as np
from chainer import Variable

with open(sys.argv[1], 'rb') as f:
    gen = pickle.load(f)
z = np.load(sys.argv[2])['z']
np.save(sys.argv[3], gen(Variable(z, volatile='on'), test=True).data)
