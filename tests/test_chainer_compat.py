"""chainer_impl.compat: Chainer 7.8.1 imports and reports correctly on NumPy 2.

Each check would fail without the patch it covers. Control tests show the
breakage itself: plain ``import chainer`` failing without the shim, and
Chainer's own (unwrapped) ``Summary.add`` drifting in float32.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import chainer_impl  # noqa: F401  (installs the shim before chainer)
from chainer_impl import compat

import chainer
from chainer import reporter

REPO = Path(__file__).resolve().parent.parent
NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= '2.0.0'
numpy2_only = pytest.mark.skipif(not NUMPY_2, reason='shows a NumPy 2 breakage')


def run_python(code, timeout=120):
    """Run ``code`` in a fresh interpreter rooted at the repository."""
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    env.pop('PYTHONWARNINGS', None)
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


HIDE_NUMPY_DISTUTILS_AND_PKG_RESOURCES = """
    import sys
    sys.modules['numpy.distutils'] = None
    sys.modules['numpy.distutils.system_info'] = None
    sys.modules['pkg_resources'] = None
    import numpy as np
    assert 'sctypes' not in np.__dict__, 'NumPy < 2: this test proves nothing'
"""


def original_summary_add():
    """Chainer's own Summary.add, as captured by compat's wrapper."""
    add = reporter.Summary.add
    for cell in add.__closure__ or ():
        candidate = cell.cell_contents
        if callable(candidate) and getattr(candidate, '__qualname__', '') == 'Summary.add':
            return candidate
    raise AssertionError('Summary.add is not compat\'s wrapper')


# --- np.sctypes ------------------------------------------------------------

def test_sctypes_restored_with_float16_in_float():
    assert hasattr(np, 'sctypes')
    assert np.float16 in np.sctypes['float']
    assert np.float32 in np.sctypes['float']
    assert np.float64 in np.sctypes['float']
    # as_strided builds {itemsize: int type} from sctypes['int'] at import time
    assert {t().itemsize for t in np.sctypes['int']} == {1, 2, 4, 8}


# --- importing in fresh interpreters ----------------------------------------

def test_subprocess_import_prints_version():
    result = run_python('import chainer_impl, chainer; print(chainer.__version__)')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '7.8.1'


@numpy2_only
def test_control_plain_chainer_import_fails_on_numpy2():
    """Without the shim Chainer does not import at all on NumPy 2."""
    result = run_python(HIDE_NUMPY_DISTUTILS_AND_PKG_RESOURCES + """
    import chainer
    """)
    assert result.returncode != 0
    assert 'sctypes' in result.stderr or 'distutils' in result.stderr \
        or 'pkg_resources' in result.stderr, result.stderr


@numpy2_only
def test_import_and_as_strided_backward_without_distutils_or_pkg_resources():
    result = run_python(HIDE_NUMPY_DISTUTILS_AND_PKG_RESOURCES + """
    import chainer_impl, chainer
    import chainer.functions as F
    assert chainer.__version__ == '7.8.1'
    # the stand-ins, not the real modules, were used
    assert not hasattr(sys.modules['pkg_resources'], '__file__')
    assert not hasattr(sys.modules['numpy.distutils.system_info'], '__file__')
    assert sys.modules['numpy.distutils.system_info'].get_info('blas_opt') == {}
    try:
        sys.modules['pkg_resources'].require('surely-not-installed-pkg>=1')
    except sys.modules['pkg_resources'].DistributionNotFound:
        pass
    else:
        raise AssertionError('stand-in require found a missing package')
    assert sys.modules['pkg_resources'].get_distribution('numpy>=1').version == np.__version__

    # as_strided's backward checks gy.dtype against np.sctypes['float']
    x = chainer.Variable(np.arange(12, dtype=np.float32))
    y = F.as_strided(x, (3, 3), (2, 1))   # y[i, j] = x[2 * i + j]
    F.sum(y * y).backward()
    expected = np.zeros(12, np.float32)
    for i in range(3):
        for j in range(3):
            expected[2 * i + j] += 2 * (2 * i + j)
    np.testing.assert_array_equal(x.grad, expected)
    print('OK')
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('OK')


def test_as_strided_backward_in_process_float16():
    import chainer.functions as F
    x = chainer.Variable(np.arange(6, dtype=np.float16))
    y = F.as_strided(x, (2, 2), (1, 1))  # overlapping windows
    F.sum(y).backward()
    np.testing.assert_array_equal(x.grad, np.array([1, 2, 1, 0, 0, 0], np.float16))
    assert x.grad.dtype == np.float16


# --- reporter summaries accumulate in float64 -------------------------------

N_REPORTS = 100_000
POINT_ONE = np.float32(0.1)


def test_summary_mean_of_many_float32_values():
    summary = reporter.Summary()
    for _ in range(N_REPORTS):
        summary.add(POINT_ONE)
    mean = summary.compute_mean()
    assert mean.dtype == np.float64
    assert abs(float(mean) - float(POINT_ONE)) < 1e-9
    assert abs(float(mean) - 0.1) < 1e-8  # float32(0.1) is 0.1 + 1.5e-9


