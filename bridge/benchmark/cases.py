"""What is benchmarked: one ``Case`` per model and size (a preset's batch and
image size), and the ``Variant``s that train it: Chainer, the PyTorch port
and the plain PyTorch reference (``plain.py``), each from the same initial
weights where the networks are the same, on the same pre-drawn inputs.

Inputs are synthetic (seeded noise shaped like the preset's data), so the
benchmark needs no dataset; the work per iteration depends only on shapes."""
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import torch

from chainer_impl import compat  # noqa: F401
import chainer  # noqa: E402

from bridge.benchmark.plain import plain_reference
from bridge.transfer import chainer_to_torch
from chainer_impl.models import MODULES as CHAINER_MODULES
from chainer_impl.models import build_named_networks as chainer_networks
from chainer_impl.training import to_chainer_inputs
from gan_common import presets
from gan_common.datasets import value_range
from gan_common.devices import chainer_device_spec, torch_device_spec
from gan_common.errors import UserError
from gan_common.streams import RandomStream
from torch_impl.models import MODULES as TORCH_MODULES
from torch_impl.models import build_named_networks as torch_networks
from torch_impl.training import to_torch_inputs

# Sizes a CPU run skips unless asked for by name (about 20 s per iteration per framework here).
GPU_ONLY = {('cyclegan', 'paper')}
N_BATCHES = 2  # distinct pre-drawn input batches, used in turn


@dataclass
class Case:
    model: str
    preset: str
    config: dict = field(repr=False)

    @property
    def name(self):
        return f'{self.model}/{self.preset}'

    @property
    def batch_size(self):
        return self.config['batch_size']

    @property
    def size_label(self):
        if self.model == 'cyclegan':
            return f'batch {self.batch_size}, {self.config["image_size"]}x{self.config["image_size"]}'
        return f'batch {self.batch_size}, 28x28'


def size_key(config):
    return (config['batch_size'], config.get('image_size'), config.get('architecture'))


def make_config(model, preset, gpu, dtype='float32', seed=0, batch_size=None, image_size=None):
    config = presets.get_preset(model, preset)
    config.update(model=model, preset=preset, seed=seed, dtype=dtype, classes=None,
                  chainer_device=chainer_device_spec(gpu), torch_device=torch_device_spec(gpu),
                  value_range=list(value_range(config['scaling'])))
    if batch_size:
        config['batch_size'] = batch_size
    if image_size and model == 'cyclegan':
        config['load_size'] = config['image_size'] = image_size
    return config


def select_cases(models, gpu, quick=False):
    """``models``: names (every distinct size of the model: its default and
    quick presets, and CycleGAN's paper preset on a GPU) or ``model:preset``.
    ``quick`` shrinks every case to a smoke test (batch 4, 32x32 CycleGAN)."""
    cases, skipped = [], []
    for item in models:
        model, _, preset = item.partition(':')
        names = [preset] if preset else list(presets.check_model(model))
        if preset:
            presets.get_preset(model, preset)  # an unknown preset ends here with the choices
        seen = set()
        for name in names:
            config = make_config(model, name, gpu, batch_size=4 if quick else None, image_size=32 if quick else None)
            if not preset and gpu is None and (model, name) in GPU_ONLY:
                skipped.append(f'{model}:{name}')
                continue
            if size_key(config) in seen:
                continue
            seen.add(size_key(config))
            cases.append(Case(model, name, config))
    return cases, skipped


def parse_models(text):
    items = [item.strip() for item in text.split(',') if item.strip()]
    if not items:
        raise UserError('--models is empty; give e.g. dcgan,cyclegan or dcgan:blog')
    for item in items:
        presets.check_model(item.partition(':')[0])
    return items


# ---------------------------------------------------------------- synthetic inputs
def synthetic_data(config, n):
    """Images shaped like the preset's data (and labels), from a seeded generator."""
    rng = np.random.default_rng(config['seed'])
    if config['model'] == 'cyclegan':
        shape = (n, 3, config['load_size'], config['load_size'])
        a, b = (rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(2))
        return SimpleNamespace(a=a, b=b, fixed_a=a, fixed_b=b), None
    low, high = config['value_range']
    images = rng.uniform(low, high, (n, 1, 28, 28)).astype(config['dtype'])
    return images, rng.integers(0, 10, n).astype(np.int64)


def draw_inputs(config, recipe, n_batches=N_BATCHES):
    """``n_batches`` iterations' worth of ``train_step`` data arguments (NumPy)."""
    data, labels = synthetic_data(config, config['batch_size'] * n_batches)
    stream = RandomStream(config['seed'])
    batches = recipe.batches(data, config, stream)
    draw = recipe.drawer(data, labels, stream, config)
    return [draw(batches.next()) for _ in range(n_batches)]


