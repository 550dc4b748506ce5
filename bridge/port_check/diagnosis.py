"""Why the first divergence happened: a catalogue of known Chainer <->
PyTorch differences, each tested on the spot. A suspect is confirmed only
when re-running with the suspected setting changed (the PyTorch layer on
Chainer's recorded input, or Chainer's pass with one function call changed,
or PyTorch's pass with Chainer's dropout masks) makes the difference vanish.

Where a divergence appears between two layers, it is put on the layer the
difference follows (an activation, pooling or dropout after ``conv1`` is
``conv1``'s), except a flattening order (the linear layer it feeds) and a
padding function (the layer it pads); before the first layer it is the
first layer's, after the last the last's."""
import itertools
from dataclasses import dataclass

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import numpy as np
import torch
import torch.nn.functional as TF

from bridge.port_check.compare import MISSING, SAME, difference, worst
from bridge.port_check.layers import (BIAS, chainer_entries, chainer_settings, kind_of, rerun_torch_layer,
                                      torch_entries, torch_settings)
from bridge.port_check.tracing import chainer_masks, patched_function, values
from bridge.port_check.weights import entry_partners
from chainer_impl.checkpoint import load_state

CATALOGUE = {
    'bn_eps': "batch normalisation's epsilon: Chainer's default 2e-5, nn.BatchNorm's 1e-5",
    'bn_momentum': "BN running averages: Chainer's decay d is PyTorch's momentum 1 - d (0.9 is 0.1)",
    'bn_mode': 'BN normalising by batch statistics on one side and running statistics on the other '
               '(train/test mode, a submodule left in eval mode, track_running_stats=False)',
    'leaky_relu_slope': "leaky ReLU's slope: F.leaky_relu's default 0.2, nn.LeakyReLU's 0.01",
    'padding': 'convolution / deconvolution padding (pad vs padding, or a padding_mode other than zeros)',
    'stride': 'convolution / deconvolution stride',
    'cover_all': "pooling's cover_all: F.max_pooling_2d's default True is ceil_mode=True in PyTorch",
    'outsize': "Deconvolution2D's outsize vs ConvTranspose2d's output_padding",
    'missing_bias': 'the PyTorch layer has no bias where the Chainer layer has one (bias=False vs nobias)',
    'extra_bias': 'the PyTorch layer has a bias where the Chainer layer has none',
    'missing_activation': 'an activation on one side only',
    'flatten_order': "the order a linear layer's input is flattened in (Chainer: C, H, W)",
    'softmax_axis': "softmax's axis: Chainer's default 1, PyTorch's dim stated otherwise",
    'avg_pool_padding': "average pooling's padding: Chainer counts it as zeros (count_include_pad=True)",
    'sigmoid_clamp': "Chainer's F.sigmoid is exactly 0 below about -37 (tanh-based); torch.sigmoid is not; "
                     'or the port clamps the sigmoid to [eps, 1 - eps]',
    'dropout_mask': "dropout masks drawn by each framework (--independent-dropout): with Chainer's masks they agree",
    'dropout_ratio': "dropout's ratio: the same kept units (Chainer's masks) scaled by another 1 / (1 - p)",
    'missing_dropout': 'a dropout in Chainer that the PyTorch port does not apply',
    'dropout_place': 'a dropout applied elsewhere in the PyTorch port than in Chainer',
    'adam_eps': "Adam's epsilon: Chainer adds it to the uncorrected sqrt(v), torch.optim.Adam to the "
                'bias-corrected one (torch_impl.optim.ChainerAdam repeats Chainer)',
    'reflect_pad_backward': "Chainer's F.pad(mode='reflect') backward drops the reflected pixels' gradient",
    'unknown': 'none of the above: the layer and the figures are reported',
}

CLAMPS = (1e-7, 1e-8, 1e-6, 1e-12, 1e-5, 1e-3)  # Keras's epsilon first, then the usual choices
OTHER_SLOPES = (0.1, 0.02, 0.05, 0.3, 0.0)
ACTIVATIONS = {'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'ELU', 'Softplus', 'Softmax', 'LogSoftmax', 'ClippedReLU',
               'Swish', 'SELU', 'HardSigmoid', 'Mish'}
