"""Training run directories: ``config.json``, ``log.jsonl``, ``samples/``."""
import json
import os

from gan_common.errors import UserError
from gan_common.files import atomic_path, ensure_writable_dir


def create_run_dir(path, config, resume=False):
    """Make ``path`` (with ``samples/``) and write ``config.json``.

    A fresh run refuses a directory that already holds a run, so nothing is
    overwritten by accident; ``resume=True`` requires one."""
    ensure_writable_dir(path)
    config_path = os.path.join(path, 'config.json')
    exists = os.path.exists(config_path)
    if resume and not exists:
        raise UserError(f'--resume: {path} holds no run (no config.json); train without --resume first')
    if not resume and exists:
        raise UserError(f'{path} already holds a run; pass --resume to continue it or choose another --out')
    os.makedirs(os.path.join(path, 'samples'), exist_ok=True)
    if not resume:
        write_json(config_path, config)
    return path


def write_json(path, data):
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write('\n')


def read_json(path):
    with open(path) as f:
        return json.load(f)


def append_log(run_dir, entry):
    with open(os.path.join(run_dir, 'log.jsonl'), 'a') as f:
        f.write(json.dumps(entry) + '\n')


def read_log(run_dir):
    path = os.path.join(run_dir, 'log.jsonl')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def truncate_log(run_dir, last_iteration):
    """Drop log lines past ``last_iteration`` (used when resuming a snapshot)."""
    kept = [e for e in read_log(run_dir) if e['iteration'] <= last_iteration]
    with atomic_path(os.path.join(run_dir, 'log.jsonl')) as tmp:
        with open(tmp, 'w') as f:
            f.writelines(json.dumps(e) + '\n' for e in kept)
