"""Which Chainer layer is which PyTorch layer.

By names where a name map exists: the user's map, or the models' own names
when every called Chainer layer's path (``conv1``, ``block/bn``) names a
called PyTorch module (``conv1``, ``block.bn``). Otherwise by order: the
parametrised layers each model called in one forward pass, in call order,
paired when their kind and weight shape agree."""
import json
from dataclasses import dataclass

from bridge.port_check.layers import LEAF_TO_TORCH, kind_of, main_weight_shape
from gan_common.errors import UserError


@dataclass
class LayerPair:
    chainer: str
    torch: str
    kind: str
    chainer_layer: object
    torch_layer: object


def chainer_layers(model):
    """{path: link} of every link that owns parameters or persistent values."""
    return {name.strip('/') or '(root)': link for name, link in model.namedlinks()
            if link._params or link._persistent}


def torch_layers(model):
    """{path: module} of every module that owns parameters, and of every
    batch normalisation (which may own only running statistics)."""
    return {name or '(root)': module for name, module in model.named_modules()
            if list(module.parameters(recurse=False)) or kind_of(module) == 'bn'}


def read_name_map(path):
    """A JSON object {Chainer layer or save_npz key: PyTorch module or state_dict key}."""
    try:
        with open(path) as handle:
            mapping = json.load(handle)
    except OSError as error:
        raise UserError(f'--map {path}: cannot read it ({error.strerror}); give a JSON file') from None
    except json.JSONDecodeError as error:
        raise UserError(f'--map {path}: not JSON ({error}); give an object {{"chainer_name": "torch_name"}}') from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise UserError(f'--map {path}: give one JSON object of strings {{"chainer_name": "torch_name"}}')
    return mapping


def layer_map(mapping):
    """Parameter keys (``conv1/W`` -> ``features.0.weight``) reduced to layer paths."""
    layers = {}
    for chainer_key, torch_key in mapping.items():
        chainer_key = chainer_key.strip('/')
        if '/' in chainer_key and chainer_key.rsplit('/', 1)[1] in LEAF_TO_TORCH:
            chainer_key, torch_key = chainer_key.rsplit('/', 1)[0], torch_key.rsplit('.', 1)[0]
        layers[chainer_key] = torch_key
    return layers


def describe(name, layer):
    shape = main_weight_shape(layer)
    return f"'{name}' ({kind_of(layer)}{'' if shape is None else ' ' + 'x'.join(map(str, shape))})"


def compatible(chainer_layer, torch_layer):
    """Same kind (a shape that differs is a divergence the check reports, not a pairing error)."""
    return kind_of(chainer_layer) == kind_of(torch_layer)


def pair_calls(chainer_calls, torch_calls, name_map=None):
    """('names' | 'order', [(chainer call, torch call)] in Chainer's call order)."""
    c_names = list(dict.fromkeys(call.name for call in chainer_calls))
    t_names = list(dict.fromkeys(call.name for call in torch_calls))
    if name_map is not None:
        name_map = layer_map(name_map)
        mapping = {name: name_map.get(name, name.replace('/', '.')) for name in c_names}
        unknown = [f"'{name}' -> '{mapping[name]}'" for name in c_names if mapping[name] not in t_names]
        if unknown:
            raise UserError(f"--map: {', '.join(unknown)}: no such PyTorch layer was called "
                            f"(called: {', '.join(t_names)}); fix the map")
        return 'names', by_names(chainer_calls, torch_calls, mapping)
    mapping = {name: name.replace('/', '.') for name in c_names}
    if sorted(mapping.values()) == sorted(t_names):
        return 'names', by_names(chainer_calls, torch_calls, mapping)
    return 'order', by_order(chainer_calls, torch_calls)


def by_names(chainer_calls, torch_calls, mapping):
    torch_by_name = {}
    for call in torch_calls:
        torch_by_name.setdefault(call.name, []).append(call)
    seen = {}
    pairs = []
    for call in chainer_calls:
        partner_name = mapping[call.name]
        index = seen.get(call.name, 0)
        seen[call.name] = index + 1
        partners = torch_by_name[partner_name]
        if index >= len(partners):
            raise UserError(f"Chainer layer '{call.name}' is called more often than its PyTorch partner "
                            f"'{partner_name}' ({len(partners)} times); the models do not run the same layers")
        if kind_of(call.layer) != kind_of(partners[index].layer):
            raise UserError(f"Chainer layer {describe(call.name, call.layer)} and PyTorch layer "
                            f"{describe(partner_name, partners[index].layer)} share a name but not a kind; "
                            'give --map FILE to pair them otherwise')
        pairs.append((call, partners[index]))
    for name, partners in torch_by_name.items():
        used = sum(1 for _, t in pairs if t.name == name)
        if used < len(partners):
            raise UserError(f"PyTorch layer '{name}' is called {len(partners)} times, its Chainer partner {used}; "
                            'the models do not run the same layers')
    return pairs


def by_order(chainer_calls, torch_calls):
    pairs = []
    partner_of, chainer_of = {}, {}
    for index in range(max(len(chainer_calls), len(torch_calls))):
        if index >= len(torch_calls):
            call = chainer_calls[index]
            raise UserError(f'Chainer layer {describe(call.name, call.layer)} (call {index + 1}) has no partner: '
                            f'the PyTorch model calls only {len(torch_calls)} parametrised layers')
        if index >= len(chainer_calls):
            call = torch_calls[index]
            raise UserError(f'PyTorch layer {describe(call.name, call.layer)} (call {index + 1}) has no partner: '
                            f'the Chainer model calls only {len(chainer_calls)} parametrised layers')
        c_call, t_call = chainer_calls[index], torch_calls[index]
        if not compatible(c_call.layer, t_call.layer):
            raise UserError(f'Chainer layer {describe(c_call.name, c_call.layer)} has no partner: call {index + 1} '
                            f'of the PyTorch model is {describe(t_call.name, t_call.layer)} (pairing by call order '
                            'needs the same kinds; give --map FILE to pair by names)')
        if partner_of.get(c_call.name, t_call.name) != t_call.name or \
                chainer_of.get(t_call.name, c_call.name) != c_call.name:
            raise UserError(f"ambiguous pairing: Chainer layer '{c_call.name}' meets PyTorch layers "
                            f"'{partner_of.get(c_call.name, t_call.name)}' and '{t_call.name}' "
                            f"(or '{t_call.name}' meets two Chainer layers): one model shares a layer the other "
                            'does not; give --map FILE')
        partner_of[c_call.name], chainer_of[t_call.name] = t_call.name, c_call.name
        pairs.append((c_call, t_call))
    return pairs


def layer_pairs(call_pairs):
    """The distinct (Chainer layer, PyTorch layer) pairs, in first-call order."""
    pairs = {}
    for c_call, t_call in call_pairs:
        pairs.setdefault(c_call.name, LayerPair(c_call.name, t_call.name, kind_of(c_call.layer),
                                                c_call.layer, t_call.layer))
    return list(pairs.values())
