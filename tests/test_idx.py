"""Reading, finding and verifying IDX datasets (gan_common.idx)."""
import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_common import idx
from gan_common.errors import UserError
from tests.helpers import REPO, SHARED_DATA

MNIST_DIR = REPO / 'data' / 'mnist'
MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def idx_bytes(array):
    """Encode a uint8 array as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f'>{array.ndim}I', *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, payload):
    path.write_bytes(gzip.compress(payload))
    return path


def assert_one_line_naming(error_info, path):
    message = str(error_info.value)
    assert '\n' not in message
    assert Path(path).name in message


@pytest.fixture(autouse=True)
def no_env_data_dir(monkeypatch):
    monkeypatch.delenv(idx.DATA_DIR_ENV, raising=False)


@pytest.fixture
def mnist_copy(tmp_path):
    """A folder with links to the real MNIST files, safe to break one by one."""
    directory = tmp_path / 'mnist'
    directory.mkdir()
    for name in idx.DATASETS['mnist'].files:
        (directory / name).symlink_to(MNIST_DIR / name)
    return directory


def replace_file(path, data):
    path.unlink()
    path.write_bytes(data)


# ---------------------------------------------------------------- real data

def test_mnist_train_shapes_dtypes_and_label_counts():
    images, labels = idx.load_idx_dataset('mnist', 'train')
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_TRAIN_LABEL_COUNTS
    assert images.max() == 255 and images.flags.writeable


def test_mnist_test_split():
    images, labels = idx.load_idx_dataset('mnist', 'test')
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert labels.max() == 9


@pytest.mark.shared_data('fashion-mnist')
def test_fashion_mnist_from_parent_data_dir():
    images, labels = idx.load_idx_dataset('fashion-mnist', 'test', data_dir=SHARED_DATA)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10


def test_class_names():
    assert idx.DATASETS['mnist'].class_names == tuple('0123456789')
    fashion = idx.DATASETS['fashion-mnist'].class_names
    assert len(fashion) == 10 and fashion[0] == 'T-shirt/top' and fashion[9] == 'Ankle boot'


def test_verify_checksums_accepts_real_mnist():
    idx.verify_checksums(MNIST_DIR, 'mnist')


# ---------------------------------------------------------------- finding

def test_find_prefers_data_dir_then_env_then_repo(tmp_path, monkeypatch, mnist_copy):
    assert idx.find_dataset_dir('mnist', mnist_copy) == mnist_copy
    assert idx.find_dataset_dir('mnist', tmp_path) == mnist_copy  # parent holding mnist/
    monkeypatch.setenv(idx.DATA_DIR_ENV, str(tmp_path))
    assert idx.find_dataset_dir('mnist') == mnist_copy
    monkeypatch.delenv(idx.DATA_DIR_ENV)
    assert idx.find_dataset_dir('mnist') == MNIST_DIR


def test_find_reports_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(idx, 'SHIPPED_DATA_DIR', tmp_path / 'repo-data')
    monkeypatch.setattr(idx, 'CACHE_DATA_DIR', tmp_path / 'cache')
    with pytest.raises(UserError) as error:
        idx.find_dataset_dir('mnist')
    message = str(error.value)
    assert '\n' not in message
    for looked_in in (tmp_path / 'repo-data' / 'mnist', tmp_path / 'cache' / 'mnist'):
        assert str(looked_in) in message
    assert 'ganport download mnist' in message and '--data-dir' in message


def test_a_named_data_dir_without_the_data_is_an_error_not_a_fallback(tmp_path):
    """D18: a missing or empty --data-dir never falls back to the bundled data/mnist."""
    with pytest.raises(UserError, match='does not exist') as error:
        idx.find_dataset_dir('mnist', tmp_path / 'missing')
    assert '\n' not in str(error.value)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(UserError) as error:
        idx.find_dataset_dir('mnist', tmp_path / 'empty')
    assert str(MNIST_DIR) not in str(error.value) and str(tmp_path / 'empty') in str(error.value)


def test_find_names_the_missing_file(mnist_copy):
    (mnist_copy / 't10k-labels-idx1-ubyte.gz').unlink()
    with pytest.raises(UserError) as error:
        idx.load_idx_dataset('mnist', 'train', data_dir=mnist_copy)
    assert_one_line_naming(error, 't10k-labels-idx1-ubyte.gz')


def test_unknown_dataset_and_split():
    with pytest.raises(UserError, match='choose one of mnist, fashion-mnist'):
        idx.find_dataset_dir('cifar')
    with pytest.raises(UserError, match='use one of train, test'):
        idx.load_idx_dataset('mnist', 'valid')


# ---------------------------------------------------------------- reading generated files

def test_read_idx_raw_and_gzip_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / 'raw').write_bytes(idx_bytes(array))
    write_gz(tmp_path / 'packed.gz', idx_bytes(array))
    np.testing.assert_array_equal(idx.read_idx(tmp_path / 'raw'), array)
    np.testing.assert_array_equal(idx.read_idx(tmp_path / 'packed.gz', ndim=3), array)


def test_load_idx_pair(tmp_path):
    images = write_gz(tmp_path / 'images.gz', idx_bytes(np.zeros((5, 28, 28))))
    labels = write_gz(tmp_path / 'labels.gz', idx_bytes(np.arange(5)))
    loaded_images, loaded_labels = idx.load_idx_pair(images, labels)
    assert loaded_images.shape == (5, 28, 28) and loaded_labels.tolist() == [0, 1, 2, 3, 4]


def broken_files(tmp_path):
    """(path, expected words) for each kind of broken IDX file."""
    good = idx_bytes(np.ones((4, 28, 28)))
    packed = gzip.compress(good)
    bad_crc = packed[:-8] + bytes([packed[-8] ^ 0xFF]) + packed[-7:]
    cases = {
        'missing.gz': (None, 'does not exist'),
        'truncated-stream.gz': (packed[:len(packed) // 2], 'corrupt gzip'),
        'bad-crc.gz': (bad_crc, 'corrupt gzip'),
        'short-payload.gz': (gzip.compress(good[:-100]), 'truncated (got 3036 of 3136 bytes)'),
        'trailing-garbage.gz': (gzip.compress(good + b'junk'), '4 bytes of trailing data'),
        'wrong-magic.gz': (gzip.compress(b'\0\0\x0d\x03' + good[4:]), 'magic number 0x00000d03'),
        'labels-not-images.gz': (gzip.compress(idx_bytes(np.arange(4))), 'expected 0x00000803'),
        'header-only.gz': (gzip.compress(b'\0\0\x08\x03\0\0'), 'inside its header'),
    }
    for name, (data, words) in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        yield tmp_path / name, words


def test_every_broken_file_is_one_line_user_error(tmp_path):
    for path, words in broken_files(tmp_path):
        with pytest.raises(UserError) as error:
            idx.read_idx(path, ndim=3)
        assert_one_line_naming(error, path)
        assert words in str(error.value), path.name


def test_pair_count_mismatch(tmp_path):
    images = write_gz(tmp_path / 'images.gz', idx_bytes(np.zeros((5, 28, 28))))
    labels = write_gz(tmp_path / 'labels.gz', idx_bytes(np.arange(4)))
    with pytest.raises(UserError) as error:
        idx.load_idx_pair(images, labels)
    assert_one_line_naming(error, 'images.gz')
    assert 'labels.gz holds 4 labels' in str(error.value)


def test_wrong_checksum_names_file_md5s_and_fix(mnist_copy):
    labels = mnist_copy / 'train-labels-idx1-ubyte.gz'
    replace_file(labels, (MNIST_DIR / labels.name).read_bytes()[:1000])
    with pytest.raises(UserError) as error:
        idx.load_idx_dataset('mnist', 'train', data_dir=mnist_copy)
    assert_one_line_naming(error, labels)
    message = str(error.value)
    assert 'd53e105ee54ea40749a09fcbcd1e9432' in message  # expected
    assert idx.md5_of(labels) in message  # actual
    assert 'ganport download mnist' in message


def test_verify_false_still_reads_contents(mnist_copy):
    labels = mnist_copy / 'train-labels-idx1-ubyte.gz'
    replace_file(labels, gzip.compress(idx_bytes(np.arange(10))))
    with pytest.raises(UserError, match='60000 images but .* holds 10 labels'):
        idx.load_idx_dataset('mnist', 'train', data_dir=mnist_copy, verify=False)


# ---------------------------------------------------------------- command line

def run_check(*args):
    return subprocess.run([sys.executable, str(REPO / 'scripts' / 'download.py'), '--check', 'mnist', *args],
                          capture_output=True, text=True, env={**os.environ, idx.DATA_DIR_ENV: ''}, timeout=60)


def test_cli_check_good_copy(mnist_copy):
    result = run_check('--data-dir', str(mnist_copy))
    assert result.returncode == 0, result.stderr
    assert 'mnist OK' in result.stdout and 'train 60000, test 10000' in result.stdout


@pytest.mark.parametrize('damage', ['missing', 'truncated', 'corrupted'])
def test_cli_check_fails_with_one_line(mnist_copy, damage):
    path = mnist_copy / 't10k-labels-idx1-ubyte.gz'
    original = (MNIST_DIR / path.name).read_bytes()
    if damage == 'missing':
        path.unlink()
    elif damage == 'truncated':
        replace_file(path, original[:len(original) // 2])
    else:
        replace_file(path, original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
    result = run_check('--data-dir', str(mnist_copy))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ')
    assert path.name in lines[0] and 'Traceback' not in result.stderr
    assert result.stdout == ''


def test_cli_help():
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'download.py'), '--help'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and '--data-dir' in result.stdout and 'fashion-mnist' in result.stdout


def test_module_imports_no_framework():
    code = 'import sys, gan_common.idx; print(sorted({"torch", "chainer"} & set(sys.modules)))'
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == '[]', result.stderr
