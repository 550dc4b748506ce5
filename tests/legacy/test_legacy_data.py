"""--data-stand-ins: fetch_mldata('MNIST original') in the mldata layout from
the shipped IDX MNIST, and Chainer's downloads served from --data-dir."""
import json

import numpy as np

from gan_common import idx
from tests.legacy.legacy_helpers import SCRIPTS, run_legacy


def test_mnist_original_has_the_mldata_layout():
    from chainer_impl.legacy.data import mnist_original
    mnist = mnist_original()
    train_images, train_labels = idx.load_idx_dataset('mnist', 'train')
    test_images, test_labels = idx.load_idx_dataset('mnist', 'test')
    assert mnist.data.shape == (70000, 784) and mnist.data.dtype == np.uint8
    assert mnist['target'].dtype == np.float64 and mnist.target.shape == (70000,)
    assert np.array_equal(mnist.data[:60000], train_images.reshape(60000, 784))
    assert np.array_equal(mnist.data[60000:], test_images.reshape(10000, 784))
    assert np.array_equal(mnist.target, np.concatenate([train_labels, test_labels]).astype(np.float64))


def test_stand_ins_serve_old_loaders_and_say_so(tmp_path):
    data_dir = tmp_path / 'datasets'
    (data_dir / 'misc').mkdir(parents=True)
    (data_dir / 'misc' / 'local-file.bin').write_text('served locally')
    for name in ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'):
        (data_dir / name).symlink_to(idx.SHIPPED_DATA_DIR / 'mnist' / name)
    out = tmp_path / 'out.json'
    result = run_legacy(SCRIPTS / 'v1_datasets.py', out, env={'CHAINER_DATASET_ROOT': str(tmp_path / 'root')},
                        runner_args=['--device', 'cpu', '--data-stand-ins', '--data-dir', data_dir])
    assert '--data-stand-ins' in result.stderr.splitlines()[0] and str(data_dir) in result.stderr
    got = json.loads(out.read_text())
    first_labels = idx.load_idx_dataset('mnist', 'train')[1][:3].tolist()
    assert got['data_shape'] == [70000, 784] and got['data_dtype'] == 'uint8' and got['data_range'] == [0, 255]
    assert got['target_dtype'] == 'float64' and got['target_head'] == first_labels
    assert got['target_at_60000'] == idx.load_idx_dataset('mnist', 'test')[1][:3].tolist()
    assert got['get_mnist_lengths'] == [60000, 10000] and got['get_mnist_first'] < 1e-7
    assert got['get_mnist_label'] == first_labels[0]
    assert got['local_download'] == 'served locally'
    for api in ("fetch_mldata('MNIST original')", 'chainer.datasets.get_mnist()', 'download of local-file.bin'):
        assert api in result.stderr, api


def test_without_the_flag_fetch_mldata_fails_as_it_does_today(tmp_path):
    result = run_legacy(SCRIPTS / 'v1_datasets.py', tmp_path / 'out.json', runner_args=['--device', 'cpu'],
                        check=False)
    assert result.returncode == 1 and "No module named 'sklearn'" in result.stderr
    assert 'stand-ins' not in result.stderr
