"""Writing files so that a failure never leaves a half-written one behind."""
import contextlib
import glob
import os
import shutil
import tempfile

from gan_common.errors import UserError

TEMPORARY_PREFIX = '.partial-'


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; once the block finishes, flush
    it to disk and rename it over ``path`` (then flush the folder); if the
    block fails, delete it. A failed write (a full disk) is a ``UserError``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]
    try:
        handle, tmp = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=suffix, dir=directory)
    except OSError as error:
        raise UserError(f'cannot write in {directory}: {error.strerror}; choose a writable location') from None
    os.close(handle)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; give the usual mode
        try:
            yield tmp
            _fsync(tmp)
            os.replace(tmp, path)
            _fsync(directory)
        except OSError as error:
            raise write_failed(path, error) from None
        except RuntimeError as error:  # torch.save reports a failed write this way
            if 'write' not in str(error).lower() and 'inline_container' not in str(error):
                raise
            raise write_failed(path, error) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_failed(path, error):
    reason = getattr(error, 'strerror', None) or str(error).splitlines()[0]
    return UserError(f'cannot write {path}: {reason}; free some space or choose another location')


def _fsync(path):
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def append_line(path, line):
    """Append ``line`` (one string, newline included) in one write; on
    failure cut the file back to its previous length, so no half line stays."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(descriptor).st_size
        data = line.encode()
        try:
            if os.write(descriptor, data) != len(data):
                raise OSError(28, 'No space left on device')
            os.fsync(descriptor)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, size)
            raise write_failed(path, error) from None
    finally:
        os.close(descriptor)


def remove_temporaries(directory):
    """Delete what an interrupted atomic write (or Chainer's own snapshot
    writer) left in ``directory``; return the names removed."""
    removed = []
    for path in glob.glob(os.path.join(directory, TEMPORARY_PREFIX + '*')) + \
            glob.glob(os.path.join(directory, 'tmpsnapshot_iter_*')):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        removed.append(os.path.basename(path))
    return removed


def ensure_writable_dir(path):
    """Create ``path`` (and parents) or stop with one line saying why not."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f'{path} is a file, not a folder; pass a folder or a new name')
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, '.write-test')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise UserError(f'cannot write to output directory {path}: {error.strerror}; pass a writable --out') from None
    return path


def check_new_file(path, what='--out'):
    """Refuse an output path that names a folder or lies in a folder that
    cannot be created; creates nothing."""
    if os.path.isdir(path):
        raise UserError(f'{what} {path} is a folder; name a file (inside it, or elsewhere)')
    parent = os.path.dirname(os.path.abspath(path))
    existing = parent
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK):
        raise UserError(f'cannot write {path}: {existing} is not a writable folder; choose another {what}')
    return path
