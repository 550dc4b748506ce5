"""One exception type for every problem a user can fix, and the wrapper that
turns it into a single line on stderr and exit status 1."""
import contextlib
import functools
import signal
import sys
import threading


class UserError(Exception):
    """A problem with the user's input or environment; the message says the fix."""


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that a run cut short cleans up
    as after Ctrl-C (the default SIGTERM ends the process without cleanup)."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises():
    """While inside: SIGTERM raises ``Terminated`` (main thread only: signal
    handlers can be set nowhere else)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_on_user_error(main):
    """Decorate a script's ``main`` so a ``UserError`` ends it with one line,
    and Ctrl-C or SIGTERM with one line after its cleanup."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            with sigterm_raises():
                return main(*args, **kwargs)
        except UserError as error:
            print(f'error: {error}', file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt:
            print('interrupted', file=sys.stderr)
            sys.exit(130)
        except Terminated:
            print('terminated', file=sys.stderr)
            sys.exit(128 + signal.SIGTERM)
    return wrapper