TORCH_ACTIVATIONS = (('relu', torch.relu), ('leaky_relu(0.2)', lambda x: TF.leaky_relu(x, 0.2)),
                     ('leaky_relu(0.01)', lambda x: TF.leaky_relu(x, 0.01)), ('tanh', torch.tanh),
                     ('sigmoid', torch.sigmoid))


@dataclass
class Finding:
    cause: str
    explanation: str
    chainer: str
    torch: str
    index: int = None  # the call it is put on


class Context:
    """The recorded passes of one mode, and re-runs of them with one thing changed."""

    def __init__(self, run, c_pass, t_pass, train):
        self.run, self.c_pass, self.t_pass, self.train = run, c_pass, t_pass, train

    def names(self, index):
        index = min(max(index, 0), len(self.c_pass.calls) - 1)
        return self.c_pass.calls[index].name, self.t_pass.calls[index].name

    def finding(self, cause, explanation, index):
        index = min(max(index, 0), len(self.c_pass.calls) - 1)
        return Finding(cause, explanation, *self.names(index), index)

    def tensor(self, array):
        return torch.tensor(np.asarray(array), dtype=self.run.torch_dtype)

    def agrees(self, ours, theirs):
        return all(self.run.within(difference(a, b)) for a, b in zip(ours, theirs)) and len(ours) == len(theirs)

    def rerun_chainer(self, patch, backward=False):
        load_state(self.run.chainer_model, self.run.chainer_state)
        with patch:
            return self.run.chainer_pass(self.train, backward, partial=not backward)

    # ---------------------------------------------------------------- between layers (forward)
    def forward_gap(self, index, phase='model'):
        """The values entering call ``index`` (or the outputs, or the loss) differ
        while everything before agreed."""
        calls = len(self.c_pass.calls)
        if phase == 'loss':
            def select(p): return [p.loss_value]
            where = 'the loss'
        elif index < calls:
            def select(p): return [p.calls[index].x_value]
            where = f"the input of '{self.c_pass.calls[index].name}'"
        else:
            def select(p): return p.output_values
            where = 'the outputs'
        theirs = select(self.t_pass)
        before = worst(difference(a, b) for a, b in zip(select(self.c_pass), theirs))
        producer = index - 1 if index > 0 else 0
        if phase == 'model' and index < calls:
            found = self.flatten_order(index)
            if found:
                return found
        functions = [f for f in self.c_pass.functions if f.gap == index and f.phase == phase]
        for call in functions:
            for cause, explanation, forward in function_suspects(call):
                try:
                    ours = select(self.rerun_chainer(patched_function(call.cls, call.occurrence, forward)))
                except Exception:  # noqa: BLE001  (a what-if that cannot run is no confirmation)
                    continue
                if self.agrees(ours, theirs):
                    return self.finding(cause, f'{explanation}; with it changed, Chainer matches PyTorch at '
                                               f'{where} ({change(before, ours[0], theirs[0])})', producer)
        found = self.dropout(index, functions, select, before, where, producer)
        if found:
            return found
        if not any(call.cls.__name__ in ACTIVATIONS for call in functions):
            for name, function in TORCH_ACTIVATIONS:
                ours = [function(self.tensor(a)) if a is not None and np.ndim(a) else a for a in select(self.c_pass)]
                if self.agrees(ours, theirs):
                    return self.finding('missing_activation', f'the PyTorch port applies {name} before {where} '
                                        f'where Chainer applies none (max abs diff {before.abs:.3e}; with {name} '
                                        'applied to Chainer\'s values they agree)', producer)
        applied = ', '.join(call.cls.__name__ for call in functions) or 'no function'
        return self.finding('unknown', f'{where} differs by {before.abs:.3e} (max rel {before.rel:.3e}) while the '
                            f'layer before it agrees; Chainer applies {applied} in between and no suspect from '
                            'the catalogue explains it', producer)

    def flatten_order(self, index):
        c_call, t_call = self.c_pass.calls[index], self.t_pass.calls[index]
        x = c_call.x_value
        if kind_of(c_call.layer) != 'linear' or x is None or x.ndim < 3 or t_call.x_value is None:
            return None
        for order in itertools.permutations(range(1, x.ndim)):
            if order == tuple(range(1, x.ndim)):
                continue
            flat, theirs = x.transpose((0,) + order).reshape(len(x), -1), t_call.x_value.reshape(len(x), -1)
            if flat.shape == theirs.shape and self.agrees([flat], [theirs]):
                axes = 'x'.join('CHWD'[i - 1] if x.ndim <= 5 else str(i) for i in order)
                return self.finding('flatten_order', f"L.Linear flattens its {tuple(x.shape[1:])} input as "
                                    f"{'x'.join('CHWD'[i - 1] for i in range(1, x.ndim))}; the PyTorch port "
                                    f'flattens it as {axes} (its input is a permutation of Chainer\'s: with the '
                                    'same order they agree)', index)
        return None

    def dropout(self, index, functions, select, before, where, producer):
        """A dropout between the layers: masks drawn apart, another ratio, or
        a dropout on one side only."""
        ours, theirs = select(self.c_pass), select(self.t_pass)
        chainer_here = [call for call in functions if call.cls.__name__ == 'Dropout']
        torch_here = [(n, d) for n, d in enumerate(self.t_pass.functions) if d.gap == index]
        if not chainer_here and not torch_here:
            return None
        if any(not d.shared for _, d in torch_here) and chainer_here and torch_here:
            replayed = self.replay_torch(share=True)
            if self.agrees(ours, select(replayed)):
                return self.finding('dropout_mask', 'Chainer and PyTorch draw different dropout masks (the dropout '
                                    f"after it); with Chainer's masks in PyTorch, Chainer matches PyTorch at {where} "
                                    f'(max abs diff {before.abs:.3e} -> 0): the default shares them', producer)
        masks = chainer_masks(self.c_pass)
        for n, d in torch_here:
            if d.shared and d.p != masks[n][1]:
                if self.agrees(ours, select(self.replay_torch(ratios={n: masks[n][1]}))):
                    return self.finding('dropout_ratio', f"Chainer's dropout ratio is {masks[n][1]:g}, the PyTorch "
                                        f"port's p {d.p:g}: the kept units are scaled otherwise; with Chainer's ratio "
                                        f'Chainer matches PyTorch at {where} (max abs diff {before.abs:.3e} -> 0)',
                                        producer)
        if torch_here and not chainer_here:
            if self.agrees(ours, select(self.replay_torch(skip={n for n, _ in torch_here}))):
                return self.finding('dropout_place', f'the PyTorch port applies dropout before {where} where Chainer '
                                    f'applies none; without it Chainer matches PyTorch there (max abs diff '
                                    f'{before.abs:.3e} -> 0)', producer)
        if chainer_here and not torch_here:
            call = chainer_here[0]
            rerun = self.rerun_chainer(patched_function(call.cls, call.occurrence, identity_keeping_random))
            if self.agrees(select(rerun), theirs):
                moved = len(self.t_pass.functions) >= len(masks)
                return self.finding('dropout_place' if moved else 'missing_dropout',
                                    f'Chainer applies dropout before {where}, the PyTorch port '
                                    f"{'elsewhere' if moved else 'nowhere'} ({len(self.t_pass.functions)} dropout "
                                    f'call(s) against {len(masks)}); without it Chainer matches PyTorch there '
                                    f'(max abs diff {before.abs:.3e} -> 0)', producer)
        return None

    def replay_torch(self, share=None, ratios=None, skip=()):
        """PyTorch's pass again, sharing this pass's Chainer masks (``share``),
        with other ratios or without some dropout calls."""
        self.run.torch_model.load_state_dict(self.run.torch_state)
        return self.run.torch_pass(self.train, c_pass=self.c_pass, share=share, ratios=ratios, skip=skip)

    # ---------------------------------------------------------------- inside a layer (forward)
    def forward_layer(self, index):
        """Call ``index`` got the same input and gave another output."""
        c_call, t_call = self.c_pass.calls[index], self.t_pass.calls[index]
        expected = c_call.y_value
        before = difference(expected, t_call.y_value)
        x = self.tensor(c_call.x_value) if c_call.x_value.dtype.kind == 'f' else torch.from_numpy(
            c_call.x_value.astype(np.int64))
        for cause, explanation, overrides in self.layer_suspects(c_call):
            try:
                with torch.no_grad():
                    out = rerun_torch_layer(t_call.layer, x, **overrides)
            except Exception:  # noqa: BLE001
                continue
            if out is not None and self.run.within(difference(expected, out)):
                return self.finding(cause, f'{explanation}; with it changed, the PyTorch layer gives Chainer\'s '
                                    f'output ({change(before, expected, t_call.y_value)})', index)
        shapes = f'output {shape(expected)} vs {shape(t_call.y_value)}'
        return self.finding('unknown', f'the layer gets the same input and gives another output ({shapes}, max abs '
                            f'diff {before.abs:.3e}, max rel {before.rel:.3e}); no suspect from the catalogue '
                            'explains it', index)

    def layer_suspects(self, c_call):
        link, module = c_call.layer, self.t_pass.calls[self.c_pass.calls.index(c_call)].layer
        kind, ours, theirs = kind_of(link), chainer_settings(link), torch_settings(module)
        suspects = []
        if kind in ('linear', 'conv', 'deconv'):
            if getattr(link, 'b', None) is not None and module.bias is None:
                suspects.append(('missing_bias', 'the Chainer layer has a bias b, the PyTorch layer none',
                                 {'bias': self.tensor(link.b.array)}))
            if getattr(link, 'b', None) is None and module.bias is not None:
                suspects.append(('extra_bias', 'the PyTorch layer has a bias, the Chainer layer none (nobias=True)',
                                 {'bias': None}))
        if kind in ('conv', 'deconv'):
            if isinstance(theirs['padding'], str) or tuple(theirs['padding']) != ours['padding']:
                suspects.append(('padding', f"padding {theirs['padding']} in PyTorch, pad {ours['padding']} in Chainer",
                                 {'padding': ours['padding']}))
            if getattr(module, 'padding_mode', 'zeros') != 'zeros':
                suspects.append(('padding', f"padding_mode='{module.padding_mode}' in PyTorch; Chainer pads with zeros",
                                 {}))
            if theirs['stride'] != ours['stride']:
                suspects.append(('stride', f"stride {theirs['stride']} in PyTorch, {ours['stride']} in Chainer",
                                 {'stride': ours['stride']}))
        if kind == 'deconv':
            suspects.append(('outsize', f"Chainer's outsize {ours['outsize'] or 'default'} gives "
                             f"{shape(c_call.y_value)}; the PyTorch layer's output_padding "
                             f"{theirs['output_padding']} another size", {'output_size': c_call.y_value.shape[2:]}))
        if kind == 'bn':
            stats = self.initial_statistics(c_call.name)
            if theirs['eps'] != ours['eps']:
                suspects.append(('bn_eps', f"eps {theirs['eps']:g} in PyTorch, {ours['eps']:g} in Chainer",
                                 {'eps': ours['eps'], 'stats': stats}))
            statistics, mode = ('batch', 'train') if c_call.train else ('running', 'test')
            if theirs['training'] != c_call.train or not theirs['track_running_stats']:
                suspects.append(('bn_mode', f'Chainer normalises by {statistics} statistics here ({mode} '
                                 f"mode), the PyTorch layer by the other (training={theirs['training']}, "
                                 f"track_running_stats={theirs['track_running_stats']})",
                                 {'training': c_call.train, 'stats': stats}))
        return suspects

    def initial_statistics(self, name):
        state = self.run.chainer_state
        keys = (f'{name}/avg_mean', f'{name}/avg_var')
        if not all(key in state for key in keys):
            return None
        return tuple(self.tensor(state[key]) for key in keys)

    # ---------------------------------------------------------------- BN running statistics
    def statistics_difference(self, index):
        link, module = self.c_pass.calls[index].layer, self.t_pass.calls[index].layer
        if getattr(module, 'running_mean', None) is None:
            return MISSING if getattr(link, 'avg_mean', None) is not None else SAME
        return worst([difference(link.avg_mean, module.running_mean), difference(link.avg_var, module.running_var)])

    def statistics(self, index):
        c_call, t_call = self.c_pass.calls[index], self.t_pass.calls[index]
        link, module = c_call.layer, t_call.layer
        if getattr(module, 'running_mean', None) is None:
            return self.finding('bn_mode', 'the PyTorch BatchNorm keeps no running statistics '
                                '(track_running_stats=False); Chainer\'s updates avg_mean/avg_var in training and '
                                'normalises by them in test mode', index)
        before = self.statistics_difference(index)
        x = self.tensor(c_call.x_value)
        initial = self.initial_statistics(c_call.name)
        for cause, explanation, training, momentum in (
                ('bn_momentum', f'momentum {module.momentum} in PyTorch, decay {link.decay:g} (momentum '
                 f'{1 - link.decay:g}) in Chainer', True, 1.0 - link.decay),
                ('bn_mode', 'the PyTorch BatchNorm is in eval mode while Chainer trains, so its running statistics '
                 'stay as they were', True, module.momentum)):
            if initial is None:
                break
            mean, var = (t.clone() for t in initial)
            with torch.no_grad():
                TF.batch_norm(x, mean, var, module.weight, module.bias, training,
                              0.0 if momentum is None else momentum, link.eps)
            if self.agrees([link.avg_mean, link.avg_var], [mean, var]) and \
                    (cause != 'bn_mode' or not module.training):
                return self.finding(cause, f'{explanation}: the outputs agree, the running statistics after the '
                                    f'forward pass do not (max abs diff {before.abs:.3e}); with it changed they agree',
                                    index)
        return self.finding('unknown', f'the running statistics differ after the forward pass by {before.abs:.3e} '
                            'while the outputs agree; no suspect from the catalogue explains it', index)

    # ---------------------------------------------------------------- gradients
    def gradient_gap(self, index):
        """The gradient leaving call ``index`` backwards (or reaching the
        inputs) agrees, the one reaching call ``index - 1`` does not."""
        calls = len(self.c_pass.calls)
        if index > 0:
            def select(p): return [p.calls[index - 1].gy]
            where = f"the gradient of '{self.c_pass.calls[index - 1].name}''s output"
        else:
            def select(p): return p.input_grads
            where = "the inputs' gradient"
        theirs = select(self.t_pass)
        before = worst(difference(a, b) for a, b in zip(select(self.c_pass), theirs))
        consumer, producer = min(index, calls - 1), max(index - 1, 0)
        functions = [f for f in self.c_pass.functions if f.gap == index]
        for call in functions:
            for cause, explanation, forward, backward, blame in gradient_suspects(call, consumer, producer):
                try:
                    ours = select(self.rerun_chainer(patched_function(call.cls, call.occurrence, forward, backward),
                                                     backward=True))
                except Exception:  # noqa: BLE001
                    continue
                if self.agrees(ours, theirs):
                    return self.finding(cause, f'{explanation}; with a correct one, Chainer matches PyTorch at '
                                        f'{where} (max abs diff {before.abs:.3e} -> 0)', blame)
        applied = ', '.join(call.cls.__name__ for call in functions) or 'no function'
        return self.finding('unknown', f'the forward pass agrees but {where} differs by {before.abs:.3e} (max rel '
                            f'{before.rel:.3e}); Chainer applies {applied} there and no suspect from the catalogue '
                            'explains it', producer)

    def parameter_gradients(self, index):
        """(worst difference of the layer's parameter gradients, a finding where
        a parameter has no partner)."""
        link, module = self.c_pass.calls[index].layer, self.t_pass.calls[index].layer
        partners, missing, extra = entry_partners(link, module)
        params = set(link._params)
        torch_params = dict(module.named_parameters(recurse=False))
        diffs = [difference(grad_of(getattr(link, name)), grad_of(torch_params[target]))
                 for name, target in partners.items() if name in params]
        for name in missing:
            if name in params:
                grad = grad_of(getattr(link, name))
                size = difference(grad, np.zeros_like(grad)) if grad is not None else SAME
                cause = 'missing_bias' if name in BIAS else 'unknown'
                return size, self.finding(cause, f"Chainer's parameter {name} has no partner in the PyTorch layer "
                                          f'(the forward pass agrees: it is {describe_values(getattr(link, name))}); '
                                          f'its gradient, max |g| = {size.abs:.3e}, has nowhere to go, so training '
                                          'would part the two', index)
        for name in extra:
            if name in torch_params:
                grad = grad_of(torch_params[name])
                size = difference(grad, np.zeros_like(grad)) if grad is not None else SAME
                cause = 'extra_bias' if name == 'bias' else 'unknown'
                return size, self.finding(cause, f"the PyTorch layer's parameter {name} has no partner in the "
                                          f'Chainer layer; its gradient, max |g| = {size.abs:.3e}, trains something '
                                          'Chainer does not have', index)
        return worst(diffs), None

    def layer_gradient(self, index):
        params, _ = self.parameter_gradients(index)
        return self.finding('unknown', "the layer's output gradient agrees but its parameters' gradients do not "
                            f'(max abs diff {params.abs:.3e}, max rel {params.rel:.3e}); no suspect from the '
                            'catalogue explains it', index)