def test_dict_summary_mean_of_many_float32_values():
    summary = reporter.DictSummary()
    zero_d = np.array(POINT_ONE)  # 0-d float32 arrays, as losses are reported
    for _ in range(N_REPORTS):
        summary.add({'loss': zero_d, 'acc': chainer.Variable(zero_d)})
    means = summary.compute_mean()
    for key in ('loss', 'acc'):
        assert abs(float(means[key]) - float(POINT_ONE)) < 1e-9, key


@numpy2_only
def test_control_unpatched_summary_drifts():
    """Chainer's own add, fed the same values, drifts far past 1e-9: the two
    tests above would fail without compat's patch."""
    add = original_summary_add()
    summary = reporter.Summary()
    for _ in range(N_REPORTS):
        add(summary, POINT_ONE)
    assert summary.compute_mean().dtype == np.float32
    assert abs(float(summary.compute_mean()) - float(POINT_ONE)) > 1e-6


def test_summary_std_matches_numpy_float64():
    rng = np.random.RandomState(0)
    values = (100.0 + rng.standard_normal(20_000)).astype(np.float32)
    summary = reporter.Summary()
    dict_summary = reporter.DictSummary()
    for v in values:
        summary.add(v)
        dict_summary.add({'x': v})
    expected = values.astype(np.float64)
    mean, std = summary.make_statistics()
    assert abs(float(mean) - expected.mean()) < 1e-9
    assert abs(float(std) - expected.std()) < 1e-6
    stats = dict_summary.make_statistics()
    assert abs(float(stats['x.std']) - expected.std()) < 1e-6
    if NUMPY_2:  # on NumPy 2 the unpatched float32 E[x^2] - E[x]^2 is nowhere near
        raw = reporter.Summary()
        add = original_summary_add()
        for v in values:
            add(raw, v)
        assert abs(float(raw.make_statistics()[1]) - expected.std()) > 1e-3


def test_summary_still_accepts_python_scalars_and_weights():
    summary = reporter.Summary()
    summary.add(1.0, weight=3)
    summary.add(np.float32(5.0), weight=np.float32(1))
    summary.add(np.int32(2))
    assert float(summary.compute_mean()) == pytest.approx((3 + 5 + 2) / 5)


def test_summary_serialization_round_trip(tmp_path):
    summary = reporter.DictSummary()
    for v in np.linspace(0, 1, 11, dtype=np.float32):
        summary.add({'a': v})
    path = tmp_path / 'summary.npz'
    chainer.serializers.save_npz(str(path), summary)
    loaded = reporter.DictSummary()
    chainer.serializers.load_npz(str(path), loaded)
    assert loaded.compute_mean()['a'] == summary.compute_mean()['a']


def test_install_is_idempotent(monkeypatch):
    before = reporter.Summary.add
    resize_module = sys.modules['chainer.functions.array.resize_images']
    compute_before = resize_module.compute_indices_and_weights
    pad_sequence = sys.modules['chainer.functions.array.pad_sequence'].PadSequence
    pad_forward_before = pad_sequence.forward
    convert = sys.modules['chainer.dataset.convert']
    concat_before = convert._concat_arrays_with_padding
    compat.install()
    compat.install()
    assert reporter.Summary.add is before
    assert resize_module.compute_indices_and_weights is compute_before
    assert pad_sequence.forward is pad_forward_before
    assert convert._concat_arrays_with_padding is concat_before
    assert original_summary_add() is not before

    calls = []
    real_widen = compat._widen_to_float64

    def counting_widen(value):
        calls.append(value)
        return real_widen(value)

    monkeypatch.setattr(compat, '_widen_to_float64', counting_widen)
    summary = reporter.Summary()
    summary.add(np.float32(1.5))
    assert len(calls) == 1  # one wrapper, not two
    assert summary.compute_mean() == 1.5
    assert np.sctypes['float'].count(np.float16) == 1


# --- F.resize_images (numpy.float, removed in NumPy 1.24) --------------------

def bilinear_reference(x, out_size, align_corners):
    (H, W), (oh, ow) = x.shape[2:], out_size

    def coords(n_in, n_out):
        if align_corners:
            c = np.linspace(0, n_in - 1, n_out)
        else:
            c = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
        lo = np.floor(c).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), c - lo

    v0, v1, wv = coords(H, oh)
    u0, u1, wu = coords(W, ow)
    rows = x[:, :, v0, :] * (1 - wv)[:, None] + x[:, :, v1, :] * wv[:, None]
    return rows[..., u0] * (1 - wu) + rows[..., u1] * wu


