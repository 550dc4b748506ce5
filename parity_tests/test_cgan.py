"""CGAN (GANs in Action ch. 8, Keras 2.1.6): what the contract suite
(``test_contract.py``) runs it through (``PARITY``), and what only CGAN has:
the book's layer sizes, Keras's semantics in both frameworks, the book's
order of updates."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from bridge.transfer import max_abs_diff, to_numpy
from chainer_impl import cgan as C
from chainer_impl import keras_semantics as CK
from chainer_impl.checkpoint import state_of
from gan_common.keymap import chainer_to_torch_key
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import Parity, backpropagated, pair_maker, torch_labels
from torch_impl import cgan as T
from torch_impl import keras_semantics as TK

make_pair = pair_maker(C, T)

GENERATOR_SHAPES = [('embed', (100,)), ('l0', (256, 7, 7)), ('dc1', (128, 14, 14)),
                    ('dc2', (64, 14, 14)), ('dc3', (1, 28, 28))]
DISCRIMINATOR_SHAPES = [('embed', (2, 28, 28)), ('c1', (64, 14, 14)), ('c2', (64, 7, 7)),
                        ('c3', (128, 4, 4)), ('l4', (1,))]


def inputs(rng, dtype, n=8):
    """(z, labels, x): Chainer takes int32 labels, PyTorch int64 (``torch_labels``)."""
    z = rng.standard_normal((n, C.Z_DIM)).astype(dtype)
    labels = rng.integers(0, C.N_CLASSES, n).astype(np.int32)
    x = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(dtype)
    return z, labels, x


# ---------------------------------------------------------------- the contract suite's declaration
def forward(nets, z, labels, x):
    return [('G(z, y)', nets['gen'].trace(z, labels)), ('D(x, y)', nets['dis'].trace(x, labels))]


def step_inputs(rng, dtype):
    """(x, labels, z, labels_fake, z_gen): G's step draws its own noise and labels."""
    z, labels, x = inputs(rng, dtype)
    z_gen, labels_fake, _ = inputs(rng, dtype)
    return x, labels, z, labels_fake, z_gen


def gradients(F, nets, x, labels, z, labels_fake, z_gen):
    gen, dis = nets['gen'], nets['dis']
    p_fake = dis(gen(z, labels), labels)
    yield 'G loss', backpropagated(F.generator_loss(p_fake), nets), ['gen', 'dis']
    yield 'D loss (real)', backpropagated(F.discriminator_loss(dis(x, labels), F.REAL), nets), ['dis']


def loss_inputs(rng, dtype):
    return rng.uniform(0, 1, (8, 1)).astype(dtype),


def losses(F, p):
    return [('generator loss', F.generator_loss(p))] + [
        (f'discriminator loss, target {target}', F.discriminator_loss(p, target)) for target in (F.REAL, F.FAKE)]


PARITY = Parity(C, T, inputs, forward, step_inputs, gradients, loss_inputs, losses)


# ---------------------------------------------------------------- structure
def test_parameter_counts_are_pinned():
    generator = 10 * 100 + (100 * 12544 + 12544) + (256 * 128 * 9 + 128) + (128 * 64 * 9 + 64) \
        + (64 * 1 * 9 + 1) + 2 * (128 + 64)
    discriminator = 10 * 784 + (2 * 64 * 9 + 64) + (64 * 64 * 9 + 64) + (64 * 128 * 9 + 128) \
        + (2048 * 1 + 1) + 2 * (64 + 128)
    assert generator == 1_637_737 and discriminator == 122_273
    assert sum(p.size for p in C.Generator().params()) == generator
    assert sum(p.numel() for p in T.Generator().parameters()) == generator
    assert sum(p.size for p in C.Discriminator().params()) == discriminator
    assert sum(p.numel() for p in T.Discriminator().parameters()) == discriminator


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_layer_output_shapes_end_in_4x4x128_not_the_books_3x3x128(framework, rng):
    """'same' with stride 2: 28 -> 14 -> 7 -> ceil(7/2) = 4, so Dense(1) sees 4*4*128 = 2048."""
    z, labels, x = inputs(rng, np.float32, n=2)
    if framework == 'chainer':
        g_trace = [(k, v.shape[1:]) for k, v in C.Generator().trace(z, labels)]
        d_trace = [(k, v.shape[1:]) for k, v in C.Discriminator().trace(x, labels)]
    else:
        g_trace = [(k, tuple(v.shape[1:])) for k, v in T.Generator().trace(torch.from_numpy(z), torch_labels(labels))]
        d_trace = [(k, tuple(v.shape[1:]))
                   for k, v in T.Discriminator().trace(torch.from_numpy(x), torch_labels(labels))]
    print(framework, g_trace, d_trace)
    assert g_trace == GENERATOR_SHAPES
    assert d_trace == DISCRIMINATOR_SHAPES
    assert C.Discriminator().l4.W.shape == (1, 2048)


