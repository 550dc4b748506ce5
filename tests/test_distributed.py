"""Data-parallel training, ``train.py --workers 2``: ChainerMN (mpiexec, the
``naive`` communicator) and PyTorch DDP (torchrun, gloo) on this CPU, float64,
tiny runs; the engines' quirks; mpi4py's private ``_typedict``; the shards.

The semantics pinned here: without batch normalisation two ranks take the
single process's steps; with it, each rank normalises with its own batch's
statistics in both frameworks (so ChainerMN and DDP agree with each other,
not with the single process), and cross-rank BN brings back the single
process."""
import contextlib
import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gan_common.parallel import stop_launcher
from tests.helpers import (assert_one_line_error, checkout_env, run_command, sigterm_once_logged,
                           snapshot_weight_difference)

HAVE_MPI = importlib.util.find_spec('mpi4py') is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason='no mpi4py/MPI: pip install -e ".[mpi]" (MPICH and mpi4py wheels)')
FRAMEWORKS = [pytest.param('chainer', marks=needs_mpi), 'torch']
SUFFIX = {'chainer': 'npz', 'torch': 'pt'}
TIGHT = 1e-10  # float64, 20 steps


@pytest.fixture(scope='module', autouse=True)
def ranks_run_this_checkout():
    """The commands run in this process; the ranks they launch import this
    checkout, whatever else is installed."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ('PYTHONPATH', 'PYTHONWARNINGS'):
            patch.setenv(name, checkout_env(PYTHONWARNINGS='ignore')[name])
        yield


def train(framework, out, *extra, workers=1, check=True):
    """``ganport train`` on the MNIST ones only, so that every process loads
    a tenth of MNIST (the training split's 6,742 end in a partial batch of
    6, which splits over 2 ranks)."""
    return run_command('train', '--framework', framework, '--digits', '1', '--batch-size', '8', '--dtype', 'float64',
                       '--log-every', '1', '--sample-every', '1000', '--no-progress', '--threads', '1',
                       '--workers', workers, '--out', out, *extra, check=check)


def snapshot(run, framework, iteration):
    return run / f'snapshot_iter_{iteration}.{SUFFIX[framework]}'


def network_difference(framework, a, b, skip='/N'):
    """Max |difference| between the networks of two snapshots of one framework
    (Chainer: leaving out the arrays whose names end in ``skip``)."""
    if framework == 'chainer':
        with np.load(a) as x, np.load(b) as y:
            keys = [k for k in x.files if k.startswith('updater/model:') and not k.endswith(('/N', skip))]
            return max(float(np.abs(x[k] - y[k]).max()) for k in keys)
    import torch
    x, y = (torch.load(p, weights_only=True)['model'] for p in (a, b))
    return max(float((x[n][k].double() - y[n][k].double()).abs().max()) for n in x for k in x[n])


def running_variances(path):
    """The BN running variances of a snapshot of either framework, by PyTorch name."""
    if str(path).endswith('.pt'):
        import torch
        model = torch.load(path, weights_only=True)['model']
        return {f'{n}.{k}': v.double().numpy() for n in model for k, v in model[n].items() if k.endswith('running_var')}
    from gan_common.keymap import chainer_to_torch_key
    with np.load(path) as archive:
        return {'.'.join([key.split(':', 1)[1].split('/', 1)[0],
                          chainer_to_torch_key(key.split(':', 1)[1].split('/', 1)[1])]): archive[key]
                for key in archive.files if key.startswith('updater/model:') and key.endswith('/avg_var')}


def relative_difference(a, b):
    """Max |a / b - 1| over two {name: array} of the same names."""
    assert sorted(a) == sorted(b)
    return max(float(np.abs(a[k] / b[k] - 1).max()) for k in a)


def logged_losses(run):
    return [{k: v for k, v in json.loads(line).items() if k.startswith('loss')}
            for line in (run / 'log.jsonl').read_text().splitlines()]


# ---------------------------------------------------------------- the vanilla GAN: N ranks = 1 process
@pytest.fixture(scope='module')
def gan_runs(tmp_path_factory):
    """Per framework: the single process, 20 steps; two ranks, 10 steps, then
    resumed (on two ranks) to 20."""
    made = {}

    def get(framework):
        if framework not in made:
            root = tmp_path_factory.mktemp(f'gan-{framework}')
            common = ('--model', 'gan', '--snapshot-every', '10', '--sample-every', '10')
            train(framework, root / '1', *common, '--iterations', '20')
            train(framework, root / '2', *common, '--iterations', '10', workers=2)
            train(framework, root / '2', *common, '--iterations', '20', '--resume', workers=2)
            made[framework] = root
        return made[framework]
    return get


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_vanilla_gan_on_two_ranks_equals_the_single_process(gan_runs, framework):
    root = gan_runs(framework)
    for steps in (10, 20):
        diff = network_difference(framework, snapshot(root / '1', framework, steps),
                                  snapshot(root / '2', framework, steps))
        print(f'{framework}: 2 ranks vs 1 process, global batch 8, {steps} steps '
              f'({"resumed at 10" if steps == 20 else "straight"}), float64: max |diff| = {diff:.3e}')
        assert diff <= TIGHT


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_rank_zero_alone_writes_the_global_batch_losses(gan_runs, framework):
    run = gan_runs(framework) / '2'
    log = (run / 'log.jsonl').read_text().splitlines()
    assert [json.loads(line)['iteration'] for line in log] == list(range(1, 21))
    assert sorted(p.name for p in run.glob('snapshot_iter_*')) == sorted(
        snapshot(run, framework, i).name for i in (10, 20))
    assert (run / 'loss.png').is_file() and len(list((run / 'samples').iterdir())) == 2
    single, ranks = logged_losses(gan_runs(framework) / '1'), logged_losses(run)
    diff = max(abs(a[k] - b[k]) for a, b in zip(single, ranks, strict=True) for k in a)
    print(f'{framework}: logged losses, 2 ranks (averaged over them) vs 1 process, 20 iterations: '
          f'max |diff| = {diff:.3e}')
    assert diff <= TIGHT


def test_resume_on_another_number_of_ranks_is_one_line(tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'config.json').write_text('{"workers": 2}')
    result = run_command('train', '--model', 'gan', '--framework', 'torch', '--resume', '--out', run, check=False)
    assert_one_line_error(result, '--workers 2')


def two_torch_ranks(script, *args):
    """``script ARGS`` on two ranks under the launcher ``train --workers 2`` uses."""
    command = [sys.executable, '-m', 'torch_impl.torchrun', '--standalone', '--nproc-per-node', '2', str(script),
               *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=checkout_env(PYTHONWARNINGS='ignore'))


LATE_RANK_ZERO = """
import pathlib, sys, time
from torch_impl.distributed import DataParallel
parallel = DataParallel({'torch_device': 'cpu', 'workers': 2, 'batch_size': 8})
if parallel.shard.rank == 0:
    time.sleep(2)  # as rank 0 writing the last snapshot and loss plot
