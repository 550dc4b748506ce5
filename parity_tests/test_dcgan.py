"""DCGAN: the PyTorch port against the Chainer model, layer by layer and step by step."""
import chainer_impl  # noqa: F401  (installs the compatibility layer before chainer)
import chainer
import numpy as np
import pytest
import torch

from bridge.lockstep import Lockstep
from bridge.transfer import max_abs_diff
from chainer_impl import dcgan as C
from gan_common import presets
from gan_common.datasets import load_images, value_range
from gan_common.devices import chainer_device_spec, torch_device_spec
from gan_common.keymap import chainer_to_torch_key
from gan_common.presets import adam_settings
from parity_tests.conftest import TOLERANCE, check
from parity_tests.pairs import pair_maker
from torch_impl import dcgan as T

GENERATOR_SHAPES = [('l0z', (512, 3, 3)), ('dc1', (256, 4, 4)), ('dc2', (128, 6, 6)),
                    ('dc3', (64, 10, 10)), ('dc4', (1, 28, 28))]
DISCRIMINATOR_SHAPES = [('c0', (64, 10, 10)), ('c1', (128, 6, 6)), ('c2', (256, 4, 4)),
                        ('c3', (512, 3, 3)), ('l4l', (2,))]
make_pair = pair_maker(C, T)  # Chainer's initial weights, copied into PyTorch


def inputs(rng, dtype, n=8):
    z = rng.uniform(-1, 1, (n, C.Z_DIM)).astype(dtype)
    x = rng.random((n, 1, 28, 28)).astype(dtype)
    return z, x


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
    z, x = inputs(rng, np.float32, n=2)
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


@pytest.mark.parametrize('train', [True, False], ids=['train-mode', 'eval-mode'])
def test_forward_outputs_match(dtype, train, rng):
    c_gen, c_dis, t_gen, t_dis = make_pair(dtype)
    z, x = inputs(rng, dtype)
    t_gen.train(train)
    t_dis.train(train)
    with chainer.using_config('train', train):
        c_fake, c_logits = c_gen(z), c_dis(x)
    t_fake, t_logits = t_gen(torch.from_numpy(z)), t_dis(torch.from_numpy(x))
    check(f'G(z) {dtype} train={train}', max_abs_diff(c_fake, t_fake), TOLERANCE[dtype])
    check(f'D(x) {dtype} train={train}', max_abs_diff(c_logits, t_logits), TOLERANCE[dtype])


def test_losses_match(dtype, rng):
    y_fake = rng.normal(size=(8, 2)).astype(dtype) * 3
    y_real = rng.normal(size=(8, 2)).astype(dtype) * 3
    check(f'generator loss {dtype}', max_abs_diff(C.generator_loss(y_fake),
          T.generator_loss(torch.from_numpy(y_fake))), TOLERANCE[dtype])
    check(f'discriminator loss {dtype}', max_abs_diff(C.discriminator_loss(y_fake, y_real),
          T.discriminator_loss(torch.from_numpy(y_fake), torch.from_numpy(y_real))), TOLERANCE[dtype])


def test_losses_use_class_0_for_real():
    confident_real = np.array([[10.0, -10.0]])
    assert float(C.generator_loss(confident_real).array) < 1e-6
    assert float(T.generator_loss(torch.tensor(confident_real))) < 1e-6


def test_all_gradients_match(dtype, rng):
    c_gen, c_dis, t_gen, t_dis = make_pair(dtype)
    z, x = inputs(rng, dtype)
    c_y_fake = c_dis(c_gen(z))
    c_loss_gen = C.generator_loss(c_y_fake)
    c_loss_dis = C.discriminator_loss(c_y_fake, c_dis(x))
    t_y_fake = t_dis(t_gen(torch.from_numpy(z)))
    t_loss_gen = T.generator_loss(t_y_fake)
    t_loss_dis = T.discriminator_loss(t_y_fake, t_dis(torch.from_numpy(x)))
    for label, c_loss, t_loss, chain, module in [('G loss -> G', c_loss_gen, t_loss_gen, c_gen, t_gen),
                                                 ('D loss -> D', c_loss_dis, t_loss_dis, c_dis, t_dis)]:
        chain.cleargrads()
        c_loss.backward()
        module.zero_grad()
        t_loss.backward(retain_graph=True)
        grads = dict(module.named_parameters())
        diff = max(max_abs_diff(p.grad, grads[chainer_to_torch_key(n)].grad) for n, p in chain.namedparams())
        scale = max(float(np.abs(p.grad).max()) for p in chain.params())
        check(f'{label} gradients {dtype} (largest gradient {scale:.2e})', diff, TOLERANCE[dtype] * max(1.0, scale))


