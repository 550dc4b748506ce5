"""How a model is trained, framework-free: each model module (Chainer and
PyTorch alike) declares one ``Recipe``, and the one Chainer updater, the one
PyTorch trainer, ``bridge.lockstep`` and ``ganport sample`` consult it.

A recipe says how one iteration's inputs are drawn from the shared
``RandomStream`` (real examples by epoch permutation or with replacement;
the noise distribution; labels), in which order they are passed to the
module's ``train_step``, which losses ``train_step`` returns (the log keys),
and how the fixed sample grid is made. Both frameworks draw through the same
recipe, so they see identical numbers.

The trainers, ``bridge.lockstep`` and ``bridge.convert`` use only the
framework-neutral interface below (``networks``, ``loss_names``,
``batches``, ``drawer``, ``fixed``, ``grid``, ``step_kwargs``), which
``gan_common.cycle.UnpairedRecipe`` also provides for CycleGAN's four networks."""
from dataclasses import dataclass

import numpy as np

from gan_common.streams import EpochBatches, RandomStream, ReplacementBatches

N_CLASSES = 10


@dataclass(frozen=True)
class Recipe:
    noise: str = 'uniform'            # 'uniform' U(-1, 1) or 'normal' N(0, 1)
    sampling: str = 'epochs'          # 'epochs' (one permutation per epoch) or 'replacement'
    conditional: bool = False         # networks take (z, labels) / (x, labels)
    fresh_gen_noise: bool = False     # cgan: the G step draws its own noise (``z_gen``)
    loss_names: tuple = ('loss_gen', 'loss_dis')
    grid_size: int = 64               # fixed sample batch written to samples/
    grid_cols: int = None             # columns of that grid (default: square)
    networks: tuple = ('gen', 'dis')  # train_step(gen, dis, opt_gen, opt_dis, *inputs)

    # ------------------------------------------------------------ the trainers' interface
    def batches(self, images, config, stream):
        return self.make_batches(len(images), config['batch_size'], stream)

    def drawer(self, images, labels, stream, config):
        """draw(indices) -> ``train_step``'s data arguments."""
        dtype = np.dtype(config['dtype'])
        return lambda indices: self.draw(indices, images, labels, stream, config['z_dim'], dtype, config.get('classes'))

    def fixed(self, images, config):
        return self.fixed_inputs(config['seed'] + 1, config['z_dim'], np.dtype(config['dtype']), config.get('classes'))

    def grid(self, run, networks, fixed):
        """(images, columns) of the grid; ``run(gen, z, labels)`` is the framework's test-mode generator."""
        return run(networks['gen'], *fixed), self.grid_cols

    def step_kwargs(self, config, stream):
        return {}

    # ------------------------------------------------------------ drawing
    def make_batches(self, n_examples, batch_size, stream):
        kind = EpochBatches if self.sampling == 'epochs' else ReplacementBatches
        return kind(n_examples, batch_size, stream)

    def draw_noise(self, stream, n, z_dim, dtype):
        if self.noise == 'uniform':
            return stream.uniform(-1.0, 1.0, (n, z_dim), dtype)
        return stream.normal((n, z_dim), dtype)

    def draw(self, indices, images, labels, stream, z_dim, dtype, classes=None):
        """``train_step``'s data arguments (after the networks and optimizers)
        as NumPy arrays, in order. ``indices`` were drawn first (by the
        batches); then, from ``stream``: z, z_gen (cgan), the fake labels."""
        x_real = images[indices]
        n = len(indices)
        z = self.draw_noise(stream, n, z_dim, dtype)
        if not self.conditional:
            return (x_real, z)
        labels_real = labels[indices]
        z_gen = self.draw_noise(stream, n, z_dim, dtype) if self.fresh_gen_noise else None
        labels_fake = self.draw_labels(stream, n, classes)
        if self.fresh_gen_noise:
            return (x_real, labels_real, z, labels_fake, z_gen)
        return (x_real, labels_real, z, labels_fake)

    @staticmethod
    def draw_labels(stream, n, classes=None):
        classes = np.arange(N_CLASSES) if classes is None else np.asarray(classes, dtype=np.int64)
        return classes[stream.integers(len(classes), n)]

    # ------------------------------------------------------------ sampling
    def fixed_inputs(self, seed, z_dim, dtype, classes=None, n=None):
        """(z, labels or None) of the grid written to samples/ during training:
        labels cycle through ``classes`` (default 0-9)."""
        n = n or self.grid_size
        z = self.draw_noise(RandomStream(seed), n, z_dim, dtype)
        return z, (cycle_labels(n, classes) if self.conditional else None)


def cycle_labels(n, classes=None):
    classes = list(range(N_CLASSES)) if classes is None else list(classes)
    return np.asarray([classes[i % len(classes)] for i in range(n)], dtype=np.int64)