entered = time.time()
parallel.close()
pathlib.Path(sys.argv[1], f'rank{parallel.shard.rank}').write_text(f'{entered} {time.time()}')
"""


def test_no_torch_rank_leaves_the_process_group_before_rank_zero_is_done(tmp_path):
    """A rank that finished first and left (and exited) while rank 0 still
    wrote aborted in about one run in three ('terminate called without an
    active exception'); ``close`` waits for every rank."""
    script = tmp_path / 'late_rank_zero.py'
    script.write_text(LATE_RANK_ZERO)
    result = two_torch_ranks(script, tmp_path)
    assert result.returncode == 0, result.stderr
    entered, left = ([float(t) for t in (tmp_path / f'rank{rank}').read_text().split()] for rank in (0, 1))
    waited = left[1] - entered[0]
    print(f'rank 1 left the process group {waited:+.3f} s after rank 0 came to it')
    assert waited >= 0


@pytest.mark.parametrize('ending, line', [('os.abort()', 'rank 1 ended with signal SIGABRT'),
                                           ('sys.exit(3)', 'rank 1 ended with exit status 3')])
def test_torch_launcher_reports_a_failed_rank_in_one_line(tmp_path, ending, line):
    """Where torchrun printed its log lines and a traceback with a summary
    table, ``torch_impl.torchrun`` prints which rank ended and how."""
    script = tmp_path / 'rank_one_fails.py'
    script.write_text(f'import os, sys, time\nif os.environ["RANK"] == "1":\n    {ending}\ntime.sleep(30)\n')
    result = two_torch_ranks(script)
    print(f'exit {result.returncode}, stderr:\n{result.stderr}')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [line]


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_sigterm_ends_every_rank_and_leaves_nothing(tmp_path, framework):
    """SIGTERM to the command that launched the ranks ends the launcher and
    its ranks (before, torchrun's ran on, and once in about ten runs mpiexec
    and a rank did), and the run (no snapshot yet) leaves nothing behind."""
    out = tmp_path / 'run'
    command = [sys.executable, '-m', 'ganport', 'train', '--framework', framework, '--digits', '1', '--batch-size', '8',
               '--log-every', '1', '--sample-every', '100000', '--snapshot-every', '100000', '--iterations', '100000',
               '--no-progress', '--threads', '1', '--workers', '2', '--out', str(out)]
    code, stderr = sigterm_once_logged(command, out / 'log.jsonl', 3, env=checkout_env(PYTHONWARNINGS='ignore'))
    print(f'{framework}: exit {code}, stderr:\n{stderr}')
    assert code == 128 + signal.SIGTERM and stderr.strip().endswith('terminated'), stderr
    deadline = time.monotonic() + 30
    while ranks_writing_to(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ranks_writing_to(out), ranks_writing_to(out)
    assert not out.exists()


STUBBORN_LAUNCHER = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
rank = subprocess.Popen([sys.executable, '-c', 'import signal, time; '
                         'signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'], start_new_session=True)
print(rank.pid, flush=True)
time.sleep(600)
"""


def test_stop_launcher_kills_a_launcher_and_a_detached_rank_that_ignore_sigterm():
    """The worst launcher: it ignores SIGTERM, and so does its rank, in a
    session of its own; both are gone within the grace period and a moment."""
    launcher = subprocess.Popen([sys.executable, '-c', STUBBORN_LAUNCHER], stdout=subprocess.PIPE, text=True)
    rank = int(launcher.stdout.readline())
    started = time.monotonic()
    stop_launcher(launcher, grace=1)
    took = time.monotonic() - started
    print(f'launcher exit {launcher.returncode}, rank {rank} alive: {is_running(rank)}, {took:.2f} s')
    assert launcher.returncode == -signal.SIGKILL and took < 5
    deadline = time.monotonic() + 5
    while is_running(rank) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(rank)


def is_running(pid):
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    with contextlib.suppress(OSError):
        return Path(f'/proc/{pid}/stat').read_text().rpartition(')')[2].split()[0] != 'Z'
    return False


def ranks_writing_to(out):
    """Command lines of the processes that name ``out``."""
    found = []
    for proc in Path('/proc').iterdir():
        with contextlib.suppress(OSError):
            line = (proc / 'cmdline').read_bytes().replace(b'\0', b' ').decode()
            if str(out) in line and proc.name.isdigit():
                found.append(line)
    return found


@pytest.mark.parametrize('extra, fragment', [(['--workers', '3'], 'multiple of --workers 3'),
                                             (['--sync-bn'], '--sync-bn needs --workers')])
def test_bad_parallel_options_are_one_line(tmp_path, extra, fragment):
    result = run_command('train', '--model', 'dcgan', '--framework', 'torch', '--batch-size', '8',
                         '--out', tmp_path / 'run', *extra, check=False)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / 'run').exists()


# ---------------------------------------------------------------- batch normalisation (DCGAN)
@pytest.fixture(scope='module')
def dcgan_runs(tmp_path_factory):
    """The blog DCGAN, global batch 8: the single Chainer process, 3 steps;
    its step-1 snapshot and a PyTorch copy of it, from which the single
    PyTorch process and the 2-rank runs continue (both frameworks from the
    same weights, Adam state and stream). ``get(framework, name, *extra)``
    makes (once) and returns the step-3 snapshot of such a 2-rank run."""
    root = tmp_path_factory.mktemp('dcgan')
    train('chainer', root / 'chainer-1', '--model', 'dcgan', '--iterations', '3', '--snapshot-every', '1')
    run_command('convert', root / 'chainer-1' / 'snapshot_iter_1.npz', root / 'start.pt')
    made = {}

    def get(framework, name, *extra, workers=2):
        if name not in made:
            start = root / 'chainer-1' / 'snapshot_iter_1.npz' if framework == 'chainer' else root / 'start.pt'
            train(framework, root / name, '--model', 'dcgan', '--iterations', '3', '--resume-from', start, *extra,
                  workers=workers)
            made[name] = snapshot(root / name, framework, 3)
        return made[name]
    get.chainer_single = root / 'chainer-1' / 'snapshot_iter_3.npz'
    return get


@needs_mpi
def test_per_rank_batch_norm_chainermn_equals_ddp(dcgan_runs):
    chainer = dcgan_runs('chainer', 'chainer-2')
    torch = dcgan_runs('torch', 'torch-2')
    between = snapshot_weight_difference(chainer, torch)
    from_single = network_difference('chainer', chainer, dcgan_runs.chainer_single)
    print(f'DCGAN, 2 more steps on 2 ranks, float64: ChainerMN vs DDP max |diff| = {between:.3e}; '
          f'2 ranks (per-rank BN) vs 1 process: {from_single:.3e}')
    assert between <= 1e-10
    assert from_single > 1e-6  # per-rank statistics are not the global batch's


@needs_mpi
def test_chainermn_cross_rank_batch_norm_equals_the_single_process(dcgan_runs):
    """Weights, BN parameters and running means as the single process; the
    running variances differ because ChainerMN unbiases the global batch
    variance with the rank's own count m (m / (m - 1)), not the global one."""
    synced = dcgan_runs('chainer', 'chainer-2-sync', '--sync-bn')
    single = dcgan_runs.chainer_single
    diff = network_difference('chainer', synced, single, skip='/avg_var')
    relative = relative_difference(running_variances(synced), running_variances(single))
    print(f'DCGAN, 2 ranks with MultiNodeBatchNormalization vs 1 process: max |diff| = {diff:.3e} '
          f'(running variances: {relative:.2%} apart, the per-rank unbiasing)')
    assert diff <= TIGHT
    assert 1e-4 < relative < 0.03


def test_pytorch_cross_rank_batch_norm_on_cpu_equals_the_single_process(dcgan_runs):
    """``--sync-bn`` on CPU (``CpuSyncBatchNorm``): weights, BN parameters and
    running statistics, variances included (unbiased with the global count),
    as the single PyTorch process and the single Chainer process."""
    synced = dcgan_runs('torch', 'torch-2-sync', '--sync-bn')
    single = dcgan_runs('torch', 'torch-1', workers=1)
    diff = network_difference('torch', synced, single)
    relative = relative_difference(running_variances(synced), running_variances(single))
    from_chainer = snapshot_weight_difference(dcgan_runs.chainer_single, synced)
    print(f'DCGAN, 2 ranks (DDP, gloo) with --sync-bn vs 1 PyTorch process, 2 steps, float64: max |diff| = '
          f'{diff:.3e} (running variances {relative:.1e} apart); vs 1 Chainer process: {from_chainer:.3e}')
    assert diff <= TIGHT and relative <= 1e-12 and from_chainer <= TIGHT


@needs_mpi
def test_cross_rank_batch_norm_chainermn_equals_pytorch(dcgan_runs):
    """Equal but for the running variances, where PyTorch's (global count)
    are the single process's and ChainerMN's (per-rank count) are not."""
    chainer = dcgan_runs('chainer', 'chainer-2-sync', '--sync-bn')
    torch = dcgan_runs('torch', 'torch-2-sync', '--sync-bn')
    between = snapshot_weight_difference(chainer, torch, leave_out=('/avg_var',))
    single = running_variances(dcgan_runs.chainer_single)
    chainer_apart = relative_difference(running_variances(chainer), single)
    torch_apart = relative_difference(running_variances(torch), single)
    print(f'DCGAN, 2 ranks with --sync-bn, ChainerMN vs DDP: max |diff| = {between:.3e} but for the running '
          f'variances, which are {chainer_apart:.2%} (ChainerMN) and {torch_apart:.1e} (PyTorch) from the '
          'single process\'s')
    assert between <= TIGHT
    assert torch_apart <= 1e-10
    assert chainer_apart > 1e-4


def test_cross_rank_batch_norm_is_sync_batch_norm_on_gpus():
    """The selection, without a GPU: ``torch.nn.SyncBatchNorm`` on CUDA
    devices, ``CpuSyncBatchNorm`` (the same state) on CPU."""
    import torch
    from torch_impl import dcgan
    from torch_impl.distributed import CpuSyncBatchNorm, cross_rank_batch_norm
    plain = dcgan.Discriminator()

    def converted(device):
        network = cross_rank_batch_norm(dcgan.Discriminator(), torch.device(device))
        assert list(network.state_dict()) == list(plain.state_dict())
        return [type(m) for m in network.modules() if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.SyncBatchNorm))]

    assert converted('cuda') == [torch.nn.SyncBatchNorm] * 3
    assert converted('cuda:1') == [torch.nn.SyncBatchNorm] * 3
    assert converted('cpu') == [CpuSyncBatchNorm] * 3


