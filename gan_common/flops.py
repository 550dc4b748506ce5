"""FLOPs of the layers that dominate a GAN's training iteration, from their
shapes alone (no framework), so both frameworks' figures share one count.

Convention: one multiply-add is 2 FLOPs. Only the matrix-product layers are
counted (fully connected, convolution, transposed convolution); bias,
normalisation, activations, losses and the optimizer are left out (they are
a few percent of these models' work). A backward pass costs the forward's
FLOPs once for the weight gradient and once more for the input gradient
when one is needed (not for a first layer fed by data): so 2x or 1x the
forward."""
from math import prod


def linear_macs(batch, in_features, out_features):
    return batch * in_features * out_features


def conv_macs(out_shape, in_channels, kernel, groups=1):
    """Convolution: each output element (N, C_out, H_out, W_out) sums
    C_in / groups * kh * kw products."""
    return prod(out_shape) * (in_channels // groups) * prod(kernel)


def deconv_macs(in_shape, out_channels, kernel, groups=1):
    """Transposed convolution: each input element (N, C_in, H_in, W_in)
    scatters C_out / groups * kh * kw products (the gradient of a convolution)."""
    return prod(in_shape) * (out_channels // groups) * prod(kernel)


def forward_flops(macs):
    return 2 * macs


def backward_flops(macs, input_gradient=True):
    return 2 * macs * (2 if input_gradient else 1)


def matmul_flops(n):
    """An n x n by n x n matrix product."""
    return 2 * n ** 3
