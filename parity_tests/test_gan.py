"""Vanilla GAN: what the contract suite (``test_contract.py``) runs it
through (``PARITY``), and what only the Chainer port of a PyTorch original
has: the post's layer order and keys, PyTorch's initial weights, sigmoid,
BCE clamp and Adam, state dicts the post's own classes load."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest
import torch
from torch import nn

from bridge.transfer import max_abs_diff
from chainer_impl import gan as C
from chainer_impl.torch_adam import TorchAdam
from gan_common.keymap import chainer_to_torch_key, torch_to_chainer_keys
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import Parity, backpropagated, unconditional_forward
from torch_impl import gan as T

GENERATOR_SHAPES = [('model[0]', (256,)), ('model[2]', (512,)), ('model[4]', (1024,)),
                    ('model[6]', (1, 28, 28))]
DISCRIMINATOR_SHAPES = [('model[0]', (1024,)), ('model[2]', (512,)), ('model[4]', (256,)),
                        ('model[6]', (1,))]


def inputs(rng, dtype, n=8):
    """(x, z), in ``train_step``'s order."""
    z = rng.standard_normal((n, C.Z_DIM)).astype(dtype)
    x = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(dtype)
    return x, z


# ---------------------------------------------------------------- the contract suite's declaration
def gradients(F, nets, x, z):
    """D's loss takes the fake batch undetached here, so both losses reach both networks."""
    p_fake = nets['dis'](nets['gen'](z))
    yield 'G loss', backpropagated(F.generator_loss(p_fake), nets), ['gen', 'dis']
    yield 'D loss', backpropagated(F.discriminator_loss(nets['dis'](x), p_fake), nets), ['gen', 'dis']


def loss_inputs(rng, dtype):
    """Probabilities (p_real, p_fake)."""
    return tuple(rng.uniform(0, 1, (8, 1)).astype(dtype) for _ in range(2))


def losses(F, p_real, p_fake):
    return [('generator loss', F.generator_loss(p_fake)),
            ('discriminator loss', F.discriminator_loss(p_real, p_fake))]


# PyTorch's initial weights, copied into Chainer
PARITY = Parity(C, T, inputs, unconditional_forward, inputs, gradients, loss_inputs, losses, original='torch')


@pytest.mark.parametrize('name', ['Generator', 'Discriminator'])
def test_parameters_come_in_the_posts_sequential_order(name):
    """Beyond the contract (test_contract.py): the very same order, layer by layer."""
    chain, module = getattr(C, name)(), getattr(T, name)()
    chainer_params = [(chainer_to_torch_key(n), p.shape) for n, p in chain.namedparams()]
    torch_params = [(n, tuple(p.shape)) for n, p in module.named_parameters()]
    print(f'{name}: {chainer_params}')
    assert chainer_params == torch_params


def test_keys_are_the_posts_sequential_indices():
    """The activations hold indices 1, 3, 5, 7 in both, so Linear layers are 0, 2, 4, 6."""
    state_dict = T.Generator().state_dict()
    assert list(state_dict) == [f'model.{i}.{leaf}' for i in (0, 2, 4, 6) for leaf in ('weight', 'bias')]
    assert chainer_to_torch_key('model/2/W') == 'model.2.weight'
    assert torch_to_chainer_keys(state_dict)['model.6.bias'] == 'model/6/b'
    assert [type(link).__name__ for link in C.Discriminator().model] == ['Linear', 'Activation'] * 4


def test_parameter_counts_are_pinned():
    generator = (100 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784)
    discriminator = (784 * 1024 + 1024) + (1024 * 512 + 512) + (512 * 256 + 256) + (256 * 1 + 1)
    assert generator == 1_486_352 and discriminator == 1_460_225
    assert sum(p.size for p in C.Generator().params()) == generator
    assert sum(p.numel() for p in T.Generator().parameters()) == generator
    assert sum(p.size for p in C.Discriminator().params()) == discriminator
    assert sum(p.numel() for p in T.Discriminator().parameters()) == discriminator


