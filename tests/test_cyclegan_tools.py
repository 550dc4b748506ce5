"""train.py, translate.py, convert.py and compare.py for CycleGAN, end to end
on horse2zebra-mini at 32x32 (a few iterations each). The paper preset runs
in PyTorch only here (its Chainer step takes seconds at this size on a CPU;
the parity tests cover it)."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import SHARED_DATA, assert_one_line_error, run_script

MINI = SHARED_DATA / 'horse2zebra-mini'
SUFFIX = {'chainer': 'npz', 'torch': 'pt'}
LOSSES = ['loss_gen', 'loss_dis_a', 'loss_dis_b', 'loss_cycle']
NETWORKS = ['gen_ab', 'gen_ba', 'dis_a', 'dis_b']
pytestmark = pytest.mark.shared_data('horse2zebra-mini')


def train(framework, out, *extra, preset='blog'):
    return run_script('train.py', '--model', 'cyclegan', '--preset', preset, '--framework', framework,
                      '--dataset', MINI, '--image-size', '32', '--log-every', '1', '--sample-every', '2',
                      '--snapshot-every', '2', '--no-progress', '--threads', '1', '--out', out, *extra)


def arrays(path):
    """Every network array, and the image pools, of a checkpoint as NumPy."""
    if str(path).endswith('.npz'):
        with np.load(path) as archive:
            return {k: archive[k] for k in archive.files if k.startswith(('updater/model:', 'updater/extras/'))}
    state = torch.load(path, weights_only=True)
    found = {f'{net}.{k}': v.numpy() for net in NETWORKS for k, v in state['model'][net].items()}
    found.update({f'extras.{name}.{k}': v.numpy() for name, extras in state['extras'].items() for k, v in extras.items()})
    return found


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Uninterrupted 4-iteration runs, made on first use: (framework, preset) -> run directory."""
    made = {}

    def get(framework, preset='blog'):
        if (framework, preset) not in made:
            out = tmp_path_factory.mktemp(f'{framework}-{preset}') / 'run'
            train(framework, out, '--iterations', '4', preset=preset)
            made[framework, preset] = out
        return made[framework, preset]

    return get


@pytest.fixture
def odd_images(tmp_path):
    """Two pictures the U-Net cannot take as they are (37x50 RGB, 21x18 grayscale)."""
    folder = tmp_path / 'odd'
    folder.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 37, 3), dtype=np.uint8)).save(folder / 'a.jpg')
    Image.fromarray(np.full((18, 21), 120, np.uint8)).save(folder / 'b.png')
    return folder


# ---------------------------------------------------------------- training
@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_train_writes_the_run_directory(runs, framework):
    out = runs(framework)
    for name in ('config.json', 'log.jsonl', 'loss.png', f'snapshot_iter_2.{SUFFIX[framework]}',
                 f'snapshot_iter_4.{SUFFIX[framework]}', 'samples/iter_0000004.png'):
        assert (out / name).exists(), name
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['iteration'] for e in log] == [1, 2, 3, 4]
    assert all(np.isfinite(e[key]) for e in log for key in LOSSES)
    config = json.loads((out / 'config.json').read_text())
    assert config['preset'] == 'blog' and config['image_size'] == 32 and config['n_a'] == 2
    grid = Image.open(out / 'samples' / 'iter_0000004.png')
    assert grid.size == (2 * (1 * (32 + 2) + 2), 2 * (6 * (32 + 2) + 2))  # 1 test image a domain: 6 rows, 1 column


@pytest.mark.parametrize('framework,preset', [('chainer', 'blog'), ('torch', 'blog'), ('torch', 'paper')])
def test_resume_continues_exactly(runs, tmp_path, framework, preset):
    """Networks, Adam, the batch order and (paper) the image pools survive a resume."""
    out = runs(framework, preset)
    train(framework, tmp_path / 'resumed', '--iterations', '2', preset=preset)
    result = train(framework, tmp_path / 'resumed', '--iterations', '4', '--resume', preset=preset)
    assert 'resumed from' in result.stdout
    name = f'snapshot_iter_4.{SUFFIX[framework]}'
    a, b = arrays(out / name), arrays(tmp_path / 'resumed' / name)
    assert a.keys() == b.keys()
    if preset == 'paper':
        assert a['extras.pool_a.images'].shape == (4, 3, 32, 32)  # 2 B images a step, pool of 50
    assert all(np.array_equal(a[k], b[k]) for k in a), 'resumed run differs from the uninterrupted one'


# ---------------------------------------------------------------- conversion
@pytest.mark.parametrize('framework,preset', [('chainer', 'blog'), ('torch', 'paper')])
def test_conversion_round_trip_is_exact(runs, tmp_path, framework, preset):
    src = runs(framework, preset) / f'snapshot_iter_4.{SUFFIX[framework]}'
    other = 'pt' if framework == 'chainer' else 'npz'
    run_script('convert.py', src, tmp_path / f'other.{other}', '--model', 'cyclegan')
    run_script('convert.py', tmp_path / f'other.{other}', tmp_path / f'back.{SUFFIX[framework]}')
    a, b = arrays(src), arrays(tmp_path / f'back.{SUFFIX[framework]}')
    assert a.keys() == b.keys() and len(a) > 40
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_converted_checkpoint_translates_the_same(runs, tmp_path):
    src = runs('chainer') / 'snapshot_iter_4.npz'
    run_script('convert.py', src, tmp_path / 'c.pt')
    for checkpoint, out in ((src, 'from_chainer'), (tmp_path / 'c.pt', 'from_torch')):
        run_script('translate.py', checkpoint, MINI / 'testA', tmp_path / out, '--fit', 'resize')
    mine = np.asarray(Image.open(tmp_path / 'from_chainer' / '5.png'), dtype=np.int16)
    theirs = np.asarray(Image.open(tmp_path / 'from_torch' / '5.png'), dtype=np.int16)
    assert np.abs(mine - theirs).max() <= 1  # float32 rounding may move a pixel by one level


