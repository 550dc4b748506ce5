"""Unpaired image datasets in CycleGAN's layout (``trainA/ trainB/ testA/
testB/``, JPEG or PNG): find, read and download them.

Images are converted to RGB (grayscale, 16-bit grayscale scaled to 8 bits,
palette and RGBA included: alpha is dropped; an image too large for Pillow to
decode safely is refused) and resized to a square ``load_size`` with bicubic resampling, the
reference implementation's ``resize_and_crop`` first step; the random crop
and flip happen per iteration (``gan_common.cycle``). Every problem a user
can fix ends in a one-line ``UserError``.

Downloads come from the CycleGAN authors' server. This machine cannot reach
it, so no SHA-256 of the published zips could be pinned. What is checked
instead: every zip member's CRC32 (``ZipFile.testzip``), that the archive
holds exactly ``NAME/trainA, trainB, testA, testB`` with images in each, and
the image counts where they could be established without the files:
horse2zebra per folder (1067 / 1334 / 120 / 140, from the Git LFS pointers of
a full copy, see data/README.md); apple2orange and summer2winter_yosemite the
larger domain of each split (1019 / 266 and 1231 / 309, as the TensorFlow
CycleGAN port's ``DATASET_TO_SIZES`` lists them). A failed download leaves
neither the zip nor a partial folder behind.
"""
import os
import shutil
import sys
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from gan_common.errors import UserError
from gan_common.files import atomic_path
from gan_common.idx import _AttemptFailed, _fetch, candidate_dirs

EXTENSIONS = ('.jpg', '.jpeg', '.png')
FOLDERS = {'train': ('trainA', 'trainB'), 'test': ('testA', 'testB')}
LAYOUT = ('trainA', 'trainB', 'testA', 'testB')
BASE_URL = 'https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/'
# name -> image counts: per folder (trainA, trainB, testA, testB), or
# ('largest', train, test) where only the larger domain of each split is known
DOWNLOADS = {
    'horse2zebra': (1067, 1334, 120, 140),
    'apple2orange': ('largest', 1019, 266),
    'summer2winter_yosemite': ('largest', 1231, 309),
    'monet2photo': None, 'cezanne2photo': None, 'ukiyoe2photo': None, 'vangogh2photo': None,
    'maps': None, 'facades': None, 'iphone2dslr_flower': None,
}


class UnpairedImages(NamedTuple):
    a: np.ndarray        # uint8 (N_A, 3, L, L), the training split
    b: np.ndarray        # uint8 (N_B, 3, L, L)
    fixed_a: np.ndarray  # the first test images (training ones without a test split), for sample grids
    fixed_b: np.ndarray
    root: str


# ---------------------------------------------------------------- reading
def list_images(folder, what=None):
    """The JPEG/PNG files in ``folder``, sorted by name (``what``: the
    refusal's fix for a missing folder, by default the dataset layout's)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f'{folder} does not exist; ' + (what or 'an unpaired dataset needs trainA/ trainB/ '
                                                         '(and testA/ testB/) folders of images'))
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not paths:
        raise UserError(f'{folder} holds no .jpg/.jpeg/.png images; put the domain\'s images there')
    return paths


def read_image(path, size=None):
    """uint8 (3, H, W): RGB, resized (bicubic) to a square ``size`` unless it is None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image = to_rgb(image)
                if size is not None and image.size != (size, size):
                    image = image.resize((size, size), Image.BICUBIC)
                return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1).copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(f'{path} has more than {Image.MAX_IMAGE_PIXELS:,} pixels, too many to decode safely '
                        '(a decompression bomb?); shrink or remove it') from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UserError(f'{path} cannot be read as an image ({type(error).__name__}: '
                        f'{str(error).splitlines()[0] if str(error) else "no detail"}); replace or remove it') from None


def to_rgb(image):
    """An RGB copy of ``image``; 16- and 32-bit grayscale (PNG's ``I;16``, ``I``)
    are scaled to 8 bits first, where ``convert`` would clip them to white."""
    if image.mode.startswith('I;16') or image.mode == 'I':
        pixels = np.asarray(image, dtype=np.float64)
        image = Image.fromarray((np.clip(pixels, 0, 65535) / 257.0 + 0.5).astype(np.uint8), 'L')
    elif image.mode == 'F':
        raise ValueError('a floating-point image; save it as 8-bit RGB or grayscale')
    return image.convert('RGB')


def load_folder(folder, size, limit=None):
    paths = list_images(folder)[:limit]
    return np.stack([read_image(path, size) for path in paths])


def find_unpaired_dir(dataset, data_dir=None):
    """``dataset`` is a folder holding trainA/ trainB/, or the name of one under
    ``data_dir``, $GAN_DATA_DIR or the repository's data/."""
    candidates = [Path(dataset), *candidate_dirs(dataset, data_dir)]
    for directory in candidates:
        if (directory / 'trainA').is_dir() or (directory / 'trainB').is_dir():
            return directory
    known = f'`ganport download {dataset}`, or ' if dataset in DOWNLOADS else ''
    raise UserError(f'no unpaired dataset {dataset!r} (looked for trainA/ trainB/ in '
                    f'{", ".join(dict.fromkeys(map(str, candidates)))}); run {known}pass --dataset DIR '
                    'naming a folder that holds trainA/ and trainB/')