def test_dense_output_and_last_feature_map_are_in_keras_nhwc_order(rng):
    """G: feature (c, i, j) is Dense output unit (i*7 + j)*256 + c; D: Dense input
    unit (i*4 + j)*128 + c is feature (c, i, j); the image is channel 0."""
    z, labels, x = inputs(rng, np.float64)
    c_gen, c_dis, t_gen, t_dis = make_pair('float64')
    for gen, dis, y in [(c_gen, c_dis, labels), (t_gen, t_dis, torch_labels(labels))]:
        wrap = np.asarray if gen is c_gen else torch.from_numpy
        g_trace, d_trace = dict(gen.trace(wrap(z), y)), dict(dis.trace(wrap(x), y))
        dense, feature = to_numpy(gen.l0(g_trace['embed'])), to_numpy(g_trace['l0'])
        for c, i, j in [(0, 0, 1), (200, 3, 5), (255, 6, 6)]:
            assert (feature[:, c, i, j] == dense[:, (i * 7 + j) * 256 + c]).all()
        h = to_numpy(d_trace['c3'])
        W, b = (to_numpy(p) for p in ((dis.l4.W, dis.l4.b) if dis is c_dis else (dis.l4.weight, dis.l4.bias)))
        logit = sum(W[0, (i * 4 + j) * 128 + c] * h[:, c, i, j] for c in range(128) for i in range(4) for j in range(4))
        assert np.abs(to_numpy(d_trace['l4'])[:, 0] - 1 / (1 + np.exp(-(logit + b[0])))).max() < 1e-12
        assert (to_numpy(d_trace['embed'])[:, 0] == x[:, 0]).all()


# ---------------------------------------------------------------- Keras semantics
def test_tensorflow_same_padding_is_asymmetric():
    """total = max((ceil(n/s) - 1)*s + k - n, 0), the odd one after."""
    assert CK.same_padding(28, 3, 2) == TK.same_padding(28, 3, 2) == (0, 1)
    assert CK.same_padding(14, 3, 2) == (0, 1)
    assert CK.same_padding(7, 3, 2) == (1, 1)
    assert CK.same_padding(14, 3, 1) == (1, 1)
    assert CK.same_padding(28, 4, 2) == (1, 1) and CK.same_padding(5, 1, 2) == (0, 0)