def cuda_devices():
    try:
        import torch
        return torch.cuda.device_count()
    except Exception:
        return 0


@pytest.mark.gpu
@pytest.mark.skipif(cuda_devices() < 2, reason='needs 2 CUDA GPUs (NCCL puts one rank on each; none here)')
def test_sync_batch_norm_on_gpus_equals_chainer_single_process(dcgan_runs):
    synced = dcgan_runs('torch', 'torch-2-sync-gpu', '--sync-bn', '--device', 'cuda')
    diff = snapshot_weight_difference(dcgan_runs.chainer_single, synced)
    print(f'DCGAN, 2 GPUs with SyncBatchNorm (NCCL) vs Chainer 1 process: max |diff| = {diff:.3e}')
    assert diff <= 1e-9


@pytest.mark.gpu
@pytest.mark.skipif(cuda_devices() < 2 or importlib.util.find_spec('cupy') is None or not HAVE_MPI,
                    reason='needs 2 CUDA GPUs, CuPy and MPI (pure_nccl)')
def test_pure_nccl_vanilla_gan_equals_the_single_process(tmp_path):
    for workers in (1, 2):
        train('chainer', tmp_path / str(workers), '--model', 'gan', '--iterations', '20', '--device', 'cuda',
              workers=workers)
    diff = network_difference('chainer', snapshot(tmp_path / '1', 'chainer', 20), snapshot(tmp_path / '2', 'chainer', 20))
    print(f'pure_nccl, 2 GPUs vs 1: max |diff| = {diff:.3e}')
    assert diff <= TIGHT


