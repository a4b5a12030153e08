"""TerminalService: durable lifecycles on a store, one transaction per decision.

The bulk path, drains and verification are written in modules of their own
(``_bulk``, ``_drain``, ``_verify``) and inherited from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, overload

from posflow._context import Context
from posflow._history import HistoryRecord
from posflow._lifecycle import Lifecycle
from posflow._outcome import Outcome, Verdict
from posflow._terminal import Terminal
from posflow.errors import TerminalExists
from posflow.store._base import Store, Write, check_id, check_key, check_text
from posflow.store._bulk import _BulkFires
from posflow.store._drain import _Drains
from posflow.store._servicebase import _duplicate, _row
from posflow.store._values import RetryPolicy
from posflow.store._verify import _Verifies

__all__ = ["TerminalService"]


class TerminalService(_BulkFires, _Drains, _Verifies):
    """Durable terminals: every decision loaded, made and saved in one transaction.

    Args:
        lifecycle: decides every event.
        store: keeps terminals and their history.
        record_refusals: also append refused attempts to history (default true);
            a refusal then takes a write transaction like an accepted event.
        retry: how to retry a fire that lost a race; ``None`` raises
            :class:`~posflow.errors.ConcurrencyConflict` at once.

    The service keeps no per-terminal state and never changes the context it is
    given; one service may be shared by threads.
    """

    __slots__ = ("_attempts", "_lifecycle", "_record_refusals", "_retry", "_store")

    def __init__(
        self,
        lifecycle: Lifecycle,
        store: Store,
        record_refusals: bool = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._lifecycle = lifecycle
        self._store = store
        self._record_refusals = record_refusals
        self._retry = retry
        self._attempts = 1 if retry is None else retry.attempts

    def __repr__(self) -> str:
        return f"<TerminalService {self._lifecycle.name!r} on {self._store!r}>"

    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle that decides."""
        return self._lifecycle

    @property
    def store(self) -> Store:
        """The store that keeps terminals and history."""
        return self._store

    # -- creation --------------------------------------------------------------------------

    def create(self, terminal_id: str, data: Mapping[str, Any] | None = None) -> Terminal:
        """Store a new terminal in the lifecycle's initial state, version 0.

        Raises:
            TerminalExists: the id is taken.
            InvalidInput: the id is not usable (empty, whitespace only, too long, ...)
                or the data cannot be stored.
        """
        check_id(terminal_id)
        t = self._lifecycle.new_terminal(terminal_id, data)
        with self._store.transaction() as tx:
            tx.insert([t], [tx.encode_data(t)])
        return t

    def create_many(
        self, items: Iterable[tuple[str, Mapping[str, Any] | None]], *, batch_size: int = 1000
    ) -> int:
        """Store many new terminals, ``batch_size`` per transaction; returns how many.

        Raises:
            TerminalExists: an id is taken (its batch is not stored; earlier batches are).
            InvalidInput: an id is not usable (empty, whitespace only, too long, ...)
                or data cannot be stored; its batch is not stored, earlier batches are.
        """
        count = 0
        batch: list[Terminal] = []
        seen: set[str] = set()
        new = self._lifecycle.new_terminal
        for terminal_id, data in items:
            check_id(terminal_id)
            if terminal_id in seen:
                raise TerminalExists(terminal_id)
            seen.add(terminal_id)
            batch.append(new(terminal_id, data))
            if len(batch) >= batch_size:
                count += self._insert(batch)
                batch = []
        if batch:
            count += self._insert(batch)
        return count

    def _insert(self, batch: list[Terminal]) -> int:
        with self._store.transaction() as tx:
            tx.insert(batch, [tx.encode_data(t) for t in batch])
        return len(batch)

    # -- single fires ----------------------------------------------------------------------

    def fire(
        self,
        terminal_id: str,
        event: str,
        ctx: Context | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Decide ``event`` for the stored terminal and save the result, in one transaction.

        The terminal is loaded, the lifecycle decides with ``ctx``, the history
        record is appended and the terminal saved only if nobody saved it since
        it was loaded. A key already used for this terminal returns the first
        attempt's outcome (a :class:`DuplicateOutcome`) and changes nothing.

        Raises:
            TerminalNotFound: no such terminal.
            ConcurrencyConflict: another writer won, and the retry policy (if any)
                ran out of attempts.
            InvalidInput: an id, event, actor or key that cannot be stored, or a
                payload or data that is not JSON.
        """
        check_id(terminal_id)
        check_text(event, "event")
        if idempotency_key is not None:
            check_key(idempotency_key)
        if ctx is None:
            ctx = Context()
        check_text(ctx.actor, "actor")
        if self._attempts == 1:
            return self._fire_once(terminal_id, event, ctx, idempotency_key)
        return self._retrying(lambda: self._fire_once(terminal_id, event, ctx, idempotency_key))

    def _fire_once(self, terminal_id: str, event: str, ctx: Context, key: str | None) -> Outcome:
        with self._store.transaction() as tx:
            loaded, prior = tx.load(terminal_id, key)
            if prior is not None:
                return _duplicate(loaded, prior, ctx)
            before = loaded.terminal
            out = self._lifecycle.fire(before, event, ctx, idempotency_key=key)
            reasons = out.reasons
            if reasons and not self._record_refusals:
                return out
            row = _row(tx, out, loaded.seq, None)
            after = out.terminal
            data = None if after.data is before.data else tx.encode_data(after)
            tx.save([Write(loaded, after, data, [row])])
        return out

    # -- reads -----------------------------------------------------------------------------

    def get(self, terminal_id: str) -> Terminal:
        """The stored terminal; ``TerminalNotFound`` if there is none.

        An id no store can hold (see ``MAX_ID_LENGTH``) is ``InvalidInput``.
        """
        return self._store.get(terminal_id)

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """The terminal's history, oldest first; ``TerminalNotFound`` if there is none.

        An id no store can hold (see ``MAX_ID_LENGTH``) is ``InvalidInput``.
        """
        return self._store.history(terminal_id)

    def counts(self) -> dict[str, int]:
        """How many terminals are in each state (states with none are absent)."""
        return self._store.counts()

    @overload
    def explain(
        self, terminal_id: str, ctx: Context | None = ..., event: None = ...
    ) -> dict[str, Verdict]: ...

    @overload
    def explain(self, terminal_id: str, ctx: Context | None, event: str) -> Verdict: ...

    def explain(
        self, terminal_id: str, ctx: Context | None = None, event: str | None = None
    ) -> Verdict | dict[str, Verdict]:
        """Why the stored terminal may or may not take ``event`` now (every event when ``None``).

        Nothing is written: this is ``Lifecycle.check`` / ``available`` on what is stored.
        """
        terminal = self._store.get(terminal_id)
        if event is None:
            return self._lifecycle.available(terminal, ctx)
        return self._lifecycle.check(terminal, event, ctx)
