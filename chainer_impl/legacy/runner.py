"""``python -m chainer_impl.legacy [options] SCRIPT [ARGS...]``: run an old
Chainer script unchanged on Chainer 7.8.1, NumPy 2 and CuPy 14.

SCRIPT runs as ``__main__`` exactly as ``python SCRIPT ARGS`` would (its folder
first on sys.path, sys.argv as given, paths relative to the current folder),
after the compatibility layer and the old-API layers are installed (a Python
2 script, and the Python 2 modules of its folder, run as translated in memory
by lib2to3; v1 code is told from v2+ code by --chainer-version). Every old
API it uses is mapped to Chainer 7.8.1 with its old meaning and listed once,
on stderr at the end and with --report FILE as Markdown (.md) or JSON (.json):
the porting checklist.
"""
import argparse
import builtins
import os
import runpy
import sys
import traceback
import types
from pathlib import Path

from gan_common.errors import UserError, exit_on_user_error


def build_parser(prog=None):
    parser = argparse.ArgumentParser(prog=prog or 'python -m chainer_impl.legacy', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', default=None,
                        help='cpu: every GPU call of the script runs on NumPy; @cupy:N: it runs on GPU N '
                             "(default: the script's own choice)")
    parser.add_argument('--data-stand-ins', action='store_true',
                        help="serve sklearn's fetch_mldata('MNIST original') and Chainer's dataset downloads "
                             'from local files (announced on stderr)')
    parser.add_argument('--data-dir', default=None,
                        help="folder holding the dataset files for --data-stand-ins (default: the project's data/)")
    parser.add_argument('--chainer-version', choices=('auto', '1', '2+'), default='auto',
                        help="the Chainer the script was written for: 1 gives v1's meaning to what Chainer 7.8.1 "
                             'reads otherwise without an error (positional link arguments, LSTM forget-gate bias, '
                             "L.GRU, F.split_axis, len(variable)); auto: 1 when the script calls v1-only APIs "
                             'and no v2 ones (default: auto)')
    parser.add_argument('--report', default=None, metavar='FILE',
                        help='also write the list of mapped old APIs to FILE (.md or .json)')
    parser.add_argument('script', metavar='SCRIPT', help='the old Chainer script to run')
    parser.add_argument('args', nargs=argparse.REMAINDER, metavar='ARGS', help="the script's own arguments")
    return parser


def parse_device(text):
    """'cpu', a GPU index, or None (the script decides)."""
    if text is None:
        return None
    from gan_common.devices import parse_device as parse
    gpu = parse(text)
    return 'cpu' if gpu is None else gpu


def check_arguments(args):
    if not Path(args.script).is_file():
        raise UserError(f'{args.script} is not a file; give the path of the Python script to run')
    if args.report is not None:
        from chainer_impl.legacy.report import REPORT_SUFFIXES
        if Path(args.report).suffix not in REPORT_SUFFIXES:
            raise UserError(f'--report {args.report}: give a file name ending in .md or .json')
        if not Path(args.report).resolve().parent.is_dir():
            raise UserError(f'--report {args.report}: its folder does not exist; create it or choose another')
    if args.data_dir is not None and not args.data_stand_ins:
        raise UserError('--data-dir is read by the data stand-ins; add --data-stand-ins')
    return parse_device(args.device)


def install_layers(gpu, args):
    """Compatibility layer first, then the old APIs, devices, data and surroundings;
    return the script's Python 3 translation (None when it is Python 3)."""
    import chainer_impl.compat  # noqa: F401
    from chainer_impl.legacy import device, era, later_steps, python2, surroundings, v1_defaults, v1_to_v2
    translation = python2.install(args.script, array_get=gpu == 'cpu')
    if translation is not None and translation.python2:
        print(f'legacy runner: {args.script} is Python 2; it runs as translated in memory by lib2to3 '
              f'(the changed lines are listed at the end)', file=sys.stderr)
    verdict = era.decide(args.script, args.chainer_version)
    if verdict.v1:
        print(f"legacy runner: {args.script} reads as Chainer v1 code ({verdict.evidence}); v1's positional "
              f'link arguments and defaults apply (--chainer-version 2+ to change)', file=sys.stderr)
        v1_defaults.install()
    later_steps.install()
    v1_to_v2.install()
    device.install(gpu)
    if args.data_stand_ins:
        from chainer_impl.legacy import data
        data.install(args.data_dir)
    surroundings.install()
    return translation


def run_script(path, argv, translation=None):
    """Run ``path`` (or its translation) as ``__main__`` with ``sys.argv = argv``, as ``python path`` does."""
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    if translation is None:
        runpy.run_path(path, run_name='__main__')
        return
    translation.report()
    main_module = types.ModuleType('__main__')
    main_module.__file__, main_module.__builtins__ = path, builtins
    saved = sys.modules.get('__main__')
    sys.modules['__main__'] = main_module
    try:
        exec(translation.code(), main_module.__dict__)
    finally:
        sys.modules['__main__'] = saved


def _script_traceback(error, path):
    """The traceback Python would print for the script alone (runner frames cut)."""
    target = os.path.abspath(path)
    if isinstance(error, SyntaxError) and os.path.abspath(error.filename or '') == target:
        return ''.join(traceback.format_exception_only(type(error), error)) + (
            f'legacy runner: {path} is neither Python 3 nor Python 2 that lib2to3 can translate\n')
    tb = error.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    return ''.join(traceback.format_exception(type(error), error, tb or error.__traceback__))


def _needs_missing_gpu(error):
    return ((isinstance(error, ModuleNotFoundError) and (error.name or '').split('.')[0] in ('cupy', 'cupyx'))
            or type(error).__name__ == 'CUDARuntimeError')


def finish(args, status):
    from chainer_impl.legacy.report import RECORDER
    sys.stderr.write(RECORDER.text())
    if args.report:
        RECORDER.write(args.report, args.script)
        print(f'legacy runner: porting checklist written to {args.report}', file=sys.stderr)
    sys.stderr.flush()
    return status


@exit_on_user_error
def main(argv=None, prog=None):
    args = build_parser(prog).parse_args(argv)
    gpu = check_arguments(args)
    from chainer_impl.legacy.errors import RunnerStop
    try:
        translation = install_layers(gpu, args)
    except RunnerStop as stop:
        raise UserError(str(stop)) from None
    try:
        run_script(args.script, [args.script, *args.args], translation)
    except SystemExit as exit_:
        finish(args, 0)
        raise exit_
    except RunnerStop as stop:
        raise UserError(str(stop)) from None
    except UserError:  # a stand-in's data file is missing or corrupt
        raise
    except KeyboardInterrupt:
        finish(args, 130)
        raise
    except BaseException as error:  # noqa: B902  (the script's own failure, shown as Python would)
        if _needs_missing_gpu(error) and gpu is None:
            raise UserError(f'{args.script} needs a GPU and none is reachable here ({error}); '
                            f'rerun with --device cpu to run it on NumPy') from None
        sys.stderr.write(_script_traceback(error, args.script))
        finish(args, 1)
        sys.exit(1)
    finish(args, 0)
