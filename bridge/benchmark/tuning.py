"""Speed settings measured beside the defaults (``benchmark --tuned``), each
a variant that trains from the same initial weights on the same inputs:

* ``chainer-fast``: Chainer under ``chainer_impl.speed.FAST_CONFIG``;
* ``torch-channels-last``: the port with its networks and inputs in
  ``torch.channels_last``;
* ``torch-compile``: the port with each network wrapped by ``torch.compile``
  (its compilation falls in the warm-up);
* ``chainer-2-threads`` / ``torch-2-threads``: two BLAS (Chainer) or intra-op
  (PyTorch) threads during that variant's steps, whatever ``--threads`` says.

GPU runs switch TF32 off (``prepare_device``), so float32 means float32 in
both frameworks."""
import contextlib

import torch

from chainer_impl import compat  # noqa: F401
import chainer  # noqa: E402

from bridge.benchmark.cases import ChainerVariant, TorchVariant
from chainer_impl import speed
from chainer_impl.speed import FAST_CONFIG
from gan_common.errors import UserError


@contextlib.contextmanager
def fast_chainer_config():
    with contextlib.ExitStack() as stack:
        for key, value in FAST_CONFIG.items():
            stack.enter_context(chainer.using_config(key, value))
        yield


@contextlib.contextmanager
def _setting(get, set_, value):
    """``set_(value)`` for the block, then back to what ``get()`` gave."""
    before = get()
    set_(value)
    try:
        yield
    finally:
        set_(before)


def blas_threads(n):
    return _setting(speed.blas_threads, speed.set_blas_threads, n)


def torch_threads(n):
    return _setting(torch.get_num_threads, torch.set_num_threads, n)


def chainer_fast(case, arrays, chainer_nets):
    return ChainerVariant(case, arrays, context=fast_chainer_config, label='chainer fast')


def torch_channels_last(case, arrays, chainer_nets):
    return TorchVariant(case, arrays, chainer_nets, label='torch channels_last', memory_format=torch.channels_last)


def torch_compile(case, arrays, chainer_nets):
    # CycleGAN's step backpropagates twice through one graph (retain_graph),
    # which compiled backward functions with donated buffers refuse; and
    # inductor's pool of compile workers does not survive the forked memory
    # measurement (the child deadlocks), so compiling stays in-process.
    torch._functorch.config.donated_buffer = False
    torch._inductor.config.compile_threads = 1
    variant = TorchVariant(case, arrays, chainer_nets, label='torch compile')
    variant.networks = [torch.compile(network) for network in variant.networks]
    return variant


def chainer_2_threads(case, arrays, chainer_nets):
    return ChainerVariant(case, arrays, context=lambda: blas_threads(2), label='chainer 2 threads')


def torch_2_threads(case, arrays, chainer_nets):
    return TorchVariant(case, arrays, chainer_nets, context=lambda: torch_threads(2), label='torch 2 threads')


TUNINGS = {'chainer-fast': chainer_fast, 'chainer-2-threads': chainer_2_threads,
           'torch-channels-last': torch_channels_last, 'torch-compile': torch_compile,
           'torch-2-threads': torch_2_threads}


def parse_tunings(text):
    names = [name.strip() for name in (text or '').split(',') if name.strip()]
    for name in names:
        if name not in TUNINGS:
            raise UserError(f'unknown --tuned {name!r}; choose from {", ".join(TUNINGS)}')
    return names


def prepare_device(gpu):
    """TF32 off in PyTorch on a GPU (CuPy computes float32 in float32)."""
    if gpu is None:
        return
    if not torch.cuda.is_available():
        raise UserError(f'--device asks for GPU {gpu} but PyTorch sees no CUDA device; use --device cpu')
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.cuda.set_device(gpu)
