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


def require_gpu(gpu, frameworks=('chainer', 'torch')):
    """Refuse GPU ``gpu`` (None: the CPU) unless each of ``frameworks`` can use it."""
    if gpu is None:
        return
    for framework in frameworks:
        count = _torch_gpus() if framework == 'torch' else _cupy_gpus()
        if count is None:
            what = 'PyTorch was built without CUDA' if framework == 'torch' else 'CuPy is not installed'
            raise UserError(f'--device asks for GPU {gpu}, but {what}; pass --device cpu, or install the GPU build')
        if gpu >= count:
            raise UserError(f'--device asks for GPU {gpu}, but {framework} sees {count} GPU(s); '
                            f'pass --device cpu{"" if count == 0 else f" or a GPU below {count}"}')


def _torch_gpus():
    import torch
    if not torch.backends.cuda.is_built():
        return None
    return torch.cuda.device_count()


def _cupy_gpus():
    try:
        import cupy
    except ImportError:
        return None
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CUDA runtime errors: no driver, no device
        return 0
