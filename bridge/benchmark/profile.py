"""Where one iteration's time goes: Chainer per function
(``chainer.function_hooks.TimerHook``, forward and backward) and per layer
(the functions each link creates, timed forward and backward), and PyTorch
per operator (``torch.profiler``), for the benchmark's cases."""
import collections
import time

import torch

from chainer_impl import compat  # noqa: F401
import chainer  # noqa: E402
from chainer import function_hook, link_hook  # noqa: E402
from chainer.function_hooks import TimerHook  # noqa: E402

from bridge.benchmark.cases import ChainerVariant, TorchVariant, draw_inputs
from chainer_impl.models import MODULES

TOP = 12
OUTSIDE = '(losses and glue)'


class LayerScope(link_hook.LinkHook):
    """Keeps the stack of links whose ``forward`` is running."""
    name = 'LayerScope'

    def __init__(self, layer_names):
        self.layer_names = layer_names  # id(link) -> 'gen/dc1'
        self.running = []

    def forward_preprocess(self, args):
        self.running.append(self.layer_names.get(id(args.link)))

    def forward_postprocess(self, args):
        self.running.pop()

    def current(self):
        named = [name for name in self.running if name]
        return named[-1] if named else OUTSIDE


class LayerTimes(function_hook.FunctionHook):
    """Times every outermost function node forward and backward, by the
    innermost named layer that created it (tagged on the node in the forward
    pass). Functions called inside another's forward or backward (a
    convolution's backward runs a deconvolution) count in their caller's time."""
    name = 'LayerTimes'

    def __init__(self, scope):
        self.scope = scope
        self.started = []
        self.seconds = collections.Counter()

    def _start(self):
        self.started.append(time.perf_counter())

    def _stop(self, layer, direction):
        elapsed = time.perf_counter() - self.started.pop()
        if not self.started:
            self.seconds[(layer, direction)] += elapsed

    def forward_preprocess(self, function, in_data):
        self._start()

    def forward_postprocess(self, function, in_data):
        function.profiled_layer = self.scope.current()
        self._stop(function.profiled_layer, 'forward')

    def backward_preprocess(self, function, in_data, out_grad):
        self._start()

    def backward_postprocess(self, function, in_data, out_grad):
        self._stop(getattr(function, 'profiled_layer', OUTSIDE), 'backward')


def layer_names(variant):
    names = {}
    for network_name, network in variant.nets.items():
        for path, link in network.namedlinks(skipself=True):
            names[id(link)] = network_name + path
    return names


def profile_chainer(variant, iterations):
    """Per function and per layer, ms per iteration, over ``iterations`` steps.
    Per function as TimerHook reports it: forward plus backward, a backward
    including the functions it calls (those are also listed on their own)."""
    variant.step()  # warm-up
    scope = LayerScope(layer_names(variant))
    functions, layers = TimerHook(), LayerTimes(scope)
    started = time.perf_counter()
    with scope, functions, layers:
        for _ in range(iterations):
            variant.step()
    total_ms = (time.perf_counter() - started) * 1e3 / iterations
    per_function = sorted(((name, record['elapsed_time'] * 1e3 / iterations, record['occurrence'] // iterations)
                           for name, record in functions.summary().items()), key=lambda r: -r[1])
    per_layer = collections.defaultdict(lambda: {'forward': 0.0, 'backward': 0.0})
    for (layer, direction), seconds in layers.seconds.items():
        per_layer[layer][direction] += seconds * 1e3 / iterations
    in_functions = functions.total_time() * 1e3 / iterations  # outermost calls only
    return {'ms_per_iteration': total_ms, 'ms_in_functions': in_functions,
            'ms_outside_functions': total_ms - in_functions,  # the optimizer's update, graph bookkeeping
            'functions': [{'function': n, 'ms': ms, 'calls': c} for n, ms, c in per_function],
            'layers': sorted(({'layer': k, **v} for k, v in per_layer.items()),
                             key=lambda r: -(r['forward'] + r['backward']))}


def profile_torch(variant, iterations):
    variant.step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for _ in range(iterations):
            variant.step()
    averages = sorted(profiler.key_averages(), key=lambda e: -e.self_cpu_time_total)
    return {'operators': [{'operator': e.key, 'self_ms': e.self_cpu_time_total / 1e3 / iterations,
                           'calls': e.count // iterations} for e in averages[:TOP * 2]]}


def profile_cases(cases, iterations):
    results = []
    for case in cases:
        arrays = draw_inputs(case.config, MODULES[case.model].RECIPE)
        chainer_variant = ChainerVariant(case, arrays)
        torch_variant = TorchVariant(case, arrays, chainer_variant.nets)
        profile = {'case': case.name, 'chainer': profile_chainer(chainer_variant, iterations),
                   'torch': profile_torch(torch_variant, iterations)}
        print_profile(profile)
        results.append(profile)
    return results


def print_profile(profile):
    chainer_profile = profile['chainer']
    print(f'\nprofile {profile["case"]}, Chainer: {chainer_profile["ms_per_iteration"]:.1f} ms/iteration, '
          f'{chainer_profile["ms_in_functions"]:.1f} in functions, '
          f'{chainer_profile["ms_outside_functions"]:.1f} outside them (optimizer, graph)')
    print(f'  {"function":<28} {"ms/it":>8} {"calls":>6}')
    for row in chainer_profile['functions'][:TOP]:
        print(f'  {row["function"]:<28} {row["ms"]:>8.2f} {row["calls"]:>6}')
    print(f'  {"layer":<28} {"forward":>8} {"backward":>8}')
    for row in chainer_profile['layers'][:TOP]:
        print(f'  {row["layer"]:<28} {row["forward"]:>8.2f} {row["backward"]:>8.2f}')
    print(f'profile {profile["case"]}, PyTorch port, self time per operator:')
    for row in profile['torch']['operators'][:TOP]:
        print(f'  {row["operator"]:<36} {row["self_ms"]:>8.2f} {row["calls"]:>6}')