# ---------------------------------------------------------------- the engines' quirks, in one process
@needs_mpi
def test_chainermn_first_update_only_broadcasts_and_the_wrapper_steps():
    from chainer_impl import compat, gan
    from chainer_impl.distributed import broadcast_parameters
    import chainer
    chainermn = compat.prepare_chainermn()
    comm = chainermn.create_communicator('naive')

    def one_update(prepare):
        np.random.seed(0)
        link = gan.Discriminator()
        before = {name: p.array.copy() for name, p in link.namedparams()}
        optimizer = chainermn.create_multi_node_optimizer(gan.make_optimizer(link), comm)
        prepare(optimizer)
        x = np.random.RandomState(1).uniform(-1, 1, (4, 784)).astype(np.float32)
        link.cleargrads()
        chainer.functions.sum(link(x)).backward()
        optimizer.update()
        return max(float(np.abs(p.array - before[name]).max()) for name, p in link.namedparams())

    untouched = one_update(lambda optimizer: None)
    stepped = one_update(broadcast_parameters)
    print(f'first update(): plain multi-node optimizer moves the weights by {untouched:.3e}, '
          f'after broadcast_parameters by {stepped:.3e}')
    assert untouched == 0.0 and stepped > 1e-6


# ---------------------------------------------------------------- ChainerMN and the pinned mpi4py
@needs_mpi
def test_mpi4py_typedict_has_what_chainermn_reads():
    from mpi4py import MPI
    from chainer_impl import compat
    compat.prepare_chainermn()
    for code, dtype in compat.MPI_TYPECODES.items():
        assert MPI._typedict[code].Get_size() == np.dtype(dtype).itemsize


