"""Chainer training: a ``Trainer`` with one ``StandardUpdater`` subclass that
calls the model module's ``train_step`` with the inputs its ``RECIPE`` draws
(see ``gan_common.recipes``), and extensions for everything else (log,
progress bar, checksummed snapshots for ``--resume``, sample grids); the
loss plot is drawn from ``log.jsonl`` at the end, as the PyTorch trainer does."""
import json
import os

from chainer_impl import compat  # noqa: F401
import chainer
import numpy as np
from chainer import training
from chainer.training import extensions

from chainer_impl.checkpoint import (EXTRAS_PREFIX, ITERATION_KEY, META_KEY, SnapshotWriter, read_snapshot,
                                     require_training_state)
from gan_common import rundir
from gan_common.cycle import stateful
from gan_common.images import save_grid
from gan_common.parallel import Shard
from gan_common.plots import plot_log
from gan_common.presets import adam_settings
from gan_common.streams import RandomStream
from gan_common.training import check_alive, check_finite, learning_rate_factor, run_meta, set_learning_rate

SUFFIX = '.npz'
SNAPSHOT_PATTERN = 'snapshot_iter_{.updater.iteration}' + SUFFIX


class BatchIterator(chainer.dataset.Iterator):
    """Minibatch indices in the order of a shared ``EpochBatches`` or
    ``ReplacementBatches`` (the updater gathers the examples)."""

    def __init__(self, batches):
        self.batches = batches
        self._previous_epoch_detail = -1.0

    def __next__(self):
        self._previous_epoch_detail = self.epoch_detail
        return self.batches.next()

    next = __next__

    @property
    def epoch(self):
        return self.batches.epoch

    @property
    def epoch_detail(self):
        return self.batches.epoch_detail

    @property
    def previous_epoch_detail(self):
        return self._previous_epoch_detail

    @property
    def is_new_epoch(self):
        return self.batches.is_new_epoch

    def serialize(self, serializer):
        state = serializer('batches', json.dumps(self.batches.get_state()))
        if isinstance(serializer, chainer.serializer.Deserializer):
            self.batches.set_state(json.loads(str(state)))


def to_chainer_inputs(arrays, device):
    """NumPy inputs -> ``device`` arrays; labels as int32 (EmbedID, softmax_cross_entropy)."""
    return [None if a is None else device.send(a.astype(np.int32) if a.dtype.kind in 'iu' else a)
            for a in arrays]


class GANUpdater(training.updaters.StandardUpdater):
    """Draws one iteration's inputs with the model's recipe (the batch indices
    from the iterator, then noise, labels, crops from the shared stream) and
    runs ``train_step(*networks, *optimizers, *inputs, **step_kwargs)``, the
    networks in the recipe's order (``gen, dis``; CycleGAN's four); logs the
    recipe's loss names. A preset's learning-rate schedule is applied per
    epoch. A NaN/inf loss stops the run (``run_dir``: where its snapshots are)."""

    def __init__(self, iterator, optimizers, train_step, draw, loss_names, device, meta, step_kwargs=None,
                 run_dir='.'):
        super().__init__(iterator, optimizers, device=device)
        self.names = list(optimizers)
        self.train_step = train_step
        self.draw = draw
        self.loss_names = loss_names
        self.meta = meta
        self.step_kwargs = step_kwargs or {}
        self.run_dir = run_dir

    def update_core(self):
        optimizers = [self.get_optimizer(name) for name in self.names]
        iterator = self.get_iterator('main')
        inputs = to_chainer_inputs(self.draw(iterator.next()), self.device)
        self.apply_schedule(iterator.epoch)
        with np.errstate(over='ignore', invalid='ignore', divide='ignore'):  # a NaN is reported below, once
            losses = self.train_step(*[o.target for o in optimizers], *optimizers, *inputs, **self.step_kwargs)
        values = {name: float(loss.array) for name, loss in zip(self.loss_names, losses)}
        check_finite(values, self.iteration + 1, self.run_dir, SUFFIX)
        chainer.report(values)

    def apply_schedule(self, epoch):
        config = self.meta['config']
        if config.get('lr_schedule'):
            factor = learning_rate_factor(config, epoch)
            for name in self.names:
                set_learning_rate(self.get_optimizer(name).hyperparam, adam_settings(config, name)['alpha'] * factor)

    def serialize(self, serializer):
        super().serialize(serializer)
        serializer('meta', json.dumps(self.meta))
        loading = isinstance(serializer, chainer.serializer.Deserializer)
        for name, value in stateful(self.step_kwargs).items():  # the image pools
            current = value.get_state()
            if not loading:
                for key, array in current.items():
                    serializer(f'extras/{name}/{key}', array)
                continue
            loaded = {key: serializer(f'extras/{name}/{key}', None) for key in current}
            loaded = {key: array for key, array in loaded.items() if array is not None}
            if loaded:
                value.set_state(loaded)


