"""train.py, sample.py and convert.py for gan, cgan and acgan, end to end
(tiny runs: batch 8, 4 iterations), plus the recipes both frameworks share."""
import json

import numpy as np
import pytest
import torch

from tests.helpers import SHARED_DATA, assert_one_line_error, run_script, snapshot_weight_difference

MODELS = ['gan', 'cgan', 'acgan']
FRAMEWORKS = ['chainer', 'torch']
SUFFIX = {'chainer': 'npz', 'torch': 'pt'}
LOSSES = {'gan': ['loss_gen', 'loss_dis'], 'acgan': ['loss_gen', 'loss_dis'],
          'cgan': ['loss_gen', 'loss_dis_real', 'loss_dis_fake']}
FASHION = SHARED_DATA / 'fashion-mnist'


def tiny(model, framework):
    return ['--model', model, '--framework', framework, '--batch-size', '8', '--log-every', '1',
            '--sample-every', '2', '--snapshot-every', '2', '--no-progress']


def train(model, framework, out, *extra):
    return run_script('train.py', *tiny(model, framework), '--out', out, *extra)


def network_arrays(path):
    """Every network array of a checkpoint, as float64 NumPy."""
    if str(path).endswith('.npz'):
        with np.load(path) as archive:
            return {k: archive[k] for k in archive.files if k.startswith('updater/model:')}
    state = torch.load(path, weights_only=True)
    return {f'{net}.{k}': v.numpy() for net in ('gen', 'dis') for k, v in state['model'][net].items()}


@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    """Uninterrupted 4-iteration runs, one per (model, framework), made on first use."""
    runs = {}

    def get(model, framework):
        if (model, framework) not in runs:
            out = tmp_path_factory.mktemp(f'{model}-{framework}') / 'run'
            result = train(model, framework, out, '--iterations', '4')
            runs[model, framework] = (out, result)
        return runs[model, framework]

    return get


# ---------------------------------------------------------------- training
@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('model', MODELS)
def test_train_writes_the_run_directory(straight, model, framework):
    out, result = straight(model, framework)
    for name in ('config.json', 'log.jsonl', 'loss.png', f'snapshot_iter_2.{SUFFIX[framework]}',
                 f'snapshot_iter_4.{SUFFIX[framework]}', 'samples/iter_0000002.png', 'samples/iter_0000004.png'):
        assert (out / name).exists(), name
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['iteration'] for e in log] == [1, 2, 3, 4]
    assert all(np.isfinite(e[key]) for e in log for key in LOSSES[model])
    config = json.loads((out / 'config.json').read_text())
    assert config['framework'] == framework
    assert config['preset'] == {'gan': 'post', 'cgan': 'book', 'acgan': 'paper'}[model]  # the source's, by default
    assert config['splits'] == ['train'] and config['n_examples'] == 60000
    assert str(out.resolve()) in result.stdout


@pytest.mark.parametrize('framework', FRAMEWORKS)
@pytest.mark.parametrize('model', MODELS)
def test_resume_continues_exactly(straight, tmp_path, model, framework):
    out, _ = straight(model, framework)
    train(model, framework, tmp_path / 'resumed', '--iterations', '2')
    result = train(model, framework, tmp_path / 'resumed', '--iterations', '4', '--resume')
    assert 'resumed from' in result.stdout
    name = f'snapshot_iter_4.{SUFFIX[framework]}'
    a, b = network_arrays(out / name), network_arrays(tmp_path / 'resumed' / name)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a), 'resumed run differs from the uninterrupted one'
    log = [json.loads(line) for line in (tmp_path / 'resumed' / 'log.jsonl').read_text().splitlines()]
    straight_log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['iteration'] for e in log] == [1, 2, 3, 4]
    assert [[e[k] for k in LOSSES[model]] for e in log] == [[e[k] for k in LOSSES[model]] for e in straight_log]