# ---------------------------------------------------------------- shards of the shared stream
@pytest.mark.parametrize('model', ['dcgan', 'gan', 'cgan', 'acgan'])
def test_the_ranks_batches_together_are_the_single_process_batch(model):
    from gan_common.parallel import Shard
    from gan_common.presets import get_preset, default_preset
    from gan_common.recipes import Recipe  # noqa: F401  (the recipes below are Recipe instances)
    from gan_common.streams import RandomStream
    from torch_impl.models import MODULES
    recipe = MODULES[model].RECIPE
    config = dict(get_preset(model, default_preset(model)), seed=3, dtype='float64', batch_size=6, classes=None)
    images = np.random.RandomState(0).rand(30, 1, 28, 28)
    labels = np.arange(30) % 10

    def three_iterations(shard):
        stream = RandomStream(config['seed'])
        batches = recipe.batches(images, config, stream)
        draw = shard.drawer(recipe.drawer(images, labels, stream, config))
        return [draw(batches.next()) for _ in range(3)], stream.get_state()

    single, single_state = three_iterations(Shard(0, 1))
    ranks = [three_iterations(Shard(rank, 3)) for rank in range(3)]
    assert all(state == single_state for _, state in ranks)
    for step, whole in enumerate(single):
        for i, array in enumerate(whole):
            if array is not None:
                np.testing.assert_array_equal(np.concatenate([r[0][step][i] for r in ranks]), array)


def test_the_ranks_dropout_masks_together_are_the_single_process_masks():
    from gan_common.parallel import Shard
    from gan_common.presets import get_preset
    from gan_common.recipes import Recipe
    from gan_common.streams import RandomStream
    recipe = Recipe(dropout_masks=True)
    config = dict(get_preset('acgan', 'paper'), seed=5)

    def masks(shard):
        dropout = shard.step_kwargs(recipe, config, RandomStream(config['seed']))['dropout']
        return np.concatenate([dropout((4 // shard.size, 3, 2, 2), 0.5) for _ in range(2)], axis=1)

    single = masks(Shard(0, 1))
    np.testing.assert_array_equal(np.concatenate([masks(Shard(rank, 2)) for rank in range(2)]), single)
