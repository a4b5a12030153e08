"""A service without a store: terminals in a dict, history in lists.

It answers the part of ``posflow.store.TerminalService``'s interface that tests
use (``create``, ``get``, ``fire``, ``history``), so a state machine or a fixture
can run against either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from posflow._context import Context
from posflow._history import HistoryRecord
from posflow._lifecycle import Lifecycle
from posflow._outcome import Outcome
from posflow._terminal import Terminal
from posflow.errors import TerminalExists, TerminalNotFound

__all__ = ["ServiceLike", "SimpleService"]


@runtime_checkable
class ServiceLike(Protocol):
    """What :class:`~posflow.testing.TerminalMachine` needs of a service.

    ``posflow.store.TerminalService`` and :class:`SimpleService` both have it.
    """

    def create(self, terminal_id: str, data: Mapping[str, Any] | None = None) -> Terminal:
        """Register a new terminal in the lifecycle's initial state."""
        ...

    def get(self, terminal_id: str) -> Terminal:
        """The terminal as stored now."""
        ...

    def fire(
        self, terminal_id: str, event: str, ctx: Context, idempotency_key: str | None = None
    ) -> Outcome:
        """Fire ``event`` at the stored terminal and keep the result."""
        ...

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """Every record kept for the terminal, oldest first."""
        ...


class SimpleService:
    """A lifecycle with terminals and their history kept in memory; no store, no locks.

    For tests that need "a service" before (or without) a real store. Every
    attempt, accepted or refused, is appended to the terminal's history with
    its sequence number.

    >>> import posflow
    >>> from posflow.testing import SimpleService
    >>> svc = SimpleService(posflow.default_lifecycle())
    >>> svc.create("T1").state
    'applied'
    >>> svc.fire("T1", "review").codes[:1]
    ('documents.application_field_missing',)
    >>> [r.event for r in svc.history("T1")], svc.get("T1").version
    (['review'], 0)

    Args:
        lifecycle: the lifecycle events are fired in.
        record_refusals: whether refused attempts are kept in the history too.
    """

    def __init__(self, lifecycle: Lifecycle, *, record_refusals: bool = True) -> None:
        self.lifecycle = lifecycle
        self.record_refusals = record_refusals
        self._terminals: dict[str, Terminal] = {}
        self._history: dict[str, list[HistoryRecord]] = {}

    def create(self, terminal_id: str, data: Mapping[str, Any] | None = None) -> Terminal:
        """Register a terminal in the initial state.

        Raises:
            TerminalExists: when ``terminal_id`` is already registered.
        """
        if terminal_id in self._terminals:
            raise TerminalExists(terminal_id)
        t = self.lifecycle.new_terminal(terminal_id, data)
        self._terminals[terminal_id] = t
        self._history[terminal_id] = []
        return t

    def get(self, terminal_id: str) -> Terminal:
        """The terminal as kept now.

        Raises:
            TerminalNotFound: when ``terminal_id`` is not registered.
        """
        try:
            return self._terminals[terminal_id]
        except KeyError:
            raise TerminalNotFound(terminal_id) from None

    def fire(
        self,
        terminal_id: str,
        event: str,
        ctx: Context | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Fire ``event``, keep the new terminal and append the attempt to the history."""
        outcome = self.lifecycle.fire(
            self.get(terminal_id), event, ctx, idempotency_key=idempotency_key
        )
        self.keep(outcome)
        return outcome

    def keep(self, outcome: Outcome) -> None:
        """Store what ``outcome`` says: the new terminal, and its record in the history."""
        tid = outcome.terminal.id
        if outcome.ok:
            self._terminals[tid] = outcome.terminal
        elif not self.record_refusals:
            return
        history = self._history[tid]
        history.append(outcome.record.with_seq(len(history)))

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """Every kept record of the terminal, oldest first.

        Raises:
            TerminalNotFound: when ``terminal_id`` is not registered.
        """
        self.get(terminal_id)
        return list(self._history[terminal_id])

    def __repr__(self) -> str:
        return f"SimpleService({self.lifecycle.name!r}, {len(self._terminals)} terminals)"
