"""What happens when things go wrong: bad input ends in one line and leaves
nothing behind, resume checks what it resumes, damaged checkpoints are
refused, a run directory has one writer, a dead run stops."""
import fcntl
import json
import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from gan_common import training
from gan_common.checkpoints import CHECKSUM_KEY
from gan_common.errors import UserError
from tests.helpers import REPO, assert_one_line_error, checkout_env, leftovers, run_command, sigterm_once_logged

TINY = ['--model', 'dcgan', '--preset', 'quick', '--batch-size', '8', '--log-every', '1',
        '--sample-every', '2', '--snapshot-every', '2', '--no-progress']
SUFFIX = {'chainer': 'npz', 'torch': 'pt'}


def train(framework, out, *extra, check=True):
    return run_command('train', *TINY, '--framework', framework, '--out', out, *extra, check=check)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """A 4-iteration run of each framework (snapshots at 2 and 4)."""
    root = tmp_path_factory.mktemp('runs')
    for framework in SUFFIX:
        train(framework, root / framework, '--iterations', '4')
    return root


def snapshot(runs, framework, iteration=4):
    return runs / framework / f'snapshot_iter_{iteration}.{SUFFIX[framework]}'


def stored_checksum(path):
    if str(path).endswith('.pt'):
        return torch.load(path, weights_only=True)[CHECKSUM_KEY]
    with np.load(path) as archive:
        return str(archive[CHECKSUM_KEY])


def log_without_times(run_dir):
    entries = [json.loads(line) for line in (run_dir / 'log.jsonl').read_text().splitlines()]
    return [{k: v for k, v in entry.items() if k != 'elapsed_time'} for entry in entries]


# ---------------------------------------------------------------- D1, D7, D8, D11: failures leave nothing behind
@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_a_run_that_fails_before_its_first_snapshot_leaves_nothing(framework, tmp_path):
    out = tmp_path / 'run'
    cases = [(['--iterations', '3', '--resume-from', tmp_path / f'missing.{SUFFIX[framework]}'], 'does not exist'),
             (['--iterations', '3', '--batch-size', '100000'], 'larger than the dataset'),
             (['--iterations', '3', '--device', 'cuda'], '--device asks for GPU 0'),
             (['--iterations', '3', '--device', 'cuda:1'], '--device asks for GPU 1'),
             (['--iterations', '3', '--seed', '-1'], '--seed must be between 0 and'),
             (['--iterations', '3', '--learning-rate', '1e30'], 'loss became NaN/inf at iteration')]
    if framework == 'chainer':
        cases.append((['--iterations', '3', '--device', '@cupy:0'], '--device asks for GPU 0'))
    for extra, message in cases:
        assert_one_line_error(train(framework, out, *extra, check=False), message)
        assert not out.exists(), (extra, leftovers(out))
    train(framework, out, '--iterations', '2')  # the corrected command is not refused
    assert (out / f'snapshot_iter_2.{SUFFIX[framework]}').exists()


def test_a_chainer_nan_prints_no_numpy_warnings(tmp_path):
    """D11: warnings shown, as a user sees them; the NaN is still one line."""
    env = checkout_env()
    env.pop('PYTHONWARNINGS', None)
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'train.py'), *TINY, '--framework', 'chainer',
                             '--iterations', '3', '--learning-rate', '1e30', '--out', str(tmp_path / 'run')],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert_one_line_error(result, 'loss became NaN/inf at iteration')


