"""AC-GAN's paper networks: the discriminator's dropout, with masks drawn from
the shared stream, is the same in both frameworks, and the networks built at
CIFAR-10's 32x32x3 are the same too."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest
import torch

from bridge.transfer import chainer_to_torch, max_abs_diff
from chainer_impl import acgan as C
from gan_common.keymap import chainer_to_torch_key
from gan_common.streams import DropoutMasks, RandomStream
from parity_tests.conftest import check
from parity_tests.pairs import make_pair, torch_labels
from torch_impl import acgan as T


def masks(seed=7):
    return DropoutMasks(RandomStream(seed))


def test_masks_drop_half_the_units_and_scale_the_rest():
    mask = masks()((64, 512, 4, 4), C.DROPOUT)
    dropped = float((mask == 0).mean())
    print(f'dropped {dropped:.4f} of {mask.size} units; kept units scaled by {mask.max()}')
    assert set(np.unique(mask)) == {0.0, 2.0}
    assert abs(dropped - 0.5) < 0.01


def test_masks_are_the_same_from_streams_in_the_same_state():
    a, b = masks(), masks()
    first = [a((8, 16, 14, 14), 0.5), a((8, 32, 14, 14), 0.5)]
    second = [b((8, 16, 14, 14), 0.5), b((8, 32, 14, 14), 0.5)]
    assert all(np.array_equal(x, y) for x, y in zip(first, second))
    assert not np.array_equal(first[0], a((8, 16, 14, 14), 0.5))  # a stream moves on


def test_every_layer_with_dropout_matches_float64():
    _, c_dis, _, t_dis = make_pair(C, T, 'float64')
    x = np.random.default_rng(3).uniform(-1, 1, (8, 1, 28, 28))
    c_trace = list(c_dis.trace(x, masks()))
    t_trace = list(t_dis.trace(torch.from_numpy(x), masks()))
    check('every layer of D(x) with dropout, float64',
          max(max_abs_diff(c, t) for (_, c), (_, t) in zip(c_trace, t_trace)), 1e-12)
    for (name, h), (_, plain) in zip(c_trace, c_dis.trace(x)):
        if name != 'src' and name != 'cls':  # dropout is applied: about half of every layer's units are zero
            zero = float((h.array == 0).mean())
            print(f'{name}: {zero:.2f} of the units zero with dropout, {float((plain.array == 0).mean()):.2f} without')
            assert 0.4 < zero < 0.6


def test_gradients_with_dropout_match_float64():
    c_gen, c_dis, t_gen, t_dis = make_pair(C, T, 'float64')
    rng = np.random.default_rng(4)
    z = rng.standard_normal((8, C.Z_DIM))
    labels = rng.integers(0, C.N_CLASSES, 8).astype(np.int32)
    for network in (c_gen, c_dis):
        network.cleargrads()
    C.generator_loss(*c_dis(c_gen(z, labels), masks()), labels).backward()
    T.generator_loss(*t_dis(t_gen(torch.from_numpy(z), torch_labels(labels)), masks()),
                     torch_labels(labels)).backward()
    for chain, module in [(c_gen, t_gen), (c_dis, t_dis)]:
        grads = dict(module.named_parameters())
        diff = max(max_abs_diff(p.grad, grads[chainer_to_torch_key(n)].grad) for n, p in chain.namedparams())
        check(f'G loss with dropout -> {type(chain).__name__} gradients, float64', diff, 1e-12)


@pytest.mark.parametrize('image_size,channels,sizes', [(28, 1, [4, 7, 14, 28]), (32, 3, [4, 8, 16, 32])])
def test_generator_sizes_double_from_four(image_size, channels, sizes):
    assert C.upsampled_sizes(image_size) == sizes == T.upsampled_sizes(image_size)


def test_cifar_sized_networks_match_float64():
    """``image_size=32, channels=3``: the paper's CIFAR-10 networks, 4 -> 8 -> 16 -> 32."""
    np.random.seed(0)
    with chainer.using_config('dtype', np.float64):
        c_gen, c_dis = C.Generator(image_size=32, channels=3), C.Discriminator(channels=3)
    t_gen = T.Generator(image_size=32, channels=3).double()
    t_dis = T.Discriminator(channels=3).double()
    chainer_to_torch(c_gen, t_gen)
    chainer_to_torch(c_dis, t_dis)
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, C.Z_DIM))
    labels = rng.integers(0, C.N_CLASSES, 4).astype(np.int32)
    c_images = c_gen(z, labels)
    t_images = t_gen(torch.from_numpy(z), torch_labels(labels))
    assert c_images.shape == tuple(t_images.shape) == (4, 3, 32, 32)
    check('G(z, c) at 32x32x3, float64', max_abs_diff(c_images, t_images), 1e-12)
    c_heads, t_heads = c_dis(c_images.array, masks()), t_dis(t_images.detach(), masks())
    check('D heads at 32x32x3 with dropout, float64',
          max(max_abs_diff(c, t) for c, t in zip(c_heads, t_heads)), 1e-12)


def test_image_sizes_the_generator_cannot_make_are_refused():
    for module in (C, T):
        with pytest.raises(ValueError, match='starts at 4x4'):
            module.upsampled_sizes(64)