class JsonlLog(training.Extension):
    """Appends LogReport's newest entry to ``log.jsonl`` (the run-directory
    contract), and stops a run whose log shows it has died. With ``parallel``
    it runs on every rank and first averages the entry's ``loss_names`` over
    the ranks (a shard's mean loss becomes the global batch's); rank 0 writes."""
    priority = training.PRIORITY_READER

    def __init__(self, run_dir, loss_names=(), parallel=None):
        self.run_dir = run_dir
        self.loss_names, self.parallel = loss_names, parallel
        self.writes = parallel is None or parallel.shard.is_writer
        self._written = 0

    def __call__(self, trainer):
        log = trainer.get_extension('LogReport').log
        for entry in log[self._written:]:
            if self.parallel:
                entry.update(self.parallel.mean_over_ranks({name: entry[name] for name in self.loss_names}))
            if self.writes:
                rundir.append_log(self.run_dir, {k: entry[k] for k in entry})
        self._written = len(log)
        if self.writes:
            check_alive(log, self.run_dir, SUFFIX)

    def serialize(self, serializer):
        self._written = int(serializer('written', self._written))


def sample_grid_extension(recipe, networks, fixed, run_dir, value_range):
    """Writes ``samples/iter_NNNNNNN.png``: the recipe's grid of the fixed inputs."""

    @training.make_extension(priority=training.PRIORITY_READER)
    def sample_grid(trainer):
        images, cols = recipe.grid(generate, networks, fixed)
        path = os.path.join(run_dir, 'samples', f'iter_{trainer.updater.iteration:07d}.png')
        save_grid(images, path, cols=cols, value_range=value_range, scale=2)

    return sample_grid


def generate(gen, z, labels=None):
    """Generator output in test mode (BN running statistics), as NumPy;
    ``labels`` for a conditional generator (CycleGAN: ``z`` is the image batch)."""
    args = to_chainer_inputs([z] if labels is None else [z, np.asarray(labels)], gen.device)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        y = gen(*args)
    return chainer.backend.CpuDevice().send(y.array)


def build_trainer(module, networks, images, config, run_dir, device, labels=None, parallel=None):
    """A Trainer for ``config`` (see ``gan_common.presets``) writing into ``run_dir``;
    ``networks`` by name (``build_named_networks``); ``labels`` (N,) for a conditional model;
    ``parallel``: this rank's ``chainer_impl.distributed.DataParallel`` (only rank 0 writes)."""
    recipe = module.RECIPE
    shard = parallel.shard if parallel else Shard()
    stream = RandomStream(config['seed'])
    batches = recipe.batches(images, config, stream)
    draw = shard.drawer(recipe.drawer(images, labels, stream, config))
    optimizers = {name: module.make_optimizer(networks[name], adam_settings(config, name)) for name in recipe.networks}
    if parallel:
        optimizers = {name: parallel.optimizer(optimizer) for name, optimizer in optimizers.items()}
    updater = GANUpdater(BatchIterator(batches), optimizers, module.train_step, draw, recipe.loss_names,
                         device, run_meta(config, 'chainer'), shard.step_kwargs(recipe, config, stream), run_dir)
    stop = (config['iterations'], 'iteration')
    trainer = training.Trainer(updater, stop, out=run_dir)
    every = lambda key: (config[key], 'iteration')  # noqa: E731
    trainer.extend(extensions.LogReport(trigger=every('log_every'), filename=None))  # log.jsonl is the log
    trainer.extend(JsonlLog(run_dir, recipe.loss_names, parallel), trigger=every('log_every'))
    if not shard.is_writer:
        trainer.extend(pool_file_extension(shard, run_dir), trigger=every('snapshot_every'), name='snapshot')
        return trainer
    fixed = recipe.fixed(images, config)
    trainer.extend(extensions.snapshot(filename=SNAPSHOT_PATTERN, writer=SnapshotWriter()),
                   trigger=every('snapshot_every'), name='snapshot')
    trainer.extend(sample_grid_extension(recipe, networks, fixed, run_dir, config['value_range']),
                   trigger=every('sample_every'))
    if config.get('progress', True):
        trainer.extend(extensions.ProgressBar(update_interval=max(1, config['log_every'])))
    return trainer


