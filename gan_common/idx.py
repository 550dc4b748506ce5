"""IDX datasets (MNIST, Fashion-MNIST): find, verify, read and download them.

Every problem a user can fix ends in a one-line ``UserError`` that names the
file and says what to do. Command line: ``ganport download --help``.
"""
import gzip
import hashlib
import http.client
import math
import os
import struct
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from gan_common.errors import UserError
from gan_common.files import atomic_path

# MNIST and the classifiers' weights: the checkout's data/, which an install
# copies to gan_common/data/ (setup.cfg).
_INSTALLED_DATA_DIR = Path(__file__).resolve().parent / 'data'
SHIPPED_DATA_DIR = _INSTALLED_DATA_DIR if _INSTALLED_DATA_DIR.is_dir() else Path(__file__).resolve().parent.parent / 'data'
CACHE_DATA_DIR = Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') / 'ganport'
# Downloads go into the checkout's data/, or for an install into the user's cache.
DOWNLOAD_DIR = CACHE_DATA_DIR if SHIPPED_DATA_DIR == _INSTALLED_DATA_DIR else SHIPPED_DATA_DIR
DATA_DIR_ENV = 'GAN_DATA_DIR'
TIMEOUT_S = 30
CHUNK_BYTES = 1 << 20
IMAGE_SHAPE = (28, 28)
GENERIC_FIX = 'replace it with a complete, uncorrupted IDX file'


class KnownFile(NamedTuple):
    md5: str  # of the published .gz file
    size: int


class IdxDataset(NamedTuple):
    files: dict  # file name -> KnownFile
    base_urls: tuple
    class_names: tuple


# split -> (images file, labels file, number of examples)
SPLITS = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 60000),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 10000),
}

DATASETS = {
    'mnist': IdxDataset(
        files={
            'train-images-idx3-ubyte.gz': KnownFile('f68b3c2dcbeaaa9fbdd348bbdeb94873', 9_912_422),
            'train-labels-idx1-ubyte.gz': KnownFile('d53e105ee54ea40749a09fcbcd1e9432', 28_881),
            't10k-images-idx3-ubyte.gz': KnownFile('9fb629c4189551a2d022fa330f9573f3', 1_648_877),
            't10k-labels-idx1-ubyte.gz': KnownFile('ec29112dd5afa0611ce80d1b7f02629c', 4_542),
        },
        base_urls=('https://ossci-datasets.s3.amazonaws.com/mnist/',
                   'https://storage.googleapis.com/cvdf-datasets/mnist/'),
        class_names=tuple('0123456789'),
    ),
    'fashion-mnist': IdxDataset(
        files={
            'train-images-idx3-ubyte.gz': KnownFile('8d4fb7e6c68d591d4c3dfef9ec88bf0d', 26_421_880),
            'train-labels-idx1-ubyte.gz': KnownFile('25c81989df183df01b3e8a0aad5dffbe', 29_515),
            't10k-images-idx3-ubyte.gz': KnownFile('bef4ecab320f06d8554ea6380940ec79', 4_422_102),
            't10k-labels-idx1-ubyte.gz': KnownFile('bb300cfdad3c16e7a12a480ee83cd310', 5_148),
        },
        base_urls=('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',),
        class_names=('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                     'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'),
    ),
}


def get_dataset(name):
    """Return the registry entry for ``name``."""
    if name not in DATASETS:
        raise UserError(f'unknown dataset {name!r}; choose one of {", ".join(DATASETS)}')
    return DATASETS[name]


def _fix(name):
    return f'get a good copy with `ganport download {name}` or pass --data-dir DIR'


def _bad(path, problem, fix):
    return UserError(f'{path} {problem}; {fix}')


# ---------------------------------------------------------------- reading

def read_idx(path, ndim=None, fix=GENERIC_FIX):
    """Return the uint8 array in an IDX file (raw or gzip); ``ndim`` pins its rank."""
    raw = _read_bytes(path, fix)
    dims = _parse_header(path, raw, ndim, fix)
    offset = 4 + 4 * len(dims)
    expected, got = math.prod(dims), len(raw) - offset
    if got < expected:
        raise _bad(path, f'is truncated (got {got} of {expected} bytes)', fix)
    if got > expected:
        raise _bad(path, f'has {got - expected} bytes of trailing data after the {expected} expected', fix)
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims).copy()


