"""Writing files so that a failure never leaves a half-written one behind."""
import contextlib
import os
import tempfile

from gan_common.errors import UserError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it over ``path`` only if
    the block finishes, otherwise delete it."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]
    try:
        handle, tmp = tempfile.mkstemp(prefix='.partial-', suffix=suffix, dir=directory)
    except OSError as error:
        raise UserError(f'cannot write in {directory}: {error.strerror}; choose a writable location') from None
    os.close(handle)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; give the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_writable_dir(path):
    """Create ``path`` (and parents) or stop with one line saying why not."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, '.write-test')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise UserError(f'cannot write to output directory {path}: {error.strerror}; pass a writable --out') from None
    return path
