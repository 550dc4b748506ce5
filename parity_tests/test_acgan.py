"""AC-GAN: what the contract suite (``test_contract.py``) runs it through
(``PARITY``), and what only AC-GAN has: the paper's networks and initial
weights, its losses against the paper's formulas, one softmax."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from bridge.transfer import max_abs_diff
from chainer_impl import acgan as C
from gan_common.keymap import chainer_to_torch_key
from gan_common.streams import DropoutMasks, RandomStream
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import Parity, backpropagated, torch_labels
from torch_impl import acgan as T

GENERATOR_SHAPES = [('input', (110,)), ('l0', (384, 4, 4)), ('dc1', (192, 7, 7)), ('dc2', (96, 14, 14)),
                    ('dc3', (1, 28, 28))]
DISCRIMINATOR_SHAPES = [('c0', (16, 14, 14)), ('c1', (32, 14, 14)), ('c2', (64, 7, 7)), ('c3', (128, 7, 7)),
                        ('c4', (256, 4, 4)), ('c5', (512, 4, 4)), ('src', (1,)), ('cls', (10,))]


def inputs(rng, dtype, n=8):
    """(z, labels, x): Chainer takes int32 labels, PyTorch int64 (``torch_labels``)."""
    z = rng.uniform(-1, 1, (n, C.Z_DIM)).astype(dtype)
    labels = rng.integers(0, C.N_CLASSES, n).astype(np.int32)
    x = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(dtype)
    return z, labels, x


# ---------------------------------------------------------------- the contract suite's declaration
# Without masks the discriminator applies no dropout (as at test time): so in
# the forward and gradient tests; the training steps pass masks, and
# parity_tests/test_acgan_dropout.py tests them.
def forward(nets, z, labels, x):
    return [('G(z, c)', nets['gen'].trace(z, labels)), ('D(x)', nets['dis'].trace(x))]


def step_inputs(rng, dtype):
    """(x, labels_real, z, labels_fake)."""
    z, labels_fake, x = inputs(rng, dtype)
    _, labels_real, _ = inputs(rng, dtype)
    return x, labels_real, z, labels_fake


def gradients(F, nets, x, labels_real, z, labels_fake):
    gen, dis = nets['gen'], nets['dis']
    fake, real = dis(gen(z, labels_fake)), dis(x)
    yield 'G loss', backpropagated(F.generator_loss(*fake, labels_fake), nets), ['gen', 'dis']
    yield 'D loss', backpropagated(F.discriminator_loss(*real, *fake, labels_real, labels_fake), nets), ['gen', 'dis']


def dropout_masks(seed):
    """D's dropout: each framework draws its masks from its own stream, in the same state."""
    return {'dropout': DropoutMasks(RandomStream(seed))}


# Float32: a pre-activation within rounding of a LeakyReLU kink may land on
# the other side in one framework, changing that unit's slope from 1 to 0.2;
# in the paper's six-layer D that moved G's gradients by up to 1.0e-3 (of
# 0.46) for one seed here, while Chainer float32 stayed within 7e-7 of
# Chainer float64. Float64 is the exact check.
GRADIENT_TOLERANCE = {'float64': TOLERANCE['float64'], 'float32': 5e-3}
# the losses are tested against the paper's formulas below
# G's float32 output in train mode (BN batch statistics of 384- and 192-channel
# maps, then tanh) stayed under 1e-5 on one x86-64 CPU and was 1.2e-5 on another:
# float32 sums taken in another order, not a different program (float64: 1e-12).
FORWARD_TOLERANCE = {'float64': TOLERANCE['float64'], 'float32': 3e-5}
PARITY = Parity(C, T, inputs, forward, step_inputs, gradients, step_kwargs=dropout_masks, bn_counters_agree=False,
                forward_tolerance=FORWARD_TOLERANCE, gradient_tolerance=GRADIENT_TOLERANCE)


# ---------------------------------------------------------------- structure
def test_parameter_counts_are_pinned():
    generator = ((110 * 6144 + 6144) + (384 * 192 * 25 + 192) + (192 * 96 * 25 + 96) + (96 * 1 * 25 + 1)
                 + 2 * (192 + 96))
    widths = [1, 16, 32, 64, 128, 256, 512]
    discriminator = (sum(widths[i] * widths[i + 1] * 9 + widths[i + 1] for i in range(6)) + 2 * sum(widths[2:])
                     + (8192 * 1 + 1) + (8192 * 10 + 10))
    assert generator == 2_989_249 and discriminator == 1_664_587
    assert sum(p.size for p in C.Generator().params()) == generator
    assert sum(p.numel() for p in T.Generator().parameters()) == generator
    assert sum(p.size for p in C.Discriminator().params()) == discriminator
    assert sum(p.numel() for p in T.Discriminator().parameters()) == discriminator


