"""Data-parallel PyTorch training on ``torch.distributed``
``DistributedDataParallel`` (one process per rank, started by ``torchrun``; see
``gan_common.parallel``): gloo on CPU, NCCL on GPUs; DDP averages the gradients
during each backward pass.

Batch normalisation uses each rank's own batch statistics, as ChainerMN does,
and DDP is built with ``forward_sync_buffers=False`` (``broadcast_buffers=False``
before PyTorch 2.13) so that no rank's running
statistics overwrite another's. (PyTorch issue 22095: with buffer syncing
on, DDP copies rank 0's BN buffers in place at the start of every forward
pass, and a discriminator that ran two forward passes (real, fake) before one
backward pass failed in that backward with an in-place modification error.
Measured with PyTorch 2.13 on gloo, two ranks, the DCGAN discriminator in
float64: it no longer raises; the fixes were turning buffer syncing off, as
here, or one backward per forward.) ``sync_bn`` converts every BN
layer to ``torch.nn.SyncBatchNorm`` (statistics of the global batch), which
PyTorch runs on GPUs only.

DDP reduces a network's gradients in the first backward pass after each of
its forward passes and ignores later ones; every model's ``train_step``
therefore reaches each network's parameters with exactly one ``backward`` per
forward pass whose gradients it steps on (DCGAN takes the generator loss's
gradient at D's input with ``torch.autograd.grad``, which leaves D's reducer
alone)."""
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from gan_common.errors import UserError
from gan_common.parallel import TORCH_SYNC_BN_NEEDS_GPU, Shard
from torch_impl import keras_semantics


class DataParallel:
    """This process's rank: its process group, its device and its shard."""

    def __init__(self, config):
        on_gpu = str(config['torch_device']).startswith('cuda')
        if not dist.is_initialized():
            dist.init_process_group('nccl' if on_gpu else 'gloo')
        if dist.get_world_size() != config['workers']:
            raise UserError(f'--workers {config["workers"]} but torchrun started {dist.get_world_size()} '
                            'processes; run train.py itself, or torchrun --nproc-per-node with the same number')
        self.shard = Shard(dist.get_rank(), dist.get_world_size())
        self.shard.check_batch_size(config['batch_size'])
        self.local_rank = int(os.environ.get('LOCAL_RANK', 0))
        self.device = torch.device(f'cuda:{self.local_rank}' if on_gpu else config['torch_device'])
        if on_gpu:
            torch.cuda.set_device(self.device)
        self.sync_bn = config.get('sync_bn', False)

    def convert_networks(self, networks, model):
        """Cross-rank batch normalisation where asked for (in place)."""
        if not self.sync_bn:
            return networks
        if any(isinstance(m, keras_semantics.BatchNormalization) for n in networks.values() for m in n.modules()):
            raise UserError(f'--sync-bn: {model} uses Keras-semantics batch normalisation, which has no '
                            'cross-rank version; train it without --sync-bn')
        if self.device.type != 'cuda':
            raise UserError(TORCH_SYNC_BN_NEEDS_GPU)
        return {name: torch.nn.SyncBatchNorm.convert_sync_batchnorm(n) for name, n in networks.items()}

    def wrap(self, networks):
        """The networks as ``train_step`` should call them: each in DDP
        (which broadcasts rank 0's parameters when it is built)."""
        device_ids = [self.local_rank] if self.device.type == 'cuda' else None
        return {name: DistributedDataParallel(network, device_ids=device_ids, forward_sync_buffers=False)
                for name, network in networks.items()}

    def close(self):
        dist.destroy_process_group()
