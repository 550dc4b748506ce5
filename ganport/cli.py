"""``ganport SUBCOMMAND [ARGS...]``: find the subcommands in ``ganport.commands``
and hand the arguments to the chosen one's ``main``.

Only the chosen module is imported (a subcommand may import a framework,
which takes seconds); the summaries for ``--help`` are read from the modules'
docstrings without importing them."""
import ast
import importlib
import pkgutil
import sys
from pathlib import Path

from ganport import commands

PROG = 'ganport'


def module_name(subcommand):
    return subcommand.replace('-', '_')


def subcommand_name(module):
    return module.replace('_', '-')


def discover():
    """{subcommand: summary} for every module in ``ganport.commands``, sorted by name."""
    found = {}
    for info in pkgutil.iter_modules(commands.__path__):
        if info.ispkg or info.name.startswith('_'):
            continue
        path = Path(info.module_finder.path) / f'{info.name}.py'
        found[subcommand_name(info.name)] = summary(path)
    return dict(sorted(found.items()))


def summary(path):
    """The first line of the module docstring at ``path``."""
    try:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding='utf-8'))) or ''
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ''
    return docstring.strip().split('\n', 1)[0]


def usage(found):
    width = max(map(len, found), default=0)
    lines = [f'usage: {PROG} SUBCOMMAND [ARGS...]   ({PROG} SUBCOMMAND --help for its options)', '',
             'Chainer GANs and their PyTorch port, proven equal.', '', 'subcommands:']
    lines += [f'  {name:<{width}}  {text}' for name, text in found.items()]
    return '\n'.join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    found = discover()
    if not argv or argv[0] in ('-h', '--help'):
        print(usage(found))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in found:
        print(f'{PROG}: unknown subcommand {name!r}; choose one of: {", ".join(found)} '
              f'(or run {PROG} --help)', file=sys.stderr)
        sys.exit(1)
    command = importlib.import_module(f'{commands.__name__}.{module_name(name)}')
    program, sys.argv[0] = sys.argv[0], f'{PROG} {name}'  # argparse names the program after sys.argv[0]
    try:
        return command.main(rest)
    finally:
        sys.argv[0] = program
