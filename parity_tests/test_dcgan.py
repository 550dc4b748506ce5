"""DCGAN: what the contract suite (``test_contract.py``) runs it through
(``PARITY``; its training runs are ``Lockstep``'s, in ``contract.TRAINING``),
and what only DCGAN has: the blog's layer sizes and the typo in its comment,
Chainer's initial weights, class 0 for real."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import numpy as np
import pytest
import torch

from chainer_impl import dcgan as C
from gan_common.keymap import chainer_to_torch_key
from parity_tests.pairs import Parity, backpropagated, unconditional_forward
from torch_impl import dcgan as T

GENERATOR_SHAPES = [('l0z', (512, 3, 3)), ('dc1', (256, 4, 4)), ('dc2', (128, 6, 6)),
                    ('dc3', (64, 10, 10)), ('dc4', (1, 28, 28))]
DISCRIMINATOR_SHAPES = [('c0', (64, 10, 10)), ('c1', (128, 6, 6)), ('c2', (256, 4, 4)),
                        ('c3', (512, 3, 3)), ('l4l', (2,))]


def inputs(rng, dtype, n=8):
    """(x, z), in ``train_step``'s order."""
    z = rng.uniform(-1, 1, (n, C.Z_DIM)).astype(dtype)
    x = rng.random((n, 1, 28, 28)).astype(dtype)
    return x, z


# ---------------------------------------------------------------- the contract suite's declaration
def gradients(F, nets, x, z):
    y_fake = nets['dis'](nets['gen'](z))
    yield 'G loss', backpropagated(F.generator_loss(y_fake), nets), ['gen']
    yield 'D loss', backpropagated(F.discriminator_loss(y_fake, nets['dis'](x)), nets), ['dis']


def loss_inputs(rng, dtype):
    """Logits (y_fake, y_real)."""
    return tuple(rng.normal(size=(8, 2)).astype(dtype) * 3 for _ in range(2))


def losses(F, y_fake, y_real):
    return [('generator loss', F.generator_loss(y_fake)), ('discriminator loss', F.discriminator_loss(y_fake, y_real))]


PARITY = Parity(C, T, inputs, unconditional_forward, inputs, gradients, loss_inputs, losses, bn_counters_agree=False)


def test_parameter_counts_are_pinned():
    generator = (100 * 4608 + 4608) + (512 * 256 * 4 + 256) + (256 * 128 * 4 + 128) \
        + (128 * 64 * 4 + 64) + (64 * 9 + 1) + 2 * (512 + 256 + 128 + 64)
    discriminator = (9 * 64 + 64) + (64 * 128 * 4 + 128) + (128 * 256 * 4 + 256) \
        + (256 * 512 * 4 + 512) + (4608 * 2 + 2) + 2 * (128 + 256 + 512)
    assert generator == 1_156_481 and discriminator == 700_674
    assert sum(p.numel() for p in T.Generator().parameters()) == generator
    assert sum(p.size for p in C.Discriminator().params()) == discriminator


def test_initial_weights_follow_chainer_statistics():
    np.random.seed(0)
    torch.manual_seed(0)
    chain, module = C.Generator(), T.Generator()
    for name, param in chain.namedparams():
        tensor = dict(module.named_parameters())[chainer_to_torch_key(name)].detach().numpy()
        if param.size > 10_000:  # enough samples for the standard deviation
            print(f'{name}: std chainer {param.array.std():.4f}, torch {tensor.std():.4f}')
            assert abs(param.array.std() - tensor.std()) < 0.05 * param.array.std()
        elif name.endswith('/b') or name.endswith('/beta'):
            assert not tensor.any()


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_layer_output_shapes_are_3_4_6_10_28(framework, rng):
    """The blog's comment says 3->4->5->10->28; its code gives 3->4->6->10->28."""
    x, z = inputs(rng, np.float32, n=2)
    if framework == 'chainer':
        gen, dis = C.Generator(), C.Discriminator()
        g_trace = [(k, v.shape[1:]) for k, v in gen.trace(z)]
        d_trace = [(k, v.shape[1:]) for k, v in dis.trace(x)]
    else:
        gen, dis = T.Generator(), T.Discriminator()
        g_trace = [(k, tuple(v.shape[1:])) for k, v in gen.trace(torch.from_numpy(z))]
        d_trace = [(k, tuple(v.shape[1:])) for k, v in dis.trace(torch.from_numpy(x))]
    print(framework, g_trace, d_trace)
    assert g_trace == GENERATOR_SHAPES
    assert d_trace == DISCRIMINATOR_SHAPES


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_the_blogs_5x5_comment_is_a_typo(framework):
    """The model's own dc2 and dc3 (Deconvolution2D(..., 2, stride 2, pad 1):
    out = 2(in - 1) + 2 - 2) turn 4 into 6, not the comment's 5, and a 5
    into 8, which could not have been the 10 that dc4 turns into 28."""
    gen = C.Generator() if framework == 'chainer' else T.Generator()

    def size_after(layer, channels, size):
        x = np.zeros((1, channels, size, size), np.float32)
        y = layer(x) if framework == 'chainer' else layer(torch.from_numpy(x))
        return y.shape[-1]
    assert size_after(gen.dc2, 256, 4) == 6
    assert size_after(gen.dc3, 128, 5) == 8 and size_after(gen.dc3, 128, 6) == 10
    assert size_after(gen.dc4, 64, 10) == 28


def test_losses_use_class_0_for_real():
    confident_real = np.array([[10.0, -10.0]])
    assert float(C.generator_loss(confident_real).array) < 1e-6
    assert float(T.generator_loss(torch.tensor(confident_real))) < 1e-6
