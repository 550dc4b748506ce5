"""Chainer checkpoints are ``Trainer`` snapshots (``snapshot_iter_N.npz``).
Read them without pickle; build and load networks from them."""
import json
import zipfile
import zlib

from chainer_impl import compat  # noqa: F401
import chainer
import numpy as np

from chainer_impl.models import build_named_networks
from gan_common.checkpoints import check_meta, require_file, unreadable

MODEL_PREFIX = 'updater/model:{}/'
OPTIMIZER_PREFIX = 'updater/optimizer:{}/'
META_KEY = 'updater/meta'


def read_snapshot(path, model=None):
    """All arrays of the snapshot and its metadata, validated."""
    require_file(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as error:
        raise unreadable(path, error, 'chainer') from None
    meta = json.loads(str(arrays[META_KEY])) if META_KEY in arrays else None
    check_meta(meta, path, 'chainer', model)
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


def load_named_networks(path, model=None, device=None):
    """(meta, {name: network}) with the snapshot's weights and BN statistics."""
    arrays, meta = read_snapshot(path, model)
    networks = build_named_networks(meta, device)
    try:
        for name, network in networks.items():
            load_state(network, arrays, MODEL_PREFIX.format(name))
    except (KeyError, ValueError) as error:
        raise unreadable(path, error, 'chainer') from None
    return meta, networks
