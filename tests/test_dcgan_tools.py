"""train.py, sample.py, convert.py and compare.py for DCGAN, end to end."""
import json

import numpy as np
import pytest
import torch

from tests.helpers import assert_one_line_error, run_script, snapshot_weight_difference

TINY = ['--model', 'dcgan', '--preset', 'quick', '--batch-size', '8', '--log-every', '1',
        '--sample-every', '3', '--snapshot-every', '3', '--no-progress']


def train(framework, out, *extra):
    return run_script('train.py', *TINY, '--framework', framework, '--out', out, *extra)


def chainer_arrays(path, prefix='updater/model:'):
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files if k.startswith(prefix)}


def torch_params(path):
    state = torch.load(path, weights_only=True)
    return {f'{net}.{k}': v for net in ('gen', 'dis') for k, v in state['model'][net].items()}


@pytest.fixture(scope='module')
def chainer_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('chainer') / 'run'
    train('chainer', out, '--iterations', '6', '--dtype', 'float64')
    return out


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_train_writes_the_run_directory(framework, tmp_path):
    out = tmp_path / 'run'
    result = train(framework, out, '--iterations', '4')
    suffix = 'npz' if framework == 'chainer' else 'pt'
    for name in ('config.json', 'log.jsonl', 'loss.png', f'snapshot_iter_3.{suffix}', f'snapshot_iter_4.{suffix}',
                 'samples/iter_0000003.png'):
        assert (out / name).exists(), name
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['iteration'] for e in log] == [1, 2, 3, 4]
    assert all(np.isfinite(e['loss_gen']) and np.isfinite(e['loss_dis']) for e in log)
    assert json.loads((out / 'config.json').read_text())['framework'] == framework
    assert str(out.resolve()) in result.stdout


def test_same_seed_same_framework_gives_identical_results(chainer_run, tmp_path):
    again = tmp_path / 'again'
    train('chainer', again, '--iterations', '6', '--dtype', 'float64')
    first, second = chainer_arrays(chainer_run / 'snapshot_iter_6.npz'), chainer_arrays(again / 'snapshot_iter_6.npz')
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[k], second[k]) for k in first)


def test_torch_same_seed_gives_identical_results(tmp_path):
    for name in ('a', 'b'):
        train('torch', tmp_path / name, '--iterations', '3')
    a, b = torch_params(tmp_path / 'a' / 'snapshot_iter_3.pt'), torch_params(tmp_path / 'b' / 'snapshot_iter_3.pt')
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_resume_continues_exactly(framework, tmp_path):
    suffix = 'npz' if framework == 'chainer' else 'pt'
    train(framework, tmp_path / 'straight', '--iterations', '6')
    train(framework, tmp_path / 'resumed', '--iterations', '3')
    result = train(framework, tmp_path / 'resumed', '--iterations', '6', '--resume')
    assert 'resumed from' in result.stdout
    load = chainer_arrays if framework == 'chainer' else torch_params
    straight = load(tmp_path / 'straight' / f'snapshot_iter_6.{suffix}')
    resumed = load(tmp_path / 'resumed' / f'snapshot_iter_6.{suffix}')
    diff = max(float(np.abs(np.asarray(straight[k], np.float64) - np.asarray(resumed[k], np.float64)).max())
               for k in straight)
    print(f'{framework}: resumed vs uninterrupted max |diff| = {diff:.3e}')
    assert diff == 0.0
    log = [json.loads(line)['iteration'] for line in (tmp_path / 'resumed' / 'log.jsonl').read_text().splitlines()]
    assert log == [1, 2, 3, 4, 5, 6]


def test_conversion_round_trip_is_exact(chainer_run, tmp_path):
    run_script('convert.py', chainer_run / 'snapshot_iter_6.npz', tmp_path / 'model.pt')
    run_script('convert.py', tmp_path / 'model.pt', tmp_path / 'back.npz')
    original = chainer_arrays(chainer_run / 'snapshot_iter_6.npz', prefix='updater/')
    back = chainer_arrays(tmp_path / 'back.npz', prefix='updater/')
    numeric = [k for k in back if back[k].dtype.kind in 'fiu']
    assert any(k.endswith('/avg_var') for k in numeric) and any(k.endswith('/m') for k in numeric)
    assert all(np.array_equal(original[k], back[k]) for k in numeric), 'round trip changed values'
    assert set(k for k in original if 'model:' in k or 'optimizer:' in k) <= set(back)


