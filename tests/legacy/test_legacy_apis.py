"""The legacy runner on Chainer v1-v6 style scripts (tests/legacy/scripts/),
one per group of old APIs, run on the CPU as a user would; each script
writes the numbers its old calls produced next to the modern equivalent."""
import json
import math

import numpy as np
import pytest

from tests.helpers import assert_one_line_error
from tests.legacy.legacy_helpers import SCRIPTS, reported_apis, run_fixture, run_legacy

FLOAT32 = 1e-6


def test_test_and_train_flags_run_that_call_in_the_old_mode(tmp_path):
    got, report, _ = run_fixture('v1_modes.py', tmp_path)
    print(got)
    assert got['test_vs_modern'] <= FLOAT32 and got['positional_vs_modern'] <= FLOAT32
    assert got['test_vs_train_mode'] > 1e-2            # test=True really is not training mode
    assert got['stats_changed_by_training'] > 1e-2 and got['stats_changed_by_test_call'] == 0
    assert got['dropout_train_false_changed'] == 0 and got['dropout_positional_changed'] == 0
    assert 0.4 < got['dropout_train_true_zeros'] < 0.6
    assert got['fixed_bn_use_cudnn'] <= FLOAT32 and got['relu_use_cudnn'] == 0
    apis = reported_apis(report)
    assert {'BatchNormalization.__call__(..., test=...)', 'F.dropout(..., train=...)',
            'F.fixed_batch_normalization(..., use_cudnn=...)', 'F.relu(..., use_cudnn=...)'} <= apis


def test_volatile_on_builds_no_graph_and_off_or_auto_do(tmp_path):
    got, report, _ = run_fixture('v1_volatile.py', tmp_path)
    print(got)
    assert got['on_creator'] == 'None' and got['true_creator'] == 'None' and got['set_creator'] == 'None'
    assert got['on_flag'] == 'ON' and got['on_equals_on']
    assert got['off_has_graph'] and got['auto_has_graph']
    assert 'mixed' in got['mixed_error']
    assert got['on_matches_off'] == 0
    assert "Variable(x, volatile='on')" in reported_apis(report)


def test_zero_grads_loop_ends_at_the_cleargrads_loops_weights(tmp_path):
    got, report, _ = run_fixture('v1_optimizer.py', tmp_path)
    print(got)
    assert got['zero_grads_vs_cleargrads'] == 0 and got['moved_from_start'] > 1e-3
    assert got['norms_difference'] <= 1e-12 and got['first_norm'] > 0
    # weight_decay + clip_grads each step == the WeightDecay + GradientClipping hooks
    assert got['decay_clip_vs_hooks'] <= FLOAT32 and got['decay_clip_vs_plain'] > 1e-3
    assert {'optimizer.zero_grads()', 'optimizer.compute_grads_norm()', 'optimizer.weight_decay(0.1)',
            'optimizer.clip_grads(0.5)'} <= reported_apis(report)


def test_wscale_gives_chainer_v1_standard_deviation_and_old_links_work(tmp_path):
    got, report, _ = run_fixture('v1_links.py', tmp_path)
    print(got)
    expected = {'linear_std': math.sqrt(4.0 / 2000), 'conv_std': math.sqrt(0.02 / (64 * 9)),
                'deconv_std': math.sqrt(2.0 / (32 * 16))}  # v1: sqrt(wscale / fan_in)
    for name, std in expected.items():
        print(f'{name}: measured {got[name]:.5f}, v1 {std:.5f}')
        assert abs(got[name] - std) < 0.03 * std, name
    assert got['linear_bias'] == [0.5] and got['given_values'] == [3.0]  # initialW scaled by sqrt(9)
    assert got['functionset_children'] == ['conv', 'embed', 'fc'] and got['functionset_parameters'] == 5
    assert got['fc_is_link'] and got['fc_output'] == [2, 4]
    assert got['net_params'] == ['/a/W', '/a/b', '/b/W', '/b/b']
    apis = reported_apis(report)
    assert {'F.Linear', 'F.EmbedID', 'FunctionSet(...)', 'L.Linear(..., wscale=4.0)',
            'L.Linear(..., bias=0.5)', 'L.Deconvolution2D(..., use_cudnn=...)'} <= apis
    assert 'Net: Chain.__init__(a=..., b=...)' in apis