def change(before, ours, theirs):
    if before.shapes_differ and np.shape(ours) != np.shape(theirs):
        return f'output shapes {shape(theirs)} -> {shape(ours)}'
    return f'max abs diff {before.abs:.3e} -> 0'


def shape(array):
    return tuple(np.shape(array)) if array is not None else None


def grad_of(param):
    grad = getattr(param, 'grad', None)
    return values(grad)


def describe_values(param):
    array = values(getattr(param, 'array', param))
    return 'all zeros' if not np.any(array) else f'max |b| = {np.max(np.abs(array)):.3e}'


# ---------------------------------------------------------------- what-ifs of Chainer functions
def set_attribute(name, value):
    def forward(node, inputs, original):
        setattr(node, name, value)
        return original(node, inputs)
    return forward


def identity(node, inputs, original):
    return inputs[0].copy(),


def identity_keeping_random(node, inputs, original):
    """No dropout here, but its mask drawn, so later ones draw what they did."""
    original(node, inputs)
    return inputs[0].copy(),


def torch_sigmoid(node, inputs, original):
    x = inputs[0]
    original(node, inputs)  # keeps what its backward retains
    y = 1.0 / (1.0 + np.exp(-x))
    node.retain_outputs((0,))
    return y.astype(x.dtype),


def clamped_sigmoid(eps):
    def forward(node, inputs, original):
        y, = original(node, inputs)
        return np.clip(y, eps, 1 - eps),
    return forward


