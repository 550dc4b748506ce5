"""Unpaired image folders (gan_common.unpaired), the CycleGAN recipe's draws
(gan_common.cycle), and downloading a CycleGAN zip from a local HTTP server."""
import functools
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_common import cycle, unpaired
from gan_common.errors import UserError
from gan_common.streams import RandomStream
from gan_common.training import learning_rate_factor
from tests.helpers import SHARED_DATA, assert_one_line_error, leftovers, run_script, serve_folder

MINI = SHARED_DATA / 'horse2zebra-mini'


def write_image(path, size=(20, 12), mode='RGB', value=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = {'L': 1, 'RGB': 3, 'RGBA': 4}[mode]
    pixels = np.full((size[1], size[0], channels), value, np.uint8).squeeze()
    Image.fromarray(pixels, mode).save(path)
    return path


def make_dataset(root, counts=(3, 2, 1, 1), size=(20, 12)):
    for folder, count in zip(unpaired.LAYOUT, counts):
        for i in range(count):
            write_image(root / folder / f'{i}.png', size, value=40 * i)
    return root


# ---------------------------------------------------------------- reading
@pytest.mark.shared_data('horse2zebra-mini')
def test_reads_the_shared_horse2zebra_mini():
    data = unpaired.load_unpaired(str(MINI), load_size=64)
    assert data.a.shape == (2, 3, 64, 64) and data.b.shape == (2, 3, 64, 64)
    assert data.a.dtype == np.uint8 and data.fixed_a.shape == (1, 3, 64, 64)
    assert data.root == str(MINI)


def test_grayscale_rgba_and_jpeg_become_rgb(tmp_path):
    write_image(tmp_path / 'grey.png', mode='L', value=77)
    write_image(tmp_path / 'alpha.png', mode='RGBA', value=200)
    Image.fromarray(np.full((10, 10, 3), 30, np.uint8)).save(tmp_path / 'photo.JPG')
    assert unpaired.read_image(tmp_path / 'grey.png', 8).shape == (3, 8, 8)
    assert (unpaired.read_image(tmp_path / 'grey.png') == 77).all()
    assert unpaired.read_image(tmp_path / 'alpha.png').shape == (3, 12, 20)
    assert [p.name for p in unpaired.list_images(tmp_path)] == ['alpha.png', 'grey.png', 'photo.JPG']


def test_name_under_data_dir_and_missing_test_split(tmp_path):
    make_dataset(tmp_path / 'toys', counts=(3, 2, 0, 0))
    data = unpaired.load_unpaired('toys', data_dir=tmp_path, load_size=16, grid_size=2)
    assert len(data.a) == 3 and len(data.b) == 2
    assert np.array_equal(data.fixed_a, data.a[:2])  # no testA/: training images in the grid


def test_missing_dataset_is_one_line(tmp_path):
    with pytest.raises(UserError) as error:
        unpaired.find_unpaired_dir('horse2zebra', data_dir=tmp_path)
    message = str(error.value)
    assert '\n' not in message and 'ganport download horse2zebra' in message and '--dataset DIR' in message


def test_empty_folder_is_one_line(tmp_path):
    make_dataset(tmp_path, counts=(2, 0, 0, 0))
    (tmp_path / 'trainB').mkdir()
    with pytest.raises(UserError, match='trainB holds no .jpg/.jpeg/.png images'):
        unpaired.load_unpaired(str(tmp_path), load_size=16)


def test_missing_domain_folder_is_one_line(tmp_path):
    make_dataset(tmp_path, counts=(2, 0, 0, 0))
    with pytest.raises(UserError, match='trainB does not exist'):
        unpaired.load_unpaired(str(tmp_path), load_size=16)


def test_unreadable_image_names_its_path(tmp_path):
    make_dataset(tmp_path, counts=(2, 2, 0, 0))
    (tmp_path / 'trainB' / 'broken.jpg').write_bytes(b'not a jpeg')
    with pytest.raises(UserError) as error:
        unpaired.load_unpaired(str(tmp_path), load_size=16)
    assert str(tmp_path / 'trainB' / 'broken.jpg') in str(error.value) and '\n' not in str(error.value)


@pytest.mark.parametrize('preset,size,fix', [('blog', 100, 'use 96 or 112'), ('blog', 16, 'use 32'),
                                             ('paper', 30, 'use 28 or 32'), ('paper', 20, 'use 24')])
def test_sizes_the_networks_cannot_take(preset, size, fix):
    with pytest.raises(UserError) as error:
        cycle.check_image_size(preset, size)
    assert fix in str(error.value)
    assert cycle.check_image_size('blog', 32) == 32 and cycle.check_image_size('paper', 24) == 24


def test_the_limits_are_real():
    """The blog discriminator has a 0x0 map below 32; the U-Net needs multiples of 16."""
    import torch
    from torch_impl import cyclegan as T
    with pytest.raises(RuntimeError):
        T.Discriminator('blog')(torch.zeros(2, 3, 16, 16))
    assert T.Discriminator('blog')(torch.zeros(1, 3, 32, 32)).shape == (1, 2, 1, 1)
    with pytest.raises(RuntimeError):
        T.Generator('blog')(torch.zeros(1, 3, 40, 40))


# ---------------------------------------------------------------- the recipe's draws
def config(**changes):
    base = {'batch_size': 2, 'image_size': 8, 'flip': True, 'scaling': 'symmetric', 'dtype': 'float32',
            'gan_loss': 'lsgan', 'lambda_cycle': 10.0, 'lambda_identity': 0.5, 'dis_scale': 0.5, 'pool_size': 3}
    return dict(base, **changes)


def test_draws_are_reproducible_crops_and_flips():
    data = unpaired.UnpairedImages(np.arange(5 * 3 * 10 * 10, dtype=np.uint8).reshape(5, 3, 10, 10),
                                   np.zeros((3, 3, 10, 10), np.uint8), None, None, '')
    runs = []
    for _ in range(2):
        stream = RandomStream(0)
        batches = cycle.UnpairedRecipe().batches(data, config(), stream)
        draw = cycle.UnpairedRecipe().drawer(data, None, stream, config())
        runs.append([draw(batches.next()) for _ in range(4)])
        assert batches.batches_per_epoch == 2 and batches.epoch == 1 and not batches.is_new_epoch
    for (a1, b1), (a2, b2) in zip(*runs):
        assert a1.shape == (2, 3, 8, 8) and a1.dtype == np.float32 and np.array_equal(a1, a2)
        assert a1.min() >= -1 and a1.max() <= 1 and (b1 == -1).all()


def test_batches_resume_from_their_state():
    stream = RandomStream(4)
    batches = cycle.UnpairedBatches(5, 3, 2, stream)
    for _ in range(3):
        batches.next()
    state = batches.get_state()
    expected = [batches.next() for _ in range(4)]
    again = cycle.UnpairedBatches(5, 3, 2, RandomStream(0))
    again.set_state(state)
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(expected, [again.next() for _ in range(4)]))
    with pytest.raises(UserError, match='larger than a domain'):
        cycle.UnpairedBatches(5, 1, 2, stream)


