"""The port checker on small Chainer models and PyTorch ports written for it
(tests/ports): correct ports pass whatever their children's names and
registration order; a port with exactly one catalogued mistake is diagnosed
as that cause at the right layer, by the right quantity."""
import json

import numpy as np
import pytest
import torch

from bridge.port_check import CATALOGUE, assert_same_program, check_port
from gan_common.errors import UserError
from tests.ports import chainer_models as C
from tests.ports import torch_ports as T

RNG = np.random.RandomState(0)
INPUTS = {C.ConvNet: RNG.standard_normal((2, 3, 8, 8)), C.DeconvNet: RNG.standard_normal((2, 6)),
          C.PadPoolNet: RNG.standard_normal((2, 2, 6, 6)), C.DropoutNet: RNG.standard_normal((4, 8)),
          C.LogSigmoidNet: RNG.standard_normal((3, 4)), C.SharedNet: RNG.standard_normal((2, 4)),
          C.EmbedNet: np.array([0, 3, 6, 2], np.int32)}


@pytest.fixture(autouse=True, scope='module')
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check(chainer_class, port, **options):
    np.random.seed(0)
    torch.manual_seed(0)
    result = check_port(chainer_class(), port(), INPUTS[chainer_class], **options)
    print(result.text())
    return result


# (Chainer model, broken port, options, Chainer layer, PyTorch layer, quantity)
BROKEN = {
    'bn_eps': (C.ConvNet, T.bn_eps, {}, 'bn1', 'norm', 'forward'),
    'bn_momentum': (C.ConvNet, T.bn_momentum, {}, 'bn1', 'norm', 'forward'),
    'bn_mode': (C.ConvNet, T.bn_mode, {}, 'bn1', 'norm', 'forward'),
    'leaky_relu_slope': (C.ConvNet, T.leaky_relu_slope, {}, 'bn1', 'norm', 'forward'),
    'cover_all': (C.ConvNet, T.cover_all, {}, 'bn1', 'norm', 'forward'),
    'padding': (C.ConvNet, T.padding, {}, 'conv2', 'second', 'forward'),
    'stride': (C.ConvNet, T.stride, {}, 'conv2', 'second', 'forward'),
    'missing_bias': (C.ConvNet, T.missing_bias, {}, 'conv2', 'second', 'gradient'),
    'missing_activation': (C.ConvNet, T.missing_activation, {}, 'conv2', 'second', 'forward'),
    'flatten_order': (C.ConvNet, T.flatten_order, {}, 'fc', 'classifier', 'forward'),
    'unknown': (C.ConvNet, T.unknown, {}, 'conv2', 'second', 'forward'),
    'extra_bias': (C.DeconvNet, T.extra_bias, {}, 'l0', 'project', 'forward'),
    'outsize': (C.DeconvNet, T.outsize, {}, 'dc', 'up', 'forward'),
    'softmax_axis': (C.DeconvNet, T.softmax_axis, {}, 'dc', 'up', 'forward'),
    'avg_pool_padding': (C.PadPoolNet, T.avg_pool_padding, {}, 'c1', 'a', 'forward'),
    'reflect_pad_backward': (C.PadPoolNet, T.reflect_pad_backward, {}, 'c2', 'b', 'gradient'),
    'dropout_mask': (C.DropoutNet, T.DropoutNetPort, {'share_dropout_masks': False}, 'l1', 'hidden', 'forward'),
    'dropout_ratio': (C.DropoutNet, T.dropout_ratio, {}, 'l1', 'hidden', 'forward'),
    'missing_dropout': (C.DropoutNet, T.missing_dropout, {}, 'l1', 'hidden', 'forward'),
    'dropout_place': (C.DropoutNet, T.dropout_place, {}, 'l1', 'hidden', 'forward'),
    'sigmoid_clamp': (C.LogSigmoidNet, T.LogSigmoidNetPort, {}, 'l1', 'linear', 'forward'),
    'adam_eps': (C.ConvNet, T.correct, {'steps': 2, 'torch_optimizer': torch.optim.Adam}, 'conv1', 'first', 'step'),
}


@pytest.mark.parametrize('cause', sorted(BROKEN))
def test_each_mistake_is_diagnosed_at_its_layer(cause):
    chainer_class, port, options, chainer_name, torch_name, quantity = BROKEN[cause]
    result = check(chainer_class, port, **options)
    divergence = result.to_json()['first_divergence']
    assert not result.passed
    assert (divergence['cause'], divergence['chainer'], divergence['torch'], divergence['quantity']) == \
        (cause, chainer_name, torch_name, quantity), divergence
    assert divergence['explanation']


