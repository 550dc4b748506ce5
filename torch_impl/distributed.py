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
layer to ``torch.nn.SyncBatchNorm`` (statistics of the global batch); on CPU,
where SyncBatchNorm has no kernels, to ``CpuSyncBatchNorm``, which computes
the same statistics with torch.distributed's autograd-aware all-reduce.

DDP reduces a network's gradients in the first backward pass after each of
its forward passes and ignores later ones; every model's ``train_step``
therefore reaches each network's parameters with exactly one ``backward`` per
forward pass whose gradients it steps on (DCGAN takes the generator loss's
gradient at D's input with ``torch.autograd.grad``, which leaves D's reducer
alone)."""
import os

import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as collectives
from torch.nn.parallel import DistributedDataParallel

from gan_common.errors import UserError
from gan_common.parallel import Shard
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
        return {name: cross_rank_batch_norm(network, self.device) for name, network in networks.items()}

    def mean_over_ranks(self, values):
        """Each of ``values`` (floats by name) averaged over the ranks: a
        shard's mean loss becomes the global batch's."""
        total = torch.tensor(list(values.values()), dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return {name: value / self.shard.size for name, value in zip(values, total.tolist())}

    def wrap(self, networks):
        """The networks as ``train_step`` should call them: each in DDP
        (which broadcasts rank 0's parameters when it is built)."""
        device_ids = [self.local_rank] if self.device.type == 'cuda' else None
        return {name: DistributedDataParallel(network, device_ids=device_ids, forward_sync_buffers=False)
                for name, network in networks.items()}

    def close(self):
        """Leave the process group once every rank is done: a rank that left
        while rank 0 still wrote its last snapshot aborted at exit in about one
        run in three (gloo: 'terminate called without an active exception')."""
        dist.barrier()
        dist.destroy_process_group()


def cross_rank_batch_norm(network, device):
    """``network`` with every BN layer normalising over the global batch:
    ``torch.nn.SyncBatchNorm`` on GPUs, ``CpuSyncBatchNorm`` on CPU (in place
    there: the same parameters and buffers)."""
    if device.type != 'cpu':
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(network)
    for layer in network.modules():
        if type(layer) is torch.nn.BatchNorm2d:
            layer.__class__ = CpuSyncBatchNorm  # a subclass that adds no state
    return network


class CpuSyncBatchNorm(torch.nn.BatchNorm2d):
    """SyncBatchNorm's statistics on CPU, where SyncBatchNorm has no kernels
    (and DDP refuses it on CPU modules).

    In training, inside a process group, every rank normalises with the mean
    and biased variance of the global batch (all ranks' rows) and moves the
    running variance towards the variance unbiased with the global count, as
    SyncBatchNorm does (``batch_norm_gather_stats_with_counts``). The sums go
    through ``_functional_collectives.all_reduce`` (PyTorch's replacement for
    the deprecated ``torch.distributed.nn.functional.all_reduce``), whose
    backward all-reduces the gradients, so each rank's input gradient holds
    every rank's loss, as SyncBatchNorm's backward sends it. Otherwise (eval
    mode, or outside a process group) it is ``BatchNorm2d``."""

    def forward(self, input):
        if not (self.training and input.device.type == 'cpu' and dist.is_initialized()):
            return super().forward(input)
        self._check_input_dim(input)
        axes, per_channel = (0, 2, 3), (1, -1, 1, 1)
        count = torch.full((1,), input.numel() // input.shape[1], dtype=input.dtype)
        sums = self._all_ranks_sum(torch.cat([input.sum(axes), count]))
        total = sums[-1]
        mean = sums[:-1] / total
        centred = input - mean.reshape(per_channel)
        variance = self._all_ranks_sum((centred * centred).sum(axes)) / total
        output = centred * torch.rsqrt(variance + self.eps).reshape(per_channel)
        if self.affine:
            output = output * self.weight.reshape(per_channel) + self.bias.reshape(per_channel)
        if self.track_running_stats:
            self._update_running_statistics(mean.detach(), variance.detach() * total / (total - 1))
        return output

    @staticmethod
    def _all_ranks_sum(tensor):
        return collectives.wait_tensor(collectives.all_reduce(tensor, 'sum', dist.group.WORLD))

    @torch.no_grad()
    def _update_running_statistics(self, mean, unbiased_variance):
        self.num_batches_tracked.add_(1)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(unbiased_variance, factor)
