"""PyTorch training: a plain loop around the model module's ``train_step``,
with the inputs its ``RECIPE`` draws (see ``gan_common.recipes``): the same
batches, noise, labels, logging, sample grids and checkpoints as the Chainer
trainer (``chainer_impl/training.py``)."""
import os
import time

import numpy as np
import torch
from tqdm import tqdm

from gan_common import rundir
from gan_common.checkpoints import first_line, incomplete
from gan_common.cycle import stateful
from gan_common.images import save_grid
from gan_common.parallel import Shard
from gan_common.plots import plot_log
from gan_common.presets import adam_settings
from gan_common.streams import RandomStream
from gan_common.training import check_alive, check_finite, learning_rate_factor, run_meta, set_learning_rate
from torch_impl.checkpoint import read_checkpoint, save_checkpoint

SUFFIX = '.pt'
CHECKPOINT_PATTERN = 'snapshot_iter_{}' + SUFFIX


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


class Trainer:
    """Owns the networks (by the recipe's names: ``gen``, ``dis``; CycleGAN's
    four), their optimizers, the batch order and the ``train_step`` keyword
    arguments (CycleGAN's image pools) of one run. With ``parallel`` (this
    rank's ``torch_impl.distributed.DataParallel``) ``train_step`` gets the
    networks in DDP and this rank's rows of each batch; only rank 0 writes."""

    def __init__(self, module, networks, images, config, run_dir, device, labels=None, parallel=None):
        self.module, self.networks = module, networks
        self.parallel = parallel
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
        self.history = []  # the log entries, for the dead-run check

    def step(self):
        arrays = self.draw(self.batches.next())
        self.apply_schedule(self.batches.epoch)
        names = self.recipe.networks
        try:
            losses = self.module.train_step(*[self.step_networks[n] for n in names], *[self.optimizers[n] for n in names],
                                            *to_torch_inputs(arrays, self.device), **self.step_kwargs)
        except RuntimeError as error:  # BCELoss refuses a NaN probability before any loss is seen
            if self.weights_are_finite() and 'between 0 and 1' not in str(error):
                raise
            check_finite(None, self.iteration + 1, self.run_dir, SUFFIX)
        self.iteration += 1
        values = {name: float(loss) for name, loss in zip(self.recipe.loss_names, losses)}
        check_finite(values, self.iteration, self.run_dir, SUFFIX)
        return values

    def weights_are_finite(self):
        return all(bool(torch.isfinite(p).all()) for network in self.networks.values() for p in network.parameters())

    def apply_schedule(self, epoch):
        if self.config.get('lr_schedule'):
            factor = learning_rate_factor(self.config, epoch)
            for name, optimizer in self.optimizers.items():
                for group in optimizer.param_groups:
                    set_learning_rate(group, adam_settings(self.config, name)['alpha'] * factor)

    def run(self):
        config, total = self.config, self.config['iterations']
        window, start = [], time.time()
        bar = tqdm(total=total, initial=self.iteration, desc='torch', unit='it',
                   disable=not (config.get('progress', True) and self.shard.is_writer), dynamic_ncols=True)
        while self.iteration < total:
            window.append(self.step())
            bar.update(1)
            if self.iteration % config['log_every'] == 0:
                entry = self._log_entry(window, time.time() - start)  # on every rank: it averages over them
                window = []
                if self.shard.is_writer:
                    self.write_log(entry, bar)
            snapshot_due = self.iteration % config['snapshot_every'] == 0 or self.iteration == total
            if not self.shard.is_writer:
                if snapshot_due:
                    self.shard.save_pools(self.checkpoint_path(), self.step_kwargs)  # beside rank 0's snapshot
                continue
            if self.iteration % config['sample_every'] == 0:
                self.save_samples()
            if snapshot_due:
                self.save_checkpoint()
        bar.close()
        if self.shard.is_writer:
            plot_log(rundir.read_log(self.run_dir), list(self.recipe.loss_names), os.path.join(self.run_dir, 'loss.png'))

    def write_log(self, entry, bar):
        rundir.append_log(self.run_dir, entry)
        self.history.append(entry)
        check_alive(self.history, self.run_dir, SUFFIX)
        bar.set_postfix({name: f'{entry[name]:.3f}' for name in self.recipe.loss_names})

    def _log_entry(self, window, elapsed):
        """The log entry of the iterations in ``window``: each loss's mean
        over them (and over the ranks: the global batch's losses)."""
        entry = {'iteration': self.iteration, 'epoch': self.batches.epoch, 'elapsed_time': elapsed}
        losses = {key: float(np.mean([values[key] for values in window])) for key in window[0]}
        entry.update(self.parallel.mean_over_ranks(losses) if self.parallel else losses)
        return entry

    def save_samples(self):
        path = os.path.join(self.run_dir, 'samples', f'iter_{self.iteration:07d}.png')
        images, cols = self.recipe.grid(generate, self.networks, self.fixed)
        save_grid(images, path, cols=cols, value_range=self.config['value_range'], scale=2)

    def state(self):
        return {'meta': run_meta(self.config, 'torch'),
                'iteration': self.iteration,
                'model': {name: network.state_dict() for name, network in self.networks.items()},
                'optimizer': {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
                'batches': self.batches.get_state(),
                'extras': {name: {key: torch.from_numpy(np.ascontiguousarray(array)) for key, array in value.get_state().items()}
                           for name, value in stateful(self.step_kwargs).items()}}

    def load_state(self, state, source='the checkpoint'):
        try:
            for name, network in self.networks.items():
                network.load_state_dict(state['model'][name])
                self.optimizers[name].load_state_dict(state['optimizer'][name])
        except (KeyError, ValueError, RuntimeError) as error:
            raise incomplete(source, f'a matching {name} or its optimizer state ({type(error).__name__}: '
                                     f'{first_line(error)})') from None
        self.batches.set_state(state['batches'])
        extras = state.get('extras', {})
        for name, value in stateful(self.step_kwargs).items():
            if name in extras:
                value.set_state({key: tensor.numpy() for key, tensor in extras[name].items()})
        self.iteration = int(state['iteration'])
        self.shard.restore_pools(self.step_kwargs, source, state['meta']['config'], pool_streams_saved(state))

    def checkpoint_path(self):
        return os.path.join(self.run_dir, CHECKPOINT_PATTERN.format(self.iteration))

    def save_checkpoint(self):
        path = self.checkpoint_path()
        save_checkpoint(self.state(), path)
        return path


def pool_streams_saved(state):
    """Whether a checkpoint holds its image pools' own streams (a data-parallel run's, from rank 0)."""
    return any('stream' in pool for pool in state.get('extras', {}).values())


def read_start(path, model):
    """(state, the settings it was trained with, its iteration) of a checkpoint to start from, verified."""
    state = read_checkpoint(path, model)
    return state, state['meta']['config'], int(state['iteration'])



def train(config, images, run_dir, start=None, labels=None):
    """Train ``config['model']`` on ``images`` (N, C, H, W; CycleGAN: an
    ``UnpairedImages``) (and their ``labels`` (N,), which a conditional model
    needs) into ``run_dir``; ``start``: (path, state) of a checkpoint to
    continue (``read_start``), e.g. the run's own or one converted from Chainer."""
    from torch_impl.models import MODULES, build_named_networks
    parallel = None
    if config.get('workers', 1) > 1:
        from torch_impl.distributed import DataParallel
        parallel = DataParallel(config)
    device = parallel.device if parallel else torch.device(config['torch_device'])
    torch.manual_seed(config['seed'])
    networks = build_named_networks(run_meta(config, 'torch'), device)
    if parallel:
        networks = parallel.convert_networks(networks, config['model'])
        if start is not None:  # before DDP is built, so that it broadcasts these weights
            for name, network in networks.items():
                network.load_state_dict(start[1]['model'][name])
    trainer = Trainer(MODULES[config['model']], networks, images, config, run_dir, device, labels, parallel)
    if start is not None:
        source, state = start
        trainer.load_state(state, source)
        if trainer.shard.is_writer:
            trainer.history = rundir.resume_log(run_dir, source, trainer.iteration)
    trainer.run()
    if parallel:
        parallel.close()
    return trainer
