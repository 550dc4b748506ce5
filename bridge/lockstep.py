"""Train one model in Chainer and in PyTorch side by side: the same initial
weights (Chainer's, copied), the same batches, noise and labels (drawn by the
model's ``RECIPE``, as in training), each framework's ``make_optimizer``, one
step of each per iteration, measuring loss differences, parameter drift and
time per step."""
import time

import numpy as np
import torch

from chainer_impl import compat  # noqa: F401
import chainer  # noqa: E402

from bridge.transfer import chainer_to_torch, max_abs_diff, max_rel_diff, to_numpy
from chainer_impl import checkpoint as chainer_checkpoint
from chainer_impl import models as chainer_models
from chainer_impl.training import generate as chainer_generate
from chainer_impl.training import to_chainer_inputs
from gan_common.images import to_unit_range
from gan_common.keymap import chainer_to_torch_key
from gan_common.presets import adam_settings
from gan_common.recipes import cycle_labels
from gan_common.streams import RandomStream
from torch_impl import models as torch_models
from torch_impl.training import generate as torch_generate
from torch_impl.training import to_torch_inputs


class Lockstep:
    """Both frameworks' networks (by the recipe's names) and optimizers for one ``config``."""

    def __init__(self, config, images, labels=None):
        self.config = config
        self.images = images
        self.chainer_module = chainer_models.MODULES[config['model']]
        self.torch_module = torch_models.MODULES[config['model']]
        self.recipe = self.chainer_module.RECIPE
        if self.recipe.conditional and labels is None:
            raise ValueError(f"{config['model']} is conditional: pass the labels of its images")
        self.labels = labels
        self.chainer_device = chainer.get_device(config['chainer_device'])
        self.torch_device = torch.device(config['torch_device'])
        np.random.seed(config['seed'])
        self.c_nets = chainer_models.build_named_networks(self._meta('chainer'), self.chainer_device)
        self.t_nets = torch_models.build_named_networks(self._meta('torch'), self.torch_device)
        names = self.recipe.networks
        for name in names:
            chainer_to_torch(self.c_nets[name], self.t_nets[name])
        self.c_opts = [self.chainer_module.make_optimizer(self.c_nets[n], adam_settings(config, n)) for n in names]
        self.t_opts = [self.torch_module.make_optimizer(self.t_nets[n], adam_settings(config, n)) for n in names]
        self.stream = RandomStream(config['seed'])
        self.batches = self.recipe.batches(images, config, self.stream)
        self.draw = self.recipe.drawer(images, labels, self.stream, config)
        # each framework's train_step gets its own pools, on streams in the same state
        self.c_kwargs = self.recipe.step_kwargs(config, RandomStream(config['seed'] + 2))
        self.t_kwargs = self.recipe.step_kwargs(config, RandomStream(config['seed'] + 2))
        self.iteration = 0

    def _meta(self, framework):
        return {'model': self.config['model'], 'framework': framework, 'config': self.config}

    def step(self):
        """One iteration in each framework on the same inputs; returns a row
        of losses, their differences, the parameter drift and the times."""
        arrays = self.draw_inputs()
        c_losses, chainer_ms = self.step_chainer(arrays)
        t_losses, torch_ms = self.step_torch(arrays)
        self.iteration += 1
        return self.row(c_losses, t_losses, chainer_ms, torch_ms, self.parameter_drift())

    def draw_inputs(self):
        """The next iteration's ``train_step`` data arguments, as NumPy arrays."""
        return self.draw(self.batches.next())

    def step_chainer(self, arrays):
        """One Chainer iteration on ``arrays``: (its losses as floats, ms)."""
        started = time.perf_counter()
        losses = self.chainer_module.train_step(
            *[self.c_nets[n] for n in self.recipe.networks], *self.c_opts,
            *to_chainer_inputs(arrays, self.chainer_device), **self.c_kwargs)
        return [float(loss.array) for loss in losses], (time.perf_counter() - started) * 1e3

    def step_torch(self, arrays):
        """One PyTorch iteration on ``arrays``: (its losses as floats, ms)."""
        started = time.perf_counter()
        losses = self.torch_module.train_step(
            *[self.t_nets[n] for n in self.recipe.networks], *self.t_opts,
            *to_torch_inputs(arrays, self.torch_device), **self.t_kwargs)
        return [float(loss) for loss in losses], (time.perf_counter() - started) * 1e3

    def row(self, c_losses, t_losses, chainer_ms, torch_ms, param_drift):
        """The table row of this iteration from both frameworks' losses."""
        row = {'iteration': self.iteration}
        for framework, losses in (('chainer', c_losses), ('torch', t_losses)):
            named = dict(zip(self.recipe.loss_names, losses))
            if 'loss_dis' not in named:  # cgan: the book prints d_loss = (real + fake) / 2; cyclegan: (D_A + D_B) / 2
                row.update({f'{framework}_{k}': v for k, v in named.items()})
                named['loss_dis'] = float(np.mean([v for k, v in named.items() if k.startswith('loss_dis_')]))
            row[f'{framework}_loss_gen'], row[f'{framework}_loss_dis'] = named['loss_gen'], named['loss_dis']
        row.update(loss_diff=max(abs(a - b) for a, b in zip(c_losses, t_losses)),
                   param_drift=param_drift, chainer_ms=chainer_ms, torch_ms=torch_ms)
        return row

    def torch_state(self):
        """Every PyTorch network's state_dict as NumPy arrays, by network name."""
        return {name: {key: value.detach().cpu().numpy() for key, value in self.t_nets[name].state_dict().items()}
                for name in self.recipe.networks}

    def load_torch_state(self, states):
        """Load ``torch_state()``'s arrays (from another process) into the PyTorch networks."""
        for name, state in states.items():
            module = self.t_nets[name]
            module.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()}, strict=True)

    def pairs(self):
        return [(self.c_nets[name], self.t_nets[name]) for name in self.recipe.networks]

    def parameter_drift(self):
        """max |Chainer - PyTorch| over every parameter of every network."""
        drift = 0.0
        for chain, module in self.pairs():
            torch_params = dict(module.named_parameters())
            for name, param in chain.namedparams():
                drift = max(drift, max_abs_diff(param.array, torch_params[chainer_to_torch_key(name)]))
        return drift

    def bn_statistics_drift(self):
        """max |Chainer - PyTorch| / max(1, |Chainer|) over BN running means
        and variances (running variances grow to hundreds)."""
        drift = 0.0
        for chain, module in self.pairs():
            buffers = dict(module.named_buffers())
            for key, value in chainer_checkpoint.state_of(chain).items():
                if key.endswith(('avg_mean', 'avg_var')):
                    drift = max(drift, max_rel_diff(value, buffers[chainer_to_torch_key(key)]))
        return drift

    def fixed_samples(self, seed):
        """The inputs of the side-by-side grids: noise (GANs) or test images (CycleGAN)."""
        if 'gen' in self.recipe.networks:  # drawn as the model trains on it
            z = self.recipe.draw_noise(RandomStream(seed), 64, self.config['z_dim'], np.dtype(self.config['dtype']))
            return z, None
        return self.recipe.fixed(self.images, self.config)

    def samples(self, fixed):
        """Both frameworks' grids of ``fixed`` (for a conditional model, classes
        in turn): ((Chainer images, PyTorch images), columns or None for a square grid)."""
        (c_images, cols), (t_images, _) = self.grid('chainer', fixed), self.grid('torch', fixed)
        return (c_images, t_images), cols

    def grid(self, framework, fixed):
        """One framework's grid of ``fixed`` as NumPy images: (images, columns or None)."""
        run, networks = ((chainer_generate, self.c_nets) if framework == 'chainer'
                         else (torch_generate, self.t_nets))
        if 'gen' in self.recipe.networks:
            z = fixed[0]
            labels = cycle_labels(len(z), self.config.get('classes')) if self.recipe.conditional else None
            return to_numpy(run(networks['gen'], z, labels)), None
        images, cols = self.recipe.grid(run, networks, fixed)
        return to_numpy(images), cols

    def final_images(self, n, seed=0):
        """(Chainer images, PyTorch images) in [0, 1] of both generators (test
        mode) on the same ``n`` noise vectors, drawn as ``sample.py`` draws them."""
        z = self.recipe.draw_noise(RandomStream(seed), n, self.config['z_dim'], np.dtype(self.config['dtype']))
        labels = cycle_labels(n, self.config.get('classes')) if self.recipe.conditional else None
        c_images = to_numpy(chainer_generate(self.c_nets['gen'], z, labels))
        t_images = torch_generate(self.t_nets['gen'], z, labels)
        return [to_unit_range(images, self.config['value_range']) for images in (c_images, t_images)]
