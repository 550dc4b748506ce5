"""The parametrised layers the checker knows: their kind in each framework,
how Chainer's parameter and persistent names map to PyTorch's, and the PyTorch
layer re-run functionally with some of its settings replaced (the diagnoses'
"what if" runs).

Chainer keeps the same weight layouts as PyTorch for all of them
(Deconvolution2D's W is (in, out, kh, kw) like ConvTranspose2d's weight), so
values are copied as they are, reshaped where only the shape differs."""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer.links as L
import torch.nn.functional as TF
from torch import nn

LEAF_TO_TORCH = {'W': 'weight', 'b': 'bias', 'gamma': 'weight', 'beta': 'bias',
                 'avg_mean': 'running_mean', 'avg_var': 'running_var', 'N': 'num_batches_tracked'}
BIAS = {'b': 'bias', 'beta': 'bias'}

CHAINER_KINDS = ((L.Linear, 'linear'), (L.Convolution2D, 'conv'), (L.Deconvolution2D, 'deconv'),
                 (L.BatchNormalization, 'bn'), (L.EmbedID, 'embed'), (L.LayerNormalization, 'layernorm'),
                 (L.GroupNormalization, 'groupnorm'))
TORCH_KINDS = ((nn.Linear, 'linear'), (nn.Conv2d, 'conv'), (nn.ConvTranspose2d, 'deconv'),
               (nn.modules.batchnorm._BatchNorm, 'bn'), (nn.Embedding, 'embed'), (nn.LayerNorm, 'layernorm'),
               (nn.GroupNorm, 'groupnorm'))


def kind_of(layer):
    """'linear', 'conv', 'deconv', 'bn', 'embed', 'layernorm', 'groupnorm', or the class name of any other layer."""
    for cls, kind in CHAINER_KINDS + TORCH_KINDS:
        if isinstance(layer, cls):
            return kind
    return type(layer).__name__


def chainer_entries(link):
    """The link's own parameters and persistent arrays, by name (a missing bias is absent)."""
    entries = {name: getattr(link, name) for name in sorted(link._params)}
    entries = {name: value for name, value in entries.items() if value is not None}
    for name in sorted(link._persistent):
        entries[name] = getattr(link, name)
    return entries


def torch_entries(module):
    """The module's own parameters and buffers, by name."""
    entries = dict(module.named_parameters(recurse=False))
    entries.update(module.named_buffers(recurse=False))
    return entries


def torch_name(chainer_leaf):
    return LEAF_TO_TORCH.get(chainer_leaf, chainer_leaf)


def main_weight_shape(layer):
    """The shape pairing by order compares (W / weight, or gamma / weight for BN)."""
    entries = chainer_entries(layer) if hasattr(layer, '_params') else torch_entries(layer)
    for name in ('W', 'gamma', 'weight'):
        value = entries.get(name)
        if value is not None:
            array = getattr(value, 'array', value)
            return tuple(array.shape) if array is not None else None
    return None


# ---------------------------------------------------------------- what-if re-runs of PyTorch layers
def chainer_settings(link):
    """The settings of a Chainer layer that a PyTorch layer may state otherwise."""
    kind = kind_of(link)
    if kind in ('conv', 'deconv'):
        settings = {'stride': tuple(link.stride), 'padding': tuple(link.pad), 'dilation': tuple(link.dilate),
                    'groups': link.groups}
        if kind == 'deconv':
            settings['outsize'] = None if link.outsize == (None, None) else tuple(link.outsize)
        return settings
    if kind == 'bn':
        return {'eps': link.eps, 'momentum': 1.0 - link.decay}
    return {}


def torch_settings(module):
    kind = kind_of(module)
    if kind in ('conv', 'deconv'):
        settings = {'stride': tuple(module.stride), 'padding': module.padding, 'dilation': tuple(module.dilation),
                    'groups': module.groups}
        if kind == 'deconv':
            settings['output_padding'] = tuple(module.output_padding)
        return settings
    if kind == 'bn':
        return {'eps': module.eps, 'momentum': module.momentum, 'training': module.training,
                'track_running_stats': module.track_running_stats}
    return {}


def rerun_torch_layer(module, x, bias='own', output_size=None, stats=None, **overrides):
    """``module`` applied to ``x`` with ``overrides`` replacing its settings
    (stride, padding, eps, training, ...); ``bias``: 'own', None or a tensor;
    ``stats``: BN running (mean, var) to start from (copies are updated)."""
    kind = kind_of(module)
    b = module.bias if isinstance(bias, str) else bias
    settings = dict(torch_settings(module), **overrides)
    if kind == 'linear':
        return TF.linear(x.flatten(1) if x.dim() > 2 else x, module.weight, b)
    if kind == 'conv':
        return TF.conv2d(x, module.weight, b, settings['stride'], settings['padding'], settings['dilation'],
                         settings['groups'])
    if kind == 'deconv':
        output_padding = settings['output_padding']
        if output_size is not None:
            default = [(x.shape[2 + i] - 1) * settings['stride'][i] - 2 * settings['padding'][i]
                       + settings['dilation'][i] * (module.kernel_size[i] - 1) + 1 for i in range(2)]
            output_padding = tuple(want - got for want, got in zip(output_size, default))
            limits = (max(s, d) for s, d in zip(settings['stride'], settings['dilation']))
            if any(p < 0 or p >= limit for p, limit in zip(output_padding, limits)):
                return None
        return TF.conv_transpose2d(x, module.weight, b, settings['stride'], settings['padding'], output_padding,
                                   settings['groups'], settings['dilation'])
    if kind == 'bn':
        mean, var = stats if stats is not None else (module.running_mean, module.running_var)
        mean = None if mean is None else mean.clone()
        var = None if var is None else var.clone()
        return TF.batch_norm(x, mean, var, module.weight, module.bias, settings['training'],
                             0.0 if settings['momentum'] is None else settings['momentum'], settings['eps'])
    raise ValueError(f'no what-if re-run for a {kind} layer')
