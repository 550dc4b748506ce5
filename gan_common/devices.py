"""Device strings accepted by both frameworks' code paths.

``cpu``, ``@numpy``, ``-1`` -> the CPU; ``cuda``, ``cuda:N``, ``@cupy:N``,
``N`` (N >= 0) -> GPU N. (In Chainer itself ``cuda:0`` would mean ChainerX;
here it means the CuPy GPU, which is what users of these scripts want.)"""
import re

from gan_common.errors import UserError


def parse_device(text):
    """Return ``None`` for the CPU or the GPU index."""
    text = str(text).strip()
    if text in ('cpu', '@numpy', '-1'):
        return None
    if text == 'cuda':
        return 0
    match = re.fullmatch(r'(?:cuda:|@cupy:)?(\d+)', text)
    if match:
        return int(match.group(1))
    raise UserError(f'unknown --device {text!r}; use cpu, cuda, cuda:N, @numpy, @cupy:N, -1 or N')


def chainer_device_spec(gpu):
    return '@numpy' if gpu is None else f'@cupy:{gpu}'


def torch_device_spec(gpu):
    return 'cpu' if gpu is None else f'cuda:{gpu}'


DEVICE_SPECS = {'chainer': chainer_device_spec, 'torch': torch_device_spec}  # framework -> spec(gpu)
