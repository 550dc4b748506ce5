"""Chainer checkpoints are ``Trainer`` snapshots (``snapshot_iter_N.npz``)
carrying a content checksum (``gan_common.checkpoints``). Read them without
pickle, verified; write them atomically; build and load networks from them."""
import json
import os

from chainer_impl import compat  # noqa: F401
import chainer
import numpy as np
from chainer.training.extensions import snapshot_writers

from chainer_impl.models import build_named_networks
from gan_common.checkpoints import (CHECKSUM_KEY, check_meta, content_checksum, incomplete, parse_meta, pickled,
                                    require_file, unreadable, verify_checksum)
from gan_common.files import atomic_path

MODEL_PREFIX = 'updater/model:{}/'
OPTIMIZER_PREFIX = 'updater/optimizer:{}/'
META_KEY = 'updater/meta'
ITERATION_KEY = 'updater/iteration'
BATCHES_KEY = 'updater/iterator:main/batches'
EXTRAS_PREFIX = 'updater/extras/'
WALL_CLOCK_KEY = '_snapshot_elapsed_time'    # the Trainer's elapsed time
LOG_KEY = 'extensions/LogReport/_log'        # LogReport's entries, each with an elapsed_time


def content_arrays(arrays):
    """What the checksum covers: every array but the checksum and the wall-clock times."""
    content = {key: value for key, value in arrays.items() if key not in (CHECKSUM_KEY, WALL_CLOCK_KEY)}
    if LOG_KEY in content:
        entries = [{k: v for k, v in entry.items() if k != 'elapsed_time'} for entry in json.loads(str(content[LOG_KEY]))]
        content[LOG_KEY] = np.array(json.dumps(entries, sort_keys=True))
    return content


def write_snapshot(path, arrays):
    """Save ``arrays`` ({key: NumPy array}) as ``path`` with their checksum, atomically."""
    arrays = dict(arrays, **{CHECKSUM_KEY: np.array(content_checksum(content_arrays(arrays)))})
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


class SnapshotWriter(snapshot_writers.Writer):
    """The ``snapshot`` extension's writer: the trainer's arrays (as ``save_npz``
    would save them), written by ``write_snapshot``."""

    def __call__(self, filename, outdir, target):
        cpu = chainer.backend.CpuDevice()
        write_snapshot(os.path.join(outdir, filename),
                       {key: cpu.send(np.asarray(value) if np.isscalar(value) else value) for key, value in target.items()})
        self._post_save()


def read_snapshot(path, model=None):
    """All arrays of the snapshot and its metadata, verified against the checksum and validated."""
    require_file(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # damaged bytes surface as many types (BadZipFile, zlib.error, TokenError, ...)
        if isinstance(error, ValueError) and 'pickle' in str(error):
            raise pickled(path, 'chainer') from None
        raise unreadable(path, error, 'chainer') from None
    if META_KEY not in arrays:
        check_meta(None, path, 'chainer')
    stored = arrays.get(CHECKSUM_KEY)
    verify_checksum(content_arrays(arrays), None if stored is None else str(stored), path, 'chainer')
    meta = check_meta(parse_meta(str(arrays[META_KEY]), path), path, 'chainer', model)
    return arrays, meta


def sub_state(arrays, prefix):
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}




def load_state(link, arrays, prefix=''):
    """Load ``prefix``-keyed arrays into ``link``; a missing key or a wrong
    shape is an error (extra keys are ignored, as in ``load_npz``)."""
    chainer.serializers.NpzDeserializer(arrays, path=prefix, strict=True).load(link)


def state_of(link):
    """Every parameter and persistent value of ``link``, keyed as ``save_npz`` keys them."""
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(link)
    return {key: chainer.backend.CpuDevice().send(np.asarray(value) if np.isscalar(value) else value)
            for key, value in serializer.target.items()}


def require_training_state(arrays, networks, path):
    """Refuse a snapshot that lacks what training needs to continue (the
    iteration, the batch order, each network's weights and Adam state)."""
    required = [ITERATION_KEY, BATCHES_KEY]
    for name, network in networks.items():
        required += [MODEL_PREFIX.format(name) + key for key in state_of(network)]
        required.append(OPTIMIZER_PREFIX.format(name) + 't')
    missing = [key for key in required if key not in arrays]
    if missing:
        raise incomplete(path, f'{len(missing)} arrays training needs (e.g. {missing[0]})')


def load_named_networks(path, model=None, device=None):
    """(meta, {name: network}) with the snapshot's weights and BN statistics."""
    arrays, meta = read_snapshot(path, model)
    try:
        networks = build_named_networks(meta, device)
    except (KeyError, TypeError, ValueError) as error:
        raise incomplete(path, f'settings its networks need ({type(error).__name__}: {error})') from None
    try:
        for name, network in networks.items():
            load_state(network, arrays, MODEL_PREFIX.format(name))
    except (KeyError, ValueError) as error:
        raise unreadable(path, error, 'chainer') from None
    return meta, networks