def test_old_utilities_and_pre_v4_names(tmp_path):
    got, report, _ = run_fixture('v1_utilities.py', tmp_path)
    assert got['caffe_module'] == 'chainer.links.caffe.caffe_function'
    assert got['snapshot_trigger'] == [2, 'epoch']
    assert got['zeros'] == [[0.0, 0.0], [0.0, 0.0]] and got['init_weight'] == [1.0]
    assert got['hook_rate'] == 0.01
    rows = {row['old_api']: row for row in report['uses']}
    assert 'chainer.functions.caffe' in rows and 'cuda.zeros(...)' in rows
    deprecated = [row for row in report['uses'] if row['changed_in'] == 'v3-v7']
    assert any('WeightDecay' in row['old_api'] for row in deprecated), deprecated


def test_surroundings_of_2016_are_mapped_and_labelled(tmp_path):
    got, report, result = run_fixture('surroundings_2016.py', tmp_path)
    assert got == {'figure_exists': True, 'product': 24, 'alltrue': True, 'int_alias': True, 'clock_ticks': True,
                   'list_is_iterable': True, 'thumbnail': [4, 4],
                   'old_pil_module': 'PIL.ImageOps', 'rank': 2}
    outside = {row['old_api'] for row in report['uses'] if row['changed_in'] == 'outside Chainer'}
    assert {'savefig(..., papertype=...)', 'savefig(..., frameon=...)', 'numpy.float', 'numpy.alltrue',
            'numpy.product',
            'numpy.int', 'time.clock', 'collections.Iterable', 'PIL.Image.ANTIALIAS', 'import ImageOps',
            'numpy.rank'} <= outside
    assert '[outside Chainer]' in result.stderr


def test_gpu_style_v1_device_calls_run_on_numpy_with_device_cpu(tmp_path):
    got, report, _ = run_fixture('v1_devices.py', tmp_path)
    assert got['array_type'] == 'numpy' and abs(got['sum'] - got['expected']) < 1e-4
    assert {'cuda.get_device(...)', 'Linear.to_gpu()', 'Variable.to_gpu()', 'cuda.to_gpu(x)',
            'cuda.get_device_from_id(0)'} <= reported_apis(report)


def _plain_v6_training():
    """What v6_gpu_only.py computes, written for Chainer 7.8.1 on the CPU."""
    import chainer_impl  # noqa: F401
    import chainer
    import chainer.links as L
    np.random.seed(3)
    model = L.Classifier(L.Linear(10, 3))
    optimizer = chainer.optimizers.MomentumSGD(lr=0.1)
    optimizer.setup(model)
    inputs = np.random.normal(size=(64, 10)).astype(np.float32)
    targets = (inputs[:, 0] > 0).astype(np.int32) + (inputs[:, 1] > 0).astype(np.int32)
    for _ in range(20):
        model.cleargrads()
        model(inputs, targets).backward()
        optimizer.update()
    return model.predictor.W.array


def test_gpu_only_v6_script_runs_to_completion_with_device_cpu(tmp_path):
    got, report, _ = run_fixture('v6_gpu_only.py', tmp_path)
    assert got['array_module'] == 'cupy' and got['device'] == '@numpy'
    assert got['losses'][-1] < got['losses'][0]
    difference = float(np.abs(np.load(tmp_path / 'results_W.npy') - _plain_v6_training()).max())
    print(f'v6 GPU script on NumPy vs the same training in plain Chainer: {difference:.3g}')
    assert difference <= FLOAT32
    assert {'import cupy', 'Classifier.to_gpu()', 'cuda.get_device_from_id(0)'} <= reported_apis(report)