def test_every_catalogue_entry_has_a_broken_port():
    assert set(BROKEN) | {'bn_mode'} == set(CATALOGUE)


def test_bn_without_running_statistics_in_test_mode():
    divergence = check(C.ConvNet, T.bn_mode_no_running_stats, mode='test').first_divergence
    assert (divergence.cause, divergence.chainer, divergence.mode) == ('bn_mode', 'bn1', 'test')


@pytest.mark.parametrize('chainer_class, port, options', [
    (C.ConvNet, T.correct, {'mode': 'both', 'steps': 2}),
    (C.DeconvNet, T.deconv_correct, {}),
    (C.DropoutNet, T.DropoutNetPort, {'mode': 'test'}),
    (C.DropoutNet, T.DropoutNetPort, {'mode': 'both', 'steps': 2}),
    (C.EmbedNet, T.EmbedNetPort, {}),
    (C.ConvNet, T.correct, {'dtype': 'float32'}),
], ids=['convnet-both-steps', 'deconvnet', 'dropout-test-mode', 'dropout-shared-masks-steps', 'embed', 'float32'])
def test_correct_ports_pass(chainer_class, port, options):
    result = check(chainer_class, port, **options)
    assert result.passed, result.text()
    assert result.pairing == 'order'  # other names, registered in another order
    worst = max(row.max_rel_diff for row in result.rows)
    assert worst <= result.tolerance
    assert all(row.gradient_passed for row in result.rows)


def test_same_names_pair_by_names_and_a_map_pairs_other_names(tmp_path):
    assert check(C.ConvNet, T.ConvNetSameNames).pairing == 'names'
    name_map = {'conv1/W': 'first.weight', 'bn1': 'norm', 'conv2': 'second', 'fc': 'classifier'}
    result = check(C.ConvNet, T.correct, name_map=name_map)
    assert (result.passed, result.pairing) == (True, 'names')


def test_json_has_the_documented_shape():
    report = check(C.ConvNet, T.bn_eps).to_json()
    assert set(report) == {'passed', 'pairing', 'dropout_masks', 'layers', 'first_divergence'}
    assert report['dropout_masks'] == 'shared'
    assert set(report['first_divergence']) >= {'chainer', 'torch', 'quantity', 'max_abs_diff', 'cause', 'explanation'}
    assert [row['chainer'] for row in report['layers']] == ['conv1', 'bn1']
    assert report['layers'][0]['chainer_shape'] == [2, 4, 8, 8]
    json.dumps(report, allow_nan=False)


@pytest.mark.parametrize('chainer_class, port, fragment', [
    (C.SharedNet, T.TwoLayers, 'ambiguous pairing'),
    (C.ConvNet, T.ConvNetMissingLayer, "'fc' (linear 5x54) (call 4) has no partner"),
])
def test_pairing_problems_stop_with_one_message(chainer_class, port, fragment):
    with pytest.raises(UserError, match=fragment.replace('(', r'\(').replace(')', r'\)')):
        check(chainer_class, port)


def test_assert_same_program_puts_the_report_in_the_failure():
    assert_same_program(C.DeconvNet(), T.deconv_correct(), INPUTS[C.DeconvNet])
    with pytest.raises(AssertionError, match='cause: bn_eps'):
        np.random.seed(0)
        assert_same_program(C.ConvNet(), T.bn_eps(), INPUTS[C.ConvNet])


def test_the_readme_example_passes_and_its_broken_port_is_diagnosed():
    import importlib.util
    from tests.helpers import REPO

    def load(name):
        spec = importlib.util.spec_from_file_location(name, REPO / 'examples' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    chainer_example, torch_example = load('resnet_chainer'), load('resnet_torch')
    x = np.random.RandomState(0).standard_normal((4, 3, 16, 16))
    np.random.seed(0)
    assert_same_program(chainer_example.ResNet(), torch_example.ResNet(), x, steps=2)
    np.random.seed(0)
    divergence = check_port(chainer_example.ResNet(), torch_example.default_eps(), x).first_divergence
    assert (divergence.chainer, divergence.torch, divergence.cause) == ('block2/bn1', 'body.3.norms.0', 'bn_eps')
