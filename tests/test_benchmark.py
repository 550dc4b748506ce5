"""The benchmark command as a smoke test (its JSON's structure and sanity,
never a time), its FLOP count against an independent one, the plain
references against the port's networks, and bad input."""
import json
import math
import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import REPO, assert_one_line_error

VARIANTS = ['chainer', 'torch port', 'plain torch', 'chainer fast']


def run_benchmark(*args):
    env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, '-m', 'ganport.commands.benchmark', *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)


@pytest.fixture(scope='module')
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp('benchmark') / 'bench.json'
    result = run_benchmark('--quick', '--models', 'dcgan:quick,cyclegan:quick', '--tuned', 'chainer-fast',
                           '--profile', '--profile-iterations', '1', '--json', out)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, json.loads(out.read_text())


def test_quick_run_prints_the_table_ratios_and_goals(quick):
    stdout, _ = quick
    for fragment in ('ms/it', 'dcgan/quick', 'cyclegan/quick', 'chainer / torch port', 'torch port / plain',
                     'goals (reported, not asserted)', 'unmeasured (no GPU in this run)', 'profile dcgan/quick'):
        assert fragment in stdout, fragment


def test_quick_json_has_every_figure_for_every_variant(quick):
    _, data = quick
    assert data['quick'] is True and data['machine']['device'] == 'cpu'
    assert [c['case'] for c in data['cases']] == ['dcgan/quick', 'cyclegan/quick']
    for case in data['cases']:
        rows = {row['variant']: row for row in case['variants']}
        assert list(rows) == VARIANTS
        for row in rows.values():
            assert row['timed_iterations'] == len(row['ms']) == 4
            assert 0 < row['ms_p10'] <= row['ms_median'] <= row['ms_p90']
            assert math.isclose(row['images_per_s'], case['batch_size'] * 1e3 / row['ms_median'])
            assert row['flops_per_iteration'] > 0 and row['matmul_peak_flops_per_s'] > 0
            assert math.isclose(row['flops_per_s'], row['flops_per_iteration'] / row['ms_median'] * 1e3)
            assert math.isclose(row['fraction_of_peak'], row['flops_per_s'] / row['matmul_peak_flops_per_s'])
            assert row['peak_memory_mib'] is None or row['peak_memory_mib'] >= 0
        assert rows['chainer']['flops_per_iteration'] == rows['torch port']['flops_per_iteration']
        assert math.isclose(case['ratios']['chainer_over_torch_port'],
                            rows['chainer']['ms_median'] / rows['torch port']['ms_median'])
    goals = [g['goal'] for g in data['goals']]
    assert any('5 ms' in g for g in goals) and any('CycleGAN paper' in g for g in goals)


def test_quick_profile_names_functions_and_layers(quick):
    _, data = quick
    dcgan = data['profile'][0]
    functions = {row['function'] for row in dcgan['chainer']['functions']}
    layers = {row['layer'] for row in dcgan['chainer']['layers']}
    assert {'Convolution2DFunction', 'Deconvolution2DFunction', 'BatchNormalization'} <= functions
    assert {'gen/dc1', 'gen/l0z', 'dis/c0', 'dis/l4l'} <= layers
    layer_ms = sum(row['forward'] + row['backward'] for row in dcgan['chainer']['layers'])
    assert 0 < layer_ms <= dcgan['chainer']['ms_per_iteration']
    assert any('convolution' in row['operator'] for row in dcgan['torch']['operators'])


def one_step_variant(model, preset):
    from bridge.benchmark.cases import build_variants, select_cases
    (case,), _ = select_cases([f'{model}:{preset}'], None, quick=True)
    return build_variants(case)


def test_layer_flops_match_torch_flop_counter_on_the_dcgan_networks():
    """One forward and backward pass through the port's G and D: the layer-shape
    count against ``torch.utils.flop_counter``, which counts the aten operators."""
    from torch.utils.flop_counter import FlopCounterMode
    from bridge.benchmark.measure import LayerFlops
    torch.set_num_threads(1)
    port = one_step_variant('dcgan', 'quick')[1]
    gen, dis = port.nets['gen'], port.nets['dis']
    z = torch.rand(4, 100)
    counter = LayerFlops([gen, dis])
    dis(gen(z)).sum().backward()
    counter.remove()
    with FlopCounterMode(display=False) as reference:
        dis(gen(z)).sum().backward()
    ours = counter.forward + counter.backward
    print(f'layer-shape count {ours:.4e}, FlopCounterMode {reference.get_total_flops():.4e}')
    assert ours == reference.get_total_flops()


def test_flop_formulas():
    from gan_common import flops
    assert flops.forward_flops(flops.linear_macs(64, 100, 4608)) == 2 * 64 * 100 * 4608
    # DCGAN's dc1: (N, 512, 3, 3) -> 256 channels, 2x2 kernel: each input pixel scatters 256 * 4 products
    assert flops.deconv_macs((8, 512, 3, 3), 256, (2, 2)) == 8 * 512 * 9 * 256 * 4
    assert flops.conv_macs((8, 64, 10, 10), 1, (3, 3)) == 8 * 64 * 100 * 9
    assert flops.backward_flops(10, input_gradient=False) == 20 and flops.backward_flops(10) == 40


@pytest.mark.parametrize('model, preset', [('dcgan', 'quick'), ('cyclegan', 'quick')])
def test_plain_reference_has_the_ports_layers(model, preset):
    _, port, plain = one_step_variant(model, preset)

    def shapes(modules):
        return sorted(tuple(p.shape) for m in modules for p in m.parameters())
    assert shapes(plain.modules()) == shapes(port.modules())
    assert math.isfinite(plain.step()) and math.isfinite(port.step())


@pytest.mark.parametrize('args, fragment', [
    (['--models', 'nosuch'], "unknown --model 'nosuch'"),
    (['--models', 'dcgan:nosuch'], "unknown --preset 'nosuch'"),
    (['--iterations', '0'], '--iterations must be positive'),
    (['--tuned', 'faster'], "unknown --tuned 'faster'"),
    (['--device', 'banana'], 'unknown --device'),
])
def test_bad_input_ends_in_one_line(args, fragment, capsys):
    from ganport.commands.benchmark import main
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and len(err.strip().splitlines()) == 1 and fragment in err, err


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the message on a machine without CUDA')
def test_gpu_device_without_cuda_ends_in_one_line():
    assert_one_line_error(run_benchmark('--device', 'cuda', '--quick'), 'PyTorch sees no CUDA device')


def test_a_tuned_variant_that_fails_is_left_out_and_named(monkeypatch):
    from bridge.benchmark import cases, session, tuning

    def broken(case, arrays, chainer_nets):
        variant = tuning.torch_2_threads(case, arrays, chainer_nets)
        variant.label = 'torch broken'

        def step():
            raise RuntimeError('this setting does not work here\nsecond line')
        variant.step = step
        return variant
    monkeypatch.setitem(tuning.TUNINGS, 'torch-broken', broken)
    case = cases.select_cases(['gan:quick'], None, quick=True)[0][0]
    (variants, memory), = session.built_and_measured([case], ['torch-broken'])
    result = session.benchmark_case(case, None, 1, 2, 1, variants, memory)
    assert [row['variant'] for row in result['variants']] == ['chainer', 'torch port']
    assert result['failed_variants'] == {'torch broken': 'RuntimeError: this setting does not work here'}
