"""Python 2 scripts: translated in memory with the standard library's lib2to3
(the user's files are never written), with Python 2's integer division kept;
and, under ``--device cpu``, CuPy's ``array.get()`` made to work on NumPy arrays.

A file is translated when Python 3 cannot compile it, or when it compiles but
calls what only Python 2 has (``xrange``, ``dict.iteritems()``, ``cPickle``,
...). The script itself and the modules it imports from its own folder are
read this way; every line a fixer changed is listed in the report. In a
translated file without ``from __future__ import division``, ``a / b`` floors
when both operands are integers (Python ints, NumPy integer scalars or
arrays), as Python 2 did, and divides as today otherwise. Under ``--device
cpu`` every file of the script's folder that calls ``x.get()`` with no
arguments (CuPy's copy to the host; ``dict.get`` takes a key) runs with that
call made ``__legacy_array_get__(x)``: a NumPy array gives a copy, anything
else its own ``get()``."""
import ast
import builtins
import difflib
import importlib.machinery
import importlib.util
import io
import os
import pickle
import re
import sys
import warnings

import numpy

from chainer_impl.legacy.report import record

_PYTHON2_ONLY = re.compile(
    r'\bxrange\s*\(|\.iter(?:items|keys|values)\s*\(|\.has_key\s*\(|\braw_input\s*\(|\bunichr\s*\('
    r'|\bbasestring\b|^\s*print\s*>>|^\s*(?:import|from)\s+(?:cPickle|cStringIO|StringIO|urllib2|Queue|ConfigParser)\b',
    re.MULTILINE)
_FUTURE_DIVISION = re.compile(r'^\s*from\s+__future__\s+import\s+[^#\n]*\bdivision\b', re.MULTILINE)
CLASSIC_DIVIDE, CLASSIC_DIVIDE_INPLACE = '__legacy_classic_divide__', '__legacy_classic_divide_inplace__'
ARRAY_GET = '__legacy_array_get__'
_ZERO_ARGUMENT_GET = re.compile(r'\.get\(\s*\)')


class Translation:
    """A Python 2 file as Python 3 source, and which lines the fixers changed."""

    def __init__(self, path, original, text, fixers_by_line, python2=True, array_get=False):
        self.path, self.original, self.text = path, original, text
        self.fixers_by_line = fixers_by_line
        self.python2 = python2
        self.classic_division = python2 and not _FUTURE_DIVISION.search(original)
        self.array_get = array_get

    def changed_lines(self):
        """(line, fixers, old line, new text) for every line the translation changed."""
        old, new = self.original.splitlines(), self.text.splitlines()
        rows = []
        for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if tag == 'equal':
                continue
            pairs = (zip(old[a0:a1], new[b0:b1]) if a1 - a0 == b1 - b0
                     else [(' / '.join(s.strip() for s in old[a0:a1]), ' / '.join(s.strip() for s in new[b0:b1]))])
            for offset, (before, after) in enumerate(pairs):
                number = a0 + offset + 1
                rows.append((number, sorted(self.fixers_by_line.get(number, ())) or ['2to3'],
                             before.strip(), after.strip()))
        return rows

    def code(self):
        tree = ast.parse(self.text, self.path)
        if self.classic_division:
            tree = _ClassicDivision().visit(tree)
        if self.array_get:
            tree = _ArrayGet().visit(tree)
        tree = ast.fix_missing_locations(tree)
        return compile(tree, self.path, 'exec', dont_inherit=True)

    def report(self):
        for number, fixers, old, new in self.changed_lines():
            by = f"lib2to3 ({', '.join(fixers)})"
            record('python2', old or '(line removed)', f'{by} made it `{new}`' if new else f'{by} removed it',
                   where=(self.path, number))


def read_source(path):
    with open(path, 'rb') as file:
        return importlib.util.decode_source(file.read())


def needs_translation(source):
    if _PYTHON2_ONLY.search(source):
        return True
    try:
        compile(source, '<check>', 'exec', dont_inherit=True)
    except SyntaxError:
        return True
    return False