@pytest.mark.parametrize('align_corners', [True, False])
def test_resize_images_bilinear_values_and_gradient(align_corners):
    import chainer.functions as F
    from chainer import gradient_check
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    y = F.resize_images(x, (7, 3), align_corners=align_corners)
    assert y.dtype == np.float32 and y.shape == (2, 3, 7, 3)
    np.testing.assert_allclose(y.array, bilinear_reference(x.astype(np.float64), (7, 3),
                                                           align_corners), rtol=1e-5, atol=1e-6)
    # linear in x, so float32 finite differences are accurate
    gradient_check.check_backward(
        lambda v: F.resize_images(v, (7, 3), align_corners=align_corners), x,
        rng.standard_normal((2, 3, 7, 3)).astype(np.float32), eps=1e-1, atol=1e-3, rtol=1e-3)


def test_resize_images_nearest_and_numpy_left_alone():
    import chainer.functions as F
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    y = F.resize_images(x, (4, 4), mode='nearest').array
    np.testing.assert_array_equal(y[0, 0], np.kron(x[0, 0], np.ones((2, 2), np.float32)))
    # the alias is not put back into numpy itself
    assert 'float' not in np.__dict__
    with pytest.raises(AttributeError):
        np.float  # noqa: B018


def test_numpy_product_for_chainers_own_tests():
    assert np.product([2, 3, 4]) == 24
    assert np.product(np.ones((2, 5)), axis=1).tolist() == [1.0, 1.0]


@pytest.mark.parametrize('dtype, padding, stored', [(np.uint8, -1, 255), (np.uint16, -1, 65535),
                                                     (np.int8, 200, -56), (np.uint32, -2, 2**32 - 2)])
def test_pad_sequence_wraps_out_of_range_integer_padding_like_numpy1(dtype, padding, stored):
    import chainer.functions as F
    xs = [np.arange(1, 3, dtype=dtype), np.arange(1, 5, dtype=dtype)]
    with pytest.warns(DeprecationWarning, match='out of range'):
        y = F.pad_sequence(xs, padding=padding).array
    assert y.dtype == dtype
    assert y.tolist() == [[1, 2, stored, stored], [1, 2, 3, 4]]


def test_pad_sequence_in_range_and_float_padding_unchanged():
    import warnings
    import chainer.functions as F
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        in_range = F.pad_sequence([np.ones(1, np.uint8), np.ones(2, np.uint8)], padding=7)
        y = F.pad_sequence([np.ones(1, np.float32), np.ones(3, np.float32)], padding=-1)
    assert in_range.array.tolist() == [[1, 7], [1, 1]]
    assert y.dtype == np.float32 and y.array.tolist() == [[1, -1, -1], [1, 1, 1]]
    assert compat.integer_as_numpy1(-1.5, np.uint8) == -1.5


def test_concat_examples_wraps_out_of_range_integer_padding_like_numpy1():
    import warnings
    from chainer.dataset import concat_examples
    batch = [(np.array([1, 2], np.uint8), np.int32(3)), (np.array([4], np.uint8), np.int32(5))]
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # NumPy 1's numpy.full did not warn
        images, labels = concat_examples(batch, padding=-1)
    assert images.dtype == np.uint8 and images.tolist() == [[1, 2], [4, 255]]
    assert labels.tolist() == [3, 5]


CHAINERMN_UNPACK = '''
import sys, types
import numpy as np
mpi = types.ModuleType('mpi4py.MPI'); mpi.FLOAT = 'float'  # ChainerMN imports mpi4py; it is not needed here
sys.modules.update({'mpi4py': types.ModuleType('mpi4py'), 'mpi4py.MPI': mpi})
sys.modules['mpi4py'].MPI = mpi
import chainer_impl  # noqa: F401
import chainer
import chainermn.communicators._memory_utility as memory

class Buffer:  # what the communicator received: 0.5 everywhere
    def to_device(self, array, size, offset, stream):
        array[...] = 0.5

def unpack(function):
    param = chainer.Parameter(np.zeros((2, 3), np.float32))
    param.grad = np.ones((2, 3), np.float32)
    try:
        function([param], 'grad', Buffer(), np.float16, False)
    except ValueError as error:
        return type(error).__name__
    return float(param.grad.min()), float(param.grad.max()), str(param.grad.dtype)

print(unpack(memory.unpack_params))
print(unpack(memory.unpack_params.__wrapped__))
'''


@pytest.mark.skipif(np.__version__ < '2', reason='NumPy 1 copies for copy=False itself')
def test_chainermn_unpacks_float16_buffers_into_float32_grads():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), PYTHONWARNINGS='ignore')
    result = subprocess.run([sys.executable, '-c', CHAINERMN_UNPACK], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    patched, original = result.stdout.split()[-4:-1], result.stdout.split()[-1]
    print('patched:', patched, 'unpatched:', original)
    assert ' '.join(patched) == "(0.5, 0.5, 'float32')"  # the received values, cast back to the grad's dtype
    assert original == 'ValueError'  # control: ChainerMN's own code under NumPy 2