@pytest.mark.shared_data('fashion-mnist')
def test_acgan_on_fashion_mnist_with_a_class_filter(tmp_path):
    out = tmp_path / 'run'
    train('acgan', 'torch', out, '--iterations', '2', '--dataset', 'fashion-mnist', '--data-dir', FASHION,
          '--digits', '3,5')
    config = json.loads((out / 'config.json').read_text())
    assert config['dataset'] == 'fashion-mnist' and config['classes'] == [3, 5] and config['n_examples'] == 12000
    assert (out / 'snapshot_iter_2.pt').exists()


# ---------------------------------------------------------------- sampling
@pytest.mark.parametrize('model,framework', [('cgan', 'chainer'), ('acgan', 'torch')])
def test_sample_a_class(straight, tmp_path, model, framework):
    snapshot = straight(model, framework)[0] / f'snapshot_iter_4.{SUFFIX[framework]}'
    run_script('sample.py', snapshot, '--class', '7', '--n', '6', '--out', tmp_path / 'sevens.npz')
    with np.load(tmp_path / 'sevens.npz') as archive:
        assert archive['labels'].tolist() == [7] * 6
        assert archive['images'].shape == (6, 1, 28, 28)
        assert archive['images'].min() >= 0 and archive['images'].max() <= 1
    run_script('sample.py', snapshot, '--n', '12', '--out', tmp_path / 'all.npz')
    with np.load(tmp_path / 'all.npz') as archive:
        assert archive['labels'].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    result = run_script('sample.py', snapshot, '--class', '3', '--out', tmp_path / 'threes.png')
    from PIL import Image
    assert Image.open(tmp_path / 'threes.png').size[0] > 28 and 'class 3' in result.stdout


def test_sample_an_unconditional_model_has_no_labels(straight, tmp_path):
    snapshot = straight('gan', 'torch')[0] / 'snapshot_iter_4.pt'
    run_script('sample.py', snapshot, '--n', '4', '--out', tmp_path / 'x.npz')
    with np.load(tmp_path / 'x.npz') as archive:
        assert archive.files == ['images'] and archive['images'].shape == (4, 1, 28, 28)


def test_class_on_an_unconditional_model_is_one_line(straight, tmp_path):
    snapshot = straight('gan', 'chainer')[0] / 'snapshot_iter_4.npz'
    result = run_script('sample.py', snapshot, '--class', '3', '--out', tmp_path / 'x.png', check=False)
    assert_one_line_error(result, '--class', 'gan', 'unconditional')
    assert not (tmp_path / 'x.png').exists()


@pytest.mark.parametrize('label', ['10', '-1'])
def test_class_out_of_range_is_one_line(straight, tmp_path, label):
    snapshot = straight('cgan', 'torch')[0] / 'snapshot_iter_4.pt'
    result = run_script('sample.py', snapshot, '--class', label, '--out', tmp_path / 'x.png', check=False)
    assert_one_line_error(result, f'--class {label}', 'out of range', '0-9')


# ---------------------------------------------------------------- conversion
@pytest.mark.parametrize('model,framework', [('cgan', 'chainer'), ('gan', 'torch')])
def test_conversion_round_trip_is_exact(straight, tmp_path, model, framework):
    """Networks, BN statistics and Adam state (gan: TorchAdam <-> torch.optim.Adam) survive both ways."""
    out = straight(model, framework)[0]
    other = 'pt' if framework == 'chainer' else 'npz'
    src = out / f'snapshot_iter_4.{SUFFIX[framework]}'
    run_script('convert.py', src, tmp_path / f'other.{other}')
    run_script('convert.py', tmp_path / f'other.{other}', tmp_path / f'back.{SUFFIX[framework]}')
    back = tmp_path / f'back.{SUFFIX[framework]}'
    if framework == 'chainer':
        with np.load(src) as a, np.load(back) as b:
            numeric = [k for k in b.files if k.startswith('updater/') and b[k].dtype.kind in 'fiu']
            assert any(k.endswith('/avg_var') for k in numeric) and any(k.endswith('/m') for k in numeric)
            assert all(np.array_equal(a[k], b[k]) for k in numeric), 'round trip changed values'
            assert {k for k in a.files if 'model:' in k or 'optimizer:' in k} <= set(b.files)
    else:
        a, b = torch.load(src, weights_only=True), torch.load(back, weights_only=True)
        for net in ('gen', 'dis'):
            assert all(torch.equal(a['model'][net][k], b['model'][net][k]) for k in a['model'][net])
            sa, sb = a['optimizer'][net]['state'], b['optimizer'][net]['state']
            assert sa.keys() == sb.keys() and sa
            for i in sa:
                assert set(sa[i]) == {'step', 'exp_avg', 'exp_avg_sq'} == set(sb[i])
                assert all(torch.equal(sa[i][k], sb[i][k]) for k in sa[i])
        assert a['iteration'] == b['iteration'] and a['batches'] == b['batches']