def lockstep(dtype, batch_size=16, gpu=None):
    config = presets.get_preset('dcgan', 'blog')
    config.update(model='dcgan', preset='blog', seed=0, dtype=dtype, classes=None, batch_size=batch_size,
                  chainer_device=chainer_device_spec(gpu), torch_device=torch_device_spec(gpu),
                  value_range=list(value_range('unit')))
    images, _ = load_images('mnist', splits=['test'], dtype=dtype)
    return Lockstep(config, images[:2000])


def test_one_training_step_matches_float64():
    run = lockstep('float64')
    row = run.step()
    check('losses after one step (float64)', row['loss_diff'], 1e-12)
    check('parameters after one step (float64)', row['param_drift'], 1e-11)
    check('BN running statistics after one step (float64)', run.bn_statistics_drift(), 1e-12)


def test_100_step_trajectory_float64():
    run = lockstep('float64')
    rows = [run.step() for _ in range(100)]
    for k in (1, 10, 50, 100):
        print(f'step {k}: loss diff {rows[k - 1]["loss_diff"]:.2e}, parameter drift {rows[k - 1]["param_drift"]:.2e}')
    relative = max(r['loss_diff'] / max(1.0, abs(r['chainer_loss_gen']), abs(r['chainer_loss_dis'])) for r in rows)
    check('parameters after 100 steps (float64)', rows[-1]['param_drift'], 1e-9)
    # Losses and BN statistics are functions of activations, which amplify the
    # parameter drift (D's logits reach |20|, where cross-entropy is steep):
    # measured 7.0e-9 and 1.1e-8 with one PyTorch thread, 1.6e-9 and 3.5e-9
    # with two, so reduction order alone moves them threefold.
    check('losses over 100 steps, relative to max(1, |loss|) (float64)', relative, 1e-7)
    check('BN running statistics after 100 steps, relative (float64)', run.bn_statistics_drift(), 1e-7)


def chainer_float64_twin(run):
    """Chainer networks and Adams in float64, from the float32 run's initial weights."""
    twin = []
    for chain in (run.c_nets['gen'], run.c_nets['dis']):
        with chainer.using_config('dtype', np.float64):
            copy = type(chain)()
        for (_, p64), (_, p32) in zip(sorted(copy.namedparams()), sorted(chain.namedparams())):
            p64.array[...] = p32.array
        twin.append(copy)
    return twin + [C.make_optimizer(twin[0], adam_settings(run.config, 'gen')),
                   C.make_optimizer(twin[1], adam_settings(run.config, 'dis'))]


def drift_between(chains_a, chains_b):
    return max(max_abs_diff(pa.array, pb.array) for a, b in zip(chains_a, chains_b)
               for (_, pa), (_, pb) in zip(sorted(a.namedparams()), sorted(b.namedparams())))


def test_float32_drift_is_no_larger_than_chainers_own_float32_rounding():
    """Float32 training is chaotic: Adam's first step moves every weight by
    about alpha whatever its gradient's size, so gradients that are pure
    rounding noise (e.g. biases just before a BN layer, whose true gradient
    is zero) already differ after one step. The bound: the port stays as
    close to Chainer as Chainer in float32 stays to Chainer in float64."""
    run = lockstep('float32')
    gen64, dis64, opt_gen64, opt_dis64 = chainer_float64_twin(run)
    for step in range(1, 101):
        state = run.batches.get_state()
        row = run.step()
        run.batches.set_state(state)  # replay the same batch and noise in float64
        x_real = run.images[run.batches.next()].astype(np.float64)
        z = run.stream.uniform(-1.0, 1.0, (len(x_real), C.Z_DIM), np.float64)
        C.train_step(gen64, dis64, opt_gen64, opt_dis64, x_real, z)
        if step in (1, 10, 100):
            own = drift_between([run.c_nets['gen'], run.c_nets['dis']], [gen64, dis64])
            print(f'step {step}: PyTorch f32 vs Chainer f32 drift {row["param_drift"]:.2e}, '
                  f'Chainer f32 vs Chainer f64 drift {own:.2e}, loss diff {row["loss_diff"]:.2e}')
            # Adam's first step moves each weight by about alpha in the sign of
            # its gradient, so where that sign is rounding noise the two runs
            # part by up to 2 alpha whatever the float64 twin does.
            first_step = 2 * adam_settings(run.config, 'gen')['alpha'] if step == 1 else 0.0
            assert row['param_drift'] <= max(3 * own, first_step) + 1e-6
        if step == 1:
            check('losses at step 1 (float32)', row['loss_diff'], 1e-5)
