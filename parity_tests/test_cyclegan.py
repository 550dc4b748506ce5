"""CycleGAN: the PyTorch port against the Chainer model, both presets, layer by
layer, loss by loss and step by step.

Sizes: 32x32 images throughout (the smallest the blog discriminator takes).
The paper preset's architecture tests use the full networks (ngf 64, 9
blocks); its gradient and training tests use a reduced one (ngf 16, ndf 16,
2 residual blocks) and an image pool of 2 instead of 50, so that the pool is
full after one step and swaps images within a few steps."""
import functools

import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import chainer.functions as CF
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from bridge.transfer import chainer_to_torch, max_abs_diff
from chainer_impl import cyclegan as C
from chainer_impl.checkpoint import load_state, state_of
from chainer_impl.functions import instance_normalization, reflection_pad
from gan_common.cycle import BLOG_LOSSES, PAPER_LOSSES, CycleLosses, ImagePool
from gan_common.keymap import chainer_to_torch_key
from gan_common.streams import RandomStream
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import TORCH_DTYPE, chainer_drift, state_drift
from torch_impl import cyclegan as T

state_drift = functools.partial(state_drift, counters=False)  # Chainer's N vs num_batches_tracked
SIZE = 32
REDUCED = {'ngf': 16, 'ndf': 16, 'n_blocks': 2}
TEST_POOL = 2
LOSSES = {'blog': BLOG_LOSSES, 'paper': PAPER_LOSSES}
NAMES = ('gen_ab', 'gen_ba', 'dis_a', 'dis_b')


def build(framework, preset, dtype=np.float32, gan_loss=None, ngf=None, ndf=None, n_blocks=9):
    module = C if framework == 'chainer' else T
    gan_loss = gan_loss or LOSSES[preset].gan_loss
    with chainer.using_config('dtype', np.dtype(dtype)):
        networks = {name: module.Generator(preset, ngf=ngf, n_blocks=n_blocks) for name in NAMES[:2]}
        networks.update({name: module.Discriminator(preset, gan_loss, ndf=ndf) for name in NAMES[2:]})
    if framework == 'torch':
        networks = {name: net.to(TORCH_DTYPE[np.dtype(dtype).name]) for name, net in networks.items()}
    return networks


def make_pair(preset, dtype, seed=0, **sizes):
    """Chainer's seeded networks and PyTorch copies of them, as two dicts."""
    np.random.seed(seed)
    chains, modules = build('chainer', preset, dtype, **sizes), build('torch', preset, dtype, **sizes)
    for name in NAMES:
        chainer_to_torch(chains[name], modules[name])
    return chains, modules


def images(rng, dtype, n=1, size=SIZE):
    return rng.uniform(-1, 1, (n, 3, size, size)).astype(dtype)


def as_torch(*arrays):
    return [torch.from_numpy(a) for a in arrays]


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


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize('preset', ['blog', 'paper'])
@pytest.mark.parametrize('train', [True, False], ids=['train-mode', 'eval-mode'])
def test_forward_outputs_match(preset, dtype, train, rng):
    chains, modules = make_pair(preset, dtype)
    if not train:  # give the BN running statistics values other than 0 / 1
        x = images(rng, dtype, 2)
        for name in ('gen_ab', 'dis_a'):
            chains[name](x)
            modules[name](torch.from_numpy(x))
    x = images(rng, dtype, 2)
    diff, scale, outputs = 0.0, 0.0, 0.0
    for name in ('gen_ab', 'dis_a'):
        modules[name].train(train)
        with chainer.using_config('train', train):
            c_trace = list(chains[name].trace(x))
        t_trace = list(modules[name].trace(torch.from_numpy(x)))
        diff = max([diff] + [max_abs_diff(c, t) for (_, c), (_, t) in zip(c_trace, t_trace)])
        scale = max([scale] + [float(np.abs(c.array).max()) for _, c in c_trace])
        outputs = max(outputs, max_abs_diff(c_trace[-1][1], t_trace[-1][1]))
    check(f'outputs of G(x) and D(x), {preset} {dtype} train={train}', outputs, TOLERANCE[dtype])
    check(f'every layer, relative to the largest activation ({scale:.1f}), {preset} {dtype} train={train}',
          diff, TOLERANCE[dtype] * max(1.0, scale))
    drift = max(state_drift(chains[name], modules[name]) for name in NAMES)
    check(f'parameters and BN statistics after it, {preset} {dtype}', drift, TOLERANCE[dtype])


# ---------------------------------------------------------------- gradients and steps
def pools(size, seed=7):
    """One stream per framework, seeded alike, shared by that framework's two pools."""
    stream = RandomStream(seed)
    return {'pool_a': ImagePool(size, stream), 'pool_b': ImagePool(size, stream)}


def settings(preset):
    return REDUCED if preset == 'paper' else {}