@pytest.mark.parametrize('size', [28, 7])
def test_conv2d_same_pads_the_tensorflow_way_in_both(size, rng):
    x = rng.standard_normal((2, 3, size, size))
    W = rng.standard_normal((4, 3, 3, 3))
    top, bottom = CK.same_padding(size, 3, 2)
    expected = TF.conv2d(TF.pad(torch.from_numpy(x), (top, bottom, top, bottom)), torch.from_numpy(W), stride=2)
    symmetric = TF.conv2d(torch.from_numpy(x), torch.from_numpy(W), stride=2, padding=1)
    ours_c = CK.conv2d_same(x, W, None, 2)
    ours_t = TK.conv2d_same(torch.from_numpy(x), torch.from_numpy(W), None, 2)
    assert ours_c.shape == tuple(ours_t.shape) == (2, 4, -(-size // 2), -(-size // 2))
    check(f'Chainer conv2d_same vs explicit TF padding, n={size}', max_abs_diff(ours_c, expected), 1e-12)
    check(f'PyTorch conv2d_same vs explicit TF padding, n={size}', max_abs_diff(ours_t, expected), 1e-12)
    if size == 28:  # padding (0, 1) is not PyTorch's padding=1
        assert max_abs_diff(ours_t, symmetric) > 0.1


@pytest.mark.parametrize('size,kernel,stride', [(7, 3, 2), (14, 3, 2), (14, 3, 1), (7, 4, 2), (4, 5, 2), (5, 3, 3)])
def test_conv2d_transpose_same_is_the_gradient_of_conv2d_same(size, kernel, stride, rng):
    """TensorFlow defines conv2d_transpose 'SAME' as conv2d 'SAME''s gradient with
    respect to its input (of size n*stride): check that identity, the
    vector-Jacobian product, in both frameworks."""
    W = rng.standard_normal((4, 3, kernel, kernel))   # conv: 3 -> 4 channels; transposed: 4 -> 3
    x = rng.standard_normal((2, 4, size, size))       # the cotangent, at the conv's output size
    y = rng.standard_normal((2, 3, size * stride, size * stride))
    c_y = chainer.Variable(y)
    out = CK.conv2d_same(c_y, W, None, stride)
    assert out.shape == x.shape
    out.grad = x
    out.backward()
    t_y = torch.tensor(y, requires_grad=True)
    vjp, = torch.autograd.grad(TK.conv2d_same(t_y, torch.from_numpy(W), None, stride), t_y, torch.from_numpy(x))
    c_transposed = CK.conv2d_transpose_same(x, W, None, stride)
    t_transposed = TK.conv2d_transpose_same(torch.from_numpy(x), torch.from_numpy(W), None, stride)
    assert c_transposed.shape == tuple(t_transposed.shape) == y.shape
    label = f'n={size} k={kernel} s={stride}'
    check(f'Chainer conv2d_transpose_same vs VJP of conv2d_same, {label}', max_abs_diff(c_transposed, c_y.grad), 1e-12)
    check(f'PyTorch conv2d_transpose_same vs VJP of conv2d_same, {label}', max_abs_diff(t_transposed, vjp), 1e-12)


def test_batch_normalization_is_keras_2_1_6s(rng):
    """momentum 0.99, epsilon 1e-3; moving statistics after t updates are the
    zero-debiased average biased_t / (1 - 0.99**t) of the batch means and of
    var * n/(n-1) * n/(n-1.001) (TensorFlow's fused kernel, then Keras)."""
    c_bn = CK.BatchNormalization(3)
    t_bn = TK.BatchNormalization(3).double()
    assert (c_bn.decay, c_bn.eps) == (0.99, 1e-3)
    assert (t_bn.momentum, t_bn.eps) == (pytest.approx(0.01), 1e-3)
    with chainer.using_config('dtype', np.float64):
        c_bn = CK.BatchNormalization(3)
    batches = [rng.standard_normal((4, 3, 5, 5)) * 2 + 1 for _ in range(2)]
    n = 4 * 5 * 5
    biased_mean = biased_var = 0
    for t, x in enumerate(batches, start=1):
        c_y = c_bn(x)
        t_y = t_bn(torch.from_numpy(x))
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        normalised = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
        biased_mean = biased_mean - (biased_mean - mean) * 0.01
        biased_var = biased_var - (biased_var - var * n / (n - 1) * n / (n - 1.001)) * 0.01
        for label, ours in [('Chainer', (c_y, c_bn.avg_mean, c_bn.avg_var, c_bn.N)),
                            ('PyTorch', (t_y, t_bn.running_mean, t_bn.running_var, t_bn.num_batches_tracked))]:
            check(f'{label} BN output, update {t}', max_abs_diff(ours[0], normalised), 1e-12)
            check(f'{label} moving mean, update {t}', max_abs_diff(ours[1], biased_mean / (1 - 0.99 ** t)), 1e-12)
            check(f'{label} moving variance, update {t}', max_abs_diff(ours[2], biased_var / (1 - 0.99 ** t)), 1e-12)
            assert int(ours[3]) == t
            if t == 1:  # the first update replaces the initial 0 / 1 by the batch's values
                assert max_abs_diff(ours[1], mean) < 1e-12
                assert max_abs_diff(ours[2], var * n / (n - 1) * n / (n - 1.001)) < 1e-12
    x = rng.standard_normal((2, 3, 5, 5))
    t_bn.eval()
    with chainer.using_config('train', False):
        c_y = c_bn(x)
    expected = (x - c_bn.avg_mean[:, None, None]) / np.sqrt(c_bn.avg_var[:, None, None] + 1e-3)
    check('Chainer BN in test mode uses the moving statistics', max_abs_diff(c_y, expected), 1e-12)
    check('PyTorch BN in eval mode uses the moving statistics',
          max_abs_diff(t_bn(torch.from_numpy(x)), expected), 1e-12)
    with CK.statistics_frozen(c_bn), TK.statistics_frozen(t_bn):
        t_bn.train()
        before = c_bn.avg_var.copy(), t_bn.running_var.clone()
        check('frozen Chainer BN still normalises with the batch', max_abs_diff(c_bn(x), TF.batch_norm(
            torch.from_numpy(x), None, None, training=True, eps=1e-3)), 1e-12)
        t_bn(torch.from_numpy(x))
        assert (c_bn.avg_var == before[0]).all() and torch.equal(t_bn.running_var, before[1])
        assert c_bn.N == 2 and int(t_bn.num_batches_tracked) == 2
    assert c_bn.update_statistics and t_bn.update_statistics


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_initialisers_are_keras_glorot_uniform_zero_bias_and_uniform_embedding(framework):
    """Glorot limit sqrt(6 / (fan_in + fan_out)) with conv fans k*k*in and k*k*out; U(+-0.05) embeddings."""
    np.random.seed(0)
    torch.manual_seed(0)
    limits = {'l0/W': np.sqrt(6 / (100 + 12544)), 'dc1/W': np.sqrt(6 / (9 * 256 + 9 * 128)),
              'dc2/W': np.sqrt(6 / (9 * 128 + 9 * 64)), 'dc3/W': np.sqrt(6 / (9 * 64 + 9)),
              'c2/W': np.sqrt(6 / (9 * 64 + 9 * 64)), 'l4/W': np.sqrt(6 / (2048 + 1)),
              'embed/W': 0.05}
    for net in ('Generator', 'Discriminator'):
        if framework == 'chainer':
            values = {n.lstrip('/'): p.array for n, p in getattr(C, net)().namedparams()}
        else:
            values = {n.replace('.', '/').replace('weight', 'W').replace('bias', 'b'): p.detach().numpy()
                      for n, p in getattr(T, net)().named_parameters()}
        for name, value in values.items():
            if name.endswith('/b') or name.endswith('/beta'):
                assert not value.any(), name
            elif name.endswith('/gamma'):
                assert (value == 1).all()
            elif name in limits:
                limit = limits[name]
                assert np.abs(value).max() <= limit
                if value.size > 5000:
                    print(f'{framework} {net} {name}: limit {limit:.4f}, std {value.std():.5f} '
                          f'(uniform: {limit / np.sqrt(3):.5f})')
                    assert abs(value.std() - limit / np.sqrt(3)) < 0.03 * limit


def test_keras_binary_crossentropy_clips_probabilities(dtype, rng):
    """p is clipped to [1e-7, 1 - 1e-7]: a certain mistake costs -log(1e-7) = 16.12
    (p = 0, target 1), or -log(1 - (1 - 1e-7)) with 1 - 1e-7 rounded to the
    dtype (p = 1, target 0: 15.94 in float32, as Keras computes it)."""
    p = np.array([[1.0], [0.0], [0.5], [0.9]], dtype=dtype)
    high = float(np.asarray(1, dtype) - np.asarray(1e-7, dtype))
    for target, wrong, expected in [(C.REAL, p[1:2], -np.log(float(np.asarray(1e-7, dtype)))),
                                    (C.FAKE, p[:1], -np.log(1 - high))]:
        for loss in (float(CK.binary_crossentropy(wrong, target).array),
                     float(TK.binary_crossentropy(torch.from_numpy(wrong), target))):
            print(f'{dtype}: certain mistake, target {target}: loss {loss:.6f} (expected {expected:.6f})')
            assert loss == pytest.approx(expected, rel=TOLERANCE[dtype])
    assert float(TK.binary_crossentropy(torch.from_numpy(p[2:3]), C.REAL)) == pytest.approx(np.log(2))
    q = rng.uniform(0, 1, (8, 1)).astype(dtype)
    q[0, 0] = 1.0
    for target in (C.REAL, C.FAKE):
        c_q = chainer.Variable(q.copy())
        c_loss = CK.binary_crossentropy(c_q, target)
        c_loss.backward()
        t_q = torch.tensor(q, requires_grad=True)
        t_loss = TK.binary_crossentropy(t_q, target)
        t_loss.backward()
        check(f'Keras BCE, target {target}, {dtype}', max_abs_diff(c_loss, t_loss), TOLERANCE[dtype])
        check(f'its gradient {dtype}', max_abs_diff(c_q.grad, t_q.grad), TOLERANCE[dtype])
        assert c_q.grad[0, 0] == 0 and float(t_q.grad[0, 0]) == 0  # clipped: no gradient


# ---------------------------------------------------------------- training
def test_train_step_follows_the_books_order(rng):
    """D's fake batch is G in inference mode on (z, labels_real); D's moving
    statistics never change; G's change once, in G's step; D takes two Adam
    steps and G one."""
    c_gen, c_dis, t_gen, t_dis = make_pair('float64')
    z, labels, x = inputs(rng, np.float64)
    z_gen, labels_fake, _ = inputs(rng, np.float64)
    with chainer.using_config('train', False):
        expected = c_gen(z, labels).array
    with CK.statistics_frozen(c_gen):
        assert max_abs_diff(c_gen(z, labels), expected) > 0.01  # training mode would differ
    seen = {'chainer': [], 'torch': []}
    forward = c_dis.forward

    def record(x_, labels_):
        seen['chainer'].append((to_numpy(x_), labels_))
        return forward(x_, labels_)

    c_dis.forward = record
    t_dis.register_forward_pre_hook(lambda module, args: seen['torch'].append((to_numpy(args[0]), args[1].numpy())))
    c_dis_before, t_dis_before = state_of(c_dis), {k: v.clone() for k, v in t_dis.state_dict().items()}
    c_opts = C.make_optimizer(c_gen), C.make_optimizer(c_dis)
    t_opts = T.make_optimizer(t_gen), T.make_optimizer(t_dis)
    C.train_step(c_gen, c_dis, *c_opts, x, labels, z, labels_fake, z_gen)
    T.train_step(t_gen, t_dis, *t_opts, torch.from_numpy(x), torch_labels(labels), torch.from_numpy(z),
                 torch_labels(labels_fake), torch.from_numpy(z_gen))
    for framework, calls in seen.items():
        assert len(calls) == 3
        check(f'{framework}: D\'s fake batch is G(z, labels_real) in inference mode',
              max_abs_diff(calls[1][0], expected), 1e-12)
        assert (np.asarray(calls[1][1]) == labels).all() and (np.asarray(calls[2][1]) == labels_fake).all()
    for key in ('bn2/avg_mean', 'bn2/avg_var', 'bn3/avg_var', 'bn3/N'):
        assert (state_of(c_dis)[key] == c_dis_before[key]).all()
        assert torch.equal(t_dis.state_dict()[chainer_to_torch_key(key)], t_dis_before[chainer_to_torch_key(key)])
    assert c_gen.bn1.N == int(t_gen.bn1.num_batches_tracked) == 1
    assert c_opts[1].t == 2 and c_opts[0].t == 1
    assert {s['t'] for s in t_opts[1].state.values()} == {2} and {s['t'] for s in t_opts[0].state.values()} == {1}
