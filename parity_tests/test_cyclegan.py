"""CycleGAN: what the contract suite (``test_contract.py``) runs both presets
through (``parity(preset)``), and what only CycleGAN has: its networks'
sizes and initial weights, the functions Chainer lacks (and its reflect-pad
bug), its loss terms against their formulas, the image pools.

Sizes: 32x32 images throughout (the smallest the blog discriminator takes).
The paper preset's architecture and forward tests use the full networks
(ngf 64, 9 blocks); its gradient and training tests (in the contract suite,
``test_contract.py``, from ``parity(preset)``) use a reduced one (ngf 16,
ndf 16, 2 residual blocks) and an image pool of 2 instead of 50, so that
the pool is full after one step and swaps images within a few steps."""
import functools

import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import chainer.functions as CF
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from bridge.transfer import max_abs_diff
from chainer_impl import cyclegan as C
from chainer_impl.functions import instance_normalization, reflection_pad
from gan_common.cycle import BLOG_LOSSES, PAPER_LOSSES, CycleLosses, ImagePool
from gan_common.keymap import chainer_to_torch_key
from gan_common.streams import RandomStream
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import Parity
from torch_impl import cyclegan as T

SIZE = 32
REDUCED = {'ngf': 16, 'ndf': 16, 'n_blocks': 2}
TEST_POOL = 2
LOSSES = {'blog': BLOG_LOSSES, 'paper': PAPER_LOSSES}
NAMES = ('gen_ab', 'gen_ba', 'dis_a', 'dis_b')


def images(rng, dtype, n=1, size=SIZE):
    return rng.uniform(-1, 1, (n, 3, size, size)).astype(dtype)


def as_torch(*arrays):
    return [torch.from_numpy(a) for a in arrays]


# ---------------------------------------------------------------- the contract suite's declaration
def networks(preset, F, ngf=None, ndf=None, n_blocks=9):
    generators = {name: F.Generator(preset, ngf=ngf, n_blocks=n_blocks) for name in NAMES[:2]}
    return dict(generators, **{name: F.Discriminator(preset, LOSSES[preset].gan_loss, ndf=ndf) for name in NAMES[2:]})


def forward_inputs(rng, dtype):
    return images(rng, dtype, 2),


def forward(nets, x):
    return [('G(x)', nets['gen_ab'].trace(x)), ('D(x)', nets['dis_a'].trace(x))]


def step_inputs(rng, dtype):
    return images(rng, dtype), images(rng, dtype)


def pools(size, seed=7):
    """One stream per framework, seeded alike, shared by that framework's two pools."""
    stream = RandomStream(seed)
    return {'pool_a': ImagePool(size, stream), 'pool_b': ImagePool(size, stream)}


def gradients(preset, F, nets, x_a, x_b):
    """The model's own ``backward``: all four networks' gradients at once."""
    extra = pools(TEST_POOL) if preset == 'paper' else {}
    yield 'losses (G, D_A, D_B, cycle)', F.backward(*nets.values(), x_a, x_b, LOSSES[preset], **extra), NAMES


def step_kwargs(preset, seed):
    """The preset's losses and a framework's own pools (of size 0 for the blog: they return the query)."""
    return {'losses': LOSSES[preset], **pools(TEST_POOL if preset == 'paper' else 0)}


def parity(preset):
    """Every layer is held relative to the largest activation (up to 14 in
    the paper's generator), the losses (cycle L1 times 10) to 10 times the
    tolerance."""
    reduced = REDUCED if preset == 'paper' else {}
    return Parity(C, T, forward_inputs, forward, step_inputs, functools.partial(gradients, preset),
                  networks=functools.partial(networks, preset),
                  training_networks=functools.partial(networks, preset, **reduced),
                  step_kwargs=functools.partial(step_kwargs, preset), bn_counters_agree=False, layers_relative=True,
                  loss_tolerance_factor=10)


# ---------------------------------------------------------------- structure
def test_parameter_counts_are_pinned():
    """The paper's numbers at 3 channels, ngf 64, 9 blocks; the blog's computed here:
    G: convs 784 + 8,224 + 32,832 + 131,200, deconvs 131,136 + 65,568 + 16,400 + 1,539,
    BN 2 * (16 + 32 + 64 + 128 + 64 + 32 + 16); D: 784 + 8,224 + 32,832 + 131,200
    + (128 * C * 16 + C), BN 2 * (32 + 64 + 128)."""
    counts = {('paper', 'Generator'): 11_378_179, ('paper', 'Discriminator'): 2_764_737,
              ('blog', 'Generator'): 388_387, ('blog', 'Discriminator'): 177_586}
    assert 784 + 8224 + 32832 + 131200 + 131136 + 65568 + 16400 + 1539 + 2 * 352 == 388_387
    assert 784 + 8224 + 32832 + 131200 + (128 * 2 * 16 + 2) + 2 * 224 == 177_586
    for (preset, name), count in counts.items():
        chainer_count = sum(p.size for p in getattr(C, name)(preset).params())
        torch_count = sum(p.numel() for p in getattr(T, name)(preset).parameters())
        print(f'{preset} {name}: Chainer {chainer_count:,}, PyTorch {torch_count:,}')
        assert chainer_count == torch_count == count
    lsgan = sum(p.numel() for p in T.Discriminator('blog', 'lsgan').parameters())
    assert lsgan == 177_586 - (128 * 16 + 1)  # one output channel fewer