def test_training_continues_in_pytorch_from_a_chainer_snapshot(chainer_run, tmp_path):
    """Chainer trains 6 steps; a copy converted at step 3 finishes in PyTorch
    (float64) and ends at the same weights."""
    run_script('convert.py', chainer_run / 'snapshot_iter_3.npz', tmp_path / 'at3.pt')
    train('torch', tmp_path / 'torch', '--iterations', '6', '--dtype', 'float64', '--resume-from', tmp_path / 'at3.pt')
    diff = snapshot_weight_difference(chainer_run / 'snapshot_iter_6.npz', tmp_path / 'torch' / 'snapshot_iter_6.pt')
    print(f'Chainer 6 steps vs Chainer 3 + PyTorch 3 steps: max |diff| = {diff:.3e}')
    assert diff < 1e-9


@pytest.mark.parametrize('suffix', ['png', 'npz'])
def test_sample_writes_a_grid_or_arrays(chainer_run, tmp_path, suffix):
    out = tmp_path / f'samples.{suffix}'
    run_script('sample.py', chainer_run / 'snapshot_iter_6.npz', '--n', '10', '--out', out)
    if suffix == 'npz':
        images = np.load(out)['images']
        assert images.shape == (10, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    else:
        from PIL import Image
        assert Image.open(out).size[0] > 28


def test_compare_reproduces_float64_parity_and_fails_past_tolerance(tmp_path):
    ok = run_script('compare.py', '--steps', '3', '--batch-size', '8', '--out', tmp_path / 'ok')
    summary = json.loads((tmp_path / 'ok' / 'parity.json').read_text())
    print(summary)
    assert summary['max_param_drift'] < 1e-9 and 'parity OK' in ok.stdout
    assert (tmp_path / 'ok' / 'samples' / 'side_by_side_iter_0000003.png').exists()
    strict = run_script('compare.py', '--steps', '3', '--batch-size', '8', '--tolerance', '0',
                        '--out', tmp_path / 'strict', check=False)
    assert_one_line_error(strict, 'past the tolerance')


# ---------------------------------------------------------------- bad input
def test_unknown_model(tmp_path):
    assert_one_line_error(run_script('train.py', '--model', 'nope', '--out', tmp_path, check=False), "unknown --model 'nope'")


def test_unwritable_out(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    result = run_script('train.py', *TINY, '--iterations', '1', '--out', blocker / 'run', check=False)
    assert_one_line_error(result, 'cannot write')


def test_checkpoint_of_the_other_framework_or_model(chainer_run, tmp_path):
    snapshot = chainer_run / 'snapshot_iter_6.npz'
    misnamed = tmp_path / 'misnamed.pt'
    misnamed.write_bytes(snapshot.read_bytes())
    assert_one_line_error(run_script('sample.py', misnamed, '--out', tmp_path / 'x.png', check=False),
                          'misnamed.pt', 'not a readable PyTorch checkpoint')
    assert_one_line_error(run_script('train.py', *TINY, '--framework', 'torch', '--iterations', '7',
                                     '--resume-from', snapshot, '--out', tmp_path / 'r', check=False),
                          'is a Chainer checkpoint', 'ganport convert')
    assert_one_line_error(run_script('convert.py', snapshot, tmp_path / 'x.pt', '--model', 'gan', check=False),
                          'is a dcgan checkpoint, not gan')
    assert not (tmp_path / 'x.pt').exists()


@pytest.mark.parametrize('damage', ['truncated', 'corrupt'])
@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_damaged_checkpoint(chainer_run, tmp_path, damage, framework):
    source = chainer_run / 'snapshot_iter_6.npz'
    if framework == 'torch':
        run_script('convert.py', source, tmp_path / 'good.pt')
        source = tmp_path / 'good.pt'
    data = source.read_bytes()
    data = data[:len(data) // 2] if damage == 'truncated' else data[:100] + bytes(500) + data[600:]
    broken = tmp_path / f'broken{source.suffix}'
    broken.write_bytes(data)
    result = run_script('sample.py', broken, '--out', tmp_path / 'x.png', check=False)
    assert_one_line_error(result, 'broken', 'not a readable')
    assert not (tmp_path / 'x.png').exists()


def test_nan_loss_stops_with_one_line(tmp_path):
    result = run_script('train.py', *TINY, '--iterations', '3', '--out', tmp_path / 'nan',
                        '--learning-rate', '1e30', check=False)
    assert_one_line_error(result, 'loss became NaN/inf at iteration')
