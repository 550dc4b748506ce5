"""One pass of each model on the same inputs, recording every call of a
parametrised layer (Chainer: a link hook; PyTorch: forward hooks) with its
input and output, and, on the Chainer side, every function called between
layers (a function hook), so a diagnosis can re-run the pass with one of
them changed."""
import collections
import contextlib
from dataclasses import dataclass, field

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import numpy as np
import torch

from bridge.port_check.compare import to_numpy


@dataclass
class Call:
    """One call of a paired layer: what went in, what came out, and after a
    backward pass the gradients with respect to both."""
    name: str
    layer: object
    x: object
    y: object
    x_value: np.ndarray
    y_value: np.ndarray
    train: bool
    gx: np.ndarray = None
    gy: np.ndarray = None


@dataclass
class FunctionCall:
    """A Chainer function called outside every layer: ``gap`` layer calls
    came before it; it is the ``occurrence``-th call of its class in the pass."""
    gap: int
    phase: str
    cls: type
    occurrence: int
    node: object


@dataclass
class Pass:
    calls: list
    functions: list
    inputs: tuple
    outputs: tuple
    loss: object
    input_values: list = field(default_factory=list)
    output_values: list = field(default_factory=list)
    loss_value: float = None
    input_grads: list = None
    output_grads: list = None


def values(x):
    """A copy of an array, Variable or tensor as float64-or-int NumPy."""
    if x is None:
        return None
    return np.array(to_numpy(x))


def as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def first_array(args):
    for arg in args:
        if isinstance(arg, (chainer.Variable, np.ndarray, torch.Tensor)):
            return arg
    return None


# ---------------------------------------------------------------- Chainer
class ChainerRecorder(chainer.LinkHook):
    name = 'port_check_links'

    def __init__(self, layer_names):
        self.layer_names = layer_names  # id(link) -> name
        self.calls, self.functions = [], []
        self.depth = 0
        self.phase = 'model'
        self.counts = collections.Counter()
        self.function_hook = _FunctionRecorder(self)

    def forward_preprocess(self, args):
        if id(args.link) in self.layer_names:
            self.depth += 1

    def forward_postprocess(self, args):
        if id(args.link) not in self.layer_names:
            return
        self.depth -= 1
        x, y = first_array(args.args), as_tuple(args.out)[0]
        self.calls.append(Call(self.layer_names[id(args.link)], args.link, x, y, values(x), values(y),
                               bool(chainer.config.train)))


class _FunctionRecorder(chainer.FunctionHook):
    name = 'port_check_functions'

    def __init__(self, links):
        self.links = links

    def forward_postprocess(self, function, in_data):
        cls = type(function)
        occurrence = self.links.counts[cls]
        self.links.counts[cls] += 1
        if self.links.depth == 0:
            self.links.functions.append(FunctionCall(len(self.links.calls), self.links.phase, cls, occurrence,
                                                     function))


def chainer_inputs(arrays):
    return tuple(chainer.Variable(a.copy()) if a.dtype.kind == 'f' else a.copy() for a in arrays)


def chainer_pass(model, layer_names, arrays, train, loss_fn, seed, backward=False, partial=False):
    """One recorded pass; ``partial``: a failure part way returns the calls
    recorded until then (a what-if may change a shape that later layers refuse)."""
    np.random.seed(seed)
    xs = chainer_inputs(arrays)
    recorder = ChainerRecorder(layer_names)
    try:
        with chainer.using_config('train', train), recorder, recorder.function_hook, np.errstate(all='ignore'):
            outputs = as_tuple(model(*xs))
            recorder.phase = 'loss'
            loss = loss_fn(*outputs)
    except Exception:  # noqa: BLE001
        if not partial:
            raise
        return Pass(recorder.calls, recorder.functions, xs, (), None, [values(x) for x in xs], [], None)
    result = Pass(recorder.calls, recorder.functions, xs, outputs, loss,
                  [values(x) for x in xs], [values(y) for y in outputs], float(values(loss)))
    if backward:
        model.cleargrads()
        with np.errstate(all='ignore'):
            loss.backward(retain_grad=True)
        result.input_grads = [values(getattr(x, 'grad', None)) for x in xs]
        result.output_grads = [values(y.grad) for y in outputs]
        for call in result.calls:
            call.gx = values(getattr(call.x, 'grad', None))
            call.gy = values(call.y.grad)
    return result


