"""The values the service takes and returns besides terminals and outcomes.

Commands for bulk calls, the retry policy, and what bulk work, drains and
verification report. :class:`~posflow.store.TerminalService` is in ``_service``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from posflow._outcome import Outcome
from posflow._terminal import Terminal
from posflow.errors import InvalidInput, PosflowError
from posflow.store._base import is_seconds

__all__ = [
    "Command",
    "CommandFailed",
    "Discrepancy",
    "DrainReport",
    "DuplicateOutcome",
    "RetryPolicy",
]


@attrs.frozen(slots=True)
class Command:
    """One event to fire in :meth:`TerminalService.fire_many`.

    Attributes:
        terminal_id: the terminal.
        event: the event.
        payload: this event's payload; ``None`` uses the shared context's payload.
        actor: who asks; ``None`` uses the shared context's actor.
        idempotency_key: the caller's deduplication key for this terminal, if any.
    """

    terminal_id: str
    event: str
    payload: Mapping[str, Any] | None = None
    actor: str | None = None
    idempotency_key: str | None = None


@attrs.frozen(slots=True)
class RetryPolicy:
    """How a fire that lost a race (``ConcurrencyConflict``) is tried again.

    Each retry reloads the terminal and decides again from what is stored now.
    The wait before retry ``n`` (1-based) is ``min(max_delay, base_delay * 2**(n-1))``,
    scaled by a random factor in ``[0.5, 1]`` when ``jitter`` is on.

    Attributes:
        attempts: how many times to try in all (1 means no retry).
        base_delay: seconds before the first retry.
        max_delay: the longest wait between two tries.
        jitter: spread the waits so racing writers do not collide again.
        sleep: how to wait (injectable for tests).
    """

    attempts: int = 5
    base_delay: float = 0.001
    max_delay: float = 0.05
    jitter: bool = True
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False)

    def __attrs_post_init__(self) -> None:
        if type(self.attempts) is not int or self.attempts < 1:
            raise InvalidInput(f"must be a whole number, at least 1, got {self.attempts!r}",
                               field="attempts")  # fmt: skip
        for name in ("base_delay", "max_delay"):
            value = getattr(self, name)
            if not is_seconds(value):
                raise InvalidInput(f"must be a number of seconds, 0 or more, got {value!r}",
                                   field=name)  # fmt: skip
        if not callable(self.sleep):
            raise InvalidInput("must be callable", field="sleep")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        wait: float = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return wait * random.uniform(0.5, 1.0) if self.jitter else wait  # noqa: S311 - not crypto


class DuplicateOutcome(Outcome):
    """The outcome returned for an idempotency key already used for that terminal.

    It repeats the first attempt's decision (accepted or refused, the same
    reasons, the same record) and nothing was changed this time. ``terminal``
    carries the state and version that attempt produced, with the data as stored
    now.
    """

    __slots__ = ()

    duplicate = True
    """Always true: nothing was decided or stored by this call."""


@attrs.frozen(slots=True)
class CommandFailed:
    """A command of a bulk call that could not be applied; returned in its place.

    The rest of the batch is unaffected. Only returned with ``errors="return"``.

    Attributes:
        command: the command.
        error: why (``TerminalNotFound``, ``InvalidInput``, ...).
    """

    command: Command
    error: PosflowError

    ok = False
    blocked = True


@attrs.frozen(slots=True)
class DrainReport:
    """What one worker did in one :meth:`TerminalService.drain` call.

    Attributes:
        run_id: the run.
        worker: the worker's label.
        batches: transactions committed.
        fired: terminals whose event was accepted.
        refused: terminals whose event was refused (recorded under the run's key).
        codes: how often each refusal code occurred.
    """

    run_id: str
    worker: str
    batches: int = 0
    fired: int = 0
    refused: int = 0
    codes: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def attempted(self) -> int:
        """Terminals this worker decided (accepted or refused)."""
        return self.fired + self.refused


@attrs.frozen(slots=True)
class Discrepancy:
    """A terminal whose stored row and history disagree.

    Attributes:
        terminal_id: the terminal.
        problems: each disagreement in one sentence.
        stored: the terminal as stored (``None`` when its row cannot be read).
        rebuilt: the terminal rebuilt from history (``None`` when replay failed).
    """

    terminal_id: str
    problems: tuple[str, ...]
    stored: Terminal | None = None
    rebuilt: Terminal | None = None
