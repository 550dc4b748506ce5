"""Chainer v1 APIs that v2 removed, mapped to Chainer 7.8.1 with v1's semantics.

See ``catalog.MAPPINGS`` (steps 'v2') for the list; ``install()`` applies them all."""
import inspect
import math
import os
import sys
import types
import warnings

import chainer
import chainer.functions as F
import chainer.links as L
import numpy
from chainer import initializers
from chainer.backends import cuda

from chainer_impl.legacy import era
from chainer_impl.legacy.initializers import Scaled
from chainer_impl.legacy.patching import replace, using_configs
from chainer_impl.legacy.report import record


# ---------------------------------------------------------------- test= / train= / use_cudnn= / deterministic=
def _config_from_old_kwargs(label, kwargs, own=()):
    """Pop v1's mode arguments (those not among ``own``, the callee's own
    parameters) from ``kwargs``; return the config they stand for."""
    settings = {}
    kwargs = _OldKwargs(kwargs, own)
    if 'test' in kwargs:
        settings['train'] = not kwargs.pop('test')
        record('test_flag', f'{label}(..., test=...)')
    if 'train' in kwargs:
        settings['train'] = bool(kwargs.pop('train'))
        record('test_flag', f'{label}(..., train=...)')
    if 'use_cudnn' in kwargs:
        settings['use_cudnn'] = 'auto' if kwargs.pop('use_cudnn') else 'never'
        record('use_cudnn', f'{label}(..., use_cudnn=...)')
    if 'deterministic' in kwargs:
        settings['cudnn_deterministic'] = bool(kwargs.pop('deterministic'))
        record('deterministic', f'{label}(..., deterministic=...)')
    return settings


class _OldKwargs:
    """``kwargs`` seen without the names the callee takes itself."""

    def __init__(self, kwargs, own):
        self.kwargs, self.own = kwargs, own

    def __contains__(self, name):
        return name in self.kwargs and name not in self.own

    def pop(self, name):
        return self.kwargs.pop(name)


