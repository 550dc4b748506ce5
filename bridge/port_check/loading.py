"""``MODULE_OR_FILE:FACTORY`` -> the model the factory returns, with one
clear error for each way it can go wrong."""
import importlib
import importlib.util
import inspect
import os
import sys

from gan_common.errors import UserError


def split_spec(spec, flag):
    source, _, factory = spec.rpartition(':')
    if not source or not factory:
        raise UserError(f'{flag} {spec}: give MODULE_OR_FILE:FACTORY, e.g. {flag} mynet.py:Net')
    return source, factory


def import_source(source, flag):
    """A module by import name, or a ``.py`` file by path (its folder is
    importable while it loads, for its own sibling imports)."""
    if source.endswith('.py') or os.sep in source or os.path.exists(source):
        if not os.path.isfile(source):
            raise UserError(f'{flag}: {source} is not a file; give an importable module or a path to a .py file')
        name = '_port_check_' + os.path.splitext(os.path.basename(source))[0] + f'_{abs(hash(os.path.abspath(source)))}'
        spec = importlib.util.spec_from_file_location(name, source)
        module = importlib.util.module_from_spec(spec)
        folder = os.path.dirname(os.path.abspath(source))
        sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # noqa: BLE001  (the user's file: any failure is a bad input)
            raise UserError(f'{flag}: {source} fails to load: {type(error).__name__}: {error}; fix the file') from None
        finally:
            sys.path.remove(folder)
        return module
    try:
        return importlib.import_module(source)
    except ModuleNotFoundError as error:
        raise UserError(f'{flag}: cannot import {source} ({error}); give an importable module '
                        'or a path to a .py file') from None
    except Exception as error:  # noqa: BLE001
        raise UserError(f'{flag}: {source} fails to import: {type(error).__name__}: {error}; fix the module') from None


def load_model(spec, flag, expected_type, type_name):
    """Call the factory ``spec`` names (a class with no required arguments counts)."""
    source, name = split_spec(spec, flag)
    module = import_source(source, flag)
    factory = getattr(module, name, None)
    if factory is None:
        public = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith('_')
                        and getattr(v, '__module__', None) == module.__name__)
        raise UserError(f"{flag}: {source} has no '{name}' (it defines: {', '.join(public) or 'nothing callable'})")
    if not callable(factory):
        raise UserError(f"{flag}: {source}:{name} is a {type(factory).__name__}, not a callable returning a model")
    required = required_arguments(factory)
    if required:
        raise UserError(f"{flag}: {source}:{name} needs arguments ({', '.join(required)}); give a factory "
                        'that takes none, e.g. a function returning the model built your way')
    try:
        model = factory()
    except Exception as error:  # noqa: BLE001
        raise UserError(f'{flag}: {source}:{name}() fails: {type(error).__name__}: {error}') from None
    if not isinstance(model, expected_type):
        raise UserError(f'{flag}: {source}:{name}() returned a {type(model).__name__}, not a {type_name}')
    return model


def required_arguments(factory):
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    return [p.name for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
