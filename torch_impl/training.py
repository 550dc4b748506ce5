"""PyTorch training: a plain loop around the model module's ``train_step``,
with the inputs its ``RECIPE`` draws (see ``gan_common.recipes``): the same
batches, noise, labels, logging, sample grids and checkpoints as the Chainer
trainer (``chainer_impl/training.py``)."""
import glob
import math
import os
import re
import time

import numpy as np
import torch
from tqdm import tqdm

from gan_common import rundir
from gan_common.cycle import learning_rate_factor, stateful
from gan_common.errors import UserError
from gan_common.files import atomic_path
from gan_common.images import save_grid
from gan_common.parallel import Shard
from gan_common.plots import plot_log
from gan_common.presets import adam_settings
from gan_common.streams import RandomStream

CHECKPOINT_PATTERN = 'snapshot_iter_{}.pt'


def to_torch_inputs(arrays, device):
    """NumPy inputs -> tensors on ``device`` (labels stay int64)."""
    return [None if a is None else torch.as_tensor(a, device=device) for a in arrays]


def generate(gen, z, labels=None):
    """Generator output in eval mode (BN running statistics), as NumPy;
    ``labels`` for a conditional generator (CycleGAN: ``z`` is the image batch)."""
    was_training = gen.training
    gen.eval()
    with torch.no_grad():
        device = next(gen.parameters()).device
        y = gen(*to_torch_inputs([z] if labels is None else [z, np.asarray(labels, np.int64)], device))
    gen.train(was_training)
    return y.cpu().numpy()


def latest_checkpoint(run_dir):
    paths = glob.glob(os.path.join(run_dir, 'snapshot_iter_*.pt'))
    if not paths:
        return None
    return max(paths, key=lambda p: int(re.search(r'snapshot_iter_(\d+)\.pt$', p).group(1)))