def load_unpaired(dataset, data_dir=None, load_size=256, grid_size=6):
    """The training images of both domains at ``load_size``, and the first
    ``grid_size`` test images of each (training ones when there is no test split)."""
    root = find_unpaired_dir(dataset, data_dir)
    a, b = (load_folder(root / folder, load_size) for folder in FOLDERS['train'])
    fixed = []
    for test, train in zip(FOLDERS['test'], (a, b)):
        fixed.append(load_folder(root / test, load_size, grid_size) if (root / test).is_dir() else train[:grid_size])
    return UnpairedImages(a, b, fixed[0], fixed[1], str(root))


# ---------------------------------------------------------------- downloading
def _fix(name, dest):
    return (f'check the network, or download {BASE_URL}{name}.zip by hand and unzip it into {dest} '
            f'(giving {dest / name}/trainA ...)')


def check_archive(zip_path, name):
    """CRC32 of every member, the NAME/trainA ... testB layout and the known image counts."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            bad = archive.testzip()
            members = archive.namelist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise _AttemptFailed(f'not a readable zip ({error})') from None
    if bad is not None:
        raise _AttemptFailed(f'member {bad} fails its CRC32 check')
    counts = {folder: 0 for folder in LAYOUT}
    for member in members:
        parts = member.rstrip('/').split('/')
        if member.startswith('/') or '..' in parts or parts[0] != name:
            raise _AttemptFailed(f'unexpected member {member} (expected everything under {name}/)')
        if len(parts) == 3 and parts[1] in counts and Path(parts[2]).suffix.lower() in EXTENSIONS:
            counts[parts[1]] += 1
    missing = [folder for folder in LAYOUT if not counts[folder]]
    if missing:
        raise _AttemptFailed(f'no images in {", ".join(f"{name}/{m}" for m in missing)}')
    _check_counts(name, counts)
    return counts


def _check_counts(name, counts):
    known = DOWNLOADS.get(name)
    got = tuple(counts[folder] for folder in LAYOUT)
    if known is None:
        return
    if known[0] == 'largest':
        got, known = (max(got[0], got[1]), max(got[2], got[3])), known[1:]
        what = 'larger domain of train / test'
    else:
        what = 'trainA / trainB / testA / testB'
    if tuple(got) != tuple(known):
        raise _AttemptFailed(f'{what} hold {" / ".join(map(str, got))} images, '
                             f'expected {" / ".join(map(str, known))}')


def download_unpaired(name, dest_dir, base_urls=None, progress=True):
    """Download and unpack ``name`` into ``dest_dir/name``; returns that folder."""
    if name not in DOWNLOADS:
        raise UserError(f'unknown CycleGAN dataset {name!r}; choose one of {", ".join(DOWNLOADS)}')
    dest = Path(dest_dir)
    target = dest / name
    if all((target / folder).is_dir() for folder in LAYOUT):
        if progress:
            print(f'{target} already present', file=sys.stderr)
        return target
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f'cannot create {dest}: {error.strerror}; pass a writable --dest') from None
    failures = []
    for base in base_urls or (BASE_URL,):
        url = base.rstrip('/') + f'/{name}.zip'
        try:
            with atomic_path(dest / f'{name}.zip') as tmp:
                _fetch(url, tmp, None, progress)
                counts = check_archive(tmp, name)
                _unpack(tmp, name, dest)
            os.remove(dest / f'{name}.zip')
            if progress:
                print(f'{name}: {", ".join(f"{k} {v}" for k, v in counts.items())} images', file=sys.stderr)
            return target
        except _AttemptFailed as failure:
            failures.append(f'{url} ({failure})')
    raise UserError(f'could not download {name}: {", ".join(failures)}; {_fix(name, dest)}')


def _unpack(zip_path, name, dest):
    """Extract into a hidden folder beside ``dest/name``, then rename it into place."""
    staging = tempfile.mkdtemp(prefix=f'.partial-{name}-', dir=dest)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(staging)
        if (dest / name).exists():
            shutil.rmtree(dest / name)
        os.replace(Path(staging) / name, dest / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_unpaired(name, data_dir=None):
    """Find ``name`` and count its images; every image must decode."""
    root = find_unpaired_dir(name, data_dir)
    counts = {}
    for folder in LAYOUT:
        paths = list_images(root / folder)
        for path in paths:
            read_image(path, 8)
        counts[folder] = len(paths)
    try:
        _check_counts(name, counts)
    except _AttemptFailed as failure:
        raise UserError(f'{root}: {failure}; download it again with `ganport download {name}`') from None
    return root, counts
