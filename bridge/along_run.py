"""A training run followed through its snapshots: each snapshot's generator
samples the same noise, and ``torch_impl.evaluation.snapshot_scores`` measures
what it makes, next to real test images' values."""
import glob
import os

from tqdm import tqdm

from bridge.generation import TrainedGenerator
from gan_common.checkpoints import framework_of
from gan_common.errors import UserError
from gan_common.rundir import SNAPSHOT_GLOB
from gan_common.streams import batches_per_epoch
from gan_common.training import snapshot_iteration


def run_snapshots(run_dir, every=1):
    """[(iteration, path)] of the run's snapshots, oldest first: every
    ``every``-th one, and always the newest."""
    if not os.path.isdir(run_dir):
        raise UserError(f'{run_dir} is not a directory; pass a run directory (made by train.py) or a checkpoint')
    if every < 1:
        raise UserError(f'--every must be at least 1, got {every}')
    found = sorted((snapshot_iteration(p), p) for p in glob.glob(os.path.join(run_dir, SNAPSHOT_GLOB))
                   if snapshot_iteration(p) is not None)
    if not found:
        raise UserError(f'{run_dir} holds no snapshot_iter_*.npz/.pt files; train with --snapshot-every N '
                        'to keep snapshots along the run')
    suffixes = {os.path.splitext(p)[1] for _, p in found}
    if len(suffixes) > 1:
        raise UserError(f'{run_dir} holds snapshots of both frameworks ({", ".join(sorted(suffixes))}); '
                        'move one framework\'s into a directory of its own')
    kept = found[::every]
    return kept if kept[-1] == found[-1] else kept + [found[-1]]


def evaluate_along_run(snapshots, reference, n, seed=0, device='cpu', progress=True, pairs=100):
    """{'snapshots': [scores with 'iteration', 'epoch'], 'real': scores of
    ``n`` real test images, 'model', 'conditional', 'framework', ...}; a
    conditional model draws classes 0-9 in turn and is scored on them."""
    from torch_impl import evaluation
    entries = []
    for iteration, path in tqdm(snapshots, desc='snapshots', disable=not progress):
        generator = TrainedGenerator(path, device)
        images, labels = generator.sample(n, seed)
        entry = evaluation.snapshot_scores(images, reference, seed, pairs, labels)
        entry.update(iteration=iteration, epoch=iteration / steps_per_epoch(generator.config))
        entries.append(entry)
    return {'model': generator.model, 'conditional': generator.conditional,
            'framework': framework_of(snapshots[0][1]),
            'preset': generator.config.get('preset'), 'steps_per_epoch': steps_per_epoch(generator.config),
            'snapshots': entries, 'real': evaluation.real_snapshot_scores(reference, n, seed, pairs)}


def steps_per_epoch(config):
    return batches_per_epoch(config['n_examples'], config['batch_size'], config.get('keep_partial_batch', False))