def test_learning_rate_schedule_is_the_reference_lambda_rule():
    schedule = {'lr_schedule': {'constant_epochs': 100, 'decay_epochs': 100}}
    factors = [learning_rate_factor(schedule, epoch) for epoch in (0, 99, 100, 150, 199)]
    assert factors == [1.0, 1.0, 1 - 1 / 101, 1 - 51 / 101, 1 - 100 / 101]
    assert learning_rate_factor({}, 500) == 1.0


def test_step_kwargs_give_pools_only_where_the_preset_has_one():
    kwargs = cycle.UnpairedRecipe().step_kwargs(config(), RandomStream(0))
    assert kwargs['losses'] == cycle.PAPER_LOSSES and kwargs['pool_a'].size == 3
    assert set(cycle.UnpairedRecipe().step_kwargs(config(pool_size=0), RandomStream(0))) == {'losses'}


# ---------------------------------------------------------------- downloading
def zip_bytes(name, counts=(2, 2, 1, 1), prefix=None, corrupt=False):
    buffer = io.BytesIO()
    picture = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 9, np.uint8)).save(picture, format='PNG')
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_STORED) as archive:
        for folder, count in zip(unpaired.LAYOUT, counts):
            for i in range(count):
                archive.writestr(f'{prefix or name}/{folder}/{i}.png', picture.getvalue())
    data = bytearray(buffer.getvalue())
    if corrupt:  # flip a byte inside the first stored image: the CRC32 no longer matches
        data[60] ^= 0xFF
    return bytes(data)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / 'served'
    root.mkdir()
    with serve_folder(root) as url:
        yield root, url