def translate(path, source=None, array_get=False):
    """The file at ``path`` as a Translation, or None when it needs none or
    lib2to3 cannot make Python 3 of it (Python then shows its own SyntaxError).
    ``array_get``: also rewrite ``x.get()`` (for --device cpu)."""
    try:
        source = read_source(path) if source is None else source
    except (OSError, UnicodeDecodeError, SyntaxError):  # Python reports these itself when it runs the file
        return None
    array_get = array_get and bool(_ZERO_ARGUMENT_GET.search(source))
    if not needs_translation(source):
        return Translation(path, source, source, {}, python2=False, array_get=True) if array_get else None
    tool = _RecordingRefactoringTool()
    try:
        text = str(tool.refactor_string(source if source.endswith('\n') else source + '\n', path))
        compile(text, path, 'exec', dont_inherit=True)
    except Exception:  # lib2to3's ParseError, or what it made still does not compile
        return None
    return Translation(path, source, text, tool.fixers_by_line, array_get=array_get)


def _refactoring_tool_class():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # lib2to3 is deprecated, and says so on import
        from lib2to3 import refactor
    return refactor


def _RecordingRefactoringTool():
    refactor = _refactoring_tool_class()

    class Tool(refactor.RefactoringTool):
        """lib2to3 with every fixer, noting which fixer changed which line."""

        def __init__(self):
            self.fixers_by_line = {}
            super().__init__(refactor.get_fixers_from_package('lib2to3.fixes'))

        def get_fixers(self):
            pre, post = super().get_fixers()
            for fixer in pre + post:
                fixer.transform = self._noting(fixer, fixer.transform)
            return pre, post

        def _noting(self, fixer, transform):
            name = type(fixer).__module__.rsplit('.fix_', 1)[-1]

            def noted(node, results):
                line, before = node.get_lineno(), _lines(node)
                new = transform(node, results)
                after = _lines(new if new is not None else node)
                for offset in _differing(before, after):
                    self.fixers_by_line.setdefault(line + offset, set()).add(name)
                return new
            return noted
    return Tool()


def _lines(node):
    """The node's text without its prefix (the whitespace and comments before it), by line."""
    return str(node)[len(node.prefix):].split('\n')