def average_pool_excluding_padding(node, inputs, original):
    x = torch.from_numpy(np.ascontiguousarray(inputs[0]))
    original(node, inputs)
    y = TF.avg_pool2d(x, (node.kh, node.kw), (node.sy, node.sx), (node.ph, node.pw), count_include_pad=False)
    return y.numpy(),


def function_suspects(call):
    """(cause, explanation, forward what-if) for one Chainer function call between layers."""
    node, name = call.node, call.cls.__name__
    suspects = []
    if name == 'LeakyReLU':
        suspects.append(('leaky_relu_slope', f"Chainer's leaky_relu has slope {node.slope:g}, the PyTorch port "
                         "0.01 (nn.LeakyReLU()'s default)", set_attribute('slope', 0.01)))
        suspects += [('leaky_relu_slope', f"Chainer's leaky_relu has slope {node.slope:g}, the PyTorch port "
                      f'{slope:g}', set_attribute('slope', slope)) for slope in OTHER_SLOPES if slope != node.slope]
    if name == 'Sigmoid':
        suspects.append(('sigmoid_clamp', "Chainer's F.sigmoid (tanh-based) is exactly 0 below about -37, "
                         'torch.sigmoid is not', torch_sigmoid))
        for eps in CLAMPS:
            suspects.append(('sigmoid_clamp', f'the PyTorch port clamps the sigmoid to [{eps:g}, 1 - {eps:g}], '
                             "Chainer's F.sigmoid is not clamped", clamped_sigmoid(eps)))
    if name in ('Softmax', 'LogSoftmax'):
        for axis in range(-1, 4):
            if axis != node.axis:
                suspects.append(('softmax_axis', f'Chainer takes the {name.lower()} over axis {node.axis}, the '
                                 f'PyTorch port over dim {axis}', set_attribute('axis', axis)))
    if name == 'AveragePooling2D' and (node.ph or node.pw):
        suspects.append(('avg_pool_padding', 'Chainer\'s average pooling counts the padding as zeros, the PyTorch '
                         'port excludes it (count_include_pad=False)', average_pool_excluding_padding))
    if name in ('MaxPooling2D', 'MaxPoolingND', 'AveragePooling2D', 'AveragePoolingND'):
        suspects.append(('cover_all', f"Chainer's {name} has cover_all={node.cover_all}, the PyTorch port "
                         f'ceil_mode={not node.cover_all}', set_attribute('cover_all', not node.cover_all)))
    if name in ACTIVATIONS:
        suspects.append(('missing_activation', f"Chainer applies {name} here, the PyTorch port does not", identity))
    return suspects