def test_download_unpacks_a_good_zip(server, tmp_path):
    root, url = server
    (root / 'facades.zip').write_bytes(zip_bytes('facades'))
    target = unpaired.download_unpaired('facades', tmp_path / 'data', base_urls=[url], progress=False)
    assert target == tmp_path / 'data' / 'facades'
    assert leftovers(tmp_path / 'data') == ['facades']  # no zip, no .partial-*
    assert [len(list((target / f).iterdir())) for f in unpaired.LAYOUT] == [2, 2, 1, 1]
    again = unpaired.download_unpaired('facades', tmp_path / 'data', base_urls=[url + 'nothing/'], progress=False)
    assert again == target  # already present: nothing fetched


@pytest.mark.parametrize('content,problem', [
    (functools.partial(zip_bytes, 'facades', corrupt=True), 'fails its CRC32 check'),
    (functools.partial(zip_bytes, 'facades', counts=(2, 2, 1, 0)), 'no images in facades/testB'),
    (functools.partial(zip_bytes, 'facades', prefix='other'), 'unexpected member other/'),
    (lambda: b'not a zip at all', 'not a readable zip'),
])
def test_bad_archives_leave_nothing_behind(server, tmp_path, content, problem):
    root, url = server
    (root / 'facades.zip').write_bytes(content())
    with pytest.raises(UserError) as error:
        unpaired.download_unpaired('facades', tmp_path / 'data', base_urls=[url], progress=False)
    message = str(error.value)
    assert '\n' not in message and problem in message and 'by hand' in message
    assert leftovers(tmp_path / 'data') == []


def test_known_counts_are_checked(server, tmp_path):
    root, url = server
    (root / 'horse2zebra.zip').write_bytes(zip_bytes('horse2zebra'))
    with pytest.raises(UserError, match='hold 2 / 2 / 1 / 1 images, expected 1067 / 1334 / 120 / 140'):
        unpaired.download_unpaired('horse2zebra', tmp_path / 'data', base_urls=[url], progress=False)
    assert leftovers(tmp_path / 'data') == []


def test_http_404_then_a_good_mirror(server, tmp_path):
    root, url = server
    (root / 'good').mkdir()
    (root / 'good' / 'maps.zip').write_bytes(zip_bytes('maps'))
    target = unpaired.download_unpaired('maps', tmp_path / 'data', base_urls=[url + 'empty/', url + 'good/'],
                                        progress=False)
    assert (target / 'trainA').is_dir()


def test_cli_download_and_check(server, tmp_path):
    root, url = server
    (root / 'facades.zip').write_bytes(zip_bytes('facades'))
    result = run_script('download.py', 'facades', '--dest', tmp_path / 'data', '--url', url)
    assert 'facades ready in' in result.stdout
    result = run_script('download.py', 'facades', '--check', '--data-dir', tmp_path / 'data')
    assert 'facades OK' in result.stdout and 'trainA 2' in result.stdout
    missing = run_script('download.py', 'facades', '--dest', tmp_path / 'other', '--url', url + 'empty/', check=False)
    assert_one_line_error(missing, 'could not download facades', 'HTTP 404')
    assert leftovers(tmp_path / 'other') == []
