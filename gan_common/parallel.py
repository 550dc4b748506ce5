"""Data-parallel training, framework-free: which rank this process is, which
rows of the global batch it trains on, and the command line that starts N
ranks (ChainerMN under ``mpiexec``, PyTorch DDP under ``torchrun``).

Every rank draws the whole global batch (indices, noise, labels, crops) from
the shared ``RandomStream`` exactly as the single process does, then keeps
its own contiguous block of rows: the ranks' stream states stay identical and
the union of their batches is the single-process batch, row for row. The
engines average the ranks' gradients, so with a loss that is a mean over the
batch and no batch normalisation, N ranks take the single process's steps."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gan_common.checkpoints import CHECKSUM_KEY, content_checksum, first_line
from gan_common.errors import UserError
from gan_common.cycle import ImagePool, stateful
from gan_common.files import atomic_path
from gan_common.streams import DropoutMasks, RandomStream

# (size, rank) variables each launcher sets: torchrun, MPICH/Intel MPI (Hydra), Open MPI
LAUNCHER_VARIABLES = (('WORLD_SIZE', 'RANK'), ('PMI_SIZE', 'PMI_RANK'),
                      ('OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_RANK'))
MPI_INSTALL_HINT = 'pip install -e ".[mpi]" (MPICH and mpi4py wheels) or apt-get install mpich'
# Seconds a launcher and its ranks get to end after SIGTERM before they are killed.
LAUNCHER_GRACE_S = 10


def launched_world(environ=None):
    """(rank, size) that a launcher put in the environment, or (0, 1)."""
    environ = os.environ if environ is None else environ
    for size, rank in LAUNCHER_VARIABLES:
        if size in environ:
            return int(environ.get(rank, 0)), int(environ[size])
    return 0, 1


class Shard:
    """Rank ``rank`` of ``size``: its rows of each global batch."""

    def __init__(self, rank=0, size=1):
        self.rank, self.size = rank, size

    @property
    def is_writer(self):
        """Rank 0 alone writes logs, samples and snapshots."""
        return self.rank == 0

    def check_batch_size(self, batch_size):
        if batch_size % self.size:
            raise UserError(f'--batch-size {batch_size} does not split into {self.size} equal shards; '
                            f'use a multiple of --workers {self.size}')

    def rows(self, n):
        per_rank = n // self.size
        return slice(self.rank * per_rank, (self.rank + 1) * per_rank)

    def take(self, arrays):
        """This rank's rows of each array (all of one global batch; ``None`` stays ``None``)."""
        return tuple(None if a is None else a[self.rows(len(a))] for a in arrays)

    def drawer(self, draw):
        """``draw(indices)`` of a recipe, returning this rank's rows only."""
        return lambda indices: self.take(draw(indices))

    def step_kwargs(self, recipe, config, stream):
        """``recipe.step_kwargs`` for this rank. Dropout masks are drawn for the
        global batch from the shared stream and this rank keeps its rows.
        CycleGAN's image pools are per rank (each holds its own rank's
        translations); with more than one rank they draw from a stream of their
        own, so that the shared stream, and with it the batch order, stays the
        single process's."""
        kwargs = recipe.step_kwargs(config, stream)
        if self.size == 1:
            return kwargs
        own = RandomStream([config['seed'], 1 + self.rank])
        for value in kwargs.values():
            if isinstance(value, ImagePool):
                value.draw_from(own)
        if isinstance(kwargs.get('dropout'), DropoutMasks):
            kwargs['dropout'] = ShardedDropoutMasks(kwargs['dropout'], self)
        return kwargs

    def save_pools(self, snapshot, step_kwargs):
        """On rank k >= 1, write its image pools (their images and stream) beside
        rank 0's ``snapshot`` (which holds rank 0's)."""
        pools = stateful(step_kwargs)
        if self.rank and pools:
            write_pool_file(pool_file(snapshot, self.rank), pools)

    def restore_pools(self, step_kwargs, snapshot, saved_config, has_pool_streams):
        """On rank k >= 1, load its own pools from beside ``snapshot`` when that
        snapshot was written on this many ranks with per-rank pool streams
        (``has_pool_streams``: rank 0's are in it). A snapshot from before
        those, or from another number of ranks, leaves every rank with rank 0's
        pools as the snapshot holds them (already loaded)."""
        pools = stateful(step_kwargs)
        if self.rank and pools and loads_pool_files(saved_config, self.size, has_pool_streams):
            for name, state in read_pool_file(pool_file(snapshot, self.rank), pools).items():
                pools[name].set_state(state)


def loads_pool_files(saved_config, workers, has_pool_streams):
    """Whether the ranks resuming a snapshot load their own pools from beside it."""
    return has_pool_streams and workers > 1 and saved_config.get('workers', 1) == workers


def check_pool_files(snapshot, saved_config, workers, has_pool_streams):
    """Before ranks are launched to resume ``snapshot``: each pool file they will load is there and intact."""
    if loads_pool_files(saved_config, workers, has_pool_streams):
        for rank in range(1, workers):
            read_pool_file(pool_file(snapshot, rank))