def pool_file_extension(shard, run_dir):
    """On rank k >= 1, in place of the snapshot: its image pools beside rank 0's snapshot."""

    @training.make_extension(priority=training.PRIORITY_READER)
    def pool_file(trainer):
        snapshot = os.path.join(run_dir, SNAPSHOT_PATTERN.format(trainer))
        shard.save_pools(snapshot, trainer.updater.step_kwargs)

    return pool_file


def pool_streams_saved(arrays):
    """Whether a snapshot holds its image pools' own streams (a data-parallel run's, from rank 0)."""
    return any(key.startswith(EXTRAS_PREFIX) and key.endswith('/stream') for key in arrays)


def restore_rank_pools(shard, updater, source, arrays):
    """Rank k >= 1's own image pools, from beside the snapshot ``source`` (``arrays``)."""
    saved_config = json.loads(str(arrays[META_KEY]))['config']
    shard.restore_pools(updater.step_kwargs, source, saved_config, pool_streams_saved(arrays))


def read_start(path, model):
    """(arrays, the settings it was trained with, its iteration) of a snapshot to start from, verified."""
    arrays, meta = read_snapshot(path, model)
    return arrays, meta['config'], int(arrays[ITERATION_KEY]) if ITERATION_KEY in arrays else 0


def train(config, images, run_dir, start=None, labels=None):
    """Train ``config['model']`` on ``images`` (N, C, H, W; CycleGAN: an
    ``UnpairedImages``) (and their ``labels`` (N,), which a conditional model
    needs) into ``run_dir``; ``start``: (path, arrays) of a snapshot to
    continue (``read_start``), e.g. the run's own or one converted from PyTorch."""
    from chainer_impl.models import MODULES, build_named_networks
    parallel = None
    if config.get('workers', 1) > 1:
        from chainer_impl.distributed import DataParallel
        parallel = DataParallel(config)
    writer = parallel is None or parallel.shard.is_writer
    device = chainer.get_device(parallel.device_spec if parallel else config['chainer_device'])
    device.use()
    np.random.seed(config['seed'])  # Chainer's initialisers draw from NumPy's global stream
    networks = build_named_networks(run_meta(config, 'chainer'), device)
    if parallel:
        networks = parallel.convert_networks(networks, config['model'])
    trainer = build_trainer(MODULES[config['model']], networks, images, config, run_dir, device, labels, parallel)
    if start is not None:
        source, arrays = start
        require_training_state(arrays, networks, source)
        # a converted file holds no extension state, so load non-strictly (the networks are checked above)
        chainer.serializers.NpzDeserializer(arrays, strict=False).load(trainer)
        if parallel:
            restore_rank_pools(parallel.shard, trainer.updater, source, arrays)
        if writer:
            rundir.resume_log(run_dir, source, trainer.updater.iteration)
    trainer.run(show_loop_exception_msg=False)  # a UserError is reported in one line
    if trainer.updater.iteration % config['snapshot_every']:
        trainer.get_extension('snapshot')(trainer)  # on ranks k >= 1: their pools
    if not writer:
        return trainer
    plot_log(rundir.read_log(run_dir), list(MODULES[config['model']].RECIPE.loss_names),
             os.path.join(run_dir, 'loss.png'))
    return trainer
