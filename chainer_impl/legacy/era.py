"""Which Chainer a script was written for: v1, or v2 and later.

Read from the source before the script runs (``--chainer-version auto``): the
script and the modules it imports from its own folder are v1 code when they
call what only v1 had (``zero_grads()``, ``FunctionSet``, ``volatile=``,
``wscale=``, ``test=``, ``use_cudnn=``, ...) and nothing v2 introduced
(``init_scope()``, ``using_config``, ``no_backprop_mode``, ``cleargrads()``).
v1 code gets v1's meaning where Chainer 7.8.1 silently reads the same call
otherwise: positional link arguments, LSTM's forget-gate bias, ``L.GRU`` and
``F.split_axis``'s ``force_tuple``."""
import ast
import os
import re

from chainer_impl.legacy import python2
from chainer_impl.legacy.report import short_path

V1_CALLS = frozenset({'zero_grads', 'FunctionSet', 'collect_parameters', 'add_uninitialized_param',
                      'compute_grads_norm', 'clip_grads', 'weight_decay', 'accumulate_grads'})
V1_KEYWORDS = frozenset({'volatile', 'wscale', 'test', 'use_cudnn'})
V2_CALLS = frozenset({'init_scope', 'using_config', 'no_backprop_mode', 'force_backprop_mode', 'cleargrads',
                      'get_device_from_id', 'to_device'})
_IMPORT = re.compile(r'^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))', re.MULTILINE)
MAX_FILES = 50


class Verdict:
    """The era (1 or 2) and the first piece of evidence for it."""

    def __init__(self, version, evidence):
        self.version, self.evidence = version, evidence

    @property
    def v1(self):
        return self.version == 1


CURRENT = Verdict(2, 'the default')


def _called_name(call):
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, 'id', None)


def _markers(tree):
    """(v1 markers, v2 markers), each a list of (line, what)."""
    v1, v2 = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name in V1_CALLS or (name == 'get_device' and isinstance(node.func, ast.Attribute)
                                and getattr(node.func.value, 'id', '') == 'cuda'):
            v1.append((node.lineno, f'{name}()'))
        v1 += [(node.lineno, f'{k.arg}=') for k in node.keywords if k.arg in V1_KEYWORDS]
        if name in V2_CALLS:
            v2.append((node.lineno, f'{name}()'))
    return v1, v2


def _local_imports(source, folder):
    """Paths of the modules ``source`` imports that lie in ``folder``."""
    for match in _IMPORT.finditer(source):
        names = [match.group(1)] if match.group(1) else match.group(2).split(',')
        for name in names:
            parts = name.strip().split(' ')[0].split('.')
            base = os.path.join(folder, *parts)
            for path in (base + '.py', os.path.join(base, '__init__.py')):
                if parts[0] and os.path.isfile(path):
                    yield path


def _python3_tree(path):
    try:
        source = python2.read_source(path)
    except (OSError, UnicodeDecodeError, SyntaxError):
        return None, ''
    translation = python2.translate(path, source)
    text = translation.text if translation else source
    try:
        return ast.parse(text, path), source
    except SyntaxError:
        return None, source


def detect(script):
    """Read the era of ``script`` and of the modules it imports from its folder."""
    folder = os.path.dirname(os.path.abspath(script))
    pending, seen, v1, v2 = [os.path.abspath(script)], set(), [], []
    while pending and len(seen) < MAX_FILES:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        tree, source = _python3_tree(path)
        if tree is not None:
            ones, twos = _markers(tree)
            v1 += [(path, line, what) for line, what in ones]
            v2 += [(path, line, what) for line, what in twos]
        pending += [p for p in _local_imports(source, folder) if p not in seen]
    if v1 and not v2:
        path, line, what = min(v1)
        return Verdict(1, f'{what} at {short_path(path)}:{line}')
    if v2:
        path, line, what = min(v2)
        return Verdict(2, f'{what} at {short_path(path)}:{line}')
    return Verdict(2, 'no v1-only call found')


def decide(script, choice):
    """Set CURRENT from ``--chainer-version`` (auto, 1 or 2+); return it."""
    global CURRENT
    if choice == 'auto':
        CURRENT = detect(script)
    else:
        CURRENT = Verdict(1 if choice == '1' else 2, f'--chainer-version {choice}')
    return CURRENT
