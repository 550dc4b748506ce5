"""AC-GAN: the PyTorch port against the Chainer model, layer by layer and step by step."""
import functools

import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from bridge.transfer import max_abs_diff
from chainer_impl import acgan as C
from gan_common.keymap import chainer_to_torch_key
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import chainer_drift, float64_twin, pair_maker, state_drift, torch_labels
from torch_impl import acgan as T

make_pair = pair_maker(C, T)
state_drift = functools.partial(state_drift, counters=False)  # Chainer's N vs num_batches_tracked

GENERATOR_SHAPES = [('embed', (100,)), ('l0', (128, 7, 7)), ('dc1', (64, 14, 14)), ('dc2', (1, 28, 28))]
DISCRIMINATOR_SHAPES = [('c0', (64, 14, 14)), ('c1', (128, 7, 7)), ('src', (1,)), ('cls', (10,))]


def inputs(rng, dtype, n=8):
    """(z, labels, x): Chainer takes int32 labels, PyTorch int64 (``torch_labels``)."""
    z = rng.uniform(-1, 1, (n, C.Z_DIM)).astype(dtype)
    labels = rng.integers(0, C.N_CLASSES, n).astype(np.int32)
    x = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(dtype)
    return z, labels, x


# ---------------------------------------------------------------- structure
def test_parameter_counts_are_pinned():
    generator = 10 * 100 + (100 * 6272 + 6272) + (128 * 64 * 16 + 64) + (64 * 1 * 16 + 1) + 2 * (128 + 64)
    discriminator = (1 * 64 * 16 + 64) + (64 * 128 * 16 + 128) + 2 * 128 + (6272 * 1 + 1) + (6272 * 10 + 10)
    assert generator == 767_017 and discriminator == 201_547
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
            if param.size > 10_000 or name.startswith('/embed'):
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


# ---------------------------------------------------------------- parity
@pytest.mark.parametrize('train', [True, False], ids=['train-mode', 'eval-mode'])
def test_forward_outputs_match(dtype, train, rng):
    c_gen, c_dis, t_gen, t_dis = make_pair(dtype)
    if not train:  # give the running statistics values other than 0 / 1
        z, labels, x = inputs(rng, dtype)
        c_dis(c_gen(z, labels))
        t_dis(t_gen(torch.from_numpy(z), torch_labels(labels)))
    z, labels, x = inputs(rng, dtype)
    t_gen.train(train)
    t_dis.train(train)
    with chainer.using_config('train', train):
        c_trace = list(c_gen.trace(z, labels)) + list(c_dis.trace(x))
    t_trace = list(t_gen.trace(torch.from_numpy(z), torch_labels(labels))) + list(t_dis.trace(torch.from_numpy(x)))
    diff = max(max_abs_diff(c, t) for (_, c), (_, t) in zip(c_trace, t_trace))
    check(f'every layer of G(z, c) and D(x), {dtype} train={train}', diff, TOLERANCE[dtype])
    check(f'parameters and BN statistics after it, {dtype} train={train}',
          max(state_drift(c_gen, t_gen), state_drift(c_dis, t_dis)), TOLERANCE[dtype])


