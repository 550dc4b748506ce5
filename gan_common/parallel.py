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
import sys
from pathlib import Path

from gan_common.errors import UserError
from gan_common.cycle import ImagePool
from gan_common.streams import DropoutMasks, RandomStream

# (size, rank) variables each launcher sets: torchrun, MPICH/Intel MPI (Hydra), Open MPI
LAUNCHER_VARIABLES = (('WORLD_SIZE', 'RANK'), ('PMI_SIZE', 'PMI_RANK'),
                      ('OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_RANK'))
MPI_INSTALL_HINT = 'pip install -e ".[mpi]" (MPICH and mpi4py wheels) or apt-get install mpich'


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
                value.stream = own
        if isinstance(kwargs.get('dropout'), DropoutMasks):
            kwargs['dropout'] = ShardedDropoutMasks(kwargs['dropout'], self)
        return kwargs


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
    return [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc-per-node={workers}',
            '-m', 'ganport', *ganport_argv]