def pool_file(snapshot, rank):
    """``snapshot_iter_N.rankK.npz`` beside ``snapshot_iter_N.npz`` / ``.pt``: rank K's image pools."""
    return f'{os.path.splitext(os.fspath(snapshot))[0]}.rank{rank}.npz'


def write_pool_file(path, pools):
    arrays = {f'{name}/{key}': array for name, pool in pools.items() for key, array in pool.get_state().items()}
    arrays[CHECKSUM_KEY] = np.array(content_checksum(arrays))
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def read_pool_file(path, pools=None):
    """{pool name: state} of ``path``, verified (holding each of ``pools`` when
    given); a missing or damaged file is one line."""
    if not os.path.isfile(path):
        raise UserError(f'{path} is missing: it holds that rank\'s image pools, which a resumed run on the same '
                        'number of ranks needs; resume from an earlier snapshot whose rank files are all there '
                        '(--resume-from)')
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # damaged bytes surface as many types (BadZipFile, zlib.error, ...)
        raise damaged_pool_file(path, f'{type(error).__name__}: {first_line(error)}') from None
    stored = arrays.pop(CHECKSUM_KEY, None)
    if stored is None or content_checksum(arrays) != str(stored):
        raise damaged_pool_file(path, 'its contents do not match its checksum')
    states = {}
    for key, array in arrays.items():
        name, leaf = key.split('/', 1) if '/' in key else (key, '')
        states.setdefault(name, {})[leaf] = array
    for name, pool in (pools or {}).items():
        if set(states.get(name, {})) != set(pool.get_state()):
            raise damaged_pool_file(path, f'it lacks {name}')
    return states


def damaged_pool_file(path, why):
    return UserError(f'{path} is not a readable file of a rank\'s image pools ({why}); '
                     'resume from an earlier snapshot (--resume-from)')


class ShardedDropoutMasks:
    """A rank's rows of the masks ``masks`` draws for the global batch."""

    def __init__(self, masks, shard):
        self.masks, self.shard = masks, shard

    def __call__(self, shape, ratio):
        whole = (shape[0] * self.shard.size, *shape[1:])
        return self.masks(whole, ratio)[self.shard.rows(whole[0])]


def check_partial_batch(config, n_examples, workers):
    """A preset that keeps the last partial batch must split that one evenly too."""
    if config.get('keep_partial_batch') and (n_examples % config['batch_size']) % workers:
        raise UserError(f'the last batch of each epoch ({n_examples % config["batch_size"]} images) does not '
                        f'split into {workers} equal shards; choose a --batch-size whose remainder does')


def check_same_workers(saved_config, workers):
    """``--resume`` continues a run on the number of ranks it was started with."""
    saved = saved_config.get('workers', 1)
    if saved != workers:
        raise UserError(f'--resume: this run was trained with --workers {saved}; resume it with --workers {saved}')


def launch_command(framework, workers, ganport_argv):
    """The command that runs ``python -m ganport ARGV`` as ``workers`` ranks."""
    if framework == 'chainer':
        mpiexec = shutil.which('mpiexec', path=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}')
        if mpiexec is None:
            raise UserError(f'--workers with --framework chainer needs MPI (mpiexec); {MPI_INSTALL_HINT}')
        return [mpiexec, '-n', str(workers), sys.executable, '-m', 'ganport', *ganport_argv]
    return [sys.executable, '-m', 'torch_impl.torchrun', '--standalone', f'--nproc-per-node={workers}',
            '-m', 'ganport', *ganport_argv]


def stop_launcher(launcher, grace=LAUNCHER_GRACE_S):
    """End ``launcher`` (a ``Popen`` of mpiexec or torchrun) and every process
    it started. SIGTERM goes to the launcher, which passes it on to the ranks;
    whatever of the tree still runs ``grace`` seconds later is killed (now
    and then mpiexec and a rank do not end; the ranks run in sessions of
    their own, out of reach of a process-group signal)."""
    tree = process_tree(launcher.pid)
    launcher.terminate()
    deadline = time.monotonic() + grace
    try:
        launcher.wait(grace)
    except subprocess.TimeoutExpired:
        launcher.kill()
        launcher.wait()
    while time.monotonic() < deadline and any(_same_process(pid, start) for pid, start in tree):
        time.sleep(0.1)
    for pid, start in tree:
        if _same_process(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # ended since the check
                pass


def process_tree(pid):
    """[(pid, start time)] of every process below ``pid``, read from /proc
    (empty where there is none)."""
    children = {}
    for entry in os.listdir('/proc') if os.path.isdir('/proc') else []:
        stat = _proc_stat(entry) if entry.isdigit() else None
        if stat is not None:
            children.setdefault(stat[1], []).append((int(entry), stat[2]))
    found, waiting = [], [pid]
    while waiting:
        below = children.get(waiting.pop(), [])
        found += below
        waiting += [child for child, _ in below]
    return found


def _proc_stat(pid):
    """(state, parent pid, start time) of ``pid``, or None once it has ended."""
    try:
        with open(f'/proc/{pid}/stat') as stat:
            fields = stat.read().rpartition(')')[2].split()  # the name, in parentheses, may hold spaces
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _same_process(pid, start):
    """Whether ``pid`` still runs (not a zombie) and is the process that
    started at ``start``, not a later one given its id."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != 'Z' and stat[2] == start
