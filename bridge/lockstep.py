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
from chainer_impl.models import MODULES as CHAINER_MODULES
from chainer_impl.training import generate as chainer_generate
from chainer_impl.training import to_chainer_inputs
from gan_common.datasets import load_images
from gan_common.keymap import chainer_to_torch_key
from gan_common.presets import adam_settings
from gan_common.recipes import cycle_labels
from gan_common.streams import RandomStream
from torch_impl import checkpoint as torch_checkpoint
from torch_impl.models import MODULES as TORCH_MODULES
from torch_impl.training import generate as torch_generate
from torch_impl.training import to_torch_inputs


class Lockstep:
    """Both frameworks' networks and optimizers for one ``config``."""

    def __init__(self, config, images, labels=None):
        self.config = config
        self.images = images
        self.dtype = np.dtype(config['dtype'])
        self.chainer_module = CHAINER_MODULES[config['model']]
        self.torch_module = TORCH_MODULES[config['model']]
        self.recipe = self.chainer_module.RECIPE
        if self.recipe.conditional and labels is None:  # compare.py passes the images only
            _, labels = load_images(config['dataset'], config.get('data_dir'), config['splits'],
                                    config['classes'], config['scaling'], dtype=config['dtype'])
        self.labels = labels
        self.chainer_device = chainer.get_device(config['chainer_device'])
        self.torch_device = torch.device(config['torch_device'])
        np.random.seed(config['seed'])
        self.c_gen, self.c_dis = chainer_checkpoint.build_networks(self._meta('chainer'), self.chainer_device)
        self.t_gen, self.t_dis = torch_checkpoint.build_networks(self._meta('torch'), self.torch_device)
        chainer_to_torch(self.c_gen, self.t_gen)
        chainer_to_torch(self.c_dis, self.t_dis)
        self.c_opt_gen = self.chainer_module.make_optimizer(self.c_gen, adam_settings(config, 'gen'))
        self.c_opt_dis = self.chainer_module.make_optimizer(self.c_dis, adam_settings(config, 'dis'))
        self.t_opt_gen = self.torch_module.make_optimizer(self.t_gen, adam_settings(config, 'gen'))
        self.t_opt_dis = self.torch_module.make_optimizer(self.t_dis, adam_settings(config, 'dis'))
        self.stream = RandomStream(config['seed'])
        self.batches = self.recipe.make_batches(len(images), config['batch_size'], self.stream)
        self.iteration = 0

    def _meta(self, framework):
        return {'model': self.config['model'], 'framework': framework, 'config': self.config}

    def step(self):
        """One iteration in each framework on the same inputs; returns a row
        of losses, their differences, the parameter drift and the times."""
        arrays = self.recipe.draw(self.batches.next(), self.images, self.labels, self.stream,
                                  self.c_gen.z_dim, self.dtype, self.config.get('classes'))
        started = time.perf_counter()
        c_losses = self.chainer_module.train_step(
            self.c_gen, self.c_dis, self.c_opt_gen, self.c_opt_dis, *to_chainer_inputs(arrays, self.chainer_device))
        c_losses = [float(loss.array) for loss in c_losses]
        chainer_ms = (time.perf_counter() - started) * 1e3
        started = time.perf_counter()
        t_losses = self.torch_module.train_step(
            self.t_gen, self.t_dis, self.t_opt_gen, self.t_opt_dis, *to_torch_inputs(arrays, self.torch_device))
        t_losses = [float(loss) for loss in t_losses]
        torch_ms = (time.perf_counter() - started) * 1e3
        self.iteration += 1
        row = {'iteration': self.iteration}
        for framework, losses in (('chainer', c_losses), ('torch', t_losses)):
            named = dict(zip(self.recipe.loss_names, losses))
            if 'loss_dis' not in named:  # cgan: the book prints d_loss = (real + fake) / 2
                row.update({f'{framework}_{k}': v for k, v in named.items()})
                named['loss_dis'] = 0.5 * (named['loss_dis_real'] + named['loss_dis_fake'])
            row[f'{framework}_loss_gen'], row[f'{framework}_loss_dis'] = named['loss_gen'], named['loss_dis']
        row.update(loss_diff=max(abs(a - b) for a, b in zip(c_losses, t_losses)),
                   param_drift=self.parameter_drift(), chainer_ms=chainer_ms, torch_ms=torch_ms)
        return row

    def parameter_drift(self):
        """max |Chainer - PyTorch| over every parameter of both networks."""
        drift = 0.0
        for chain, module in ((self.c_gen, self.t_gen), (self.c_dis, self.t_dis)):
            torch_params = dict(module.named_parameters())
            for name, param in chain.namedparams():
                drift = max(drift, max_abs_diff(param.array, torch_params[chainer_to_torch_key(name)]))
        return drift

    def bn_statistics_drift(self):
        """max |Chainer - PyTorch| / max(1, |Chainer|) over BN running means
        and variances (running variances grow to hundreds)."""
        drift = 0.0
        for chain, module in ((self.c_gen, self.t_gen), (self.c_dis, self.t_dis)):
            buffers = dict(module.named_buffers())
            for key, value in chainer_checkpoint.state_of(chain).items():
                if key.endswith(('avg_mean', 'avg_var')):
                    drift = max(drift, max_rel_diff(value, buffers[chainer_to_torch_key(key)]))
        return drift

    def samples(self, z):
        """Both generators on ``z`` (and, for a conditional model, classes in turn)."""
        labels = cycle_labels(len(z), self.config.get('classes')) if self.recipe.conditional else None
        return to_numpy(chainer_generate(self.c_gen, z, labels)), torch_generate(self.t_gen, z, labels)
