"""What the Chainer and the PyTorch trainer share, framework-free: the
run's ``meta``, which snapshot a run resumes from and whether the command
line may resume it, the learning-rate schedule, and the checks that stop a
run that has died (a NaN/inf loss; a saturated discriminator)."""
import glob
import json
import math
import os
import re

from gan_common.errors import UserError

SNAPSHOT_NAME = 'snapshot_iter_{}{}'
SNAPSHOT_SUFFIX = {'chainer': '.npz', 'torch': '.pt'}  # by framework
# Settings a resumed run may change (how long, how often it reports, where it runs);
# any other difference between the command line and the run is refused.
# The data-parallel settings may change too: a checkpoint continues on any
# number of ranks (--resume of one run keeps its count: parallel.check_same_workers).
MAY_CHANGE_ON_RESUME = {'iterations', 'epochs', 'log_every', 'sample_every', 'snapshot_every', 'progress',
                        'chainer_device', 'torch_device', 'framework', 'dataset_dir', 'data_dir',
                        'workers', 'sync_bn'}
SETTING_FLAGS = {'batch_size': '--batch-size', 'seed': '--seed', 'dtype': '--dtype', 'classes': '--digits',
                 'dataset': '--dataset', 'n_examples': '--dataset/--digits', 'n_a': '--dataset', 'n_b': '--dataset',
                 'adam': '--learning-rate/--beta1', 'adam_dis': '--learning-rate', 'image_size': '--image-size',
                 'load_size': '--image-size', 'gan_loss': '--gan-loss', 'model': '--model'}
LEARNING_RATE_NAMES = ('alpha', 'lr')  # Chainer's Adam and ChainerAdam; torch.optim.Adam and TorchAdam

# A dead run: over the last DEAD_WINDOW iterations (and at least DEAD_ENTRIES
# log entries) the generator's loss is at zero (the discriminator calls every
# fake real with certainty: a saturated sigmoid passes no gradient) or frozen
# (it sits at a clip, the same value entry after entry), or the discriminator's
# loss (all its terms) is at zero (it tells every fake from the real images
# with certainty: its own sigmoids saturate, and the generator has lost).
DEAD_WINDOW = 500
DEAD_ENTRIES = 3
ZERO_LOSS = 1e-5
FROZEN_SPREAD = 1e-6
ZERO_DIS_LOSS = 1e-8


def run_meta(config, framework):
    """What a checkpoint says about the run that wrote it."""
    return {'model': config['model'], 'framework': framework, 'config': config}


# ---------------------------------------------------------------- snapshots
def snapshot_iteration(path):
    match = re.search(r'snapshot_iter_(\d+)\.\w+$', os.path.basename(path))
    return int(match.group(1)) if match else None


def newest_snapshot(run_dir, suffix):
    """The run's snapshot of the highest iteration (``suffix``: .npz / .pt), or None."""
    paths = [p for p in glob.glob(os.path.join(run_dir, SNAPSHOT_NAME.format('*', suffix)))
             if snapshot_iteration(p) is not None]
    return max(paths, key=snapshot_iteration, default=None)


def resume_source(run_dir, resume, resume_from, suffix):
    """The checkpoint a run starts from: ``--resume-from`` when given (with
    --resume too: an earlier snapshot of the run), else with --resume the
    run's newest snapshot, else None (a fresh start)."""
    if resume_from is not None:
        return resume_from
    if not resume:
        return None
    source = newest_snapshot(run_dir, suffix)
    if source is None:
        raise UserError(f'--resume: no {SNAPSHOT_NAME.format("*", suffix)} in {run_dir}; train without --resume first')
    return source


def check_resumable(then, now, source):
    """Refuse to continue ``source`` (trained with settings ``then``) under
    the command line's ``now`` when they differ in a setting that may not change."""
    then, now = json.loads(json.dumps(then)), json.loads(json.dumps(now))  # tuples and lists alike
    for key in sorted(set(then) | set(now)):
        if key in MAY_CHANGE_ON_RESUME or then.get(key) == now.get(key):
            continue
        flag = SETTING_FLAGS.get(key, '--preset')
        raise UserError(f'{source} was trained with {key} = {then.get(key)!r}, this command asks for '
                        f'{now.get(key)!r}; pass the run\'s {flag} to continue it, or start a new run '
                        'with another --out')


def check_length(iteration, total, source):
    """A run resumed at ``iteration`` must have iterations left to train."""
    if iteration > total:
        raise UserError(f'{source} is at iteration {iteration}, past --iterations {total}; '
                        f'pass --iterations above {iteration} to train on')