def _read_bytes(path, fix):
    """The file's bytes, decompressed if it is gzip."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise _bad(path, 'does not exist', fix) from None
    except OSError as error:
        raise _bad(path, f'cannot be read ({error.strerror})', fix) from None
    if raw[:2] != b'\x1f\x8b':
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise _bad(path, f'is a corrupt gzip file ({error})', fix) from None


def _parse_header(path, raw, ndim, fix):
    """Check the magic number (0x00 0x00 0x08 ndim) and return the dimensions."""
    magic = raw[:4]
    is_uint8_idx = len(magic) == 4 and magic[:3] == b'\0\0\x08' and magic[3] > 0
    if not is_uint8_idx or (ndim is not None and magic[3] != ndim):
        wanted = f'0x{0x800 + ndim:08x}' if ndim else '0x000008NN'
        raise _bad(path, f'has magic number 0x{magic.hex()}, expected {wanted} (uint8 IDX data)', fix)
    rank = magic[3]
    if len(raw) < 4 + 4 * rank:
        raise _bad(path, 'is truncated inside its header', fix)
    return struct.unpack_from(f'>{rank}I', raw, 4)


def load_idx_pair(images_path, labels_path, fix=GENERIC_FIX):
    """Return ``(images, labels)`` from an images file (3-D) and a labels file (1-D)."""
    images = read_idx(images_path, ndim=3, fix=fix)
    labels = read_idx(labels_path, ndim=1, fix=fix)
    if len(images) != len(labels):
        raise UserError(f'{images_path} holds {len(images)} images but {labels_path} holds '
                        f'{len(labels)} labels; pass an images file and its matching labels file')
    return images, labels


def load_idx_dataset(name, split='train', data_dir=None, verify=True):
    """Return ``(images uint8 (N, 28, 28), labels uint8 (N,))`` of a known dataset."""
    if split not in SPLITS:
        raise UserError(f'unknown split {split!r}; use one of {", ".join(SPLITS)}')
    images_name, labels_name, count = SPLITS[split]
    directory = find_dataset_dir(name, data_dir)
    if verify:
        verify_checksums(directory, name, (images_name, labels_name))
    images, labels = load_idx_pair(directory / images_name, directory / labels_name, _fix(name))
    if images.shape != (count, *IMAGE_SHAPE):
        raise _bad(directory / images_name,
                   f'holds images of shape {images.shape}, expected {(count, *IMAGE_SHAPE)}', _fix(name))
    return images, labels


# ---------------------------------------------------------------- finding and checking

def candidate_dirs(name, data_dir=None):
    """Where dataset ``name`` may be: only in ``data_dir`` when one is named
    (a folder the user names and that lacks the data is an error, not a cue to
    look elsewhere); otherwise $GAN_DATA_DIR, then <name>/ in the shipped data
    (the checkout's data/) and in the download cache. Each base is either
    that folder or a parent holding ``<name>/``."""
    if data_dir:
        if not Path(data_dir).is_dir():
            raise UserError(f'--data-dir {data_dir} does not exist; pass the folder that holds the dataset')
        return [Path(data_dir), Path(data_dir) / name]
    base = os.environ.get(DATA_DIR_ENV)
    candidates = [Path(base), Path(base) / name] if base else []
    return candidates + list(dict.fromkeys([SHIPPED_DATA_DIR / name, CACHE_DATA_DIR / name]))


def find_dataset_dir(name, data_dir=None):
    """Return the first of ``candidate_dirs`` holding ``name``'s files."""
    files = get_dataset(name).files
    candidates = candidate_dirs(name, data_dir)
    for directory in candidates:
        missing = [f for f in files if not (directory / f).is_file()]
        if len(missing) < len(files):
            if missing:
                raise UserError(f'{directory} lacks {", ".join(missing)} of {name}; {_fix(name)}')
            return directory
    raise UserError(f'{name} files not found (looked in {", ".join(map(str, candidates))}); '
                    f'run `ganport download {name}`, or pass --data-dir DIR or set '
                    f'{DATA_DIR_ENV}=DIR where DIR holds the .gz files or a {name}/ folder of them')


def md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, 'rb') as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksums(directory, name, file_names=None):
    """Check the md5 of ``name``'s files (all of them, or ``file_names``) in ``directory``."""
    files = get_dataset(name).files
    for file_name in file_names or files:
        _verify_file(Path(directory) / file_name, files[file_name], _fix(name))