def _differing(before, after):
    """Offsets of the lines that differ (all from the first difference on when lines were added or removed)."""
    if len(before) == len(after):
        return [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    first = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    return range(first, max(len(before), len(after)))


# ---------------------------------------------------------------- Python 2's /
class _ClassicDivision(ast.NodeTransformer):
    """``a / b`` -> ``__legacy_classic_divide__(a, b)``; ``t /= b`` likewise."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div):
            return node
        call = ast.Call(ast.Name(CLASSIC_DIVIDE, ast.Load()), [node.left, node.right], [])
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div):
            return node
        read = _as_load(node.target)
        call = ast.Call(ast.Name(CLASSIC_DIVIDE_INPLACE, ast.Load()), [read, node.value], [])
        return ast.copy_location(ast.Assign([node.target], ast.copy_location(call, node)), node)


class _ArrayGet(ast.NodeTransformer):
    """``x.get()`` -> ``__legacy_array_get__(x)``."""

    def visit_Call(self, node):
        self.generic_visit(node)
        function = node.func
        if not (isinstance(function, ast.Attribute) and function.attr == 'get' and not node.args
                and not node.keywords):
            return node
        return ast.copy_location(ast.Call(ast.Name(ARRAY_GET, ast.Load()), [function.value], []), node)


def array_get_or_copy(value):
    if isinstance(value, (numpy.ndarray, numpy.generic)):
        record('cupy_get_cpu', 'array.get()')
        return value.copy()
    return value.get()


def _as_load(target):
    copy = ast.parse(ast.unparse(target), mode='eval').body
    return ast.copy_location(copy, target)


def _integral(value):
    if isinstance(value, (bool, int, numpy.integer)):
        return True
    dtype = getattr(value, 'dtype', None)
    return (isinstance(getattr(value, 'shape', None), tuple) and isinstance(dtype, numpy.dtype)
            and dtype.kind in 'biu' and type(value).__module__.split('.')[0] in ('numpy', 'cupy'))


def classic_divide(a, b):
    if _integral(a) and _integral(b):
        record('py2_division', 'a / b of two integers')
        return a // b
    return a / b


def classic_divide_inplace(a, b):
    if _integral(a) and _integral(b):
        record('py2_division', 'a /= b of two integers')
        a //= b
    else:
        a /= b
    return a


# ---------------------------------------------------------------- running and importing
class _TranslatingLoader(importlib.machinery.SourceFileLoader):
    """Loads a module of the script's folder from its translation (no .pyc written or read)."""

    def __init__(self, fullname, path, translation):
        super().__init__(fullname, path)
        self.translation = translation

    def get_code(self, fullname):
        self.translation.report()
        return self.translation.code()


class _ScriptFolderFinder:
    """Finds the Python 2 modules of one folder and loads them translated."""

    def __init__(self, folder, array_get):
        self.folder = os.path.realpath(folder) + os.sep
        self.array_get = array_get

    def find_spec(self, fullname, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = getattr(spec, 'origin', None) or ''
        if not origin.endswith('.py') or not os.path.realpath(origin).startswith(self.folder):
            return None
        translation = translate(origin, array_get=self.array_get)
        if translation is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, origin, loader=_TranslatingLoader(fullname, origin, translation),
            submodule_search_locations=spec.submodule_search_locations)

    def invalidate_caches(self):
        pass


def _text_file_buffer(file):
    """The binary file under a text-mode file (Python 2's ``open(f, 'w')`` for a pickle)."""
    return file.buffer if isinstance(file, io.TextIOWrapper) else None


def _python2_pickle_retry(load, file_or_bytes, args, kwargs):
    """``load`` as asked; a Python 2 pickle whose str objects are not ASCII is
    read again with encoding='latin1', as NumPy arrays in Python 2 pickles need."""
    seekable = hasattr(file_or_bytes, 'seek') and file_or_bytes.seekable()
    start = file_or_bytes.tell() if seekable else None
    try:
        return load(file_or_bytes, *args, **kwargs)
    except UnicodeDecodeError:
        if 'encoding' in kwargs or not (seekable or isinstance(file_or_bytes, (bytes, bytearray))):
            raise
    record('pickle_python2', 'pickle.load of a Python 2 pickle')
    if seekable:
        file_or_bytes.seek(start)
    return load(file_or_bytes, *args, encoding='latin1', **kwargs)


def _install_pickle_on_text_files():
    original_dump, original_load, original_loads = pickle.dump, pickle.load, pickle.loads

    def dump(obj, file, *args, **kwargs):
        buffer = _text_file_buffer(file)
        if buffer is None:
            return original_dump(obj, file, *args, **kwargs)
        record('pickle_text_mode', 'pickle.dump(obj, open(path, "w"))')
        file.flush()
        return original_dump(obj, buffer, *args, **kwargs)

    def load(file, *args, **kwargs):
        buffer = _text_file_buffer(file)  # ``file`` stays referenced: closing it would close the buffer
        if buffer is not None:
            record('pickle_text_mode', 'pickle.load(open(path))')
        return _python2_pickle_retry(original_load, file if buffer is None else buffer, args, kwargs)

    def loads(data, *args, **kwargs):
        return _python2_pickle_retry(original_loads, data, args, kwargs)
    pickle.dump, pickle.load, pickle.loads = dump, load, loads


def install(script, array_get=False):
    """Translate the modules of ``script``'s folder on import where needed;
    return the script's own Translation (None when it runs as it is).
    ``array_get``: make ``x.get()`` work on NumPy arrays (--device cpu)."""
    setattr(builtins, CLASSIC_DIVIDE, classic_divide)
    setattr(builtins, CLASSIC_DIVIDE_INPLACE, classic_divide_inplace)
    setattr(builtins, ARRAY_GET, array_get_or_copy)
    sys.meta_path.insert(0, _ScriptFolderFinder(os.path.dirname(os.path.abspath(script)), array_get))
    _install_pickle_on_text_files()
    return translate(script, array_get=array_get)