@pytest.mark.parametrize('model', MODELS)
def test_training_continues_in_pytorch_from_a_chainer_snapshot(tmp_path, model):
    """Chainer's train.py runs 4 steps in float64; a copy converted at step 2
    finishes in PyTorch's train.py and ends at the same weights: the two
    training loops (batches, noise, labels, update order, optimizers) agree."""
    chainer_run = tmp_path / 'chainer'
    train(model, 'chainer', chainer_run, '--iterations', '4', '--dtype', 'float64')
    run_script('convert.py', chainer_run / 'snapshot_iter_2.npz', tmp_path / 'at2.pt')
    train(model, 'torch', tmp_path / 'torch', '--iterations', '4', '--dtype', 'float64',
          '--resume-from', tmp_path / 'at2.pt')
    diff = snapshot_weight_difference(chainer_run / 'snapshot_iter_4.npz', tmp_path / 'torch' / 'snapshot_iter_4.pt')
    print(f'{model}: Chainer 4 steps vs Chainer 2 + PyTorch 2 steps: max |diff| = {diff:.3e}')
    assert diff < 1e-10


# ---------------------------------------------------------------- recipes
@pytest.mark.parametrize('model', ['dcgan'] + MODELS)
def test_the_recipe_draws_the_same_inputs_twice(model):
    from gan_common.models import declaration
    from gan_common.streams import RandomStream
    recipe = declaration(model).RECIPE
    images, labels = np.arange(40.0).reshape(40, 1, 1, 1), np.arange(40) % 10
    draws = []
    for _ in range(2):
        stream = RandomStream(3)
        batches = recipe.make_batches(40, 8, stream)
        draws.append([recipe.draw(batches.next(), images, labels, stream, 5, np.float32) for _ in range(7)])
    for first, second in zip(*draws):
        assert len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second))
    inputs = draws[0][0]
    assert len(inputs) == {'dcgan': 2, 'gan': 2, 'cgan': 5, 'acgan': 4}[model]
    if recipe.conditional:  # the real labels belong to the real images
        assert np.array_equal(inputs[1], inputs[0].ravel().astype(int) % 10)


def test_unknown_preset_names_the_models_presets(tmp_path):
    result = run_script('train.py', '--model', 'cgan', '--preset', 'blog', '--out', tmp_path / 'r', check=False)
    assert_one_line_error(result, "unknown --preset 'blog' for cgan", 'book', 'quick')


def test_the_books_cgan_defaults_to_seed_1_and_its_command_names_only_another_seed():
    """With seed 0 the book's CGAN reaches its dead end at iteration 1,600, so
    its preset carries seed 1; --seed still decides, and every other preset
    keeps 0."""
    import argparse

    from gan_common.cli import add_model_arguments, make_config
    from ganport.commands.results import train_command
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, default_preset=None)

    def seed(*argv):
        return make_config(parser.parse_args(argv), 'float32', frameworks=('torch',))['seed']

    assert seed('--model', 'cgan') == 1 and seed('--model', 'cgan', '--seed', '0') == 0
    assert seed('--model', 'cgan', '--preset', 'quick') == 0 and seed('--model', 'acgan') == 0
    run = {'model': 'cgan', 'framework': 'torch', 'preset': 'book', 'dataset': 'mnist', 'iterations': 12000}
    assert train_command(dict(run, seed=1)) == 'ganport train --model cgan --framework torch'
    assert train_command(dict(run, seed=0)) == 'ganport train --model cgan --framework torch --seed 0'
