"""The upstream-test command's comparison with a baseline run (no Chainer checkout needed)."""
import json

import pytest

from gan_common.errors import UserError
from ganport.commands.upstream_chainer_tests import compare, comparable_id, table


def test_numpy2_scalar_reprs_in_ids_read_as_numpy1():
    numpy2 = 'TestClip_param_15_{x_min_max=(np.float32(-0.75), np.float64(1.5)), flag=np.True_, t=bool}::test'
    assert comparable_id(numpy2) == 'TestClip_param_15_{x_min_max=(-0.75, 1.5), flag=True, t=bool_}::test'
    numpy1 = 'TestCast_param_68_{in_type=bool_, shape=(3, 2)}::test_forward'
    assert comparable_id(numpy1) == numpy1


def write_run(path, outcomes):
    path.write_text(json.dumps({'areas': {'functions': {'outcomes': outcomes, 'seconds': 1.0}}}))
    return str(path)


def test_compare_lists_regressions_and_failures_without_counterpart(tmp_path):
    baseline = write_run(tmp_path / 'np126.json', {
        'A_{v=0.5}::test': 'passed', 'B::test': 'passed', 'C::test': 'failed', 'D::test': 'passed'})
    here = {'functions': {'seconds': 2.0, 'outcomes': {
        'A_{v=np.float32(0.5)}::test': 'failed',  # same test as A under NumPy 1: a regression
        'B::test': 'passed', 'C::test': 'failed',  # fails in both: not a regression
        'D::test': 'errors', 'E_{x=array([0.3])}::test': 'failed'}}}
    regressions, unmatched = compare(here, baseline)
    assert regressions == ['A_{v=np.float32(0.5)}::test', 'D::test']
    assert unmatched == ['E_{x=array([0.3])}::test']
    assert table(here).splitlines()[-1] == '| functions | 1 | 3 | 0 | 1 | 0.0 min |'


def test_compare_refuses_a_file_that_is_not_a_run(tmp_path):
    (tmp_path / 'other.json').write_text('{"python": "x"}')
    with pytest.raises(UserError, match='not a --json file'):
        compare({}, str(tmp_path / 'other.json'))