def test_gpu_only_script_without_device_flag_stops_with_one_line(tmp_path):
    import chainer_impl  # noqa: F401
    from chainer_impl.legacy.device import gpu_unreachable_reason
    if gpu_unreachable_reason() is None:
        pytest.skip('a GPU is reachable here, so the script runs as written')
    result = run_legacy(SCRIPTS / 'v6_gpu_only.py', tmp_path / 'results.json', check=False)
    assert_one_line_error(result, '--device cpu', 'GPU')
    assert not (tmp_path / 'results.json').exists()


@pytest.mark.parametrize('runner_args, fragment', [
    (['--report', 'out.txt'], '.md or .json'),
    (['--device', 'tpu'], 'unknown --device'),
    (['--data-dir', 'data'], '--data-stand-ins'),
])
def test_bad_runner_arguments_end_in_one_line(tmp_path, runner_args, fragment):
    result = run_legacy(SCRIPTS / 'v1_modes.py', tmp_path / 'r.json', runner_args=runner_args, check=False)
    assert_one_line_error(result, fragment)


def test_missing_script_ends_in_one_line(tmp_path):
    assert_one_line_error(run_legacy(tmp_path / 'nope.py', check=False), 'nope.py', 'not a file')


def test_script_runs_as_main_with_its_argv_path_and_exit_status(tmp_path):
    folder = tmp_path / 'project'
    folder.mkdir()
    (folder / 'helper_module.py').write_text('VALUE = 41\n')
    (folder / 'main.py').write_text(
        'import json, os, sys\nimport helper_module\n'
        "json.dump({'name': __name__, 'argv': sys.argv, 'path0': sys.path[0], 'cwd': os.getcwd(),\n"
        "           'value': helper_module.VALUE + 1}, open(sys.argv[1], 'w'))\n"
        'sys.exit(int(sys.argv[2]))\n')
    result = run_legacy('project/main.py', 'out.json', '3', cwd=tmp_path, check=False)
    assert result.returncode == 3, result.stderr
    got = json.loads((tmp_path / 'out.json').read_text())
    assert got == {'name': '__main__', 'argv': ['project/main.py', 'out.json', '3'], 'path0': str(folder),
                   'cwd': str(tmp_path), 'value': 42}


def test_script_exception_is_shown_as_python_shows_it(tmp_path):
    script = tmp_path / 'fails.py'
    script.write_text('def f():\n    raise KeyError("missing thing")\nf()\n')
    result = run_legacy(script, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith('Traceback (most recent call last):')
    assert f'File "{script}", line 3' in result.stderr and "KeyError: 'missing thing'" in result.stderr
    assert 'runpy' not in result.stderr and 'legacy' not in result.stderr


def test_markdown_report_lists_file_line_old_api_and_fix(tmp_path):
    report = tmp_path / 'checklist.md'
    run_legacy(SCRIPTS / 'v1_optimizer.py', tmp_path / 'r.json', runner_args=['--report', report])
    text = report.read_text()
    assert text.startswith('# Porting checklist for')
    line = next(row for row in text.splitlines() if 'zero_grads' in row)
    assert 'v1_optimizer.py:' in line and '`model.cleargrads()`' in line and '| v2 |' in line


def test_device_cupy_without_a_gpu_ends_in_one_line(tmp_path):
    from chainer_impl.legacy.device import gpu_unreachable_reason
    if gpu_unreachable_reason() is None:
        pytest.skip('a GPU is reachable here')
    result = run_legacy(SCRIPTS / 'v1_modes.py', tmp_path / 'r.json', runner_args=['--device', '@cupy:0'],
                        check=False)
    assert_one_line_error(result, '--device @cupy:0', 'use --device cpu')