@pytest.mark.parametrize('preset', ['blog', 'paper'])
def test_all_four_networks_gradients_match(preset, dtype, rng):
    chains, modules = make_pair(preset, dtype, **settings(preset))
    x_a, x_b = images(rng, dtype), images(rng, dtype)
    extra = pools(TEST_POOL) if preset == 'paper' else {}
    c_losses = C.backward(*chains.values(), x_a, x_b, LOSSES[preset], **extra)
    extra = pools(TEST_POOL) if preset == 'paper' else {}
    t_losses = T.backward(*modules.values(), *as_torch(x_a, x_b), LOSSES[preset], **extra)
    check(f'{preset} losses (G, D_A, D_B, cycle) {dtype}',
          max(max_abs_diff(c, t) for c, t in zip(c_losses, t_losses)), TOLERANCE[dtype] * 10)
    for name in NAMES:
        grads = dict(modules[name].named_parameters())
        diff = max(max_abs_diff(p.grad, grads[chainer_to_torch_key(n)].grad) for n, p in chains[name].namedparams())
        scale = max(float(np.abs(p.grad).max()) for p in chains[name].params())
        check(f'{preset} {name} gradients {dtype} (largest {scale:.2e})', diff, TOLERANCE[dtype] * max(1.0, scale))


def run(preset, dtype, steps, seed=0, twin=False):
    """Both frameworks from the same weights on the same images (and, for the
    paper preset, pools on streams seeded alike); yields (loss difference,
    drift of every parameter and BN statistic) after each step, and with
    ``twin`` the drift of a float64 Chainer run from the same start."""
    sizes = settings(preset)
    chains, modules = make_pair(preset, dtype, **sizes)
    c_opts = [C.make_optimizer(chains[name]) for name in NAMES]
    t_opts = [T.make_optimizer(modules[name]) for name in NAMES]
    pool_size = TEST_POOL if preset == 'paper' else 0
    c_extra, t_extra = pools(pool_size), pools(pool_size)
    if twin:
        twins = build('chainer', preset, np.float64, **sizes)
        for name in NAMES:
            load_state(twins[name], {k: v.astype(np.float64) if v.dtype.kind == 'f' else v
                                     for k, v in state_of(chains[name]).items()})
        twin_opts = [C.make_optimizer(twins[name]) for name in NAMES]
        twin_extra = pools(pool_size)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x_a, x_b = images(rng, dtype), images(rng, dtype)
        c_losses = C.train_step(*chains.values(), *c_opts, x_a, x_b, LOSSES[preset], **c_extra)
        t_losses = T.train_step(*modules.values(), *t_opts, *as_torch(x_a, x_b), LOSSES[preset], **t_extra)
        row = [max(max_abs_diff(c, t) for c, t in zip(c_losses, t_losses)),
               max(state_drift(chains[name], modules[name]) for name in NAMES)]
        if twin:
            C.train_step(*twins.values(), *twin_opts, x_a.astype(np.float64), x_b.astype(np.float64),
                         LOSSES[preset], **twin_extra)
            row.append(max(chainer_drift(chains[name], twins[name]) for name in NAMES))
        yield row


@pytest.mark.parametrize('preset', ['blog', 'paper'])
def test_one_optimizer_step_matches_float64(preset):
    (loss_diff, drift), = run(preset, 'float64', 1)
    check(f'{preset}: losses of one step (float64)', loss_diff, 1e-12)
    check(f'{preset}: parameters and BN statistics after one step (float64)', drift, 1e-11)


def test_blog_20_step_trajectory_float64():
    rows = list(run('blog', 'float64', 20))
    for k in (1, 10, 20):
        print(f'step {k}: loss diff {rows[k - 1][0]:.2e}, parameter/statistics drift {rows[k - 1][1]:.2e}')
    check('blog: losses over 20 steps (float64)', max(r[0] for r in rows), 1e-9)
    check('blog: parameters and BN statistics after 20 steps (float64)', rows[-1][1], 1e-9)


def test_paper_trajectory_with_the_pool_float64():
    rows = list(run('paper', 'float64', 6))
    for k, (loss_diff, drift) in enumerate(rows, 1):
        print(f'step {k}: loss diff {loss_diff:.2e}, parameter drift {drift:.2e}')
    check('paper (pool of 2): losses over 6 steps (float64)', max(r[0] for r in rows), 1e-9)
    check('paper (pool of 2): parameters after 6 steps (float64)', rows[-1][1], 1e-9)


@pytest.mark.parametrize('preset,steps', [('blog', 10), ('paper', 4)])
def test_float32_drift_is_no_larger_than_chainers_own_float32_rounding(preset, steps):
    """As for the other models: in float32 the port stays about as close to
    Chainer as Chainer in float32 stays to Chainer in float64."""
    rows = list(run(preset, 'float32', steps, twin=True))
    for k in sorted({1, steps // 2, steps}):
        loss_diff, port, own = rows[k - 1]
        print(f'{preset} step {k}: PyTorch f32 vs Chainer f32 drift {port:.2e}, '
              f'Chainer f32 vs Chainer f64 drift {own:.2e}, loss diff {loss_diff:.2e}')
        assert port <= 3 * own + 1e-6
    check(f'{preset}: losses at step 1 (float32)', rows[0][0], 1e-5)


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
