# Chainer v1 style: volatile variables for inference.
import json
import sys

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import Variable

model = L.Linear(3, 2)
x = np.ones((4, 3), np.float32)

y_on = F.relu(model(Variable(x, volatile='on')))
y_true = model(Variable(x, True))                          # positional flag
y_off = model(Variable(x, volatile='off'))
y_auto = model(Variable(x, volatile='auto'))
mixed_error = ''
try:
    F.add(Variable(x, volatile='on'), Variable(x, volatile='off'))
except ValueError as error:
    mixed_error = str(error)

v = Variable(x)
v.volatile = 'on'
y_set = model(v)

with open(sys.argv[1], 'w') as out:
    json.dump({
        'on_creator': repr(y_on.creator), 'on_flag': str(y_on.volatile), 'on_equals_on': y_on.volatile == 'on',
        'true_creator': repr(y_true.creator),
        'off_has_graph': y_off.creator is not None, 'auto_has_graph': y_auto.creator is not None,
        'set_creator': repr(y_set.creator),
        'mixed_error': mixed_error,
        'on_matches_off': float(np.abs(model(Variable(x, volatile='on')).data - y_off.data).max()),
    }, out)