def correct_reflect_backward(node, indexes, grad_outputs, original):
    """The gradient of numpy's 'reflect' padding: every padded pixel's
    gradient added to the pixel it copies."""
    gy = grad_outputs[0].array
    gx = gy
    widths = np.broadcast_to(np.asarray(node.pad_width), (gy.ndim, 2))
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        size = gx.shape[axis] - before - after
        source = np.pad(np.arange(size), (before, after), mode='reflect')
        summed = np.zeros(gx.shape[:axis] + (size,) + gx.shape[axis + 1:], gx.dtype)
        np.add.at(summed, (slice(None),) * axis + (source,), gx)
        gx = summed
    return chainer.Variable(gx),


def gradient_suspects(call, consumer, producer):
    node, name = call.node, call.cls.__name__
    suspects = []
    if name == 'Pad' and node.mode == 'reflect':
        suspects.append(('reflect_pad_backward', "Chainer's F.pad(mode='reflect') backward keeps only the inner "
                         "pixels' gradient", None, correct_reflect_backward, consumer))
    if name == 'Sigmoid':
        suspects.append(('sigmoid_clamp', "Chainer's F.sigmoid (tanh-based) is exactly 0 below about -37, "
                         'torch.sigmoid is not', torch_sigmoid, None, producer))
    return suspects


