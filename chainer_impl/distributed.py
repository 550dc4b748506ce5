"""Data-parallel Chainer training on ChainerMN (one process per rank, started
by ``mpiexec``; see ``gan_common.parallel``): the ``naive`` communicator on
CPU, ``pure_nccl`` on GPUs; ChainerMN's multi-node optimizer averages the
gradients before each step.

Batch normalisation uses each rank's own batch statistics (ChainerMN's
default); ``sync_bn`` replaces every ``L.BatchNormalization`` with
``chainermn.links.MultiNodeBatchNormalization``, whose statistics are those
of the global batch.

ChainerMN's multi-node optimizer broadcasts rank 0's parameters on its first
``update()`` and does not step then (it steps from the second call on);
``DataParallel.optimizer`` does that broadcast when it wraps the optimizer,
so every ``update()`` of training is a step, as in the single process."""
import numpy as np

from chainer_impl import compat
from chainer_impl import keras_semantics
from gan_common.errors import UserError
from gan_common.parallel import Shard


class DataParallel:
    """This process's rank: its communicator, its device and its shard."""

    def __init__(self, config):
        self.chainermn = compat.prepare_chainermn()
        on_gpu = str(config['chainer_device']).startswith('@cupy')
        self.comm = self.chainermn.create_communicator('pure_nccl' if on_gpu else 'naive')
        if self.comm.size != config['workers']:
            raise UserError(f'--workers {config["workers"]} but MPI started {self.comm.size} processes; '
                            'run train.py itself, or mpiexec -n with the same number')
        self.shard = Shard(self.comm.rank, self.comm.size)
        self.shard.check_batch_size(config['batch_size'])
        self.device_spec = f'@cupy:{self.comm.intra_rank}' if on_gpu else config['chainer_device']
        self.sync_bn = config.get('sync_bn', False)

    def convert_networks(self, networks, model):
        """Cross-rank batch normalisation where asked for (copies of ``networks``)."""
        if not self.sync_bn:
            return networks
        if any(isinstance(link, keras_semantics.BatchNormalization)
               for network in networks.values() for link in network.links()):
            raise UserError(f'--sync-bn: {model} uses Keras-semantics batch normalisation, which has no '
                            'cross-rank version; train it without --sync-bn')
        return {name: self.chainermn.links.create_mnbn_model(network, self.comm)
                for name, network in networks.items()}

    def mean_over_ranks(self, values):
        """Each of ``values`` (floats by name) averaged over the ranks."""
        total = self.comm.allreduce_obj(np.array([float(value) for value in values.values()]))
        return {name: float(value) / self.comm.size for name, value in zip(values, total)}

    def optimizer(self, optimizer):
        """``optimizer`` (set up on its link) averaging gradients over the ranks."""
        multi_node = self.chainermn.create_multi_node_optimizer(optimizer, self.comm)
        broadcast_parameters(multi_node)
        return multi_node


def broadcast_parameters(multi_node):
    """Do what the multi-node optimizer's first ``update()`` does (broadcast
    rank 0's parameters and record them), so that its first ``update()`` steps."""
    target = multi_node.target
    if any(param.array is None for param in target.params()):
        raise RuntimeError('uninitialised parameters: run one forward pass before wrapping the optimizer')
    multi_node.is_changed(target)
    multi_node.communicator.bcast_data(target)
