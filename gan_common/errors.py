"""One exception type for every problem a user can fix, and the wrapper that
turns it into a single line on stderr and exit status 1."""
import functools
import sys


class UserError(Exception):
    """A problem with the user's input or environment; the message says the fix."""


def exit_on_user_error(main):
    """Decorate a script's ``main`` so a ``UserError`` ends it with one line."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f'error: {error}', file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt:
            print('interrupted', file=sys.stderr)
            sys.exit(130)
    return wrapper
