"""Where the script's arrays live: ``--device cpu`` keeps every GPU call on
NumPy, ``--device @cupy:N`` sends them to GPU N, and without the flag the
script's own choice stands (stopping with one line if it needs a missing GPU)."""
import sys

import chainer
import numpy
from chainer import backend, device_resident
from chainer.backends import cuda

from chainer_impl.legacy import cupy_names, numpy_cupy
from chainer_impl.legacy.errors import RunnerStop
from chainer_impl.legacy.patching import replace
from chainer_impl.legacy.report import record, user_location


def gpu_unreachable_reason():
    """Why no GPU can be used here, or None when one can."""
    if not cuda.available:
        return 'CuPy is not installed'
    try:
        count = cuda.cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError and friends
        return f'CuPy finds no CUDA device ({type(error).__name__})'
    return None if count > 0 else 'CuPy finds no CUDA device'


def gpu_needed(what, reason):
    file, line = user_location()
    return RunnerStop(f'{file}:{line}: {what} needs a GPU and none is reachable here ({reason}); '
                      f'rerun with --device cpu to run it on NumPy')


def _gpu_id(spec):
    """The GPU index a device specifier names, or None if it names none."""
    if isinstance(spec, bool):
        return None
    if isinstance(spec, (int, numpy.integer)):
        return int(spec) if spec >= 0 else None
    if isinstance(spec, str) and spec.startswith('@cupy'):
        return int(spec.partition(':')[2] or 0)
    if isinstance(spec, (numpy_cupy.Device, cuda.Device)) and not isinstance(spec, backend.Device):
        return int(getattr(spec, 'id', 0))
    return None


# ---------------------------------------------------------------- --device cpu
def _install_cpu():
    def link_to_gpu(self, device=None):
        record('to_gpu_cpu', f'{type(self).__name__}.to_gpu()')
        return self

    def variable_to_gpu(self, device=None):
        record('to_gpu_cpu', 'Variable.to_gpu()')

    def array_to_gpu(array, device=None, stream=None):
        record('to_gpu_cpu', 'cuda.to_gpu(x)')
        if isinstance(array, (list, tuple)):
            return type(array)(array_to_gpu(a) for a in array)
        return numpy.array(array, copy=True)

    def get_device_from_id(device_id, original=cuda.get_device_from_id):
        if device_id is None or device_id < 0:
            return original(device_id)
        record('gpu_device_cpu', f'cuda.get_device_from_id({device_id})')
        return numpy_cupy.Device(device_id)

    def old_get_device(*args):
        record('get_device', 'cuda.get_device(...)')
        gpu = next((g for g in map(_gpu_id, args) if g is not None), None)
        return numpy_cupy.Device(gpu) if gpu is not None else cuda.DummyDevice

    device_resident.DeviceResident.to_gpu = link_to_gpu
    chainer.Variable.to_gpu = chainer.Parameter.to_gpu = variable_to_gpu
    cuda.to_gpu, cuda.get_device_from_id, cuda.get_device = array_to_gpu, get_device_from_id, old_get_device
    cuda.Device = numpy_cupy.Device
    cuda.check_cuda_available = lambda: None
    _map_device_specifiers(lambda spec, gpu: _cpu_instead(spec))
    cuda.cupy = numpy_cupy.install()


def _cpu_instead(spec):
    record('gpu_device_cpu', f'device {spec!r}')
    return backend.CpuDevice()


def _map_device_specifiers(choose):
    """Pass every GPU specifier given to ``chainer.get_device`` (and so to
    updaters, converters and ``to_device``) through ``choose(spec, gpu)``."""
    def make(original):
        def get_device(device_spec):
            gpu = _gpu_id(device_spec)
            return original(device_spec) if gpu is None else choose(device_spec, gpu)
        return get_device
    original = replace(backend, 'get_device', make)
    chainer.get_device = backend.get_device
    return original


# ---------------------------------------------------------------- no flag, no GPU
class _MissingCupy:
    """``cuda.cupy`` without CuPy: any use stops with the one line naming --device cpu."""

    def __init__(self, reason):
        self._reason = reason

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        raise gpu_needed(f'cuda.cupy.{name}', self._reason)


def _install_stop_without_gpu(reason):
    def stop(what):
        def refuse(*args, **kwargs):
            raise gpu_needed(what, reason)
        return refuse

    def link_to_gpu(self, device=None):
        raise gpu_needed(f'{type(self).__name__}.to_gpu()', reason)

    device_resident.DeviceResident.to_gpu = link_to_gpu
    chainer.Variable.to_gpu = chainer.Parameter.to_gpu = stop('Variable.to_gpu()')
    cuda.to_gpu = stop('cuda.to_gpu()')
    cuda.check_cuda_available = stop('cuda.check_cuda_available()')

    def get_device_from_id(device_id, original=cuda.get_device_from_id):
        if device_id is not None and device_id >= 0:
            raise gpu_needed(f'cuda.get_device_from_id({device_id})', reason)
        return original(device_id)
    cuda.get_device_from_id = get_device_from_id

    def old_get_device(*args, original=cuda.get_device):
        record('get_device', 'cuda.get_device(...)')
        if any(_gpu_id(a) is not None for a in args):
            raise gpu_needed('cuda.get_device(...)', reason)
        return original(*args)
    cuda.get_device = old_get_device

    def refuse_spec(spec, gpu):
        raise gpu_needed(f'device {spec!r}', reason)
    _map_device_specifiers(refuse_spec)
    if not cuda.available:
        cuda.cupy = _MissingCupy(reason)


# ---------------------------------------------------------------- a GPU
def _install_gpu(gpu):
    """Every GPU the script names becomes GPU ``gpu``."""
    cupy = cuda.cupy
    cupy.cuda.Device(gpu).use()

    def remapped(spec):
        asked = _gpu_id(spec)
        if asked is not None and asked != gpu:
            record('gpu_remap', f'GPU {asked}')
        return gpu

    def to_gpu_there(original):
        def to_gpu(self, device=None):
            return original(self, remapped(0 if device is None else device))
        return to_gpu

    def array_to_gpu_there(original):
        def to_gpu(array, device=None, stream=None):
            return original(array, remapped(0 if device is None else device), stream)
        return to_gpu

    def device_from_id_there(original):
        def get_device_from_id(device_id):
            return original(device_id if device_id is None or device_id < 0 else remapped(device_id))
        return get_device_from_id

    replace(device_resident.DeviceResident, 'to_gpu', to_gpu_there)
    replace(chainer.Variable, 'to_gpu', to_gpu_there)
    replace(chainer.Parameter, 'to_gpu', to_gpu_there)
    replace(cuda, 'to_gpu', array_to_gpu_there)
    replace(cuda, 'get_device_from_id', device_from_id_there)
    original_get_device = _map_device_specifiers(lambda spec, asked: original_get_device(f'@cupy:{remapped(spec)}'))


def _install_old_cupy_names():
    import cupy
    try:
        import cupyx
    except ImportError:
        cupyx = None
    sys.modules.update(cupy_names.install(cupy, cupyx))


def install(gpu):
    """``gpu``: 'cpu', a GPU index, or None for the script's own choice."""
    if gpu == 'cpu':
        _install_cpu()
        return
    reason = gpu_unreachable_reason()
    if gpu is not None:
        if reason:
            raise RunnerStop(f'--device @cupy:{gpu}: no GPU is reachable here ({reason}); use --device cpu')
        _install_gpu(gpu)
    elif reason:
        _install_stop_without_gpu(reason)
        return
    _install_old_cupy_names()
