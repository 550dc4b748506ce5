"""Training run directories: ``config.json``, ``log.jsonl``, ``samples/``,
snapshots, and ``.lock``, which one training process holds (an OS lock that
goes away with the process) for as long as it writes there."""
import contextlib
import fcntl
import glob
import json
import os
import shutil

from gan_common.errors import UserError
from gan_common.files import append_line, atomic_path, ensure_writable_dir, remove_temporaries

LOCK_NAME = '.lock'
SNAPSHOT_GLOB = 'snapshot_iter_*'
WRITTEN_BY_A_RUN = ('config.json', 'log.jsonl', 'loss.png', LOCK_NAME)


class RunDir:
    """The run directory ``path`` held by this process: ``open`` it, write,
    and ``close`` it; ``discard`` removes what a run that died before its
    first snapshot created (the folder itself if this process made it)."""

    def __init__(self, path, config, resume=False):
        self.path = path
        self.created = not os.path.exists(path)
        ensure_writable_dir(path)
        self._lock = _lock(path)
        remove_temporaries(path)
        remove_temporaries(os.path.join(path, 'samples'))
        config_path = os.path.join(path, 'config.json')
        exists = os.path.exists(config_path)
        if resume and not exists:
            self.close()
            raise UserError(f'--resume: {path} holds no run (no config.json); train without --resume first')
        if not resume and exists:
            if has_snapshot(path):
                self.close()
                raise UserError(f'{path} already holds a run; pass --resume to continue it or choose another --out')
            _remove_run_files(path)  # a run that died before its first snapshot left nothing to continue
        os.makedirs(os.path.join(path, 'samples'), exist_ok=True)
        write_json(config_path, config)

    def close(self):
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    def discard(self):
        """After a failure: if no snapshot was written, remove what this run made."""
        if has_snapshot(self.path):
            return self.close()
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            _remove_run_files(self.path)
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.path, LOCK_NAME))
        self.close()


def _lock(path):
    handle = open(os.path.join(path, LOCK_NAME), 'a+')
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UserError(f'{path} is in use by another run (ganport train or compare); wait for it to finish, or choose another --out') from None
    return handle


def _remove_run_files(path):
    for name in WRITTEN_BY_A_RUN[:-1]:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(path, name))
    shutil.rmtree(os.path.join(path, 'samples'), ignore_errors=True)


def has_snapshot(path):
    return bool(glob.glob(os.path.join(path, SNAPSHOT_GLOB)))


def write_json(path, data):
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write('\n')


def read_json(path):
    with open(path) as f:
        return json.load(f)


def append_log(run_dir, entry):
    append_line(os.path.join(run_dir, 'log.jsonl'), json.dumps(entry) + '\n')


def read_log(run_dir):
    """The logged entries; a torn last line (a write cut short) is left out."""
    path = os.path.join(run_dir, 'log.jsonl')
    if not os.path.exists(path):
        return []
    entries = []
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    for number, line in enumerate(lines, 1):
        try:
            entries.append(json.loads(line))
        except ValueError:
            if number < len(lines):
                raise UserError(f'{path} line {number} is not JSON; the log is damaged: '
                                'remove that line, or start a new run') from None
    return entries


def resume_log(run_dir, source, iteration):
    """The log of a run resumed from ``source`` at ``iteration``: lines past
    it, and a torn last line, dropped from ``log.jsonl``; says where it resumed."""
    kept = [e for e in read_log(run_dir) if e['iteration'] <= iteration]
    with atomic_path(os.path.join(run_dir, 'log.jsonl')) as tmp:
        with open(tmp, 'w') as f:
            f.writelines(json.dumps(e) + '\n' for e in kept)
    print(f'resumed from {source} at iteration {iteration}')
    return kept