def test_initial_weights_follow_chainer_statistics():
    np.random.seed(0)
    torch.manual_seed(0)
    for chain, module in [(C.Generator(), T.Generator()), (C.Discriminator(), T.Discriminator())]:
        tensors = dict(module.named_parameters())
        for name, param in chain.namedparams():
            tensor = tensors[chainer_to_torch_key(name)].detach().numpy()
            if param.size > 10_000:
                print(f'{name}: std chainer {param.array.std():.4f}, torch {tensor.std():.4f}')
                assert abs(param.array.std() - tensor.std()) < 0.1 * param.array.std()
            elif name.endswith('/b') or name.endswith('/beta'):
                assert not tensor.any() and not param.array.any()


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_layer_output_shapes(framework, rng):
    z, labels, x = inputs(rng, np.float32, n=2)
    if framework == 'chainer':
        g_trace = [(k, v.shape[1:]) for k, v in C.Generator().trace(z, labels)]
        d_trace = [(k, v.shape[1:]) for k, v in C.Discriminator().trace(x)]
    else:
        g_trace = [(k, tuple(v.shape[1:])) for k, v in T.Generator().trace(torch.from_numpy(z), torch_labels(labels))]
        d_trace = [(k, tuple(v.shape[1:])) for k, v in T.Discriminator().trace(torch.from_numpy(x))]
    print(framework, g_trace, d_trace)
    assert g_trace == GENERATOR_SHAPES
    assert d_trace == DISCRIMINATOR_SHAPES


# ---------------------------------------------------------------- losses
def test_class_loss_applies_softmax_once(rng):
    """CE(logits, c) = -mean(log softmax(logits)[c]); a softmax in the model
    followed by cross_entropy (softmax again) is a different, flatter loss."""
    logits = rng.standard_normal((8, 10)) * 3
    labels = rng.integers(0, 10, 8).astype(np.int32)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(8), labels].mean()
    twice = float(TF.cross_entropy(TF.softmax(torch.from_numpy(logits), dim=1), torch_labels(labels)))
    check('Chainer class loss vs -log softmax[label]', max_abs_diff(C.class_loss(logits, labels), expected), 1e-12)
    check('PyTorch class loss vs -log softmax[label]', max_abs_diff(
        T.class_loss(torch.from_numpy(logits), torch_labels(labels)), expected), 1e-12)
    print(f'one softmax: {expected:.4f}; softmax applied twice: {twice:.4f}')
    assert abs(twice - expected) > 0.1
    assert twice >= np.log((np.e + 9) / np.e)  # twice: even a one-hot softmax costs log(1 + 9/e) = 1.46


def test_losses_are_the_papers_log_likelihoods(dtype, rng):
    """D minimises -(L_S + L_C); G minimises -log D(G(z)) + CE(class(G(z)), c)."""
    src_real, src_fake = (rng.standard_normal((8, 1)).astype(dtype) * 3 for _ in range(2))
    cls_real, cls_fake = (rng.standard_normal((8, 10)).astype(dtype) * 3 for _ in range(2))
    labels_real, labels_fake = (rng.integers(0, 10, 8).astype(np.int32) for _ in range(2))

    def log_sigmoid(y):
        return -np.logaddexp(0, -y.astype(np.float64))

    def log_softmax_at(y, c):
        y = y.astype(np.float64)
        return (y - np.log(np.exp(y).sum(axis=1, keepdims=True)))[np.arange(len(c)), c]

    l_s = log_sigmoid(src_real).mean() + log_sigmoid(-src_fake).mean()
    l_c = log_softmax_at(cls_real, labels_real).mean() + log_softmax_at(cls_fake, labels_fake).mean()
    g_expected = -log_sigmoid(src_fake).mean() - log_softmax_at(cls_fake, labels_fake).mean()
    c_d = C.discriminator_loss(src_real, cls_real, src_fake, cls_fake, labels_real, labels_fake)
    t_args = [torch.from_numpy(a) for a in (src_real, cls_real, src_fake, cls_fake)]
    t_d = T.discriminator_loss(*t_args, torch_labels(labels_real), torch_labels(labels_fake))
    c_g = C.generator_loss(src_fake, cls_fake, labels_fake)
    t_g = T.generator_loss(t_args[2], t_args[3], torch_labels(labels_fake))
    check(f'Chainer D loss vs -(L_S + L_C), {dtype}', max_abs_diff(c_d, -(l_s + l_c)), TOLERANCE[dtype])
    check(f'D loss {dtype}', max_abs_diff(c_d, t_d), TOLERANCE[dtype])
    check(f'Chainer G loss vs the non-saturating form, {dtype}', max_abs_diff(c_g, g_expected), TOLERANCE[dtype])
    check(f'G loss {dtype}', max_abs_diff(c_g, t_g), TOLERANCE[dtype])
