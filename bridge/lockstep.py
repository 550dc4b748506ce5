"""Train one model in Chainer and in PyTorch side by side: the same initial
weights (Chainer's, copied), the same batches and noise, one step of each per
iteration, measuring loss differences, parameter drift and time per step."""
import time

import numpy as np
import torch

from chainer_impl import compat  # noqa: F401
import chainer  # noqa: E402

from bridge.transfer import chainer_to_torch, max_abs_diff, max_rel_diff, to_numpy
from chainer_impl import checkpoint as chainer_checkpoint
from chainer_impl.models import MODULES as CHAINER_MODULES
from chainer_impl.training import generate as chainer_generate
from chainer_impl.training import make_adam
from gan_common.keymap import chainer_to_torch_key
from gan_common.streams import EpochBatches, RandomStream
from torch_impl import checkpoint as torch_checkpoint
from torch_impl.models import MODULES as TORCH_MODULES
from torch_impl.optim import ChainerAdam
from torch_impl.training import generate as torch_generate


class Lockstep:
    """Both frameworks' networks and optimizers for one ``config``."""

    def __init__(self, config, images):
        self.config = config
        self.images = images
        self.dtype = np.dtype(config['dtype'])
        self.chainer_module = CHAINER_MODULES[config['model']]
        self.torch_module = TORCH_MODULES[config['model']]
        self.chainer_device = chainer.get_device(config['chainer_device'])
        self.torch_device = torch.device(config['torch_device'])
        np.random.seed(config['seed'])
        self.c_gen, self.c_dis = chainer_checkpoint.build_networks(self._meta('chainer'), self.chainer_device)
        self.t_gen, self.t_dis = torch_checkpoint.build_networks(self._meta('torch'), self.torch_device)
        chainer_to_torch(self.c_gen, self.t_gen)
        chainer_to_torch(self.c_dis, self.t_dis)
        self.c_opt_gen, self.c_opt_dis = make_adam(self.c_gen, config['adam']), make_adam(self.c_dis, config['adam'])
        self.t_opt_gen = ChainerAdam(self.t_gen.parameters(), **config['adam'])
        self.t_opt_dis = ChainerAdam(self.t_dis.parameters(), **config['adam'])
        self.stream = RandomStream(config['seed'])
        self.batches = EpochBatches(len(images), config['batch_size'], self.stream)
        self.iteration = 0

    def _meta(self, framework):
        return {'model': self.config['model'], 'framework': framework, 'config': self.config}

    def step(self):
        """One iteration in each framework on the same inputs; returns a row
        of losses, their differences, the parameter drift and the times."""
        x_real = self.images[self.batches.next()]
        z = self.stream.uniform(-1.0, 1.0, (len(x_real), self.c_gen.z_dim), self.dtype)
        started = time.perf_counter()
        c_losses = self.chainer_module.train_step(
            self.c_gen, self.c_dis, self.c_opt_gen, self.c_opt_dis,
            self.chainer_device.send(x_real), self.chainer_device.send(z))
        c_losses = [float(loss.array) for loss in c_losses]
        chainer_ms = (time.perf_counter() - started) * 1e3
        started = time.perf_counter()
        t_losses = self.torch_module.train_step(
            self.t_gen, self.t_dis, self.t_opt_gen, self.t_opt_dis,
            torch.as_tensor(x_real, device=self.torch_device), torch.as_tensor(z, device=self.torch_device))
        t_losses = [float(loss) for loss in t_losses]
        torch_ms = (time.perf_counter() - started) * 1e3
        self.iteration += 1
        return {'iteration': self.iteration,
                'chainer_loss_gen': c_losses[0], 'chainer_loss_dis': c_losses[1],
                'torch_loss_gen': t_losses[0], 'torch_loss_dis': t_losses[1],
                'loss_diff': max(abs(a - b) for a, b in zip(c_losses, t_losses)),
                'param_drift': self.parameter_drift(), 'chainer_ms': chainer_ms, 'torch_ms': torch_ms}

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
        return to_numpy(chainer_generate(self.c_gen, z)), torch_generate(self.t_gen, z)