@contextlib.contextmanager
def patched_function(cls, occurrence, forward=None, backward=None):
    """Replace the ``occurrence``-th Chainer call of function class ``cls`` in
    the next pass: ``forward(node, inputs, original)`` and/or
    ``backward(node, indexes, grad_outputs, original)``."""
    saved = {name: cls.__dict__.get(name) for name in ('forward', 'backward')}
    original_forward, original_backward = cls.forward, cls.backward
    count = [0]

    def forward_wrapper(node, inputs):
        chosen = count[0] == occurrence
        count[0] += 1
        if chosen:
            node._port_check_chosen = True
            if forward is not None:
                return forward(node, inputs, original_forward)
        return original_forward(node, inputs)

    def backward_wrapper(node, indexes, grad_outputs):
        if backward is not None and getattr(node, '_port_check_chosen', False):
            return backward(node, indexes, grad_outputs, original_backward)
        return original_backward(node, indexes, grad_outputs)

    cls.forward, cls.backward = forward_wrapper, backward_wrapper
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(cls, name)
            else:
                setattr(cls, name, value)


# ---------------------------------------------------------------- PyTorch
def torch_inputs(arrays, dtype):
    return tuple(torch.tensor(a, dtype=dtype, requires_grad=True) if a.dtype.kind == 'f'
                 else torch.from_numpy(a.astype(np.int64)) for a in arrays)


class TorchRecorder:
    def __init__(self, layers):
        self.layers = layers  # name -> module
        self.calls, self.dropouts = [], []
        self.handles = []

    def __enter__(self):
        for name, module in self.layers.items():
            self.handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()

    def _hook(self, name):
        def hook(module, inputs, output):
            x, y = first_array(inputs), as_tuple(output)[0]
            call = Call(name, module, x, y, values(x), values(y), module.training)
            for tensor, slot in ((x, 'gx'), (y, 'gy')):
                if isinstance(tensor, torch.Tensor) and tensor.requires_grad:
                    tensor.register_hook(lambda grad, call=call, slot=slot: setattr(call, slot, values(grad)))
            self.calls.append(call)
        return hook


@dataclass
class TorchDropout:
    """A ``torch.nn.functional.dropout`` call in training (``nn.Dropout``
    calls it too): ``gap`` layer calls came before it; ``shared``: it applied
    Chainer's mask."""
    gap: int
    p: float
    shared: bool


def chainer_masks(c_pass):
    """What each Chainer dropout of a pass kept, in call order: (kept units, ratio)."""
    return [(call.node.mask != 0, call.node.dropout_ratio) for call in c_pass.functions
            if call.cls.__name__ == 'Dropout']


class SharedDropout:
    """Chainer's dropout masks for a PyTorch pass: the i-th dropout call in
    training keeps the units Chainer's i-th dropout kept, scaled by
    1 / (1 - p) of the port's own p (``ratios``: {call: p} instead), so a
    port with another ratio still differs. A call with no mask of its shape
    draws its own; a call in ``skip`` returns its input."""

    def __init__(self, masks, ratios=None, skip=()):
        self.masks, self.ratios, self.skip = masks, ratios or {}, set(skip)

    @contextlib.contextmanager
    def applied(self, recorder):
        original = torch.nn.functional.dropout

        def dropout(input, p=0.5, training=True, inplace=False):
            if not training:
                return input
            index = len(recorder.dropouts)
            p = self.ratios.get(index, p)
            kept = self.masks[index][0] if index < len(self.masks) else None
            shared = kept is not None and kept.shape == tuple(input.shape)
            recorder.dropouts.append(TorchDropout(len(recorder.calls), p, shared))
            if index in self.skip:
                return input
            if not shared:
                return original(input, p, training, inplace)
            scale = torch.as_tensor(kept, dtype=input.dtype) * (1.0 / (1.0 - p) if p < 1 else 0.0)
            return input.mul_(scale) if inplace else input * scale
        torch.nn.functional.dropout = dropout
        try:
            yield
        finally:
            torch.nn.functional.dropout = original


def torch_pass(model, layers, arrays, dtype, loss_fn, seed, dropout, backward=False):
    """One pass in the mode the model's modules are in, its dropouts as
    ``dropout`` (a ``SharedDropout``) has them."""
    torch.manual_seed(seed)
    xs = torch_inputs(arrays, dtype)
    with TorchRecorder(layers) as recorder, dropout.applied(recorder):
        outputs = as_tuple(model(*xs))
        loss = loss_fn(*outputs)
    for y in outputs:
        if y.requires_grad:
            y.retain_grad()
    result = Pass(recorder.calls, recorder.dropouts, xs, outputs, loss,
                  [values(x) for x in xs], [values(y) for y in outputs], float(values(loss)))
    if backward:
        model.zero_grad(set_to_none=True)
        loss.backward()
        result.input_grads = [values(x.grad) if x.is_floating_point() else None for x in xs]
        result.output_grads = [values(y.grad) for y in outputs]
    return result