def test_initial_weights_follow_pytorch_statistics():
    """nn.Linear's default in both: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    np.random.seed(0)
    torch.manual_seed(0)
    chain, module = C.Discriminator(), T.Discriminator()
    tensors = dict(module.named_parameters())
    for name, param in chain.namedparams():
        c_value, t_value = param.array, tensors[chainer_to_torch_key(name)].detach().numpy()
        bound = 1 / np.sqrt(chain.model[int(name.split('/')[2])].W.shape[1])
        assert np.abs(c_value).max() <= bound and np.abs(t_value).max() <= bound
        if param.size > 10_000:
            print(f'{name}: bound {bound:.4f}, std chainer {c_value.std():.5f}, torch {t_value.std():.5f}')
            for std in (c_value.std(), t_value.std()):
                assert abs(std - bound / np.sqrt(3)) < 0.02 * bound


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_layer_output_shapes(framework, rng):
    x, z = inputs(rng, np.float32, n=2)
    if framework == 'chainer':
        g_trace = [(k, v.shape[1:]) for k, v in C.Generator().trace(z)]
        d_trace = [(k, v.shape[1:]) for k, v in C.Discriminator().trace(x)]
    else:
        g_trace = [(k, tuple(v.shape[1:])) for k, v in T.Generator().trace(torch.from_numpy(z))]
        d_trace = [(k, tuple(v.shape[1:])) for k, v in T.Discriminator().trace(torch.from_numpy(x))]
    print(framework, g_trace, d_trace)
    assert g_trace == GENERATOR_SHAPES
    assert d_trace == DISCRIMINATOR_SHAPES


def test_bce_clamps_log_at_minus_100_and_keeps_gradients_finite(dtype):
    """A saturated probability with the wrong label costs 100, not inf, and its
    gradient is (p - t) / max(p(1 - p), 1e-12), not inf or NaN, in both."""
    p = np.array([[1.0], [0.0], [0.3], [1e-30]], dtype=dtype)
    for target in (C.REAL, C.FAKE):
        c_p = chainer.Variable(p.copy())
        c_loss = C.binary_cross_entropy(c_p, target)
        c_loss.backward()
        t_p = torch.tensor(p, requires_grad=True)
        t_loss = T.binary_cross_entropy(t_p, target)
        t_loss.backward()
        assert np.isfinite(c_p.grad).all()
        check(f'BCE, target {target}, {dtype}', max_abs_diff(c_loss, t_loss), TOLERANCE[dtype])
        scale = float(t_p.grad.abs().max())
        check(f'BCE gradient / its largest ({scale:.1e}), target {target}, {dtype}',
              max_abs_diff(c_p.grad, t_p.grad) / scale, TOLERANCE[dtype])
        wrong = 1 if target == C.REAL else 0  # the row whose log is clamped
        one = T.binary_cross_entropy(t_p[wrong], target).item()
        assert one == pytest.approx(100.0) == float(C.binary_cross_entropy(p[wrong], target).array)
        assert abs(float(c_p.grad[wrong, 0])) == pytest.approx(1e12 / len(p))
    with np.errstate(divide='ignore'):
        naive = -chainer.functions.mean(chainer.functions.log(1 - p[:1]))
    assert np.isinf(naive.array)  # what the unclamped formula gives


@pytest.mark.parametrize('logit', [-40.0, -20.0, 3.0, 40.0])
def test_sigmoid_and_bce_gradients_match_pytorch_when_saturated(dtype, logit):
    """Chainer's F.sigmoid is exactly 0 from -38 (float64) / -20 (float32), as
    tanh rounds to -1, so the G loss would be clamped at 100 with no gradient;
    the port's sigmoid is PyTorch's, 1 / (1 + exp(-x)), still positive there."""
    y = np.full((8, 1), logit, dtype=dtype)
    c_y = chainer.Variable(y.copy())
    c_loss = C.generator_loss(C.sigmoid(c_y)) + C.discriminator_loss(C.sigmoid(c_y), C.sigmoid(c_y))
    c_loss.backward()
    t_y = torch.tensor(y, requires_grad=True)
    t_loss = T.generator_loss(torch.sigmoid(t_y)) + T.discriminator_loss(torch.sigmoid(t_y), torch.sigmoid(t_y))
    t_loss.backward()
    print(f'logit {logit} {dtype}: F.sigmoid {float(chainer.functions.sigmoid(y).array[0, 0]):.3g}, '
          f'port {float(C.sigmoid(y).array[0, 0]):.3g}, torch {torch.sigmoid(torch.tensor(logit)).item():.3g}')
    check(f'sigmoid({logit}) {dtype}', max_abs_diff(C.sigmoid(y), torch.sigmoid(torch.from_numpy(y))),
          TOLERANCE[dtype] * 1e-5)
    check(f'G + D loss at logit {logit} {dtype}', max_abs_diff(c_loss, t_loss), TOLERANCE[dtype])
    check(f'its gradient {dtype}', max_abs_diff(c_y.grad, t_y.grad), TOLERANCE[dtype])
    if logit == -40.0 or (logit == -20.0 and dtype == 'float32'):
        assert float(chainer.functions.sigmoid(y).array[0, 0]) == 0.0
        assert float(c_y.grad[0, 0]) != 0.0


@pytest.mark.parametrize('scale', [1.0, 1e-6])
def test_torch_adam_is_torch_optim_adam(scale):
    """Same gradients fed to both for 20 steps; Chainer's own Adam, with eps on
    the uncorrected sqrt(v), drifts visibly when gradients are small."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((64, 32))
    ours, chainers = TorchAdam(**C.ADAM), chainer.optimizers.Adam(alpha=2e-4, beta1=0.9, beta2=0.999, eps=1e-8)
    for optimizer in (ours, chainers):
        link = chainer.Link()
        with link.init_scope():
            link.p = chainer.Parameter(start.copy())
        optimizer.setup(link)
    weight = torch.tensor(start, requires_grad=True)
    reference = torch.optim.Adam([weight], **C.ADAM)
    for _ in range(20):
        grad = rng.standard_normal(start.shape) * scale
        for optimizer in (ours, chainers):
            optimizer.target.p.grad = grad.copy()
            optimizer.update()
        weight.grad = torch.tensor(grad)
        reference.step()
    ours_diff = max_abs_diff(ours.target.p.array, weight)
    chainer_diff = max_abs_diff(chainers.target.p.array, weight)
    print(f'gradient scale {scale:g}: TorchAdam vs torch.optim.Adam {ours_diff:.2e}, '
          f'chainer.optimizers.Adam vs torch.optim.Adam {chainer_diff:.2e}')
    check(f'TorchAdam after 20 steps, gradient scale {scale:g}', ours_diff, 1e-15)
    if scale < 1e-3:
        assert chainer_diff > 1e-5


class PostGenerator(nn.Module):
    """The post's classes, typed again: only ``model`` and a reshape."""

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
            nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 784), nn.Tanh())

    def forward(self, z):
        return self.model(z).view(z.size(0), 1, 28, 28)


class PostDiscriminator(nn.Module):

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, img):
        return self.model(img.view(img.size(0), -1))


def test_state_dicts_load_into_the_posts_own_classes(rng):
    x, z = inputs(rng, np.float32)
    for ours, post, data in [(T.Generator(), PostGenerator(), z), (T.Discriminator(), PostDiscriminator(), x)]:
        post.load_state_dict(ours.state_dict(), strict=True)
        ours.load_state_dict(post.state_dict(), strict=True)
        assert torch.equal(ours(torch.from_numpy(data)), post(torch.from_numpy(data)))