# ---------------------------------------------------------------- variants
class Variant:
    """One way of training a case: ``step()`` runs one iteration and waits
    for the device; ``memory()`` is its device memory (GPU only)."""
    framework = None   # 'chainer' or 'torch': whose matrix multiply is its peak
    label = None

    def __init__(self, case, context=None):
        self.case = case
        self.context = context  # a context manager factory wrapped around every step, or None
        self.iteration = 0

    def step(self):
        inputs = self.inputs[self.iteration % len(self.inputs)]
        self.iteration += 1
        if self.context is None:
            return self.run(inputs)
        with self.context():
            return self.run(inputs)


class ChainerVariant(Variant):
    framework, label = 'chainer', 'chainer'

    def __init__(self, case, arrays, context=None, label=None):
        super().__init__(case, context)
        self.label = label or self.label
        config = case.config
        self.module = CHAINER_MODULES[case.model]
        self.device = chainer.get_device(config['chainer_device'])
        self.device.use()
        np.random.seed(config['seed'])
        self.nets = chainer_networks(_meta(config, 'chainer'), self.device)
        names = self.module.RECIPE.networks
        self.networks = [self.nets[n] for n in names]
        self.optimizers = [self.module.make_optimizer(self.nets[n], presets.adam_settings(config, n)) for n in names]
        self.kwargs = self.module.RECIPE.step_kwargs(config, RandomStream(config['seed'] + 2))
        self.inputs = [to_chainer_inputs(a, self.device) for a in arrays]

    def run(self, inputs):
        losses = self.module.train_step(*self.networks, *self.optimizers, *inputs, **self.kwargs)
        value = float(losses[0].array)
        if self.device.xp is not np:
            self.device.device.synchronize()
        return value


class TorchVariant(Variant):
    framework, label = 'torch', 'torch port'

    def __init__(self, case, arrays, chainer_nets=None, context=None, label=None, memory_format=None):
        super().__init__(case, context)
        self.label = label or self.label
        config = case.config
        self.module = TORCH_MODULES[case.model]
        self.device = torch.device(config['torch_device'])
        nets = torch_networks(_meta(config, 'torch'), self.device)
        names = self.module.RECIPE.networks
        if chainer_nets is not None:
            for name in names:
                chainer_to_torch(chainer_nets[name], nets[name])
        if memory_format is not None:
            nets = {name: net.to(memory_format=memory_format) for name, net in nets.items()}
        self.nets = nets
        self.networks = [nets[n] for n in names]
        self.optimizers = [self.module.make_optimizer(nets[n], presets.adam_settings(config, n)) for n in names]
        self.kwargs = self.module.RECIPE.step_kwargs(config, RandomStream(config['seed'] + 2))
        self.inputs = [_to_memory_format(to_torch_inputs(a, self.device), memory_format) for a in arrays]

    def run(self, inputs):
        losses = self.module.train_step(*self.networks, *self.optimizers, *inputs, **self.kwargs)
        value = float(losses[0])
        _synchronize(self.device)
        return value

    def modules(self):
        return self.networks


class PlainVariant(Variant):
    framework, label = 'torch', 'plain torch'

    def __init__(self, case, arrays, reference):
        super().__init__(case)
        self.device = torch.device(case.config['torch_device'])
        self.reference = reference
        self.inputs = [to_torch_inputs(a, self.device) for a in arrays]

    def run(self, inputs):
        value = float(self.reference.step(*inputs)[0])
        _synchronize(self.device)
        return value

    def modules(self):
        return [m for m in vars(self.reference).values() if isinstance(m, torch.nn.Module)]


def _to_memory_format(tensors, memory_format):
    if memory_format is None:
        return tensors
    return [t.contiguous(memory_format=memory_format) if t is not None and t.dim() == 4 else t for t in tensors]


def _synchronize(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _meta(config, framework):
    return {'model': config['model'], 'framework': framework, 'config': config}


def build_variants(case, tuned=()):
    """The variants of ``case``: Chainer, the PyTorch port (Chainer's initial
    weights, copied), the plain reference where the model has one, then the
    ``tuned`` ones (``bridge.benchmark.tuning``) beside the defaults."""
    from bridge.benchmark.tuning import TUNINGS
    config = case.config
    arrays = draw_inputs(config, CHAINER_MODULES[case.model].RECIPE)
    dtype = torch.float64 if config['dtype'] == 'float64' else torch.float32
    chainer_variant = ChainerVariant(case, arrays)
    variants = [chainer_variant, TorchVariant(case, arrays, chainer_variant.nets)]
    torch.manual_seed(config['seed'])
    reference = plain_reference(config, torch.device(config['torch_device']), dtype)
    if reference is not None:
        variants.append(PlainVariant(case, arrays, reference))
    for name in tuned:
        variants.append(TUNINGS[name](case, arrays, chainer_variant.nets))
    return variants
