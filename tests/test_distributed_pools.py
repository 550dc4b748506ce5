"""Data-parallel CycleGAN with image pools, 2 ranks, resumed midway: each rank
keeps its own pools and their stream in the snapshot (rank 0) or beside it
(``snapshot_iter_N.rankK.npz``), so the resumed run ends where the
uninterrupted one does, weights and pools. The paper preset cut down (see
``tests/pooled_cyclegan_rank.py``), on a generated 32x32 dataset, float64."""
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from gan_common.parallel import launch_command, pool_file, read_pool_file
from ganport.commands import train as train_command
from tests.helpers import assert_one_line_error, checkout_env, run_command
from tests.pooled_cyclegan_rank import tiny_config
from tests.test_distributed import FRAMEWORKS, SUFFIX

STEPS, RESUME_AT = 4, 2
EXACT = 1e-12


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Six images a domain (and one each to test on) of random pixels, 40x40."""
    root = tmp_path_factory.mktemp('pooled') / 'tiny'
    rng = np.random.default_rng(0)
    for folder, count in (('trainA', 6), ('trainB', 6), ('testA', 1), ('testB', 1)):
        (root / folder).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / folder / f'{i}.png')
    return root


def train_ranks(framework, dataset, out, iterations, *extra, check=True):
    """Two ranks of the cut-down paper preset, launched as ``train.py --workers 2`` launches them."""
    argv = ['train', '--model', 'cyclegan', '--preset', 'paper', '--framework', framework, '--dataset', dataset,
            '--image-size', '32', '--batch-size', '2', '--dtype', 'float64', '--iterations', iterations,
            '--snapshot-every', RESUME_AT, '--log-every', '1', '--sample-every', '1000', '--no-progress',
            '--threads', '1', '--workers', '2', '--out', out, *extra]
    command = launch_command(framework, 2, [str(a) for a in argv])
    command[command.index('ganport')] = 'tests.pooled_cyclegan_rank'
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(command, capture_output=True, text=True, env=checkout_env(PYTHONWARNINGS='ignore'))
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope='module')
def pooled_runs(dataset, tmp_path_factory):
    """framework -> (uninterrupted run, run resumed at RESUME_AT from a copy of its snapshot), made on first use."""
    made = {}

    def get(framework):
        if framework not in made:
            whole = tmp_path_factory.mktemp(f'{framework}-whole') / 'run'
            train_ranks(framework, dataset, whole, STEPS)
            resumed = tmp_path_factory.mktemp(f'{framework}-resumed') / 'run'
            resumed.mkdir()
            snapshot = whole / f'snapshot_iter_{RESUME_AT}.{SUFFIX[framework]}'
            for path in (snapshot, pool_file(snapshot, 1), whole / 'log.jsonl'):
                shutil.copy(path, resumed)
            result = train_ranks(framework, dataset, resumed, STEPS, '--resume')
            assert f'resumed from {resumed / snapshot.name} at iteration {RESUME_AT}' in result.stdout
            made[framework] = whole, resumed
        return made[framework]

    return get


def final_arrays(framework, run):
    """Every network array and rank 0's pools (snapshot), and rank 1's pools (its file), at the end."""
    snapshot = run / f'snapshot_iter_{STEPS}.{SUFFIX[framework]}'
    if framework == 'chainer':
        with np.load(snapshot) as archive:
            found = {k: archive[k] for k in archive.files if k.startswith(('updater/model:', 'updater/extras/'))}
    else:
        import torch
        state = torch.load(snapshot, weights_only=True)
        found = {f'{net}/{k}': v.numpy() for net, params in state['model'].items() for k, v in params.items()}
        found.update({f'extras/{name}/{k}': v.numpy() for name, pool in state['extras'].items() for k, v in pool.items()})
    found.update({f'rank1/{name}/{k}': v for name, pool in read_pool_file(pool_file(snapshot, 1)).items()
                  for k, v in pool.items()})
    return found


def pool_images(arrays, owner):
    return {k: v for k, v in arrays.items() if k.startswith(owner) and k.endswith('/images')}


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_two_rank_pooled_run_resumed_midway_equals_the_uninterrupted_one(pooled_runs, framework):
    whole, resumed = (final_arrays(framework, run) for run in pooled_runs(framework))
    assert sorted(whole) == sorted(resumed)
    rank0 = pool_images(whole, 'updater/extras/' if framework == 'chainer' else 'extras/')
    rank1 = pool_images(whole, 'rank1/')
    assert len(rank0) == len(rank1) == 2 and all(v.shape == (2, 3, 32, 32) for v in [*rank0.values(), *rank1.values()])
    assert not np.array_equal(*[next(iter(pools.values())) for pools in (rank0, rank1)]), 'the ranks share a pool'
    streams = [k for k in whole if k.endswith('/stream')]
    assert len(streams) == 4, 'each rank saves its two pools\' stream'
    assert all(np.array_equal(whole[k], resumed[k]) for k in streams), 'a pool stream differs after the resume'
    difference = max(float(np.abs(whole[k] - resumed[k]).max()) for k in whole if k not in streams)
    print(f'{framework}: 2 ranks, resumed at {RESUME_AT} vs uninterrupted, after {STEPS}: '
          f'max |difference| over weights and both ranks\' pools {difference:.3g}')
    assert difference <= EXACT


def test_a_missing_or_damaged_rank_pool_file_is_one_line(pooled_runs, tmp_path, dataset, monkeypatch):
    """Checked by the launching command, before any rank starts."""
    whole, _ = pooled_runs('torch')
    monkeypatch.setattr(train_command, 'make_train_config', tiny_config)
    run = tmp_path / 'run'
    shutil.copytree(whole, run)
    (run / f'snapshot_iter_{STEPS}.pt').unlink()
    (run / f'snapshot_iter_{STEPS}.rank1.npz').unlink()
    sidecar = run / f'snapshot_iter_{RESUME_AT}.rank1.npz'
    args = ['--model', 'cyclegan', '--preset', 'paper', '--framework', 'torch', '--dataset', dataset,
            '--image-size', '32', '--batch-size', '2', '--dtype', 'float64', '--iterations', STEPS,
            '--workers', '2', '--out', run, '--resume']
    data = bytearray(sidecar.read_bytes())
    data[len(data) // 2] ^= 0xFF
    sidecar.write_bytes(bytes(data))
    assert_one_line_error(run_command('train', *args, check=False), str(sidecar), 'not a readable', 'earlier snapshot')
    sidecar.unlink()
    assert_one_line_error(run_command('train', *args, check=False), str(sidecar), 'is missing', '--resume-from')