def test_a_failed_run_in_an_existing_folder_removes_only_what_it_made(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    result = train('torch', tmp_path, '--iterations', '3', '--learning-rate', '1e30', check=False)
    assert_one_line_error(result, 'NaN/inf')
    assert leftovers(tmp_path) == ['notes.txt']


def test_a_nan_in_the_torch_gan_is_one_line_not_a_bce_traceback(tmp_path):
    """D11: BCELoss refuses a NaN probability before the loss can be checked."""
    result = run_command('train', '--model', 'gan', '--preset', 'quick', '--framework', 'torch', '--batch-size', '8',
                        '--iterations', '5', '--learning-rate', '1e30', '--no-progress', '--out', tmp_path / 'run',
                        check=False)
    assert_one_line_error(result, 'the run died: the loss became NaN/inf at iteration', 'another --seed')
    assert not (tmp_path / 'run').exists()


def test_a_run_killed_before_its_first_snapshot_does_not_block_the_same_command(tmp_path):
    out = tmp_path / 'run'
    out.mkdir()
    (out / 'config.json').write_text('{}')
    (out / 'samples').mkdir()
    train('torch', out, '--iterations', '2')
    assert json.loads((out / 'config.json').read_text())['model'] == 'dcgan'


@pytest.mark.parametrize('command, extra', [
    ('train', ['--framework', 'torch', '--iterations', '100000']),
    ('compare', ['--steps', '100000', '--lockstep-steps', '2', '--print-every', '1', '--dtype', 'float32'])])
def test_sigterm_ends_a_run_in_one_line_and_leaves_nothing(tmp_path, command, extra):
    """SIGTERM (a scheduler's or `kill`'s) cleans up as Ctrl-C does; for compare,
    sent after the split, while the forked PyTorch process runs."""
    out = tmp_path / 'run'
    args = [*TINY, '--snapshot-every', '100000', *extra] if command == 'train' else \
        ['--model', 'dcgan', '--batch-size', '8', *extra]
    code, stderr = sigterm_once_logged([sys.executable, '-m', 'ganport', command, *args, '--out', str(out)],
                                       out / 'log.jsonl', 4, cwd=REPO, env=checkout_env())
    lines = [line for line in stderr.splitlines() if line.strip()]
    print(f'{command}: exit {code}, stderr {lines}')
    assert code == 128 + signal.SIGTERM and lines == ['terminated'], stderr
    assert not out.exists(), leftovers(out)


# ---------------------------------------------------------------- D2: checksums
@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_flipped_bytes_are_refused_by_every_tool(runs, tmp_path, framework):
    data = bytearray(snapshot(runs, framework).read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = bytes(b ^ 0xFF for b in data[middle:middle + 4096])
    broken = tmp_path / f'broken.{SUFFIX[framework]}'
    broken.write_bytes(bytes(data))
    other = 'pt' if framework == 'chainer' else 'npz'
    for result in (run_command('sample', broken, '--out', tmp_path / 'x.png', check=False),
                   run_command('convert', broken, tmp_path / f'x.{other}', check=False),
                   train(framework, tmp_path / 'r', '--iterations', '6', '--resume-from', broken, check=False)):
        assert_one_line_error(result, 'broken')
    assert leftovers(tmp_path) == [broken.name]


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_same_seed_snapshots_have_equal_content_checksums(runs, tmp_path, framework):
    train(framework, tmp_path / 'again', '--iterations', '4')
    first, second = snapshot(runs, framework), tmp_path / 'again' / f'snapshot_iter_4.{SUFFIX[framework]}'
    print('checksums', stored_checksum(first), stored_checksum(second))
    assert stored_checksum(first) == stored_checksum(second)


def test_a_checkpoint_without_a_checksum_is_refused(runs, tmp_path):
    state = torch.load(snapshot(runs, 'torch'), weights_only=True)
    del state[CHECKSUM_KEY]
    torch.save(state, tmp_path / 'old.pt')
    assert_one_line_error(run_command('sample', tmp_path / 'old.pt', '--out', tmp_path / 'x.png', check=False),
                          'carries no content checksum')


# ---------------------------------------------------------------- loading never executes code
class Payload:
    def __reduce__(self):
        return (os.system, (f'touch {Payload.marker}',))


def test_pickles_are_refused_without_running_them(tmp_path):
    Payload.marker = tmp_path / 'executed'
    with open(tmp_path / 'evil.pt', 'wb') as f:
        pickle.dump({'meta': Payload()}, f)
    torch.save({'meta': Payload()}, tmp_path / 'evil-zip.pt')
    np.save(tmp_path / 'object.npy', np.array([Payload()], dtype=object), allow_pickle=True)
    with open(tmp_path / 'evil.npz', 'wb') as f:
        np.savez(f, **{'updater/meta': np.array([Payload()], dtype=object)})
    for path in ('evil.pt', 'evil-zip.pt', 'evil.npz'):
        line = assert_one_line_error(run_command('sample', tmp_path / path, '--out', tmp_path / 'x.png', check=False),
                                     path)
        assert 'weights_only=False' not in line
    result = run_command('evaluate', tmp_path / 'evil.npz', '--out', tmp_path / 'e', check=False)
    assert_one_line_error(result, 'evil.npz')
    assert not Payload.marker.exists()


# ---------------------------------------------------------------- D3, D4: checkpoints that load but lack things
def test_evaluate_refuses_unreadable_sample_files_in_one_line(tmp_path):
    good = tmp_path / 'good.npz'
    np.savez(good, images=np.zeros((20, 1, 28, 28), np.float32))
    files = {'empty.npz': b'', 'truncated.npz': good.read_bytes()[:300], 'random.npz': os.urandom(2000),
             'pickle.npz': pickle.dumps({'images': 1})}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    np.savez(tmp_path / 'objects.npz', images=np.array([None] * 20, dtype=object))
    for name in [*files, 'objects.npz']:
        result = run_command('evaluate', tmp_path / name, '--out', tmp_path / 'e', check=False)
        assert_one_line_error(result, name)
        assert not (tmp_path / 'e').exists()


def damaged_torch_states(state):
    """(name, a variant of ``state`` that loads safely but lacks what the tools expect)."""
    yield 'no-config', dict(state, meta={k: v for k, v in state['meta'].items() if k != 'config'})
    yield 'unknown-model', dict(state, meta=dict(state['meta'], model='wgan'))
    yield 'no-model', {k: v for k, v in state.items() if k != 'model'}
    yield 'no-optimizer', {k: v for k, v in state.items() if k != 'optimizer'}
    model = dict(state['model'], gen={k: v for k, v in list(state['model']['gen'].items())[1:]})
    yield 'missing-tensor', dict(state, model=model)


def test_incomplete_torch_checkpoints_are_one_line_in_every_tool(runs, tmp_path):
    from torch_impl.checkpoint import save_checkpoint
    state = torch.load(snapshot(runs, 'torch'), weights_only=True)
    del state[CHECKSUM_KEY]
    for name, variant in damaged_torch_states(state):
        path = tmp_path / f'{name}.pt'
        save_checkpoint(variant, path)  # a valid checksum: the structure is what is wrong
        for result in (run_command('sample', path, '--out', tmp_path / 'x.png', check=False),  # evaluate's loader too
                       run_command('convert', path, tmp_path / 'x.npz', check=False)):
            assert_one_line_error(result, name)
    assert sorted(leftovers(tmp_path)) == sorted(f'{name}.pt' for name, _ in damaged_torch_states(state))


def test_incomplete_chainer_snapshots_are_one_line_in_every_tool(runs, tmp_path):
    from chainer_impl.checkpoint import META_KEY, write_snapshot
    with np.load(snapshot(runs, 'chainer')) as archive:
        arrays = {k: archive[k] for k in archive.files if k != CHECKSUM_KEY}
    meta = json.loads(str(arrays[META_KEY]))
    gen_key = next(k for k in arrays if k.startswith('updater/model:gen/'))
    variants = {'not-json': dict(arrays, **{META_KEY: np.array('{not json')}),
                'no-config': dict(arrays, **{META_KEY: np.array(json.dumps({'model': 'dcgan', 'framework': 'chainer'}))}),
                'unknown-model': dict(arrays, **{META_KEY: np.array(json.dumps(dict(meta, model='wgan')))}),
                'missing-array': {k: v for k, v in arrays.items() if k != gen_key}}
    for name, variant in variants.items():
        path = tmp_path / f'{name}.npz'
        write_snapshot(path, variant)
        for result in (run_command('sample', path, '--out', tmp_path / 'x.png', check=False),
                       run_command('convert', path, tmp_path / 'x.pt', check=False),
                       train('chainer', tmp_path / 'r', '--iterations', '6', '--resume-from', path, check=False)):
            assert_one_line_error(result, name)
    assert sorted(leftovers(tmp_path)) == sorted(f'{name}.npz' for name in variants)


# ---------------------------------------------------------------- D5, D6, D14: resume checks what it resumes
@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_resume_refuses_a_changed_setting_and_a_shorter_run(runs, tmp_path, framework):
    run = tmp_path / 'run'
    train(framework, run, '--iterations', '4')
    for extra, setting in ((['--batch-size', '16'], 'batch_size'), (['--digits', '3'], 'classes'),
                           (['--seed', '1'], 'seed'), (['--dtype', 'float64'], 'dtype')):
        command = [*TINY, *extra, '--framework', framework, '--out', run, '--iterations', '6', '--resume']
        assert_one_line_error(run_command('train', *command, check=False), setting, 'start a new run')
    assert_one_line_error(train(framework, run, '--iterations', '3', '--resume', check=False),
                          'is at iteration 4, past --iterations 3')
    assert 'nothing to train' in train(framework, run, '--iterations', '4', '--resume').stdout
    assert [e['iteration'] for e in log_without_times(run)] == [1, 2, 3, 4]


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_resume_from_an_earlier_snapshot_of_the_run(runs, tmp_path, framework):
    """D14: --resume with --resume-from skips a damaged newest snapshot in place."""
    run = tmp_path / 'run'
    train(framework, run, '--iterations', '4')
    newest = run / f'snapshot_iter_4.{SUFFIX[framework]}'
    newest.write_bytes(newest.read_bytes()[:100])
    result = train(framework, run, '--iterations', '4', '--resume', '--resume-from',
                   run / f'snapshot_iter_2.{SUFFIX[framework]}')
    assert 'at iteration 2' in result.stdout
    assert stored_checksum(newest) == stored_checksum(snapshot(runs, framework))
    assert log_without_times(run) == log_without_times(runs / framework)


# ---------------------------------------------------------------- D10, D15, D16: the run directory
def test_a_torn_last_log_line_is_repaired_on_resume(runs, tmp_path):
    run = tmp_path / 'run'
    train('torch', run, '--iterations', '2')
    with open(run / 'log.jsonl', 'a') as f:
        f.write('{"iteration": 3, "loss_g')
    train('torch', run, '--iterations', '4', '--resume')
    assert log_without_times(run) == log_without_times(runs / 'torch')


def test_a_second_writer_is_refused_while_the_first_holds_the_run(runs, tmp_path):
    run = tmp_path / 'run'
    train('torch', run, '--iterations', '2')
    with open(run / '.lock', 'a+') as lock:  # what a running train.py holds
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = train('torch', run, '--iterations', '4', '--resume', check=False)
    assert_one_line_error(result, 'is in use by another run (ganport train or compare)')
    assert [e['iteration'] for e in log_without_times(run)] == [1, 2]
    train('torch', run, '--iterations', '4', '--resume')  # the lock went with its holder


def test_stale_temporaries_are_removed_on_the_next_start(runs, tmp_path):
    run = tmp_path / 'run'
    train('torch', run, '--iterations', '2')
    (run / '.partial-abc123.pt').write_bytes(b'x' * 1000)
    (run / 'samples' / '.partial-def456.png').write_bytes(b'x')
    train('torch', run, '--iterations', '4', '--resume')
    assert not [name for name in leftovers(run) + leftovers(run / 'samples') if name.startswith('.partial-')]


# ---------------------------------------------------------------- D9: a full disk
@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MiB tmpfs (needs root and mount); skipped elsewhere."""
    mount = tmp_path / 'disk'
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip('a full-disk test mounts a small tmpfs, which needs root')
    result = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here: {result.stderr.decode().strip()}')
    yield mount
    subprocess.run(['umount', str(mount)], check=False)


@pytest.mark.parametrize('framework', ['chainer', 'torch'])
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(runs, tiny_disk, framework):
    result = train(framework, tiny_disk / 'run', '--iterations', '4', check=False)  # a snapshot is ~6 MB
    assert_one_line_error(result, 'cannot write', 'choose another location')
    assert leftovers(tiny_disk) == []
    other = 'pt' if framework == 'chainer' else 'npz'
    assert_one_line_error(run_command('convert', snapshot(runs, framework), tiny_disk / f'x.{other}', check=False),
                          'cannot write')
    assert leftovers(tiny_disk) == []


# ---------------------------------------------------------------- D19 and other command lines
def test_output_paths_and_lists_are_checked_before_anything_is_made(runs, tmp_path):
    checkpoint = snapshot(runs, 'torch')
    folder = tmp_path / 'folder.png'
    folder.mkdir()
    assert_one_line_error(run_command('sample', checkpoint, '--out', folder, check=False), 'is a folder')
    assert_one_line_error(run_command('sample', tmp_path / 'missing.pt', '--out', tmp_path / 'new' / 'x.png',
                                     check=False), 'does not exist')
    assert_one_line_error(run_command('sample', checkpoint, '--seed', '-1', '--out', tmp_path / 'x.png', check=False),
                          '--seed must be')
    assert_one_line_error(train('torch', tmp_path / 'r', '--iterations', '2', '--digits', ',', check=False),
                          'names no class')
    assert leftovers(tmp_path) == ['folder.png']


# ---------------------------------------------------------------- D12, D13: image files
def test_a_16_bit_grayscale_png_keeps_its_grey_levels(tmp_path):
    from gan_common.unpaired import read_image
    from PIL import Image
    levels = (np.arange(16 * 16, dtype=np.uint32).reshape(16, 16) * 257).astype(np.uint16)
    Image.fromarray(levels).save(tmp_path / 'deep.png')
    with Image.open(tmp_path / 'deep.png') as image:
        assert image.mode.startswith('I')
    pixels = read_image(tmp_path / 'deep.png')
    print('distinct grey levels', len(np.unique(pixels)), 'max |error|',
          int(np.abs(pixels[0].astype(int) - levels // 257).max()))
    assert pixels.shape == (3, 16, 16) and (pixels == pixels[:1]).all()
    assert np.abs(pixels[0].astype(int) - levels // 257).max() <= 1


@pytest.mark.parametrize('side', [12, 20])  # Pillow warns past MAX_IMAGE_PIXELS and refuses past twice that
def test_a_decompression_bomb_is_refused_in_one_line(tmp_path, monkeypatch, side):
    from gan_common.unpaired import read_image
    from PIL import Image
    Image.new('RGB', (side, side)).save(tmp_path / 'bomb.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)
    with pytest.raises(UserError, match='too many to decode safely') as error:
        read_image(tmp_path / 'bomb.png')
    assert '\n' not in str(error.value) and 'bomb.png' in str(error.value)


# ---------------------------------------------------------------- the scaffolding both trainers share
def test_the_learning_rate_is_set_under_the_name_each_optimizer_uses():
    """The gan model's optimizers name the rate ``lr`` (torch.optim.Adam, TorchAdam), the
    others ``alpha``: a schedule written to the wrong name would silently do nothing."""
    from chainer_impl import dcgan as chainer_dcgan, gan as chainer_gan
    from torch_impl import dcgan as torch_dcgan, gan as torch_gan
    cases = [(torch_gan.make_optimizer(torch_gan.Generator()).param_groups[0], 'lr'),
             (torch_dcgan.make_optimizer(torch_gan.Generator()).param_groups[0], 'alpha'),
             (chainer_gan.make_optimizer(chainer_gan.Generator()).hyperparam, 'lr'),
             (chainer_dcgan.make_optimizer(chainer_gan.Generator()).hyperparam, 'alpha')]
    for hyperparameters, name in cases:
        training.set_learning_rate(hyperparameters, 0.123)
        value = hyperparameters[name] if isinstance(hyperparameters, dict) else getattr(hyperparameters, name)
        assert value == 0.123, (type(hyperparameters), name, value)


def test_resume_source_prefers_resume_from_and_needs_a_snapshot(tmp_path):
    with pytest.raises(UserError, match='no snapshot_iter_'):
        training.resume_source(tmp_path, True, None, '.pt')
    for iteration in (2, 10, 4):
        (tmp_path / f'snapshot_iter_{iteration}.pt').write_bytes(b'')
    assert training.resume_source(tmp_path, True, None, '.pt') == str(tmp_path / 'snapshot_iter_10.pt')
    assert training.resume_source(tmp_path, True, 'x.pt', '.pt') == 'x.pt'
    assert training.resume_source(tmp_path, False, None, '.pt') is None
