"""Python 2 scripts (translated in memory), v1's positional link arguments,
the defaults v2 changed without an error, and scipy.misc's stand-ins."""
import math
import textwrap

from chainer_impl.legacy import era, python2
from tests.legacy.legacy_helpers import SCRIPTS, reported_apis, run_fixture, run_legacy


def test_python2_script_runs_translated_with_v1_positionals_division_and_imsave(tmp_path):
    source = (SCRIPTS / 'py2_positional.py').read_text()
    got, report, result = run_fixture('py2_positional.py', tmp_path)
    print(got)
    assert (SCRIPTS / 'py2_positional.py').read_text() == source  # the file itself is not translated
    assert 'half of 7 is 3' in result.stdout and 'is Python 2' in result.stderr
    for name, std in {'fc_std': math.sqrt(0.5 / 1000), 'conv_std': math.sqrt(2.0 / (16 * 9))}.items():
        print(f'{name}: measured {got[name]:.5f}, v1 {std:.5f}')  # v1: sqrt(wscale / fan_in)
        assert abs(got[name] - std) < 0.05 * std, name
    assert got['fc_has_bias'] and got['conv_bias'] == [0.25]
    assert not got['v2_nobias_has_bias'] and got['v2_constant'] == [0.5]  # v2 positionals stay v2's
    assert got['total'] == 9 and got['has_key'] and got['caught'] == "'gone'"
    assert got['divisions'] == [3, -4, 3.5, 3.5, 3, 0, 0, 1, 1, 2]  # Python 2's / on integers floors
    assert got['steps'] == 4 and got['array'] == [0, 0, 0, 0, 1, 1] and got['floats'] == [0.25, 0.25]
    assert got['sample'] == [[0, 64], [128, 255]]  # scipy.misc.imsave stretched min..max to 0..255
    assert got['colour'] == [255, 0, 0, 0, 0, 0] and got['resized'] == [2, 3, 3]
    assert got['counts'] == {'0': 4, '1': 3, '2': 3}
    assert got['python2_pickle'] == '\xff\xfe'  # read again as latin-1
    rows = {(row['line'], row['changed_in']): row for row in report['uses']}
    print_row = next(row for row in report['uses'] if row['old_api'] == "print 'half of 7 is', 7 / 2")
    assert "lib2to3 (print) made it `print('half of 7 is', 7 / 2)`" == print_row['runner_did']
    assert any('(except)' in row['runner_did'] for row in rows.values())
    assert {'L.Linear(..., 0.5)', 'L.Convolution2D(..., 2.0, 0.25)', 'scipy.misc.imsave(...)',
            'a / b of two integers', 'a /= b of two integers',
            'pickle.load of a Python 2 pickle'} <= reported_apis(report)
    assert (tmp_path / 'sample.png').is_file() and (tmp_path / 'colour.png').is_file()


def test_v1_code_gets_the_defaults_v2_changed_silently(tmp_path):
    got, report, result = run_fixture('v1_defaults.py', tmp_path)
    print(got)
    assert 'reads as Chainer v1 code (zero_grads()' in result.stderr
    assert got['lstm_biases'] == [0.0]  # v2+: the forget gate's biases are 1
    assert got['gru_W_shape'] == [4, 3] and got['gru_U_shape'] == [4, 4] and got['gru_out'] == [2, 4]
    assert got['gru_stateless']
    assert got['wscale_one_has_bias'] and not got['nobias_has_bias']
    assert got['deconv_bias'] == [0.5] and got['deconv_out'] == [1, 3, 8, 8]
    assert got['one_piece_is_variable'] and got['two_pieces'] == 3
    assert got['len'] == 6 and got['shape_len'] == 2
    assert {'L.GRU(4, 3)', 'len(variable)', 'L.Linear(..., 1)', 'F.split_axis(...) giving one piece',
            'L.LSTM(...) without forget_bias_init'} <= reported_apis(report)


def test_chainer_version_flag_keeps_v7_meaning(tmp_path):
    script = tmp_path / 'v1ish.py'
    script.write_text('import json, sys\nimport chainer.links as L\n'
                      'json.dump({"bias": L.Linear(5, 4, 1).b is not None,\n'
                      '           "forget": float(L.LSTM(2, 2).upward.b.data.max())}, open(sys.argv[1], "w"))\n'
                      'optimizer = None  # optimizer.zero_grads() in a comment is not a call\n'
                      'def never(o):\n    o.zero_grads()\n')
    out = tmp_path / 'out.json'
    run_legacy(script, out)
    assert out.read_text() == '{"bias": true, "forget": 0.0}'  # auto: v1 (the zero_grads call)
    run_legacy(script, out, runner_args=['--chainer-version', '2+'])
    assert out.read_text() == '{"bias": false, "forget": 1.0}'  # Chainer 7.8.1: nobias=1


def test_era_is_read_from_the_script_and_the_modules_of_its_folder(tmp_path):
    (tmp_path / 'net.py').write_text('import chainer\nclass Net(chainer.Chain):\n'
                                     '    def __call__(self, x, test=False):\n        return self.bn(x, test=test)\n')
    (tmp_path / 'train.py').write_text('from net import Net\nimport numpy\nmodel = Net()\n')
    verdict = era.detect(tmp_path / 'train.py')
    assert verdict.v1 and 'net.py:4' in verdict.evidence
    (tmp_path / 'train.py').write_text('from net import Net\nmodel = Net()\nmodel.cleargrads()\n')
    assert not era.detect(tmp_path / 'train.py').v1  # a v2 call: v2+ code being ported
    (tmp_path / 'plain.py').write_text('test = 3\nprint(test)\n')  # an assignment named test is no marker
    assert not era.detect(tmp_path / 'plain.py').v1


def test_python3_files_are_not_translated_and_broken_ones_keep_their_error(tmp_path):
    fine = tmp_path / 'fine.py'
    fine.write_text('print("ok", 3 / 2)\n')
    assert python2.translate(fine) is None
    broken = tmp_path / 'broken.py'
    broken.write_text('def f(:\n    pass\n')
    assert python2.translate(broken) is None
    uses_xrange = tmp_path / 'py2names.py'
    uses_xrange.write_text('for i in xrange(3):\n    print(i)\n')
    translation = python2.translate(uses_xrange)
    assert translation.changed_lines() == [(1, ['xrange'], 'for i in xrange(3):', 'for i in range(3):')]


def test_future_division_keeps_true_division(tmp_path):
    script = tmp_path / 'future.py'
    script.write_text(textwrap.dedent('''\
        from __future__ import division
        import sys
        print >>sys.stderr, 'x'
        open(sys.argv[1], 'w').write(repr(7 / 2))
    '''))
    run_legacy(script, tmp_path / 'out.txt')
    assert (tmp_path / 'out.txt').read_text() == '3.5'


def test_script_that_neither_python_nor_lib2to3_can_read_fails_as_python_shows_it(tmp_path):
    broken = tmp_path / 'broken.py'
    broken.write_text('print "fine"\ndef f(:\n    pass\n')
    result = run_legacy(broken, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f'  File "{broken}", line 1') and 'SyntaxError' in result.stderr
    assert 'neither Python 3 nor Python 2 that lib2to3 can translate' in result.stderr
    assert 'runpy' not in result.stderr and 'Traceback' not in result.stderr
