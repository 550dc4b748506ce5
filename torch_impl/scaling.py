"""The data-parallel scaling model (``gan_common.scaling``) for the CycleGAN
paper preset and the blog DCGAN at batch 1000, from the layer shapes.

FLOPs: one real ``train_step`` of the PyTorch port runs on the ``meta``
device (shapes only, no arithmetic) with a forward hook on every
convolution, transposed convolution and linear layer, whose multiply-adds
``gan_common.flops`` counts from the shapes; every pass is counted as a
training pass (its forward, and a backward with the input's and the weights'
gradients: 3 x the forward), an upper bound for the few passes that need no
input gradient or run without a backward.

Run ``python -m torch_impl.scaling`` for the README's tables."""
import numpy as np
import torch
from torch import nn

from gan_common import flops
from gan_common.presets import get_preset
from gan_common.scaling import Workload, markdown_table
from gan_common.streams import RandomStream

BANDWIDTHS = (25e9, 100e9, 450e9)   # bytes/s: PCIe 4 x16 or 200 Gb/s InfiniBand, 800 Gb/s, NVLink 4
SUSTAINED_FLOPS = 100e12            # per GPU, float32 on tensor cores (TF32), sustained: an assumption


def _multiply_adds(layer, inputs, output):
    if isinstance(layer, nn.Linear):
        return flops.linear_macs(output.numel() // layer.out_features, layer.in_features, layer.out_features)
    if isinstance(layer, nn.Conv2d):
        return flops.conv_macs(output.shape, layer.in_channels, layer.kernel_size, layer.groups)
    if isinstance(layer, nn.ConvTranspose2d):
        return flops.deconv_macs(inputs[0].shape, layer.out_channels, layer.kernel_size, layer.groups)
    return 0


class _NoOptimizer:
    """Stands in for the optimizers: the count needs the passes, not the steps."""

    def zero_grad(self):
        pass

    def step(self):
        pass


def iteration_flops(model, preset, batch_size):
    """FLOPs of one training iteration of ``model`` at ``preset`` with ``batch_size``."""
    from torch_impl.checkpoint import build_named_networks
    from torch_impl.models import MODULES
    module = MODULES[model]
    config = dict(get_preset(model, preset), model=model, preset=preset, seed=0, dtype='float32',
                  classes=None, batch_size=batch_size)
    networks = build_named_networks({'model': model, 'framework': 'torch', 'config': config}, 'meta')
    counted = []
    hooks = [layer.register_forward_hook(lambda m, i, o: counted.append(_multiply_adds(m, i, o)))
             for network in networks.values() for layer in network.modules()]
    inputs, kwargs = _meta_inputs(module, config, batch_size)
    original_pooled = getattr(module, '_pooled', None)
    if original_pooled is not None:  # the pool changes which images D sees, not how many
        module._pooled = lambda pool, fake: fake.detach()
    try:
        names = module.RECIPE.networks
        module.train_step(*[networks[n] for n in names], *[_NoOptimizer() for _ in names], *inputs, **kwargs)
    finally:
        for hook in hooks:
            hook.remove()
        if original_pooled is not None:
            module._pooled = original_pooled
    return sum(flops.forward_flops(m) + flops.backward_flops(m) for m in counted)


def _meta_inputs(module, config, batch_size):
    recipe = module.RECIPE
    if config['model'] == 'cyclegan':
        size = config['image_size']
        images = [torch.empty(batch_size, 3, size, size, device='meta') for _ in range(2)]
        kwargs = recipe.step_kwargs(config, RandomStream(0))
        return images, kwargs
    images = np.zeros((batch_size, 1, 28, 28), np.float32)
    labels = np.arange(batch_size) % 10
    arrays = recipe.drawer(images, labels, RandomStream(0), config)(np.arange(batch_size))
    return [None if a is None else torch.as_tensor(a).to('meta') for a in arrays], {}


def gradient_bytes(model, preset):
    """Bytes of float32 gradients of every network the iteration steps."""
    from torch_impl.checkpoint import build_named_networks
    config = dict(get_preset(model, preset), model=model, preset=preset, seed=0, dtype='float32', classes=None)
    networks = build_named_networks({'model': model, 'framework': 'torch', 'config': config}, 'meta')
    return 4 * sum(p.numel() for n in networks.values() for p in n.parameters())


def workloads():
    cyclegan = Workload('CycleGAN paper preset, 256x256, batch 1 per GPU',
                        iteration_flops('cyclegan', 'paper', 1), gradient_bytes('cyclegan', 'paper'))
    dcgan = Workload('blog DCGAN, global batch 1000', iteration_flops('dcgan', 'blog', 1000) / 1000,
                     gradient_bytes('dcgan', 'blog'), global_batch=1000)
    return cyclegan, dcgan


def main():
    for workload in workloads():
        print(f'{workload.name}: {workload.flops_per_example / 1e9:.2f} GFLOP per example per iteration, '
              f'{workload.gradient_bytes / 1e6:.2f} MB of gradients per iteration')
        print(markdown_table(workload, SUSTAINED_FLOPS, BANDWIDTHS))
        print()


if __name__ == '__main__':
    main()
