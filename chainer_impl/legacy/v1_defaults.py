"""What v2 changed without an error, given back to v1 code (``era.CURRENT.v1``):

* ``L.LSTM``/``L.StatelessLSTM``: v1 initialised the forget-gate bias to 0, v2 to 1;
* ``L.GRU``: v1's was stateless, ``GRU(n_units, n_inputs=None, ...)`` called
  as ``gru(h, x)``; v2's is stateful, ``GRU(in_size, out_size)``;
* ``F.split_axis``: v1's ``force_tuple`` defaulted to False (one section gave
  a Variable), v2's to True;
* ``len(variable)`` in the script: v1 counted the elements, v2 the first axis."""
import chainer
import chainer.functions as F
import chainer.links as L

from chainer_impl.legacy.patching import replace
from chainer_impl.legacy.report import is_library, record


class V1GRU(L.StatelessGRU):
    """Chainer v1's ``L.GRU``: stateless, hidden size first."""

    def __init__(self, n_units, n_inputs=None, init=None, inner_init=None, bias_init=0):
        record('v1_gru', f'L.GRU({n_units}{", " + str(n_inputs) if n_inputs is not None else ""})')
        super().__init__(n_units if n_inputs is None else n_inputs, n_units, init, inner_init, bias_init)


def _lstm_forget_bias(name):
    def make(original):
        def __init__(self, in_size, out_size=None, lateral_init=None, upward_init=None, bias_init=None,
                     forget_bias_init=None):
            if forget_bias_init is None:
                record('v1_lstm_forget_bias', f'L.{name}(...) without forget_bias_init')
                forget_bias_init = 0
            original(self, in_size, out_size, lateral_init, upward_init, bias_init, forget_bias_init)
        return __init__
    return make


def _split_axis_no_tuple(original):
    def split_axis(x, indices_or_sections, axis, force_tuple=None):
        if force_tuple is not None:
            return original(x, indices_or_sections, axis, force_tuple)
        pieces = original(x, indices_or_sections, axis, True)
        if len(pieces) != 1:
            return pieces
        record('v1_split_axis', 'F.split_axis(...) giving one piece')
        return pieces[0]
    return split_axis


def _variable_len(original):
    def __len__(self):
        caller = __import__('sys')._getframe(1).f_code.co_filename
        if is_library(caller):
            return original(self)
        record('v1_len', 'len(variable)')
        return self.size
    return __len__


def install():
    L.GRU = V1GRU
    replace(L.LSTM, '__init__', _lstm_forget_bias('LSTM'))
    replace(L.StatelessLSTM, '__init__', _lstm_forget_bias('StatelessLSTM'))
    replace(F, 'split_axis', _split_axis_no_tuple)
    replace(chainer.Variable, '__len__', _variable_len)