def _verify_file(path, known, fix):
    if not path.is_file():
        raise _bad(path, 'does not exist', fix)
    actual = md5_of(path)
    if actual != known.md5:
        raise _bad(path, f'fails its checksum: md5 {actual} ({path.stat().st_size:,} bytes), '
                         f'expected {known.md5} ({known.size:,} bytes)', fix)


# ---------------------------------------------------------------- downloading

class _AttemptFailed(Exception):
    """One mirror did not deliver a good file; the message says why."""


def download_dataset(name, dest_dir, base_urls=None, progress=True, files=None):
    """Download ``name``'s files into the folder ``dest_dir``, checking each md5.

    Files already there with the right md5 are kept. ``base_urls`` and ``files``
    (file name -> KnownFile) replace the registry's mirrors and file list."""
    info = get_dataset(name)
    dest = Path(dest_dir)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f'cannot create {dest}: {error.strerror}; pass a writable --dest') from None
    for file_name, known in (files or info.files).items():
        target = dest / file_name
        if target.is_file() and md5_of(target) == known.md5:
            if progress:
                print(f'{target} already present, md5 OK', file=sys.stderr)
            continue
        _download_file(file_name, known, base_urls or info.base_urls, target, progress)
    return dest


def _download_file(file_name, known, base_urls, target, progress):
    """Try each mirror in turn; only a file with the right md5 reaches ``target``."""
    failures = []
    for base in base_urls:
        url = base.rstrip('/') + '/' + file_name
        try:
            with atomic_path(target) as tmp:
                _fetch(url, tmp, known.size, progress)
                actual = md5_of(tmp)
                if actual != known.md5:
                    raise _AttemptFailed(f'md5 {actual}, expected {known.md5}')
            return
        except _AttemptFailed as failure:
            failures.append(f'{url} ({failure})')
    raise UserError(f'could not download {file_name}: {", ".join(failures)}; check the network, '
                    f'or copy the official file by hand into {target.parent}')


def _fetch(url, tmp, size, progress):
    """Copy ``url`` into ``tmp``; any network error becomes ``_AttemptFailed``."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(tmp, 'wb') as out, \
                tqdm(total=size, unit='B', unit_scale=True, unit_divisor=1024,
                     desc=url.rsplit('/', 1)[-1], disable=not progress) as bar:
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                bar.update(len(chunk))
    except urllib.error.HTTPError as error:
        raise _AttemptFailed(f'HTTP {error.code} {error.reason}') from None
    except urllib.error.URLError as error:
        raise _AttemptFailed(str(error.reason)) from None
    except (OSError, http.client.HTTPException) as error:
        raise _AttemptFailed(str(error) or type(error).__name__) from None


# ---------------------------------------------------------------- checking a copy

def check_dataset(name, data_dir=None):
    """Verify every file of ``name`` and read both splits; return the folder and counts."""
    directory = find_dataset_dir(name, data_dir)
    verify_checksums(directory, name)
    counts = {split: len(load_idx_dataset(name, split, directory, verify=False)[1]) for split in SPLITS}
    return directory, counts
