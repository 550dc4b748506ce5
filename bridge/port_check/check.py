"""``check_port``: run a Chainer model and its PyTorch port on the same
inputs from the same weights, compare every paired layer's output, the
outputs, the loss, every gradient and optionally K optimizer steps, and stop
at the first divergence with a diagnosis tested on the spot."""
import copy

from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import numpy as np
import torch

from bridge.port_check import diagnosis
from bridge.port_check.compare import MISSING, TOLERANCE, difference, worst
from bridge.port_check.layers import kind_of
from bridge.port_check.pairing import chainer_layers, layer_pairs, pair_calls, torch_layers
from bridge.port_check.report import Divergence, PortCheck, Row
from bridge.port_check.tracing import SharedDropout, chainer_masks, chainer_pass, torch_pass
from bridge.port_check.weights import copy_layer
from chainer_impl.checkpoint import load_state, state_of
from gan_common.errors import UserError

TORCH_DTYPES = {'float32': torch.float32, 'float64': torch.float64}
MODES = {'train': (True,), 'test': (False,), 'both': (True, False)}


def sum_of_outputs_chainer(*outputs):
    return sum(F.sum(y) for y in outputs)


def sum_of_outputs_torch(*outputs):
    return sum(y.sum() for y in outputs)


def check_port(chainer_model, torch_model, inputs, chainer_loss=None, torch_loss=None, steps=0,
               chainer_optimizer=None, torch_optimizer=None, dtype='float64', mode='both', seed=0,
               name_map=None, tolerance=None, share_dropout_masks=True):
    """Compare ``chainer_model`` and ``torch_model`` (Chainer's weights copied in) on ``inputs``.

    inputs: one NumPy array or a sequence of them (the models' positional
    arguments; integer arrays go to PyTorch as int64). chainer_loss /
    torch_loss: callables of the outputs returning a scalar (default: the sum
    of the outputs). steps: optimizer steps to compare, with
    ``chainer_optimizer()`` (an optimizer, set up here) and
    ``torch_optimizer(parameters)`` (default: Chainer's Adam and ChainerAdam).
    mode: 'train', 'test' or 'both' (train, then test from the same start;
    the steps run in train mode unless only test is asked for). name_map:
    {Chainer layer or save_npz key: PyTorch module or state_dict key};
    without it layers pair by names where the models' names agree, else by
    call order. share_dropout_masks: in train mode PyTorch's dropouts apply
    the masks Chainer's drew in the same pass (False: each draws its own, and
    the different masks are diagnosed as ``dropout_mask``). Returns a
    ``PortCheck``."""
    if dtype not in TORCH_DTYPES:
        raise UserError(f"dtype {dtype!r}: give 'float64' or 'float32'")
    if mode not in MODES:
        raise UserError(f"mode {mode!r}: give 'train', 'test' or 'both'")
    run = Run(chainer_model, torch_model, inputs, chainer_loss or sum_of_outputs_chainer,
              torch_loss or sum_of_outputs_torch, dtype, seed, name_map, tolerance, share_dropout_masks)
    for train in MODES[mode]:
        run.restore()
        run.check_mode(train)
        if run.result.first_divergence is None and steps and train == MODES[mode][0]:
            run.restore()
            run.check_steps(steps, chainer_optimizer or default_chainer_optimizer,
                            torch_optimizer or default_torch_optimizer, train)
        if run.result.first_divergence is not None:
            break
    run.restore()
    return run.result


def default_chainer_optimizer():
    return chainer.optimizers.Adam()


def default_torch_optimizer(parameters):
    from torch_impl.optim import ChainerAdam
    return ChainerAdam(parameters)


def assert_same_program(chainer_model, torch_model, inputs, **options):
    """``check_port`` for a test suite: fails with the whole report as the message."""
    result = check_port(chainer_model, torch_model, inputs, **options)
    print(result.text())
    assert result.passed, '\n' + result.text()
    return result


def mark(row, diff, quantity='forward'):
    """The row a divergence is put on shows its figures (what the layer hands on)."""
    if quantity == 'forward':
        row.max_abs_diff, row.max_rel_diff, row.passed = diff.abs, diff.rel, False
    else:
        row.gradient_max_abs_diff, row.gradient_max_rel_diff, row.gradient_passed = diff.abs, diff.rel, False


def one_line(error):
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {' '.join(lines[-3:]) if lines else ''}".strip()


def cast_chainer(model, dtype):
    for link in model.links():
        for param in link.params(include_uninit=False):
            if param.array.dtype.kind == 'f':
                param.array = param.array.astype(dtype)
        for name in link._persistent:
            value = getattr(link, name)
            if isinstance(value, np.ndarray) and value.dtype.kind == 'f':
                setattr(link, name, value.astype(dtype))


def as_arrays(inputs, dtype):
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    return [np.asarray(a, dtype) if np.asarray(a).dtype.kind == 'f' else np.asarray(a) for a in arrays]