# ---------------------------------------------------------------- optimizer steps
def parameter_difference(pair):
    """The worst difference of a layer's parameters and BN running statistics
    (not N / num_batches_tracked: Chainer counts only fine-tuning batches)."""
    partners, _, _ = entry_partners(pair.chainer_layer, pair.torch_layer)
    theirs, ours = torch_entries(pair.torch_layer), chainer_entries(pair.chainer_layer)
    return worst(difference(ours[name], theirs[target]) for name, target in partners.items() if name != 'N')


def step(run, pair, steps, chainer_optimizer, torch_optimizer, train):
    """The parameters of ``pair`` differ after step ``steps`` while every
    gradient agreed before the first."""
    before = parameter_difference(pair)
    if type(torch_optimizer) is torch.optim.Adam:
        group = torch_optimizer.param_groups[0]
        if not group['weight_decay'] and not group['amsgrad']:
            from torch_impl.optim import ChainerAdam
            run.restore()
            c_opt = chainer_optimizer()
            c_opt.setup(run.chainer_model)
            beta1, beta2 = group['betas']
            t_opt = ChainerAdam(run.torch_model.parameters(), alpha=group['lr'], beta1=beta1, beta2=beta2,
                                eps=group['eps'])
            for _ in range(steps):
                c_pass = run.chainer_pass(train, backward=True)
                c_opt.update()
                run.torch_pass(train, backward=True, c_pass=c_pass)
                t_opt.step()
            after = worst(parameter_difference(p) for p in run.layer_pairs)
            if run.within(after):
                return Finding('adam_eps', f"torch.optim.Adam adds eps={group['eps']:g} to the bias-corrected "
                               "sqrt(v), Chainer's Adam to the uncorrected one; with ChainerAdam (same lr, betas, "
                               f'eps) the parameters agree after {steps} step(s) (max abs diff {before.abs:.3e} -> '
                               f'{after.abs:.1e})', pair.chainer, pair.torch)
    return Finding('unknown', f'the gradients agree but the parameters differ by {before.abs:.3e} after step {steps} '
                   f'({type(torch_optimizer).__name__} against Chainer\'s optimizer); no suspect from the catalogue '
                   'explains it', pair.chainer, pair.torch)
