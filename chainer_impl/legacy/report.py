"""What the runner mapped, where: each use once, as the porting checklist
printed on stderr at the end of a run and written with ``--report FILE``."""
import json
import os
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple

from chainer_impl.legacy.catalog import MAPPINGS
from gan_common.files import atomic_path

_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_DIRS = tuple(sorted({os.path.realpath(sysconfig.get_paths()[key]) + os.sep
                              for key in ('stdlib', 'platstdlib', 'purelib', 'platlib')}))
REPORT_SUFFIXES = ('.md', '.json')


class Use(NamedTuple):
    file: str
    line: int
    key: str     # into catalog.MAPPINGS
    api: str     # the call as the script wrote it
    detail: str  # what this use did, where the catalog's text is not enough


def is_library(filename):
    """Whether code in ``filename`` is the runner's, Chainer's, NumPy's or the stdlib's, not the script's."""
    if filename.startswith('<'):  # frozen importlib, exec'd strings
        return True
    path = os.path.realpath(filename)
    return path.startswith(_RUNNER_DIR + os.sep) or path.startswith(_LIBRARY_DIRS)


def user_location():
    """(file, line) of the innermost frame outside the runner, Chainer, NumPy and the stdlib."""
    frame = sys._getframe(1)
    while frame is not None:
        if not is_library(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return '?', 0


class Recorder:
    def __init__(self):
        self.uses = {}

    def record(self, key, api, detail='', where=None):
        """Note one use of ``key``'s old API at ``where`` (file, line), by
        default the caller's location; once per location."""
        if key not in MAPPINGS:
            raise KeyError(key)
        file, line = where or user_location()
        self.uses.setdefault((file, line, key, api), Use(file, line, key, api, detail))

    def sorted_uses(self):
        return sorted(self.uses.values(), key=lambda use: (use.file, use.line, use.key, use.api))

    def as_dicts(self):
        rows = []
        for use in self.sorted_uses():
            mapping = MAPPINGS[use.key]
            rows.append({'file': use.file, 'line': use.line, 'changed_in': mapping.step,
                         'old_api': use.api, 'runner_did': use.detail or mapping.done,
                         'write_instead': mapping.modern})
        return rows

    def text(self):
        rows = self.as_dicts()
        if not rows:
            return ''
        lines = [f'legacy runner: {len(rows)} old API use(s) mapped; port them to run without the runner:']
        for row in rows:
            lines.append(f"  {short_path(row['file'])}:{row['line']}: {row['old_api']} [{row['changed_in']}]: "
                         f"{row['runner_did']}; instead: {row['write_instead']}")
        return '\n'.join(lines) + '\n'

    def markdown(self, script):
        lines = [f'# Porting checklist for {script}', '',
                 'Each old API the legacy runner mapped, once per place it was used.', '',
                 '| where | old API | changed in | what the runner did | write instead |',
                 '| --- | --- | --- | --- | --- |']
        for row in self.as_dicts():
            lines.append(f"| `{short_path(row['file'])}:{row['line']}` | {_cell(row['old_api'])} | {row['changed_in']} | "
                         f"{_cell(row['runner_did'])} | {_cell(row['write_instead'])} |")
        if len(lines) == 6:
            lines.append('| | nothing to port | | | |')
        return '\n'.join(lines) + '\n'

    def write(self, path, script):
        """Write the report as Markdown or JSON (chosen by the suffix of ``path``)."""
        if Path(path).suffix == '.json':
            text = json.dumps({'script': script, 'uses': self.as_dicts()}, indent=2) + '\n'
        else:
            text = self.markdown(script)
        with atomic_path(path) as tmp:
            Path(tmp).write_text(text)


def short_path(path):
    """``path`` relative to the current folder when it lies inside it."""
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith('..') else relative


def _cell(text):
    text = text.replace('|', '\\|')
    return text if '`' in text else f'`{text}`'


RECORDER = Recorder()
record = RECORDER.record
