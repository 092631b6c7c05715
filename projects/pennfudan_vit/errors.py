"""User mistakes as one-line errors; everything else keeps its traceback."""
import functools
import sys
from typing import Callable, Optional, TypeVar

F = TypeVar('F', bound=Callable[..., Optional[int]])


class UserError(Exception):
    """A mistake in what the user gave (path, key, value, file), with its fix."""


def cli_entry(main: F) -> F:
    """Run a tool's ``main``: a :class:`UserError` becomes ``error: ...`` and exit 2."""

    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as err:
            print(f'error: {err}', file=sys.stderr)
            sys.exit(2)

    return wrapped  # type: ignore[return-value]