def test_default_constructors_build_the_blog_model():
    assert C.Generator().preset == T.Generator().preset == 'blog'
    assert C.Discriminator().gan_loss == T.Discriminator().gan_loss == 'sce'


def test_initial_weights_are_normal_002_with_zero_biases():
    np.random.seed(0)
    torch.manual_seed(0)
    for chain, module in [(C.Generator('paper'), T.Generator('paper')), (C.Discriminator(), T.Discriminator())]:
        tensors = dict(module.named_parameters())
        for name, param in chain.namedparams():
            tensor = tensors[chainer_to_torch_key(name)].detach().numpy()
            if name.endswith('/W') and param.size > 10_000:
                assert abs(param.array.std() - 0.02) < 0.002 and abs(tensor.std() - 0.02) < 0.002
            elif name.endswith('/b') or name.endswith('/beta'):
                assert not tensor.any() and not param.array.any()


SHAPES = {
    ('blog', 'Generator'): [('c0', (16, 16, 16)), ('c1', (32, 8, 8)), ('c2', (64, 4, 4)), ('c3', (128, 2, 2)),
                            ('dc0', (64, 4, 4)), ('dc1', (32, 8, 8)), ('dc2', (16, 16, 16)), ('dc3', (3, 32, 32))],
    ('blog', 'Discriminator'): [('c0', (16, 16, 16)), ('c1', (32, 8, 8)), ('c2', (64, 4, 4)), ('c3', (128, 2, 2)),
                                ('c4', (2, 1, 1))],
    ('paper', 'Generator'): [('c0', (64, 32, 32)), ('c1', (128, 16, 16)), ('c2', (256, 8, 8)), ('res', (256, 8, 8)),
                             ('dc0', (128, 16, 16)), ('dc1', (64, 32, 32)), ('out', (3, 32, 32))],
    ('paper', 'Discriminator'): [('c0', (64, 16, 16)), ('c1', (128, 8, 8)), ('c2', (256, 4, 4)), ('c3', (512, 3, 3)),
                                 ('c4', (1, 2, 2))],
}


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_layer_output_shapes(framework, rng):
    x = images(rng, np.float32)
    for (preset, name), expected in SHAPES.items():
        network = getattr(C if framework == 'chainer' else T, name)(preset)
        trace = [(k, tuple(v.shape[1:])) for k, v in network.trace(x if framework == 'chainer' else torch.from_numpy(x))]
        print(framework, preset, name, trace)
        assert trace == expected


# ---------------------------------------------------------------- functions Chainer lacks
def test_instance_normalization_equals_torch_instance_norm_2d(dtype, rng):
    x = (rng.standard_normal((2, 5, 7, 6)) * 3 + 1).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    c_x = chainer.Variable(x)
    c_y = instance_normalization(c_x)
    c_y.grad = gy
    c_y.backward()
    t_x = torch.from_numpy(x).requires_grad_()
    t_y = torch.nn.InstanceNorm2d(5)(t_x)
    t_y.backward(torch.from_numpy(gy))
    check(f'instance normalisation vs nn.InstanceNorm2d, {dtype}', max_abs_diff(c_y, t_y), TOLERANCE[dtype])
    check(f'its input gradient, {dtype}', max_abs_diff(c_x.grad, t_x.grad), TOLERANCE[dtype])


def test_reflection_pad_gradient_and_chainer_pads_bug(rng):
    """Our reflection padding matches PyTorch's forward and backward; Chainer's
    ``F.pad(mode='reflect')`` backward drops the reflected pixels' gradient."""
    x = rng.standard_normal((1, 2, 6, 5))
    gy = rng.standard_normal((1, 2, 12, 11))
    ours, chainers = chainer.Variable(x), chainer.Variable(x)
    for variable, padded in ((ours, reflection_pad(ours, 3)),
                             (chainers, CF.pad(chainers, ((0, 0), (0, 0), (3, 3), (3, 3)), mode='reflect'))):
        padded.grad = gy
        padded.backward()
    t_x = torch.from_numpy(x).requires_grad_()
    t_y = TF.pad(t_x, (3, 3, 3, 3), mode='reflect')
    t_y.backward(torch.from_numpy(gy))
    check('reflection pad forward', max_abs_diff(reflection_pad(x, 3), t_y), 1e-15)
    check('reflection pad backward', max_abs_diff(ours.grad, t_x.grad), 1e-12)
    wrong = max_abs_diff(chainers.grad, t_x.grad)
    print(f'F.pad(mode="reflect") backward is off by {wrong:.2f}')
    assert wrong > 0.5


