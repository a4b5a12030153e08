"""What the parts of :class:`~posflow.store.TerminalService` share.

The service's state (declared here, kept in the service's slots), the retry loop
around a transaction, and the two builders every way of firing uses: the stored
history row of an outcome, and the outcome of an attempt already recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from posflow._context import Context
from posflow._lifecycle import Lifecycle
from posflow._outcome import Outcome
from posflow._terminal import Terminal
from posflow.errors import ConcurrencyConflict
from posflow.store._base import Loaded, Prior, Store, StoreTx
from posflow.store._records import record_of
from posflow.store._values import DuplicateOutcome, RetryPolicy

_R = TypeVar("_R")


class _ServiceBase:
    """The state of a :class:`~posflow.store.TerminalService`, and its retries."""

    __slots__ = ()

    _attempts: int
    _lifecycle: Lifecycle
    _record_refusals: bool
    _retry: RetryPolicy | None
    _store: Store

    # -- retries ---------------------------------------------------------------------------

    def _retrying(self, fn: Callable[[], _R]) -> _R:
        attempt = 1
        while True:
            try:
                return fn()
            except ConcurrencyConflict:
                if attempt >= self._attempts or self._retry is None:
                    raise
                self._retry.sleep(self._retry.delay(attempt))
                attempt += 1


def _row(tx: StoreTx, out: Outcome, seq: int, payload: Mapping[str, Any] | None) -> object:
    """The stored history row of ``out`` at ``seq`` (the store's fast path when it has one)."""
    record_row = getattr(tx, "record_row", None)
    if record_row is not None:
        return record_row(out, seq, payload)[0]
    return tx.encode_record(record_of(out, seq, payload), seq, out.reasons)


def _duplicate(loaded: Loaded, prior: Prior, ctx: Context) -> DuplicateOutcome:
    """The first attempt's outcome, rebuilt from its record (nothing is decided again)."""
    rec = prior.record
    now = loaded.terminal
    accepted = rec.to_state is not None
    before_version = rec.version - 1 if accepted else rec.version
    previous = Terminal(now.id, rec.from_state, before_version, now.data)
    after = (
        now
        if now.version == rec.version and now.state == (rec.to_state or rec.from_state)
        else Terminal(now.id, rec.to_state or rec.from_state, rec.version, now.data)
    )
    return DuplicateOutcome(
        after,
        previous,
        rec.event,
        prior.reasons,
        ctx,
        rec.at,
        rec.idempotency_key,
        rec.changes,
        rec,
    )