class Trainer:
    """Owns the networks (by the recipe's names: ``gen``, ``dis``; CycleGAN's
    four), their optimizers, the batch order and the ``train_step`` keyword
    arguments (CycleGAN's image pools) of one run. With ``parallel`` (this
    rank's ``torch_impl.distributed.DataParallel``) ``train_step`` gets the
    networks in DDP and this rank's rows of each batch; only rank 0 writes."""

    def __init__(self, module, networks, images, config, run_dir, device, labels=None, parallel=None):
        self.module, self.networks = module, networks
        self.step_networks = parallel.wrap(networks) if parallel else networks
        self.shard = parallel.shard if parallel else Shard()
        self.recipe = module.RECIPE
        self.images, self.labels = images, labels
        self.config = config
        self.run_dir = run_dir
        self.device = device
        self.optimizers = {name: module.make_optimizer(networks[name], adam_settings(config, name))
                           for name in self.recipe.networks}
        self.stream = RandomStream(config['seed'])
        self.batches = self.recipe.batches(images, config, self.stream)
        self.draw = self.shard.drawer(self.recipe.drawer(images, labels, self.stream, config))
        self.step_kwargs = self.shard.step_kwargs(self.recipe, config, self.stream)
        self.fixed = self.recipe.fixed(images, config)
        self.iteration = 0

    def step(self):
        arrays = self.draw(self.batches.next())
        self.apply_schedule(self.batches.epoch)
        names = self.recipe.networks
        losses = self.module.train_step(*[self.step_networks[n] for n in names], *[self.optimizers[n] for n in names],
                                        *to_torch_inputs(arrays, self.device), **self.step_kwargs)
        self.iteration += 1
        values = {name: float(loss) for name, loss in zip(self.recipe.loss_names, losses)}
        if not all(math.isfinite(v) for v in values.values()):
            raise UserError(f'loss became NaN/inf at iteration {self.iteration} ({values}); '
                            'lower the learning rate or --resume from an earlier snapshot')
        return values

    def apply_schedule(self, epoch):
        if self.config.get('lr_schedule'):
            factor = learning_rate_factor(self.config, epoch)
            for name, optimizer in self.optimizers.items():
                for group in optimizer.param_groups:
                    group['alpha'] = adam_settings(self.config, name)['alpha'] * factor

    def run(self):
        config, total = self.config, self.config['iterations']
        window, start = [], time.time()
        bar = tqdm(total=total, initial=self.iteration, desc='torch', unit='it',
                   disable=not (config.get('progress', True) and self.shard.is_writer), dynamic_ncols=True)
        while self.iteration < total:
            window.append(self.step())
            bar.update(1)
            if not self.shard.is_writer:
                continue
            if self.iteration % config['log_every'] == 0:
                entry = self._log_entry(window, time.time() - start)
                rundir.append_log(self.run_dir, entry)
                bar.set_postfix({name: f'{entry[name]:.3f}' for name in self.recipe.loss_names})
                window = []
            if self.iteration % config['sample_every'] == 0:
                self.save_samples()
            if self.iteration % config['snapshot_every'] == 0 or self.iteration == total:
                self.save_checkpoint()
        bar.close()
        if self.shard.is_writer:
            plot_log(rundir.read_log(self.run_dir), list(self.recipe.loss_names), os.path.join(self.run_dir, 'loss.png'))

    def _log_entry(self, window, elapsed):
        entry = {'iteration': self.iteration, 'epoch': self.batches.epoch, 'elapsed_time': elapsed}
        for key in window[0]:
            entry[key] = float(np.mean([values[key] for values in window]))
        return entry

    def save_samples(self):
        path = os.path.join(self.run_dir, 'samples', f'iter_{self.iteration:07d}.png')
        images, cols = self.recipe.grid(generate, self.networks, self.fixed)
        save_grid(images, path, cols=cols, value_range=self.config['value_range'], scale=2)

    def state(self):
        return {'meta': {'model': self.config['model'], 'framework': 'torch', 'config': self.config},
                'iteration': self.iteration,
                'model': {name: network.state_dict() for name, network in self.networks.items()},
                'optimizer': {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
                'batches': self.batches.get_state(),
                'extras': {name: {key: torch.from_numpy(np.ascontiguousarray(array)) for key, array in value.get_state().items()}
                           for name, value in stateful(self.step_kwargs).items()}}

    def load_state(self, state):
        for name, network in self.networks.items():
            network.load_state_dict(state['model'][name])
            self.optimizers[name].load_state_dict(state['optimizer'][name])
        self.batches.set_state(state['batches'])
        for name, value in stateful(self.step_kwargs).items():
            if name in state.get('extras', {}):
                value.set_state({key: tensor.numpy() for key, tensor in state['extras'][name].items()})
        self.iteration = int(state['iteration'])

    def save_checkpoint(self):
        path = os.path.join(self.run_dir, CHECKPOINT_PATTERN.format(self.iteration))
        with atomic_path(path) as tmp:
            torch.save(self.state(), tmp)
        return path


def train(config, images, run_dir, resume=False, resume_from=None, labels=None):
    """Train ``config['model']`` on ``images`` (N, C, H, W; CycleGAN: an
    ``UnpairedImages``) (and their
    ``labels`` (N,), which a conditional model needs) into ``run_dir``.

    ``resume``: continue from the newest checkpoint in ``run_dir``;
    ``resume_from``: start from a checkpoint file (e.g. converted from Chainer)."""
    from torch_impl.checkpoint import read_checkpoint
    from torch_impl.models import MODULES, build_named_networks
    parallel = None
    if config.get('workers', 1) > 1:
        from torch_impl.distributed import DataParallel
        parallel = DataParallel(config)
    device = parallel.device if parallel else torch.device(config['torch_device'])
    torch.manual_seed(config['seed'])
    meta = {'model': config['model'], 'framework': 'torch', 'config': config}
    networks = build_named_networks(meta, device)
    if parallel:
        networks = parallel.convert_networks(networks, config['model'])
    source = latest_checkpoint(run_dir) if resume else resume_from
    if resume and source is None:
        raise UserError(f'--resume: no snapshot_iter_*.pt in {run_dir}; train without --resume first')
    if source is not None:
        state = read_checkpoint(source, config['model'])
        for name, network in networks.items():  # before DDP is built, so that it broadcasts these
            network.load_state_dict(state['model'][name])
    trainer = Trainer(MODULES[config['model']], networks, images, config, run_dir, device, labels, parallel)
    if source is not None:
        trainer.load_state(state)
        if trainer.shard.is_writer:
            rundir.truncate_log(run_dir, trainer.iteration)
            print(f'resumed from {source} at iteration {trainer.iteration}')
    trainer.run()
    if parallel:
        parallel.close()
    return trainer