# ---------------------------------------------------------------- losses
def _np_sce(y, label):
    y = y.astype(np.float64)
    log_softmax = y - np.log(np.exp(y).sum(axis=1, keepdims=True))
    return -log_softmax[:, label].mean()


def l1(a, b):
    return np.abs(a.astype(np.float64) - b).mean()


def test_loss_terms_match_their_formulas(dtype, rng):
    """SCE patch loss: mean over patches of -log softmax[label]; LSGAN: mean
    (y - 1)^2 / y^2; cycle and identity: mean |.|; D loss times 1 / 0.5."""
    logits = (rng.standard_normal((2, 2, 3, 3)) * 2).astype(dtype)
    scores = rng.standard_normal((2, 1, 3, 3)).astype(dtype)
    x_a, rec_a, x_b, rec_b, same_a, same_b = (images(rng, dtype, 2, 8) for _ in range(6))
    expected = {
        'SCE real': (C.adversarial_loss(logits, C.REAL, 'sce'), T.adversarial_loss(torch.from_numpy(logits), T.REAL, 'sce'),
                     _np_sce(logits, 0)),
        'SCE fake': (C.adversarial_loss(logits, C.FAKE, 'sce'), T.adversarial_loss(torch.from_numpy(logits), T.FAKE, 'sce'),
                     _np_sce(logits, 1)),
        'LSGAN real': (C.adversarial_loss(scores, C.REAL, 'lsgan'),
                       T.adversarial_loss(torch.from_numpy(scores), T.REAL, 'lsgan'), ((scores - 1.0) ** 2).mean()),
        'LSGAN fake': (C.adversarial_loss(scores, C.FAKE, 'lsgan'),
                       T.adversarial_loss(torch.from_numpy(scores), T.FAKE, 'lsgan'), (scores ** 2).mean()),
        'cycle L1': (C.cycle_loss(rec_a, x_a), T.cycle_loss(*as_torch(rec_a, x_a)), np.abs(rec_a - x_a).mean()),
        'paper D loss (halved)': (C.discriminator_loss(scores, -scores, PAPER_LOSSES),
                                  T.discriminator_loss(*as_torch(scores, -scores), PAPER_LOSSES),
                                  0.5 * (((scores - 1.0) ** 2).mean() + (scores ** 2).mean())),
    }
    adversarial = 2 * ((scores - 1.0) ** 2).mean()
    c_terms = C.generator_loss(scores, scores, x_a, rec_a, x_b, rec_b, same_a, same_b, PAPER_LOSSES)
    t_terms = T.generator_loss(*as_torch(scores, scores, x_a, rec_a, x_b, rec_b, same_a, same_b), losses=PAPER_LOSSES)
    identity = 10 * 0.5 * (l1(same_a, x_a) + l1(same_b, x_b))
    expected['paper G adversarial'] = c_terms[0], t_terms[0], adversarial
    expected['paper G cycle + identity'] = c_terms[1], t_terms[1], 10 * (l1(rec_a, x_a) + l1(rec_b, x_b)) + identity
    blog = C.generator_loss(logits, logits, x_a, rec_a, x_b, rec_b, losses=BLOG_LOSSES)
    expected['blog G: no identity term'] = blog[1], T.generator_loss(
        *as_torch(logits, logits, x_a, rec_a, x_b, rec_b))[1], 10 * (l1(rec_a, x_a) + l1(rec_b, x_b))
    for label, (c_loss, t_loss, formula) in expected.items():
        check(f'{label}: Chainer vs formula, {dtype}', max_abs_diff(c_loss, formula), TOLERANCE[dtype] * 10)
        check(f'{label}: Chainer vs PyTorch, {dtype}', max_abs_diff(c_loss, t_loss), TOLERANCE[dtype] * 10)


def test_pool_draws_are_shared_and_reproducible():
    """Both frameworks' pools, on streams seeded alike, return the same images."""
    images_in = np.arange(5 * 3 * 2 * 2, dtype=np.float32).reshape(5, 3, 2, 2)
    first, second = ImagePool(2, RandomStream(3)), ImagePool(2, RandomStream(3))
    for _ in range(4):
        assert np.array_equal(first.query(images_in), second.query(images_in))
    assert len(first.images) == 2
    state = first.get_state()
    third = ImagePool(2, RandomStream(0))
    third.set_state(state)
    assert all(np.array_equal(a, b) for a, b in zip(third.images, first.images))
    assert CycleLosses() == BLOG_LOSSES