def test_all_gradients_match(dtype, rng):
    c_gen, c_dis, t_gen, t_dis = make_pair(dtype)
    z, labels_fake, x = inputs(rng, dtype)
    _, labels_real, _ = inputs(rng, dtype)
    c_fake, c_real = c_dis(c_gen(z, labels_fake)), c_dis(x)
    c_losses = [C.generator_loss(*c_fake, labels_fake),
                C.discriminator_loss(*c_real, *c_fake, labels_real, labels_fake)]
    t_fake = t_dis(t_gen(torch.from_numpy(z), torch_labels(labels_fake)))
    t_real = t_dis(torch.from_numpy(x))
    t_losses = [T.generator_loss(*t_fake, torch_labels(labels_fake)),
                T.discriminator_loss(*t_real, *t_fake, torch_labels(labels_real), torch_labels(labels_fake))]
    for label, c_loss, t_loss in zip(['G loss', 'D loss'], c_losses, t_losses):
        for chain, module in [(c_gen, t_gen), (c_dis, t_dis)]:
            chain.cleargrads()
            module.zero_grad()
        c_loss.backward()
        t_loss.backward(retain_graph=True)
        for chain, module in [(c_gen, t_gen), (c_dis, t_dis)]:
            grads = dict(module.named_parameters())
            diff = max(max_abs_diff(p.grad, grads[chainer_to_torch_key(n)].grad) for n, p in chain.namedparams())
            scale = max(float(np.abs(p.grad).max()) for p in chain.params())
            check(f'{label} -> {type(chain).__name__} gradients {dtype} (largest {scale:.2e})',
                  diff, TOLERANCE[dtype] * max(1.0, scale))


# ---------------------------------------------------------------- training
def run(dtype, steps, seed=0, twin=False):
    """Both frameworks from the same weights on the same batches; yields (loss
    difference, drift of every parameter and BN statistic) after each step,
    and with ``twin`` the drift of a float64 Chainer run from the same start."""
    c_gen, c_dis, t_gen, t_dis = make_pair(dtype)
    c_opts = C.make_optimizer(c_gen), C.make_optimizer(c_dis)
    t_opts = T.make_optimizer(t_gen), T.make_optimizer(t_dis)
    if twin:
        gen64, dis64 = float64_twin(c_gen), float64_twin(c_dis)
        opts64 = C.make_optimizer(gen64), C.make_optimizer(dis64)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        z, labels_fake, x = inputs(rng, dtype)
        _, labels_real, _ = inputs(rng, dtype)
        c_losses = C.train_step(c_gen, c_dis, *c_opts, x, labels_real, z, labels_fake)
        t_losses = T.train_step(t_gen, t_dis, *t_opts, torch.from_numpy(x), torch_labels(labels_real),
                                torch.from_numpy(z), torch_labels(labels_fake))
        loss_diff = max(max_abs_diff(c, t) for c, t in zip(c_losses, t_losses))
        row = [loss_diff, max(state_drift(c_gen, t_gen), state_drift(c_dis, t_dis))]
        if twin:
            C.train_step(gen64, dis64, *opts64, x.astype(np.float64), labels_real, z.astype(np.float64), labels_fake)
            row.append(max(chainer_drift(c_gen, gen64), chainer_drift(c_dis, dis64)))
        yield row


def test_one_training_step_matches_float64():
    (loss_diff, drift), = run('float64', 1)
    check('losses of one step (float64)', loss_diff, 1e-12)
    check('parameters and BN statistics after one step (float64)', drift, 1e-11)


def test_20_step_trajectory_float64():
    rows = list(run('float64', 20))
    for k in (1, 10, 20):
        print(f'step {k}: loss diff {rows[k - 1][0]:.2e}, parameter/statistics drift {rows[k - 1][1]:.2e}')
    check('losses over 20 steps (float64)', max(r[0] for r in rows), 1e-9)
    check('parameters and BN statistics after 20 steps (float64)', rows[-1][1], 1e-9)


def test_10_step_float32_drift_is_no_larger_than_chainers_own_float32_rounding():
    """Float32 training is chaotic: the biases just before a BN layer have a
    zero true gradient, and Adam turns their rounding noise into steps that
    differ between runs. The bound, as for DCGAN: the port stays about as close
    to Chainer as Chainer in float32 stays to Chainer in float64."""
    rows = list(run('float32', 10, twin=True))
    for k in (1, 5, 10):
        loss_diff, port, own = rows[k - 1]
        print(f'step {k}: PyTorch f32 vs Chainer f32 drift {port:.2e}, '
              f'Chainer f32 vs Chainer f64 drift {own:.2e}, loss diff {loss_diff:.2e}')
        assert port <= 3 * own + 1e-6
    check('losses at step 1 (float32)', rows[0][0], 1e-5)
