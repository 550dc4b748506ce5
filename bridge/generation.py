"""Trained networks of either framework behind one interface, for the tools
that only run them (sample.py, evaluate.py, translate.py): the framework is
read from the checkpoint's suffix."""
import numpy as np

from gan_common.checkpoints import framework_of, single_generator_error
from gan_common.devices import DEVICE_SPECS, parse_device, require_gpu
from gan_common.errors import UserError
from gan_common.frameworks import implementation
from gan_common.models import declaration
from gan_common.images import to_unit_range
from gan_common.recipes import cycle_labels
from gan_common.streams import RandomStream


class TrainedNetworks:
    """``meta`` (the checkpoint's model and config), ``networks`` by the
    recipe's names, ``recipe``, and ``run(name, *inputs)``: one network in
    test mode (BN running statistics), as NumPy."""

    def __init__(self, path, device='cpu'):
        framework = framework_of(path)
        gpu = parse_device(device)
        require_gpu(gpu, (framework,))
        self.meta, self.networks = implementation(framework, 'checkpoint').load_named_networks(
            path, device=DEVICE_SPECS[framework](gpu))
        self.path = path
        self.model = self.meta['model']
        self.config = self.meta['config']
        self.recipe = declaration(self.model).RECIPE
        self._generate = implementation(framework, 'training').generate

    def run(self, name, *inputs):
        return self._generate(self.networks[name], *inputs)


class TrainedGenerator(TrainedNetworks):
    """A single-generator model (not CycleGAN): ``conditional``, ``noise``,
    and ``images(z, labels)`` in [0, 1]."""

    def __init__(self, path, device='cpu'):
        super().__init__(path, device)
        if 'gen' not in self.networks:
            raise single_generator_error(path, self.meta)
        self.conditional = self.recipe.conditional

    def noise(self, n, seed=0):
        """z drawn as the model was trained on it."""
        return self.recipe.draw_noise(RandomStream(seed), n, self.config['z_dim'], np.dtype(self.config['dtype']))

    def raw(self, z, labels=None):
        """Generator output in the model's own value range."""
        return self.run('gen', z, labels if self.conditional else None)

    def images(self, z, labels=None, batch_size=500):
        parts = [self.raw(z[i:i + batch_size], None if labels is None else labels[i:i + batch_size])
                 for i in range(0, len(z), batch_size)]
        return to_unit_range(np.concatenate(parts), self.config['value_range'])

    def sample(self, n, seed=0, label=None):
        """(images in [0, 1], labels or None): a conditional model draws class
        ``label``, or classes 0-9 in turn."""
        if label is not None and not self.conditional:
            raise UserError(f'--class: {self.path} is a {self.model} checkpoint, an unconditional model; '
                            'only cgan and acgan take a class')
        labels = None
        if self.conditional:
            labels = cycle_labels(n) if label is None else np.full(n, label, dtype=np.int64)
        return self.images(self.noise(n, seed), labels), labels
