"""Stand-ins for data loaders that no longer work (``--data-stand-ins``):
``sklearn.datasets.fetch_mldata('MNIST original')`` (mldata.org is gone and
scikit-learn removed the function) and Chainer's dataset downloads, both
served from local files."""
import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy

from chainer_impl.legacy.errors import RunnerStop
from chainer_impl.legacy.report import record
from gan_common import idx
from gan_common.errors import UserError

ANNOUNCEMENT = ("legacy runner: --data-stand-ins: sklearn.datasets.fetch_mldata('MNIST original') and Chainer's "
                "dataset downloads are served from local files ({where})")


class Bunch(dict):
    """scikit-learn's Bunch: a dict whose keys are also attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def mnist_original(data_dir=None):
    """MNIST in the layout of mldata.org's 'MNIST original': the 60,000
    training images then the 10,000 test images, ``data`` uint8 (70000, 784)
    in 0..255, ``target`` the labels as float64."""
    parts = [idx.load_idx_dataset('mnist', split, data_dir) for split in ('train', 'test')]
    images = numpy.concatenate([images for images, _ in parts]).reshape(-1, 28 * 28)
    labels = numpy.concatenate([labels for _, labels in parts]).astype(numpy.float64)
    return Bunch(data=images, target=labels, COL_NAMES=['label', 'data'],
                 DESCR='mldata.org dataset: mnist-original (served from the IDX files by the legacy runner)')


def _fetch_mldata(data_dir):
    def fetch_mldata(dataname, target_name='label', data_name='data', transpose_data=True, data_home=None):
        record('fetch_mldata', f'fetch_mldata({dataname!r})')
        if dataname.strip().lower() != 'mnist original':
            raise RunnerStop(f"fetch_mldata({dataname!r}): the data stand-ins serve only 'MNIST original'; "
                             f'load this dataset another way')
        return mnist_original(data_dir)
    return fetch_mldata


def _install_sklearn(data_dir):
    fetch_mldata = _fetch_mldata(data_dir)
    if importlib.util.find_spec('sklearn') is not None:
        import sklearn.datasets
        if not hasattr(sklearn.datasets, 'fetch_mldata'):
            sklearn.datasets.fetch_mldata = fetch_mldata
        return
    sklearn = types.ModuleType('sklearn')
    sklearn.__path__ = []  # a package, so ``import sklearn.datasets`` looks in sys.modules
    datasets = types.ModuleType('sklearn.datasets')
    datasets.fetch_mldata = fetch_mldata
    sklearn.datasets = datasets
    sys.modules['sklearn'], sys.modules['sklearn.datasets'] = sklearn, datasets


# ---------------------------------------------------------------- Chainer's downloads
_IDX_GETTERS = {  # chainer.datasets module -> (project dataset name, getter shown in the report)
    'mnist': ('mnist', 'get_mnist'),
    'fashion_mnist': ('fashion-mnist', 'get_fashion_mnist'),
}


def _idx_retriever(dataset, getter, split, data_dir, original):
    """Chainer's retriever of one split, reading the IDX files where they exist."""
    def retrieve():
        try:
            idx.find_dataset_dir(dataset, data_dir)
        except UserError:
            return original()  # not here: Chainer downloads it, as without the stand-ins
        record('dataset_download', f'chainer.datasets.{getter}()')
        images, labels = idx.load_idx_dataset(dataset, split, data_dir)
        return {'x': images.reshape(len(images), -1), 'y': labels}
    return retrieve


def _local_copy(url, data_dir):
    name = url.rstrip('/').rsplit('/', 1)[-1]
    folders = [Path(data_dir)] + sorted(p for p in Path(data_dir).iterdir() if p.is_dir()) if data_dir else []
    for folder in folders + [idx.SHIPPED_DATA_DIR / 'mnist']:
        if (folder / name).is_file():
            return folder / name
    return None


def _install_chainer_downloads(data_dir):
    from chainer.dataset import download
    for name, (dataset, getter) in _IDX_GETTERS.items():
        module = importlib.import_module(f'chainer.datasets.{name}')
        prefix = f'_retrieve_{name}'
        for suffix, split in (('_training', 'train'), ('_test', 'test')):
            original = getattr(module, prefix + suffix)
            setattr(module, prefix + suffix, _idx_retriever(dataset, getter, split, data_dir, original))
    original = download.cached_download

    def cached_download(url):
        local = _local_copy(url, data_dir)
        if local is None:
            return original(url)
        record('dataset_download', f'download of {url.rsplit("/", 1)[-1]}')
        return os.fspath(local)
    download.cached_download = cached_download


def install(data_dir):
    if data_dir is not None and not Path(data_dir).is_dir():
        raise RunnerStop(f'--data-dir {data_dir} is not a folder; pass the folder that holds the dataset files')
    _install_sklearn(data_dir)
    _install_chainer_downloads(data_dir)
    where = f'--data-dir {data_dir}, then data/' if data_dir else "the project's data/"
    print(ANNOUNCEMENT.format(where=where), file=sys.stderr)
