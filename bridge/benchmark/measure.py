"""The measurements: interleaved timing of several variants, their peak
memory, the FLOPs of one iteration (counted from the layer shapes with
``gan_common.flops``) and each framework's matrix-multiply peak."""
import os
import pickle
import time

import numpy as np
import torch
from torch import nn

from gan_common import flops


# ---------------------------------------------------------------- timing
def interleaved_times(variants, warmup, iterations, block, progress=None):
    """ms per iteration of each variant: ``warmup`` untimed iterations each,
    then blocks of ``block`` timed iterations taking turns (the first
    variant of each round rotates), until each has ``iterations``."""
    for variant in variants:
        for _ in range(warmup):
            variant.step()
            _tick(progress)
    times = {id(v): [] for v in variants}
    rounds = -(-iterations // block)
    for round_ in range(rounds):
        order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
        for variant in order:
            for _ in range(min(block, iterations - len(times[id(variant)]))):
                started = time.perf_counter()
                variant.step()
                times[id(variant)].append((time.perf_counter() - started) * 1e3)
                _tick(progress)
    return [times[id(v)] for v in variants]


def _tick(progress):
    if progress is not None:
        progress.update(1)


def summarise_times(ms, batch_size):
    median = float(np.median(ms))
    return {'ms_median': median, 'ms_p10': float(np.percentile(ms, 10)), 'ms_p90': float(np.percentile(ms, 90)),
            'timed_iterations': len(ms), 'images_per_s': batch_size * 1e3 / median}


# ---------------------------------------------------------------- memory
def peak_memory_mib(variant, steps=2):
    """CPU: how far the process's peak RSS rises above its RSS while
    ``steps`` iterations run, measured in a forked copy of the process (so
    no variant inherits another's freed memory); call before any variant
    has stepped. GPU: the framework's peak (PyTorch: max_memory_allocated;
    CuPy: the bytes its memory pool holds), weights included."""
    device = variant.device
    if isinstance(device, torch.device) and device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        for _ in range(steps):
            variant.step()
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    if getattr(device, 'xp', np) is not np:
        import cupy
        pool = cupy.get_default_memory_pool()
        pool.free_all_blocks()
        for _ in range(steps):
            variant.step()
        return pool.total_bytes() / 2 ** 20
    return _forked_rss_growth_mib(variant, steps)


def _forked_rss_growth_mib(variant, steps):
    if not hasattr(os, 'fork') or not os.path.exists('/proc/self/clear_refs'):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: reset the high-water mark, run, report, leave at once
        os.close(read_end)
        result = None
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            before = _status_kib('VmRSS')
            for _ in range(steps):
                variant.step()
            result = (_status_kib('VmHWM') - before) / 1024
        except Exception:
            pass
        os.write(write_end, pickle.dumps(result))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, 'rb') as f:
        data = f.read()
    os.waitpid(pid, 0)
    return pickle.loads(data) if data else None


def _status_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise OSError(f'/proc/self/status has no {field}')


# ---------------------------------------------------------------- FLOPs
class LayerFlops:
    """Hooks on every Linear / Conv2d / ConvTranspose2d of some modules,
    adding up ``gan_common.flops`` of each call: its forward pass, and a
    backward pass whenever the gradient of its output is computed (weight
    gradient, plus the input gradient where the input requires one)."""

    def __init__(self, modules):
        self.forward = self.backward = 0
        self.largest_macs = 0
        self.handles = [layer.register_forward_hook(self._on_forward)
                        for root in modules for layer in root.modules()
                        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]

    @staticmethod
    def layer_macs(layer, x, y):
        if isinstance(layer, nn.Linear):
            return flops.linear_macs(x.numel() // x.shape[-1], layer.in_features, layer.out_features)
        if isinstance(layer, nn.Conv2d):
            return flops.conv_macs(tuple(y.shape), layer.in_channels, layer.kernel_size, layer.groups)
        return flops.deconv_macs(tuple(x.shape), layer.out_channels, layer.kernel_size, layer.groups)

    def _on_forward(self, layer, inputs, output):
        macs = self.layer_macs(layer, inputs[0], output)
        self.largest_macs = max(self.largest_macs, macs)
        self.forward += flops.forward_flops(macs)
        if output.requires_grad:
            input_gradient = inputs[0].requires_grad
            output.register_hook(lambda grad: self._on_backward(macs, input_gradient))

    def _on_backward(self, macs, input_gradient):
        self.backward += flops.backward_flops(macs, input_gradient)

    def remove(self):
        for handle in self.handles:
            handle.remove()


def count_iteration_flops(variant):
    """(FLOPs of one training iteration of a PyTorch variant, the largest
    layer's multiply-adds), from one extra iteration under the hooks."""
    counter = LayerFlops(variant.modules())
    try:
        variant.step()
    finally:
        counter.remove()
    return {'forward': counter.forward, 'backward': counter.backward,
            'total': counter.forward + counter.backward}, counter.largest_macs


# ---------------------------------------------------------------- peak
def matmul_size(largest_macs, gpu):
    """n of an n x n matrix product about as large as the iteration's largest layer."""
    n = int(round(max(largest_macs, 1) ** (1 / 3) / 64)) * 64
    return int(np.clip(n, 256, 8192 if gpu else 2048))


def matmul_peak(framework, n, gpu, dtype='float32', repeats=5):
    """The best FLOP/s of ``repeats`` n x n products in ``framework``
    (Chainer: NumPy / CuPy, which its layers call; PyTorch: torch.mm)."""
    if framework == 'torch':
        device = torch.device('cpu' if gpu is None else f'cuda:{gpu}')
        a, b = (torch.rand(n, n, dtype=getattr(torch, dtype), device=device) for _ in range(2))
        multiply, sync = (lambda: a @ b), (lambda: torch.cuda.synchronize(device) if gpu is not None else None)
    else:
        if gpu is None:
            xp, sync = np, (lambda: None)
        else:
            import cupy as xp
            sync = xp.cuda.Device(gpu).synchronize
        a, b = (xp.random.rand(n, n).astype(dtype) for _ in range(2))
        multiply = lambda: a @ b  # noqa: E731
    multiply()
    sync()
    best = float('inf')
    for _ in range(repeats):
        started = time.perf_counter()
        multiply()
        sync()
        best = min(best, time.perf_counter() - started)
    return flops.matmul_flops(n) / best