def _own_parameters(function):
    try:
        return frozenset(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return frozenset()


def _accepting_old_kwargs(label):
    """Wrap a function or method so v1's mode arguments set the config of that one call."""
    return _accepting_old_positionals(label, None, ())


def _accepting_old_positionals(label, v7_positionals, v1_names):
    """Like ``_accepting_old_kwargs``, for functions whose v1 signature had mode
    arguments right after ``v7_positionals`` positional ones."""
    def make(original):
        own = _own_parameters(original)

        def wrapper(*args, **kwargs):
            if v7_positionals is not None and len(args) > v7_positionals:
                kwargs.update(zip(v1_names, args[v7_positionals:]))
                args = args[:v7_positionals]
            settings = _config_from_old_kwargs(label, kwargs, own)
            if not settings:
                return original(*args, **kwargs)
            with using_configs(settings):
                return original(*args, **kwargs)
        return wrapper
    return make


_LINKS_WITH_MODE_ARGUMENTS = (
    'NStepLSTM', 'NStepGRU', 'NStepRNNTanh', 'NStepRNNReLU', 'NStepBiLSTM', 'NStepBiGRU',
    'NStepBiRNNTanh', 'NStepBiRNNReLU', 'VGG16Layers', 'VGG19Layers', 'ResNet50Layers',
    'ResNet101Layers', 'ResNet152Layers', 'GoogLeNet', 'SimplifiedDropconnect', 'CaffeFunction')


def _install_mode_arguments():
    for name, function in list(vars(F).items()):
        if isinstance(function, types.FunctionType) and name[:1].islower():
            if name == 'dropout':  # v1: dropout(x, ratio=.5, train=True)
                make = _accepting_old_positionals('F.dropout', 2, ('train',))
            else:
                make = _accepting_old_kwargs(f'F.{name}')
            replace(F, name, make)
    # v1: bn(x, test=False, finetune=False)
    replace(L.BatchNormalization, 'forward',
            _accepting_old_positionals('BatchNormalization.__call__', 2, ('test', 'finetune')))
    for name in _LINKS_WITH_MODE_ARGUMENTS:
        link = getattr(L, name, None)
        if link is not None:
            replace(link, 'forward', _accepting_old_kwargs(f'{name}.__call__'))


# ---------------------------------------------------------------- volatile
class Flag:
    """v1's tri-state volatile flag; equal to its name, and to True / False / None."""
    _ALIASES = {'on': ('on', True), 'off': ('off', False), 'auto': ('auto', None)}

    def __init__(self, value):
        self.name = _flag_name(value)

    def __eq__(self, other):
        try:
            return self.name == _flag_name(other)
        except ValueError:
            return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __bool__(self):
        return self.name == 'on'

    def __repr__(self):
        return self.name.upper()

    __str__ = __repr__


def _flag_name(value):
    if isinstance(value, Flag):
        return value.name
    for name, aliases in Flag._ALIASES.items():
        if any(value is alias or (isinstance(value, str) and value.lower() == alias) for alias in aliases):
            return name
    raise ValueError(f'unknown volatile flag {value!r}; use on, off or auto')


ON, OFF, AUTO = Flag('on'), Flag('off'), Flag('auto')


def _aggregate(inputs):
    """v1's rule: any ON input makes the call volatile; ON and OFF do not mix."""
    names = {getattr(x, '_legacy_volatile', 'auto') for x in inputs if isinstance(x, chainer.Variable)}
    if 'on' in names and 'off' in names:
        raise ValueError('ON and OFF volatile flags are mixed in the inputs of one function (as in Chainer v1)')
    return 'on' in names


def _install_volatile():
    def make_init(original):
        def __init__(self, data=None, *args, **kwargs):
            volatile = kwargs.pop('volatile', args[0] if args else None)
            original(self, data, **kwargs)
            if volatile is not None or args:
                record('volatile', f'Variable(x, volatile={volatile!r})')
                self._legacy_volatile = _flag_name(volatile)
        return __init__
    replace(chainer.Variable, '__init__', make_init)

    def get_volatile(self):
        record('volatile_attribute', 'variable.volatile')
        return Flag(getattr(self, '_legacy_volatile', 'off' if chainer.config.enable_backprop else 'on'))

    def set_volatile(self, value):
        record('volatile_attribute', 'variable.volatile = ...')
        self._legacy_volatile = _flag_name(value)
    chainer.Variable.volatile = property(get_volatile, set_volatile)

    def make_apply(original):
        def apply(self, inputs):
            if not _aggregate(inputs):
                return original(self, inputs)
            with chainer.no_backprop_mode():
                outputs = original(self, inputs)
            for y in outputs:
                y._legacy_volatile = 'on'
            return outputs
        return apply
    replace(chainer.FunctionNode, 'apply', make_apply)

    flag = types.ModuleType('chainer.flag')
    flag.Flag, flag.ON, flag.OFF, flag.AUTO = Flag, ON, OFF, AUTO
    flag.aggregate_flags = lambda flags: ON if ON in flags else (OFF if OFF in flags else AUTO)
    sys.modules['chainer.flag'] = flag
    chainer.flag, chainer.Flag, chainer.ON, chainer.OFF, chainer.AUTO = flag, Flag, ON, OFF, AUTO


# ---------------------------------------------------------------- Optimizer
def _gradients(optimizer):
    return [param.grad for param in optimizer.target.params() if param.grad is not None]


def _grads_norm(optimizer):
    total = sum(float((grad * grad).sum()) for grad in _gradients(optimizer))
    return float(numpy.sqrt(total))


def zero_grads(self):
    record('zero_grads', 'optimizer.zero_grads()')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        self.target.zerograds()


def weight_decay(self, decay):
    record('weight_decay', f'optimizer.weight_decay({decay!r})')
    for param in self.target.params():
        if param.grad is not None:
            param.grad += decay * param.data


def clip_grads(self, maxnorm):
    record('clip_grads', f'optimizer.clip_grads({maxnorm!r})')
    norm = _grads_norm(self)
    rate = numpy.float64(maxnorm) / norm if norm else numpy.inf
    if rate < 1:
        for grad in _gradients(self):
            grad *= grad.dtype.type(rate)


def compute_grads_norm(self):
    record('compute_grads_norm', 'optimizer.compute_grads_norm()')
    return _grads_norm(self)


def accumulate_grads(self, grads):
    record('accumulate_grads', 'optimizer.accumulate_grads(grads)')
    for param, grad in zip(self.target.params(), grads):
        grad = chainer.backend.get_device_from_array(param.data).send(grad)
        if param.grad is None:
            param.grad = grad.copy()
        else:
            param.grad += grad


def _install_optimizer_methods():
    for method in (zero_grads, weight_decay, clip_grads, compute_grads_norm, accumulate_grads):
        setattr(chainer.Optimizer, method.__name__, method)


# ---------------------------------------------------------------- FunctionSet, Chain(**links)
class FunctionSet(chainer.Chain):
    """v1's FunctionSet: a Chain of the links given by name."""

    def __init__(self, **links):
        record('function_set', 'FunctionSet(...)')
        super().__init__(**links)

    def collect_parameters(self):
        return self

    def __getitem__(self, key):
        return getattr(self, key)

    @property
    def parameters(self):
        return tuple(param.data for param in self.params())

    @parameters.setter
    def parameters(self, arrays):
        for param, array in zip(self.params(), arrays):
            param.data = array

    @property
    def gradients(self):
        return tuple(param.grad for param in self.params())

    @gradients.setter
    def gradients(self, arrays):
        for param, array in zip(self.params(), arrays):
            param.grad = array

    def copy_parameters_from(self, arrays):
        for param, array in zip(self.params(), arrays):
            param.data[...] = chainer.backend.get_device_from_array(param.data).send(array)


def _install_chain_links():
    def make_init(original):
        def __init__(self, **links):
            if links and not isinstance(self, FunctionSet):
                record('chain_kwargs', f'{type(self).__name__}: Chain.__init__({"=..., ".join(links)}=...)')
            original(self, **links)
        return __init__
    replace(chainer.Chain, '__init__', make_init)
    chainer.FunctionSet = FunctionSet

    def add_uninitialized_param(self, name):
        record('add_uninitialized_param', f'add_uninitialized_param({name!r})')
        self.add_param(name)
    chainer.Link.add_uninitialized_param = add_uninitialized_param


# ---------------------------------------------------------------- link constructors: wscale=, bias=, use_cudnn=
# v1's positional parameters after those Chainer 7.8.1 still has in the same place
V1_POSITIONALS = {
    'Linear': (2, ('wscale', 'bias', 'nobias', 'initialW', 'initial_bias')),
    'Convolution2D': (5, ('wscale', 'bias', 'nobias', 'use_cudnn', 'initialW', 'initial_bias', 'deterministic')),
    'Deconvolution2D': (5, ('wscale', 'bias', 'nobias', 'outsize', 'use_cudnn', 'initialW', 'initial_bias',
                            'deterministic')),
    'DilatedConvolution2D': (6, ('wscale', 'bias', 'nobias', 'use_cudnn', 'initialW', 'initial_bias')),
    'ConvolutionND': (6, ('initialW', 'initial_bias', 'use_cudnn', 'cover_all')),
    'DeconvolutionND': (6, ('outsize', 'initialW', 'initial_bias', 'use_cudnn')),
}


def _v1_weight_initializer(initial_w, wscale):
    scale = math.sqrt(wscale)
    if initial_w is None:
        return initializers.LeCunNormal(scale)
    return Scaled(initializers._get_initializer(initial_w), scale)


def _cannot_be_nobias(value):
    """True for what no v2+ script passes as ``nobias`` (v1's ``wscale`` or
    ``initialW`` there); 0 and 1 are left to the script's era."""
    if value is None or isinstance(value, (bool, numpy.bool_)):
        return False
    return not (isinstance(value, (int, numpy.integer)) and value in (0, 1))


def _v1_positionals(name, args, kwargs):
    """Move the positional arguments v1 read differently into ``kwargs``."""
    kept, v1_names = V1_POSITIONALS[name]
    if len(args) <= kept or not (era.CURRENT.v1 or _cannot_be_nobias(args[kept])):
        return args
    extra = dict(zip(v1_names, args[kept:]))
    record('v1_positional', f"L.{name}(..., {', '.join(map(repr, args[kept:]))})",
           f"read by v1's signature ({', '.join(extra)} by position)")
    kwargs.update(extra)
    return args[:kept]


def _accepting_v1_init(name):
    def make(original):
        def __init__(self, *args, **kwargs):
            args = _v1_positionals(name, args, kwargs)
            if 'wscale' in kwargs:
                wscale = kwargs.pop('wscale')
                record('wscale', f'L.{name}(..., wscale={wscale!r})')
                kwargs['initialW'] = _v1_weight_initializer(kwargs.get('initialW'), wscale)
            if 'bias' in kwargs:
                bias = kwargs.pop('bias')
                record('bias', f'L.{name}(..., bias={bias!r})')
                if kwargs.get('initial_bias') is None:
                    kwargs['initial_bias'] = bias
            for old, key in (('use_cudnn', 'use_cudnn'), ('deterministic', 'deterministic')):
                if old in kwargs:
                    kwargs.pop(old)
                    record(key, f'L.{name}(..., {old}=...)')
            original(self, *args, **kwargs)
        return __init__
    return make


def _install_link_constructors():
    for name in V1_POSITIONALS:
        link = getattr(L, name, None)
        if link is not None:
            replace(link, '__init__', _accepting_v1_init(name))


_FUNCTION_ALIASES = ('PReLU', 'Bilinear', 'Convolution2D', 'DilatedConvolution2D', 'EmbedID', 'Inception',
                     'InceptionBN', 'Linear', 'BinaryHierarchicalSoftmax', 'NegativeSampling',
                     'BatchNormalization')


class _FunctionsWithAliases(types.ModuleType):
    """``chainer.functions`` plus v1's aliases of links, each reported when used."""

    def __getattr__(self, name):
        if name in _FUNCTION_ALIASES and hasattr(L, name):
            record('function_alias', f'F.{name}')
            return getattr(L, name)
        if name == 'caffe':
            return _caffe_module()
        raise AttributeError(f"module 'chainer.functions' has no attribute {name!r}")


def _caffe_module():
    record('caffe', 'chainer.functions.caffe')
    if 'google.protobuf' not in sys.modules:
        # Chainer's caffe_pb2 predates protobuf 4; only the pure-Python backend still loads it
        os.environ.setdefault('PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION', 'python')
    import chainer.links.caffe
    return chainer.links.caffe


class _CaffeAlias(types.ModuleType):
    def __getattr__(self, name):
        return getattr(_caffe_module(), name)


def _install_function_aliases():
    F.__class__ = _FunctionsWithAliases
    sys.modules['chainer.functions.caffe'] = _CaffeAlias('chainer.functions.caffe')


# ---------------------------------------------------------------- initializers, extensions, cuda helpers
def init_weight(weights, initializer, scale=1.0):
    record('init_weight', 'initializers.init_weight(...)')
    initializers._get_initializer(initializer)(weights)
    weights *= scale


def _accepting_trigger(name):
    def make(original):
        def factory(*args, **kwargs):
            trigger = kwargs.pop('trigger', None)
            extension = original(*args, **kwargs)
            if trigger is not None:
                record('snapshot_trigger', f'extensions.{name}(..., trigger=...)')
                extension.trigger = trigger
            return extension
        return factory
    return make


def _cuda_array_helper(name):
    def helper(*args, **kwargs):
        record('cuda_array_helpers', f'cuda.{name}(...)')
        return getattr(cuda.cupy, name)(*args, **kwargs)
    helper.__name__ = name
    return helper


def _install_utilities():
    initializers.init_weight = init_weight
    from chainer.training import extensions
    for name in ('snapshot', 'snapshot_object'):
        replace(extensions, name, _accepting_trigger(name))
    for name in ('empty', 'empty_like', 'full', 'full_like', 'ones', 'ones_like', 'zeros', 'zeros_like'):
        if not hasattr(cuda, name):
            setattr(cuda, name, _cuda_array_helper(name))
    if not hasattr(cuda, 'init'):
        def init(arg=None):
            record('cuda_array_helpers', 'cuda.init()')
            cuda.check_cuda_available()
        cuda.init = init


def install():
    _install_mode_arguments()
    _install_volatile()
    _install_optimizer_methods()
    _install_chain_links()
    _install_link_constructors()
    _install_function_aliases()
    _install_utilities()
