# Chainer v1 code (it calls optimizer.zero_grads()), using what v2 changed
# without an error: positional link arguments 0/1, LSTM's forget-gate bias,
# the stateless L.GRU(n_units, n_inputs), split_axis's force_tuple, len().
import json
import sys

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import optimizers

np.random.seed(0)
lstm = L.LSTM(3, 4)
gru = L.GRU(4, 3)                    # v1: 4 hidden units, 3 inputs
fc_wscale_one = L.Linear(5, 4, 1)    # v1: wscale=1, with a bias
fc_nobias = L.Linear(5, 4, 1, 0, True)
deconv = L.Deconvolution2D(2, 3, 4, 2, 1, 1, 0.5, False, (8, 8))  # wscale, bias, nobias, outsize

optimizer = optimizers.SGD()
optimizer.setup(fc_wscale_one)
optimizer.zero_grads()

h, x = np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)
h_new = gru(h, x)
variable = chainer.Variable(np.zeros((2, 3), np.float32))
one_piece = F.split_axis(variable, 1, 1)
two_pieces = F.split_axis(variable, 3, 1)
with open(sys.argv[1], 'w') as out:
    json.dump({
        'lstm_biases': sorted(set(lstm.upward.b.data.tolist())),
        'gru_W_shape': list(gru.W.W.shape), 'gru_U_shape': list(gru.U.W.shape), 'gru_out': list(h_new.shape),
        'gru_stateless': not hasattr(gru, 'h'),
        'wscale_one_has_bias': fc_wscale_one.b is not None, 'nobias_has_bias': fc_nobias.b is not None,
        'deconv_bias': sorted(set(deconv.b.data.tolist())),
        'deconv_out': list(deconv(np.ones((1, 2, 4, 4), np.float32)).shape),
        'one_piece_is_variable': isinstance(one_piece, chainer.Variable), 'two_pieces': len(two_pieces),
        'len': len(variable), 'shape_len': len(variable.shape),
    }, out)
