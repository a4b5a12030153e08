"""Exit codes and the one-line error messages of the ``posflow`` command."""

from __future__ import annotations

import enum

__all__ = ["CliError", "ExitCode"]


class ExitCode(enum.IntEnum):
    """What the ``posflow`` command's exit status means (documented in docs/cli.md)."""

    OK = 0
    """Done."""
    PROBLEMS = 1
    """``validate`` found problems in the file (each is printed with its location)."""
    USAGE = 2
    """Bad arguments or options (an unknown option, a value out of range)."""
    NO_DATABASE = 3
    """The database does not exist or cannot be reached."""
    BAD_DATABASE = 4
    """The database exists but is not a usable posflow database (corrupt, wrong schema)."""
    UNKNOWN_TERMINAL = 5
    """No terminal with the given id is stored."""
    BAD_FILE = 6
    """A file named on the command line cannot be read."""
    INTERNAL = 70
    """An unexpected error: a bug. Run again with ``--debug`` for the traceback."""
    BROKEN_PIPE = 141
    """Standard output was closed early (``posflow ... | head -1``): 128 + SIGPIPE, as a shell
    reports for any program whose reader went away; nothing is printed."""


class CliError(Exception):
    """An error the command reports in one line and exits with ``code``."""

    def __init__(self, message: str, code: ExitCode) -> None:
        self.code = code
        super().__init__(message)