# ---------------------------------------------------------------- learning rate
def learning_rate_factor(config, epoch):
    """The CycleGAN reference implementation's ``lambda_rule``: 1 for the first
    ``constant_epochs`` epochs (0-based ``epoch``), then
    ``1 - (epoch + 1 - constant_epochs) / (decay_epochs + 1)``, reaching 0 at
    the end of the last decay epoch. 1 when the preset has no schedule."""
    schedule = config.get('lr_schedule')
    if not schedule:
        return 1.0
    return 1.0 - max(0, epoch + 1 - schedule['constant_epochs']) / float(schedule['decay_epochs'] + 1)


def set_learning_rate(hyperparameters, rate):
    """Set the learning rate in an optimizer's hyperparameters (a dict, e.g. a
    PyTorch param group, or an object, e.g. Chainer's ``hyperparam``), whichever
    name (``alpha``, ``lr``) that optimizer uses."""
    is_dict = isinstance(hyperparameters, dict)
    for name in LEARNING_RATE_NAMES:
        if (name in hyperparameters) if is_dict else hasattr(hyperparameters, name):
            if is_dict:
                hyperparameters[name] = rate
            else:
                setattr(hyperparameters, name, rate)
            return
    raise TypeError(f'an optimizer with none of the learning rates {LEARNING_RATE_NAMES}')


# ---------------------------------------------------------------- dead runs
def check_finite(values, iteration, run_dir, suffix):
    """Stop the run when a loss of ``values`` is NaN/inf (``values`` None: the
    networks themselves hold NaN/inf)."""
    if values is not None and all(math.isfinite(v) for v in values.values()):
        return
    what = 'in the networks' if values is None else ', '.join(f'{k} {v:.4g}' for k, v in values.items())
    raise UserError(f'the run died: the loss became NaN/inf at iteration {iteration} ({what}); '
                    f'{last_good(run_dir, suffix, iteration)}; try another --seed, a lower --learning-rate '
                    'or another --preset')


def dead_run(history, window=DEAD_WINDOW):
    """Where ``history`` (log entries, oldest first) shows the run dead: None,
    or (the first iteration of the dead stretch, a description)."""
    if not history or 'loss_gen' not in history[-1] or history[-1]['iteration'] < window:
        return None
    last = history[-1]['iteration']
    stretch = []
    for entry in reversed(history):
        if entry['iteration'] <= last - window:
            break
        stretch.insert(0, entry)
    if len(stretch) < DEAD_ENTRIES:
        return None
    losses = [e['loss_gen'] for e in stretch]
    if max(losses) <= ZERO_LOSS:
        return stretch[0]['iteration'], (f'the discriminator saturated: it calls every fake real with certainty '
                                          f'(loss_gen {losses[-1]:.3g}), so the generator gets no gradient')
    if max(losses) - min(losses) <= FROZEN_SPREAD * max(1.0, abs(losses[-1])):
        return stretch[0]['iteration'], (f'the discriminator saturated: loss_gen is frozen at {losses[-1]:.6g}, '
                                          'so the generator gets no gradient')
    dis_losses = [discriminator_loss(e) for e in stretch]
    if None not in dis_losses and max(dis_losses) <= ZERO_DIS_LOSS:
        return stretch[0]['iteration'], (f'the discriminator saturated: it tells every fake from the real images '
                                          f'with certainty (loss_dis {dis_losses[-1]:.3g}), so it learns no more and '
                                          'the generator cannot catch up')
    return None


def discriminator_loss(entry):
    """The sum of a log entry's discriminator losses (``loss_dis``, or its
    parts ``loss_dis_real``, ``loss_dis_fake``, ...), or None without one."""
    terms = [value for key, value in entry.items() if key.startswith('loss_dis')]
    return sum(terms) if terms else None


def check_alive(history, run_dir, suffix):
    """Stop the run when ``dead_run(history)`` says it has died."""
    found = dead_run(history)
    if found is None:
        return
    since, why = found
    iteration = history[-1]['iteration']
    raise UserError(f'the run died at iteration {iteration} (dead since about iteration {since}): {why}; '
                    f'{last_good(run_dir, suffix, since)}; try another --seed or another --preset')


def last_good(run_dir, suffix, before):
    """'the last good snapshot is ...' (the newest one before iteration ``before``)."""
    paths = [p for p in glob.glob(os.path.join(run_dir, SNAPSHOT_NAME.format('*', suffix)))
             if snapshot_iteration(p) is not None and snapshot_iteration(p) < before]  # not the ranks' pool files
    newest = max(paths, key=snapshot_iteration, default=None)
    return 'no snapshot was written before it' if newest is None else f'the last good snapshot is {newest}'