class Run:
    """One check in progress: the models, their pairing, the initial state."""

    def __init__(self, chainer_model, torch_model, inputs, chainer_loss, torch_loss, dtype, seed, name_map, tolerance,
                 share_dropout_masks=True):
        self.chainer_model, self.torch_model = chainer_model, torch_model
        self.share_dropout_masks = share_dropout_masks
        self.dtype, self.torch_dtype = np.dtype(dtype), TORCH_DTYPES[dtype]
        self.arrays = as_arrays(inputs, self.dtype)
        self.chainer_loss, self.torch_loss = chainer_loss, torch_loss
        self.seed = seed
        self.tolerance = TOLERANCE[dtype] if tolerance is None else tolerance
        torch_model.to(self.torch_dtype)
        # submodules a port keeps in eval mode stay there (a whole model in eval mode follows ``mode``)
        self.train_flags = {module: module.training for module in torch_model.modules()} if torch_model.training else {}
        self.c_layers = chainer_layers(chainer_model)
        self.t_layers = torch_layers(torch_model)
        self.c_names = {id(link): name for name, link in self.c_layers.items()}
        c_pass, t_pass = self.first_pass()
        pairing, self.call_pairs = pair_calls(c_pass.calls, t_pass.calls, name_map)
        self.layer_pairs = layer_pairs(self.call_pairs)
        self.uncopied = {}  # layers whose weights have other sizes: a divergence if the walk reaches them
        for pair in self.layer_pairs:
            try:
                copy_layer(pair.chainer_layer, pair.torch_layer)
            except ValueError as error:
                self.uncopied[pair.chainer] = str(error)
        self.result = PortCheck(pairing, dtype, self.tolerance,
                                dropout_masks='shared' if share_dropout_masks else 'independent')
        self.chainer_state = {key: np.array(value) for key, value in state_of(chainer_model).items()}
        self.torch_state = copy.deepcopy(torch_model.state_dict())

    def first_pass(self):
        """One pass in test mode, no gradients: materialises Chainer's lazily
        initialised links and records which layers each model calls."""
        shapes = ', '.join('x'.join(map(str, a.shape)) for a in self.arrays)
        cast_chainer(self.chainer_model, self.dtype)
        try:
            with chainer.using_config('dtype', self.dtype), chainer.no_backprop_mode():
                c_pass = self.chainer_pass(False)
        except Exception as error:  # noqa: BLE001  (the user's model: any failure is a bad input)
            raise UserError(f'the Chainer model fails on inputs of shape {shapes}: {one_line(error)}; '
                            'give the shape it takes') from None
        cast_chainer(self.chainer_model, self.dtype)
        try:
            with torch.no_grad():
                t_pass = self.torch_pass(False)
        except Exception as error:  # noqa: BLE001
            raise UserError(f'the PyTorch model fails on inputs of shape {shapes}: {one_line(error)}; '
                            'give the shape it takes') from None
        return c_pass, t_pass

    def restore(self):
        load_state(self.chainer_model, self.chainer_state)
        self.torch_model.load_state_dict(self.torch_state)
        self.chainer_model.cleargrads()
        self.torch_model.zero_grad(set_to_none=True)

    def chainer_pass(self, train, backward=False, partial=False):
        return chainer_pass(self.chainer_model, self.c_names, self.arrays, train, self.chainer_loss, self.seed,
                            backward, partial)

    def torch_pass(self, train, backward=False, c_pass=None, share=None, ratios=None, skip=()):
        """``c_pass``: the Chainer pass whose dropout masks PyTorch's shares
        (``share``, by default where masks are shared); ``ratios``: {dropout
        call: p} instead of the port's; ``skip``: dropout calls left out."""
        share = self.share_dropout_masks if share is None else share
        dropout = SharedDropout(chainer_masks(c_pass) if c_pass is not None and train and share else [], ratios, skip)
        self.torch_model.train(train)
        for module, flag in self.train_flags.items():  # a port may keep some modules in eval mode
            if not flag:
                module.eval()
        return torch_pass(self.torch_model, self.t_layers, self.arrays, self.torch_dtype, self.torch_loss,
                          self.seed, dropout, backward)

    def within(self, diff):
        return diff.within(self.tolerance)

    def diverge(self, finding, quantity, diff, mode):
        self.result.first_divergence = Divergence(finding.chainer, finding.torch, quantity, diff.abs,
                                                  finding.cause, finding.explanation, mode)

    # ---------------------------------------------------------------- forward and gradients
    def check_mode(self, train):
        mode = 'train' if train else 'test'
        c_pass = self.chainer_pass(train, backward=True)
        t_pass = self.torch_pass(train, backward=True, c_pass=c_pass)
        if len(c_pass.calls) != len(self.call_pairs) or len(t_pass.calls) != len(self.call_pairs):
            raise UserError(f'in {mode} mode the models call other layers than in test mode; '
                            'check each in one mode with --mode')
        context = diagnosis.Context(self, c_pass, t_pass, train)
        rows, earlier = [], list(self.result.rows)
        for index, (c_call, t_call) in enumerate(zip(c_pass.calls, t_pass.calls)):
            out = difference(c_call.y_value, t_call.y_value)
            rows.append(Row(c_call.name, t_call.name, kind_of(c_call.layer), mode, list(np.shape(c_call.y_value)),
                            list(np.shape(t_call.y_value)), out.abs, out.rel, self.within(out)))
            self.result.rows = earlier + rows
            given = difference(c_call.x_value, t_call.x_value)
            if not self.within(given):
                finding = context.forward_gap(index)
                if finding.index < index:  # put on the layer before: its output, as handed on, differs
                    rows.pop()
                    self.result.rows.pop()
                mark(rows[-1], given)
                return self.diverge(finding, 'forward', given, mode)
            if c_call.name in self.uncopied:
                rows[-1].passed = False
                finding = context.finding('unknown', f'the same input, but weights of other sizes '
                                          f'({self.uncopied[c_call.name]}): the layers are not the same', index)
                return self.diverge(finding, 'forward', MISSING, mode)
            if not self.within(out):
                return self.diverge(context.forward_layer(index), 'forward', out, mode)
            if train and kind_of(c_call.layer) == 'bn':
                stats = context.statistics_difference(index)
                if not self.within(stats):
                    rows[-1].passed = False
                    return self.diverge(context.statistics(index), 'forward', stats, mode)
        if len(c_pass.outputs) != len(t_pass.outputs):
            raise UserError(f'the Chainer model returns {len(c_pass.outputs)} outputs, the PyTorch model '
                            f'{len(t_pass.outputs)}; make them return the same')
        outputs = worst(difference(a, b) for a, b in zip(c_pass.output_values, t_pass.output_values))
        self.result.summary.append((f'{mode}: outputs', outputs.abs, outputs.rel))
        if not self.within(outputs):
            mark(rows[-1], outputs)
            return self.diverge(context.forward_gap(len(rows)), 'forward', outputs, mode)
        loss = difference(c_pass.loss_value, t_pass.loss_value)
        self.result.summary.append((f'{mode}: loss', loss.abs, loss.rel))
        if not self.within(loss):
            mark(rows[-1], loss)
            return self.diverge(context.forward_gap(len(rows), phase='loss'), 'forward', loss, mode)
        self.check_gradients(context, rows, mode)

    def check_gradients(self, context, rows, mode):
        """Backwards, as the gradient flows: each layer's output gradient, then
        its parameters' gradients; then the inputs'. (A layer's input gradient
        is not compared: where several layers read one value, PyTorch and
        Chainer may hold it as one array or several views.)"""
        c_pass, t_pass = context.c_pass, context.t_pass
        seen = set()
        overall = []
        for index in reversed(range(len(rows))):
            c_call, t_call = c_pass.calls[index], t_pass.calls[index]
            given = difference(c_call.gy, t_call.gy)
            if not self.within(given):
                finding = context.gradient_gap(index + 1)
                mark(rows[finding.index], given, 'gradient')
                return self.diverge(finding, 'gradient', given, mode)
            if c_call.name not in seen:
                seen.add(c_call.name)
                params, finding = context.parameter_gradients(index)
                rows[index].gradient_max_abs_diff, rows[index].gradient_max_rel_diff = params.abs, params.rel
                rows[index].gradient_passed = self.within(params) and finding is None
                overall.append(params)
                if not rows[index].gradient_passed:
                    return self.diverge(finding or context.layer_gradient(index), 'gradient', params, mode)
        inputs = worst(difference(a, b) for a, b in zip(c_pass.input_grads, t_pass.input_grads))
        self.result.summary.append((f'{mode}: parameter gradients', worst(overall).abs, worst(overall).rel))
        self.result.summary.append((f'{mode}: input gradients', inputs.abs, inputs.rel))
        if not self.within(inputs):
            finding = context.gradient_gap(0)
            mark(rows[finding.index], inputs, 'gradient')
            return self.diverge(finding, 'gradient', inputs, mode)

    # ---------------------------------------------------------------- optimizer steps
    def check_steps(self, steps, chainer_optimizer, torch_optimizer, train):
        mode = 'train' if train else 'test'
        c_opt = chainer_optimizer()
        c_opt.setup(self.chainer_model)
        t_opt = torch_optimizer(self.torch_model.parameters())
        worst_step = []
        for step in range(1, steps + 1):
            c_pass = self.chainer_pass(train, backward=True)
            c_opt.update()
            self.torch_pass(train, backward=True, c_pass=c_pass)
            t_opt.step()
            for index, pair in enumerate(self.layer_pairs):
                diff = diagnosis.parameter_difference(pair)
                worst_step.append(diff)
                row = next(row for row in self.result.rows if row.chainer == pair.chainer and row.mode == mode)
                row.step_max_abs_diff = max(diff.abs, row.step_max_abs_diff or 0.0)
                row.step_passed = self.within(diff)
                if not row.step_passed:
                    finding = diagnosis.step(self, pair, step, chainer_optimizer, t_opt, train)
                    return self.diverge(finding, 'step', diff, mode)
        total = worst(worst_step)
        self.result.summary.append((f'{mode}: parameters after {steps} steps', total.abs, total.rel))
