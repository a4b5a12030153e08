"""Standard output for the commands, and what is done when its reader goes away."""

from __future__ import annotations

import contextlib
import os
import sys

from rich.console import Console

__all__ = ["Output", "silence_stdout"]


class Output(Console):
    """A rich console on standard output whose closed pipe raises ``BrokenPipeError``.

    rich's own answer to a closed pipe is ``SystemExit(1)``, and 1 is the code
    ``validate`` keeps for problems found; raising instead lets the command's error
    handling end with the code documented for a closed output.
    """

    def on_broken_pipe(self) -> None:
        """Stop writing, and let the command's error handling decide the exit code."""
        self.quiet = True
        raise BrokenPipeError


def silence_stdout() -> None:
    """Send whatever is still buffered for standard output nowhere.

    Its reader is gone: without this, Python's last flush at exit would fail again
    and print a traceback after the command had ended quietly.
    """
    with contextlib.suppress(OSError, ValueError):  # no file descriptor (a test's runner)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