# ---------------------------------------------------------------- translation
@pytest.mark.parametrize('framework,direction', [('chainer', 'AtoB'), ('torch', 'BtoA')])
def test_translate_any_size_one_output_per_input(runs, tmp_path, odd_images, framework, direction):
    checkpoint = runs(framework) / f'snapshot_iter_4.{SUFFIX[framework]}'
    result = run_script('translate.py', checkpoint, odd_images, tmp_path / 'out', '--direction', direction,
                        '--report-cycle')
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['a.png', 'b.png', 'cycle_l1.json']
    assert Image.open(tmp_path / 'out' / 'a.png').size == (37, 50)
    assert Image.open(tmp_path / 'out' / 'b.png').mode == 'RGB' and Image.open(tmp_path / 'out' / 'b.png').size == (21, 18)
    report = json.loads((tmp_path / 'out' / 'cycle_l1.json').read_text())
    assert report['images'] == 2 and 0.0 < report['cycle_l1'] < 2.0 and 'cycle L1' in result.stdout


def test_translate_resize_matches_the_training_size(runs, tmp_path, odd_images):
    checkpoint = runs('torch', 'paper') / 'snapshot_iter_4.pt'
    run_script('translate.py', checkpoint, odd_images, tmp_path / 'out', '--fit', 'resize')
    assert Image.open(tmp_path / 'out' / 'a.png').size == (37, 50)


def test_translate_errors_are_one_line(runs, tmp_path):
    checkpoint = runs('torch') / 'snapshot_iter_4.pt'
    (tmp_path / 'empty').mkdir()
    assert_one_line_error(run_script('translate.py', checkpoint, tmp_path / 'empty', tmp_path / 'o', check=False),
                          'holds no .jpg/.jpeg/.png images')
    assert_one_line_error(run_script('translate.py', checkpoint, tmp_path / 'nowhere', tmp_path / 'o', check=False),
                          'does not exist')
    (tmp_path / 'bad.pt').write_bytes(b'garbage')
    assert_one_line_error(run_script('translate.py', tmp_path / 'bad.pt', MINI / 'testA', tmp_path / 'o', check=False),
                          'not a readable PyTorch checkpoint')
    line = assert_one_line_error(run_script('translate.py', checkpoint, tmp_path / 'nowhere', tmp_path / 'o',
                                            check=False), 'INPUT_DIR')
    assert 'trainA' not in line
    assert not (tmp_path / 'o').exists()


def test_translate_checks_every_input_before_writing_any(runs, tmp_path):
    inputs = tmp_path / 'in'
    inputs.mkdir()
    for path in sorted((MINI / 'testA').iterdir())[:2]:
        (inputs / path.name).write_bytes(path.read_bytes())
    (inputs / 'zz-broken.png').write_bytes(b'not a png')
    result = run_script('translate.py', runs('torch') / 'snapshot_iter_4.pt', inputs, tmp_path / 'out', check=False)
    assert_one_line_error(result, 'zz-broken.png')
    assert not (tmp_path / 'out').exists()


def test_sample_refuses_a_cyclegan_checkpoint(runs, tmp_path):
    result = run_script('sample.py', runs('torch') / 'snapshot_iter_4.pt', '--out', tmp_path / 'x.png', check=False)
    assert_one_line_error(result, 'cyclegan checkpoint', 'ganport translate')


# ---------------------------------------------------------------- errors and comparison
def test_bad_image_size_is_one_line(tmp_path):
    result = run_script('train.py', '--model', 'cyclegan', '--dataset', MINI, '--image-size', '40',
                        '--out', tmp_path / 'run', check=False)
    assert_one_line_error(result, '--image-size 40', 'multiple of 16', 'use 32 or 48')


def test_missing_dataset_is_one_line(tmp_path):
    result = run_script('train.py', '--model', 'cyclegan', '--dataset', tmp_path / 'nothing', '--out', tmp_path / 'run',
                        check=False)
    assert_one_line_error(result, 'no unpaired dataset', 'trainA/')


def test_compare_reproduces_float64_parity(tmp_path):
    result = run_script('compare.py', '--model', 'cyclegan', '--dataset', MINI, '--image-size', '32', '--steps', '3',
                        '--out', tmp_path / 'cmp')
    assert 'parity OK' in result.stdout
    summary = json.loads((tmp_path / 'cmp' / 'parity.json').read_text())
    assert summary['steps'] == 3 and summary['max_param_drift'] < 1e-9
    assert (tmp_path / 'cmp' / 'samples' / 'side_by_side_iter_0000003.png').exists()
