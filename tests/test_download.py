"""download_dataset and scripts/download.py against a real HTTP server on 127.0.0.1."""
import gzip
import hashlib
import socket
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_common import idx
from gan_common.errors import UserError
from tests.helpers import checkout_env, leftovers, serve_folder

REPO = Path(__file__).resolve().parent.parent
MNIST_DIR = REPO / 'data' / 'mnist'


def idx_gz(array):
    """A gzip-compressed IDX file holding ``array`` as uint8."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f'>{array.ndim}I', *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


TINY_FILES = {
    'train-images-idx3-ubyte.gz': idx_gz(np.full((3, 28, 28), 7)),
    'train-labels-idx1-ubyte.gz': idx_gz(np.array([0, 1, 2])),
}
TINY_REGISTRY = {name: idx.KnownFile(hashlib.md5(data).hexdigest(), len(data))
                 for name, data in TINY_FILES.items()}


@pytest.fixture
def server_root(tmp_path):
    """Serve ``root`` at the returned base URL; ``root/good/`` holds the tiny files."""
    root = tmp_path / 'served'
    (root / 'good').mkdir(parents=True)
    (root / 'empty').mkdir()
    for name, data in TINY_FILES.items():
        (root / 'good' / name).write_bytes(data)
    with serve_folder(root) as url:
        yield root, url


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}/'


def download(dest, *base_urls, progress=False):
    return idx.download_dataset('mnist', dest, base_urls=list(base_urls), progress=progress, files=TINY_REGISTRY)


def test_download_success_with_progress(server_root, tmp_path, capsys):
    _, url = server_root
    dest = download(tmp_path / 'dest', url + 'good/', progress=True)
    assert leftovers(dest) == sorted(TINY_FILES)
    images, labels = idx.load_idx_pair(dest / 'train-images-idx3-ubyte.gz', dest / 'train-labels-idx1-ubyte.gz')
    assert images.shape == (3, 28, 28) and labels.tolist() == [0, 1, 2]
    assert 'train-images-idx3-ubyte.gz' in capsys.readouterr().err  # the tqdm bar


def test_checksum_mismatch_leaves_nothing(server_root, tmp_path):
    root, url = server_root
    (root / 'good' / 'train-images-idx3-ubyte.gz').write_bytes(idx_gz(np.zeros((3, 28, 28))))
    dest = tmp_path / 'dest'
    with pytest.raises(UserError) as error:
        download(dest, url + 'good/')
    message = str(error.value)
    assert '\n' not in message and 'train-images-idx3-ubyte.gz' in message
    assert TINY_REGISTRY['train-images-idx3-ubyte.gz'].md5 in message and 'by hand' in message
    assert leftovers(dest) == []  # no bad file, no .partial-* file


def test_http_404_names_url(server_root, tmp_path):
    _, url = server_root
    with pytest.raises(UserError) as error:
        download(tmp_path / 'dest', url + 'empty/')
    message = str(error.value)
    assert '\n' not in message and 'HTTP 404' in message
    assert url + 'empty/train-images-idx3-ubyte.gz' in message and str(tmp_path / 'dest') in message
    assert leftovers(tmp_path / 'dest') == []


def test_connection_refused(tmp_path):
    url = closed_port_url()
    with pytest.raises(UserError) as error:
        download(tmp_path / 'dest', url)
    message = str(error.value)
    assert '\n' not in message and url in message and 'refused' in message.lower()


def test_falls_back_to_second_mirror(server_root, tmp_path):
    _, url = server_root
    dest = download(tmp_path / 'dest', closed_port_url(), url + 'empty/', url + 'good/')
    assert leftovers(dest) == sorted(TINY_FILES)


def test_skips_valid_files_and_replaces_bad_ones(server_root, tmp_path):
    root, url = server_root
    dest = tmp_path / 'dest'
    dest.mkdir()
    (dest / 'train-images-idx3-ubyte.gz').write_bytes(TINY_FILES['train-images-idx3-ubyte.gz'])
    (dest / 'train-labels-idx1-ubyte.gz').write_bytes(b'stale')
    (root / 'good' / 'train-images-idx3-ubyte.gz').unlink()  # would 404 if asked for
    download(dest, url + 'good/')
    assert (dest / 'train-labels-idx1-ubyte.gz').read_bytes() == TINY_FILES['train-labels-idx1-ubyte.gz']
    assert leftovers(dest) == sorted(TINY_FILES)


# ---------------------------------------------------------------- command line

def run_download(*args):
    return subprocess.run([sys.executable, str(REPO / 'scripts' / 'download.py'), *args],
                          capture_output=True, text=True, timeout=60, env=checkout_env())


def test_cli_downloads_real_mnist_from_local_mirror(server_root, tmp_path):
    root, url = server_root
    for name in idx.DATASETS['mnist'].files:
        (root / 'mnist' / name).parent.mkdir(exist_ok=True)
        (root / 'mnist' / name).symlink_to(MNIST_DIR / name)
    result = run_download('mnist', '--dest', str(tmp_path / 'data'), '--url', url + 'empty/', '--url', url + 'mnist/')
    assert result.returncode == 0, result.stderr
    assert 'mnist ready in' in result.stdout
    idx.verify_checksums(tmp_path / 'data' / 'mnist', 'mnist')


def test_cli_unreachable_mirror_is_one_line(tmp_path):
    result = run_download('mnist', '--dest', str(tmp_path / 'data'), '--url', closed_port_url())
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: could not download')
    assert 'Traceback' not in result.stderr
    assert leftovers(tmp_path / 'data' / 'mnist') == []
