"""Chainer 7.8.1's core working under chainer_impl.compat on NumPy 2.

Links are checked against NumPy formulas and numerical gradients, functions
against NumPy formulas, optimizers against their update rules, serializers by
round trips, and the training loop end to end, including resuming from a
snapshot to exactly the parameters of an uninterrupted run.
"""
import contextlib
import io
import json

import numpy as np
import pytest

import chainer_impl  # noqa: F401  (installs the compat shim before chainer)

import chainer
import chainer.functions as F
import chainer.links as L
from chainer import gradient_check, optimizers, serializers, training
from chainer.training import extensions

import matplotlib

matplotlib.use('Agg')


@pytest.fixture
def rng():
    return np.random.RandomState(1234)


def float64_links():
    return chainer.using_config('dtype', np.float64)


# --- numpy reference implementations ---------------------------------------

def conv2d_ref(x, W, b, stride, pad):
    n, c, h, w = x.shape
    out_c, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (w + 2 * pad - kw) // stride + 1
    y = np.zeros((n, out_c, oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.einsum('nchw,ochw->no', patch, W)
    return y + b[None, :, None, None]


def deconv2d_ref(x, W, b, stride, pad):
    # W: (in_c, out_c, kh, kw); scatter every input pixel through the kernel
    n, in_c, h, w = x.shape
    _, out_c, kh, kw = W.shape
    full = np.zeros((n, out_c, (h - 1) * stride + kh, (w - 1) * stride + kw), x.dtype)
    for i in range(h):
        for j in range(w):
            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
                np.einsum('nc,cohw->nohw', x[:, :, i, j], W)
    oh = stride * (h - 1) + kh - 2 * pad
    ow = stride * (w - 1) + kw - 2 * pad
    return full[:, :, pad:pad + oh, pad:pad + ow] + b[None, :, None, None]


def log_softmax_ref(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


# --- links: forward values and numerical gradients --------------------------

def test_linear_forward_and_gradient(rng):
    with float64_links():
        link = L.Linear(5, 3)
    assert link.W.dtype == np.float64
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(link(x).array, x @ link.W.array.T + link.b.array, rtol=1e-12)
    gy = rng.standard_normal((4, 3))
    gradient_check.check_backward(link, x, gy, params=(link.W, link.b),
                                  eps=1e-6, atol=1e-7, rtol=1e-6)
    # the backward really is x^T gy / column sums
    link.cleargrads()
    y = link(chainer.Variable(x))
    y.grad = gy
    y.backward()
    np.testing.assert_allclose(link.W.grad, gy.T @ x, rtol=1e-12)
    np.testing.assert_allclose(link.b.grad, gy.sum(axis=0), rtol=1e-12)


def test_convolution2d_forward_and_gradient(rng):
    with float64_links():
        link = L.Convolution2D(2, 3, ksize=3, stride=2, pad=1)
    x = rng.standard_normal((2, 2, 5, 5))
    y = link(x).array
    assert y.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(y, conv2d_ref(x, link.W.array, link.b.array, 2, 1), rtol=1e-10)
    gradient_check.check_backward(link, x, rng.standard_normal(y.shape),
                                  params=(link.W, link.b), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_deconvolution2d_forward_and_gradient(rng):
    with float64_links():
        link = L.Deconvolution2D(3, 2, ksize=4, stride=2, pad=1)
    x = rng.standard_normal((2, 3, 3, 3))
    y = link(x).array
    assert y.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(y, deconv2d_ref(x, link.W.array, link.b.array, 2, 1), rtol=1e-10)
    gradient_check.check_backward(link, x, rng.standard_normal(y.shape),
                                  params=(link.W, link.b), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_batch_normalization_forward_running_stats_and_gradient(rng):
    with float64_links():
        link = L.BatchNormalization(3, decay=0.9, eps=2e-5)
    link.gamma.array[:] = rng.uniform(0.5, 1.5, 3)
    link.beta.array[:] = rng.standard_normal(3)
    x = rng.standard_normal((6, 3, 2, 2)) * 2 + 1
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    with chainer.using_config('train', True):
        y = link(x).array
    shape = (1, 3, 1, 1)
    expected = (link.gamma.array.reshape(shape) * (x - mean.reshape(shape))
                / np.sqrt(var.reshape(shape) + 2e-5) + link.beta.array.reshape(shape))
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    # running statistics: unbiased variance, exponential moving average
    m = x.size // 3
    np.testing.assert_allclose(link.avg_mean, 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(link.avg_var, 0.9 * 1 + 0.1 * var * m / (m - 1), rtol=1e-12)
    # test mode normalizes with the running statistics
    with chainer.using_config('train', False):
        y_test = link(x).array
    expected_test = (link.gamma.array.reshape(shape) * (x - link.avg_mean.reshape(shape))
                     / np.sqrt(link.avg_var.reshape(shape) + 2e-5)
                     + link.beta.array.reshape(shape))
    np.testing.assert_allclose(y_test, expected_test, rtol=1e-10)

    with chainer.using_config('train', True):
        gradient_check.check_backward(link, x, rng.standard_normal(x.shape),
                                      params=(link.gamma, link.beta),
                                      eps=1e-6, atol=1e-6, rtol=1e-5)


def test_embed_id_forward_and_gradient(rng):
    with float64_links():
        link = L.EmbedID(6, 4, ignore_label=-1)
    ids = np.array([0, 3, 3, -1, 5], np.int32)
    y = link(ids).array
    np.testing.assert_array_equal(y[[0, 1, 2, 4]], link.W.array[[0, 3, 3, 5]])
    np.testing.assert_array_equal(y[3], np.zeros(4))
    gy = rng.standard_normal(y.shape)
    gradient_check.check_backward(link, ids, gy, params=(link.W,), no_grads=[True],
                                  eps=1e-6, atol=1e-7, rtol=1e-6)
    link.cleargrads()
    out = link(ids)
    out.grad = gy
    out.backward()
    expected = np.zeros_like(link.W.array)
    np.add.at(expected, ids[ids >= 0], gy[ids >= 0])
    np.testing.assert_allclose(link.W.grad, expected, rtol=1e-12)


# --- functions against numpy formulas ---------------------------------------

def test_softmax_cross_entropy(rng):
    x = rng.standard_normal((7, 4)).astype(np.float32)
    t = rng.randint(0, 4, 7).astype(np.int32)
    loss = F.softmax_cross_entropy(x, t)
    assert loss.dtype == np.float32
    logp = log_softmax_ref(x.astype(np.float64))
    np.testing.assert_allclose(float(loss.array), -logp[np.arange(7), t].mean(), rtol=1e-5)
    t_ignored = t.copy()
    t_ignored[[1, 4]] = -1
    keep = t_ignored >= 0
    loss = F.softmax_cross_entropy(x, t_ignored)
    np.testing.assert_allclose(float(loss.array),
                               -logp[np.arange(7)[keep], t[keep]].mean(), rtol=1e-5)
    per_sample = F.softmax_cross_entropy(x, t, reduce='no').array
    np.testing.assert_allclose(per_sample, -logp[np.arange(7), t], rtol=1e-5)


def test_sigmoid_cross_entropy(rng):
    x = (rng.standard_normal((5, 3)) * 3).astype(np.float32)
    t = rng.randint(0, 2, (5, 3)).astype(np.int32)
    x64 = x.astype(np.float64)
    per_element = np.logaddexp(0, x64) - t * x64  # -(t log s + (1-t) log(1-s))
    loss = F.sigmoid_cross_entropy(x, t)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(float(loss.array), per_element.mean(), rtol=1e-5)
    loss = F.sigmoid_cross_entropy(x, t, normalize=False)
    np.testing.assert_allclose(float(loss.array), per_element.sum() / 5, rtol=1e-5)
    t_ignored = t.copy()
    t_ignored[0, :] = -1
    loss = F.sigmoid_cross_entropy(x, t_ignored)
    np.testing.assert_allclose(float(loss.array), per_element[1:].mean(), rtol=1e-5)


def test_leaky_relu_concat_reshape_mean_absolute_error(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = F.leaky_relu(x, slope=0.2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.array, np.where(x >= 0, x, np.float32(0.2) * x))

    a, b = x[:, :1], x[:, 1:]
    np.testing.assert_array_equal(F.concat((a, b), axis=1).array, x)
    np.testing.assert_array_equal(F.concat((x, x), axis=0).array, np.concatenate((x, x)))
    np.testing.assert_array_equal(F.reshape(x, (2, 6)).array, x.reshape(2, 6))
    np.testing.assert_array_equal(F.reshape(x, (-1,)).array, x.ravel())

    z = rng.standard_normal((3, 4)).astype(np.float32)
    mae = F.mean_absolute_error(x, z)
    assert mae.dtype == np.float32 and mae.shape == ()
    np.testing.assert_allclose(float(mae.array), np.abs(x - z).mean(), rtol=1e-6)
    half = F.mean_absolute_error(x.astype(np.float16), z.astype(np.float16))
    assert half.dtype == np.float16
    np.testing.assert_allclose(float(half.array), np.abs(x - z).mean(), rtol=1e-2)


def test_function_gradients_numerically(rng):
    x = rng.standard_normal((4, 3))
    t = rng.randint(0, 3, 4).astype(np.int32)
    gradient_check.check_backward(lambda v: F.softmax_cross_entropy(v, t), x, None,
                                  eps=1e-6, atol=1e-7, rtol=1e-6)
    gradient_check.check_backward(
        lambda v: F.sigmoid_cross_entropy(v, (t[:, None] == np.arange(3)).astype(np.int32)),
        x, None, eps=1e-6, atol=1e-7, rtol=1e-6)
    x_away_from_kink = np.where(np.abs(x) < 0.1, 0.5, x)
    gradient_check.check_backward(lambda v: F.leaky_relu(v, 0.2), x_away_from_kink,
                                  rng.standard_normal(x.shape), eps=1e-6, atol=1e-7, rtol=1e-6)
    z = x + np.where(rng.rand(*x.shape) < 0.5, 0.5, -0.5)
    gradient_check.check_backward(F.mean_absolute_error, (x, z), None,
                                  eps=1e-6, atol=1e-7, rtol=1e-6)


# --- optimizers --------------------------------------------------------------

class Quadratic(chainer.Link):
    def __init__(self, start, dtype=np.float32):
        super().__init__()
        with self.init_scope():
            self.w = chainer.Parameter(np.array(start, dtype))  # a copy

    def loss(self, target):
        return F.sum((self.w - target.astype(self.w.dtype)) ** 2)


@pytest.mark.parametrize('make', [
    lambda: optimizers.Adam(alpha=0.05),
    lambda: optimizers.SGD(lr=0.1),
    lambda: optimizers.MomentumSGD(lr=0.05, momentum=0.9),
], ids=['Adam', 'SGD', 'MomentumSGD'])
def test_optimizer_decreases_quadratic(make):
    target = np.array([1.0, -2.0, 3.0])
    model = Quadratic([0.0, 0.0, 0.0])
    optimizer = make()
    optimizer.setup(model)
    losses = []
    for _ in range(150):
        losses.append(float(model.loss(target).array))
        optimizer.update(model.loss, target)
    assert model.w.dtype == np.float32
    assert losses[-1] < 1e-2 * losses[0]
    assert losses[10] < losses[0]
    np.testing.assert_allclose(model.w.array, target, atol=0.1)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_adam_first_step_matches_formula(dtype):
    alpha, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    w0 = np.array([0.5, -1.0, 2.0, 0.0], dtype)
    target = np.array([1.0, 1.0, -1.0, 0.3])
    model = Quadratic(w0, dtype)
    optimizer = optimizers.Adam(alpha=alpha, beta1=b1, beta2=b2, eps=eps)
    optimizer.setup(model)
    optimizer.update(model.loss, target)
    g = 2 * (w0.astype(np.float64) - target)
    m = (1 - b1) * g
    v = (1 - b2) * g * g
    expected = w0 - alpha * np.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(v) + eps)
    assert model.w.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(model.w.array, expected, rtol=tol, atol=tol)
    assert optimizer.t == 1
    state = model.w.update_rule.state
    np.testing.assert_allclose(state['m'], m, rtol=tol)
    np.testing.assert_allclose(state['v'], v, rtol=tol)
    # the step is ~alpha per coordinate with a non-zero gradient
    np.testing.assert_allclose(np.abs(model.w.array - w0), alpha, rtol=1e-4)


# --- serializers -------------------------------------------------------------

class SmallNet(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l1 = L.Linear(4, 6)
            self.bn = L.BatchNormalization(6)
            self.l2 = L.Linear(6, 3)

    def forward(self, x):
        return self.l2(F.relu(self.bn(self.l1(x))))


def all_arrays(link):
    arrays = {name: p.array for name, p in link.namedparams()}
    for name, sub in link.namedlinks():
        for pname in sub._persistent:
            arrays[f'{name}/{pname}'] = np.asarray(getattr(sub, pname))
    return arrays


def test_save_load_npz_chain_with_batchnorm_stats(tmp_path, rng):
    np.random.seed(0)
    net = SmallNet()
    with chainer.using_config('train', True):
        for _ in range(3):
            net(rng.standard_normal((8, 4)).astype(np.float32))
    assert not np.allclose(net.bn.avg_mean, 0) and not np.allclose(net.bn.avg_var, 1)
    path = tmp_path / 'net.npz'
    serializers.save_npz(str(path), net)

    np.random.seed(1)
    other = SmallNet()
    assert not np.array_equal(other.l1.W.array, net.l1.W.array)
    serializers.load_npz(str(path), other)
    saved, loaded = all_arrays(net), all_arrays(other)
    assert {'/bn/avg_mean', '/bn/avg_var', '/bn/N', '/l1/W', '/l2/b'} <= set(saved)
    assert saved.keys() == loaded.keys()
    for key in saved:
        np.testing.assert_array_equal(loaded[key], saved[key], err_msg=key)
        assert loaded[key].dtype == saved[key].dtype, key
    x = rng.standard_normal((5, 4)).astype(np.float32)
    with chainer.using_config('train', False):
        np.testing.assert_array_equal(net(x).array, other(x).array)
    with np.load(str(path)) as npz:
        np.testing.assert_array_equal(npz['bn/avg_var'], net.bn.avg_var)


def test_save_load_npz_adam_state(tmp_path, rng):
    np.random.seed(0)
    net = SmallNet()
    opt = optimizers.Adam(alpha=0.01)
    opt.setup(net)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    t = rng.randint(0, 3, 8).astype(np.int32)

    def lossfun(model):
        return F.softmax_cross_entropy(model(x), t)

    for _ in range(3):
        opt.update(lossfun, net)
    serializers.save_npz(str(tmp_path / 'net.npz'), net)
    serializers.save_npz(str(tmp_path / 'opt.npz'), opt)

    net2 = SmallNet()
    opt2 = optimizers.Adam(alpha=0.01)
    opt2.setup(net2)
    serializers.load_npz(str(tmp_path / 'net.npz'), net2)
    serializers.load_npz(str(tmp_path / 'opt.npz'), opt2)
    assert opt2.t == 3 and opt2.epoch == opt.epoch
    for (name, p), (_, p2) in zip(sorted(net.namedparams()), sorted(net2.namedparams())):
        for key in ('m', 'v'):
            np.testing.assert_array_equal(p2.update_rule.state[key],
                                          p.update_rule.state[key], err_msg=name)
        assert p2.update_rule.t == 3
    # the restored optimizer continues identically
    opt.update(lossfun, net)
    opt2.update(lossfun, net2)
    for (name, p), (_, p2) in zip(sorted(net.namedparams()), sorted(net2.namedparams())):
        np.testing.assert_array_equal(p2.array, p.array, err_msg=name)


# --- the training loop -------------------------------------------------------

N_POINTS, BATCH = 200, 20
ITERS_PER_EPOCH = N_POINTS // BATCH


def make_dataset():
    rng = np.random.RandomState(42)
    x = rng.standard_normal((N_POINTS, 2)).astype(np.float32)
    t = (x[:, 0] * x[:, 1] > 0).astype(np.int32)  # XOR-like quadrants: needs the hidden layer
    x += np.float32(0.05) * rng.standard_normal(x.shape).astype(np.float32)
    return chainer.datasets.TupleDataset(x, t)


class MLP(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l1 = L.Linear(2, 32)
            self.l2 = L.Linear(32, 2)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


def make_trainer(out, epochs, with_reports=True, shuffle=True):
    np.random.seed(0)  # model initialization and the iterator's shuffling
    model = L.Classifier(MLP())
    optimizer = optimizers.Adam(alpha=0.02)
    optimizer.setup(model)
    dataset = make_dataset()
    train_iter = chainer.iterators.SerialIterator(dataset, BATCH, shuffle=shuffle)
    test_iter = chainer.iterators.SerialIterator(dataset, 50, repeat=False, shuffle=False)
    updater = training.updaters.StandardUpdater(train_iter, optimizer)
    trainer = training.Trainer(updater, (epochs, 'epoch'), out=str(out))
    trainer.extend(extensions.Evaluator(test_iter, model))
    trainer.extend(extensions.LogReport())
    trainer.extend(extensions.snapshot(), trigger=(1, 'epoch'))
    text = io.StringIO()
    if with_reports:
        trainer.extend(extensions.PrintReport(
            ['epoch', 'iteration', 'main/loss', 'main/accuracy',
             'validation/main/loss', 'validation/main/accuracy'], out=text))
        trainer.extend(extensions.ProgressBar(update_interval=2, out=text))
        trainer.extend(extensions.PlotReport(
            ['main/loss', 'validation/main/loss'], 'epoch', filename='loss.png'))
        trainer.extend(report_probe)
    return trainer, model, text


PROBE = np.float32(0.1)


@training.make_extension(trigger=(1, 'iteration'), priority=training.PRIORITY_WRITER)
def report_probe(trainer):
    # reported every iteration; LogReport averages the epoch's values
    chainer.reporter.report({'probe': PROBE})


EPOCHS = 6


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp('uninterrupted')
    # Chainer 7.8.1's ProgressBar ignores its ``out`` argument and writes to
    # whatever sys.stdout is when it is built
    progress = io.StringIO()
    with contextlib.redirect_stdout(progress):
        trainer, model, text = make_trainer(out, EPOCHS)
        trainer.run()
    return out, trainer, model, text.getvalue(), progress.getvalue()


def test_trainer_log_and_learning(uninterrupted):
    out, trainer, _, _, _ = uninterrupted
    assert trainer.updater.iteration == EPOCHS * ITERS_PER_EPOCH
    log = json.loads((out / 'log').read_text())
    assert [e['epoch'] for e in log] == list(range(1, EPOCHS + 1))
    assert [e['iteration'] for e in log] == [ITERS_PER_EPOCH * k for k in range(1, EPOCHS + 1)]
    for entry in log:
        assert {'main/loss', 'main/accuracy', 'validation/main/loss',
                'validation/main/accuracy', 'elapsed_time'} <= set(entry)
        assert all(isinstance(entry[k], float) for k in entry if '/' in k)
    assert log[-1]['main/loss'] < 0.6 * log[0]['main/loss']
    assert log[-1]['validation/main/loss'] < log[0]['validation/main/loss']
    assert log[-1]['main/accuracy'] > log[0]['main/accuracy']
    assert log[-1]['validation/main/accuracy'] >= 0.9


def test_log_report_averages_in_float64(uninterrupted):
    """The mean of ITERS_PER_EPOCH float32 0.1s is float32(0.1) to float64
    precision; accumulated in float32 (NumPy 2 without compat) it is 1e-8 off."""
    out, _, _, _, _ = uninterrupted
    for entry in json.loads((out / 'log').read_text()):
        assert abs(entry['probe'] - float(PROBE)) < 1e-12


def test_trainer_reports_and_files(uninterrupted):
    out, _, _, text, progress = uninterrupted
    assert 'main/accuracy' in text and 'validation/main/loss' in text
    rows = [line.replace('\x1b[J', '').split() for line in text.splitlines()]
    printed = [row for row in rows if len(row) == 6 and row[0].isdigit()]
    assert [(int(r[0]), int(r[1])) for r in printed] == \
        [(e, e * ITERS_PER_EPOCH) for e in range(1, EPOCHS + 1)]
    log = json.loads((out / 'log').read_text())
    for row, entry in zip(printed, log):
        assert float(row[2]) == pytest.approx(entry['main/loss'], abs=1e-6)
    # the progress bar, drawn every update_interval=2 iterations
    assert progress.count('iters/sec.') == EPOCHS * ITERS_PER_EPOCH // 2
    assert 'this epoch [' in progress and '     total [' in progress
    assert f'{EPOCHS * ITERS_PER_EPOCH} iter, {EPOCHS} epoch / {EPOCHS} epochs' in progress
    png = out / 'loss.png'
    assert png.exists() and png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    for epoch in range(1, EPOCHS + 1):
        assert (out / f'snapshot_iter_{epoch * ITERS_PER_EPOCH}').exists()


@pytest.mark.parametrize('shuffle, resume_epoch', [(False, 2), (True, EPOCHS - 1)],
                         ids=['in-order', 'shuffled'])
def test_trainer_resume_from_snapshot_matches_uninterrupted(tmp_path, shuffle, resume_epoch):
    """A trainer restored from a snapshot continues from the saved iteration
    and ends with exactly the parameters of an uninterrupted run.

    With shuffling, the snapshot holds the order of the epoch after it (drawn
    as the previous epoch ended) but not the global RNG that draws later
    orders, so the shuffled case resumes for the last epoch only."""
    full, full_model, _ = make_trainer(tmp_path / 'full', EPOCHS, with_reports=False,
                                       shuffle=shuffle)
    full.run()
    first, first_model, _ = make_trainer(tmp_path / 'first', resume_epoch,
                                         with_reports=False, shuffle=shuffle)
    first.run()
    snapshot = tmp_path / 'first' / f'snapshot_iter_{resume_epoch * ITERS_PER_EPOCH}'
    assert snapshot.exists()

    second, model, _ = make_trainer(tmp_path / 'second', EPOCHS, with_reports=False,
                                    shuffle=shuffle)
    # scramble the fresh model so equality can only come from the snapshot
    for p in model.params():
        p.array[...] = np.float32(7.0)
    serializers.load_npz(str(snapshot), second)
    assert second.updater.iteration == resume_epoch * ITERS_PER_EPOCH
    assert second.updater.epoch == resume_epoch
    assert second.updater.get_optimizer('main').t == resume_epoch * ITERS_PER_EPOCH
    for name, p in first_model.namedparams():
        np.testing.assert_array_equal(dict(model.namedparams())[name].array, p.array)
    second.run()
    assert second.updater.iteration == EPOCHS * ITERS_PER_EPOCH

    expected = dict(full_model.namedparams())
    resumed = dict(model.namedparams())
    assert expected.keys() == resumed.keys()
    assert not np.array_equal(expected['/predictor/l1/W'].array,
                              dict(first_model.namedparams())['/predictor/l1/W'].array)
    for name in expected:
        np.testing.assert_array_equal(resumed[name].array, expected[name].array, err_msg=name)

    # the LogReport state came back too: the log holds every epoch, with the
    # same statistics as the uninterrupted run's
    log = json.loads((tmp_path / 'second' / 'log').read_text())
    full_log = json.loads((tmp_path / 'full' / 'log').read_text())
    assert [e['epoch'] for e in log] == list(range(1, EPOCHS + 1))
    for entry, full_entry in zip(log, full_log):
        for key in ('iteration', 'main/loss', 'main/accuracy',
                    'validation/main/loss', 'validation/main/accuracy'):
            assert entry[key] == full_entry[key], (entry['epoch'], key)


def test_npz_deserializer_extracts_model_from_trainer_snapshot(uninterrupted):
    """The pattern for pulling a trained network out of a trainer snapshot."""
    out, _, model, _, _ = uninterrupted
    snapshot = out / f'snapshot_iter_{EPOCHS * ITERS_PER_EPOCH}'
    with np.load(str(snapshot)) as npz:
        assert int(npz['updater/iteration']) == EPOCHS * ITERS_PER_EPOCH
        mlp = MLP()
        serializers.NpzDeserializer(npz, path='updater/model:main/predictor/').load(mlp)
    for name, p in mlp.namedparams():
        np.testing.assert_array_equal(p.array, dict(model.namedparams())['/predictor' + name].array)


def test_dictionary_serializer_round_trip(tmp_path):
    np.random.seed(3)
    net = SmallNet()
    net.bn.avg_mean[:] = np.arange(6, dtype=np.float32)
    target = {}
    serializers.DictionarySerializer(target).save(net)
    assert set(target) >= {'l1/W', 'bn/avg_mean', 'bn/N'}
    np.savez(str(tmp_path / 'dict.npz'), **target)
    np.random.seed(4)
    other = SmallNet()
    with np.load(str(tmp_path / 'dict.npz')) as npz:
        serializers.NpzDeserializer(npz).load(other)
    for key, value in all_arrays(net).items():
        np.testing.assert_array_equal(all_arrays(other)[key], value, err_msg=key)
