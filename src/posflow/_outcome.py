"""Verdicts and outcomes: what ``check``, ``available`` and ``fire`` return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from posflow._context import Context
from posflow._history import HistoryRecord, build_record, filled_record, view_of
from posflow._reasons import Reason
from posflow.errors import TransitionBlocked

if TYPE_CHECKING:
    from posflow._terminal import Terminal

__all__ = ["Outcome", "Verdict"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_timedelta = dt.timedelta


def _explain(reasons: tuple[Reason, ...], lang: str) -> list[str]:
    """One line per reason, ``code: message — remedy``: what both explain() methods give."""
    return [f"{r.code}: {r.message(lang)} — {r.remedy(lang)}" for r in reasons]


@attrs.frozen(slots=True)
class Verdict:
    """Whether an event may happen now, and if not, every reason why.

    A verdict is truthy when the event is allowed.

    Attributes:
        event: the event asked about.
        state: the state the terminal is in.
        dest: where the event would take it (``None`` when there is no such transition).
        reasons: every reason it is refused; empty when allowed.
    """

    event: str
    state: str
    dest: str | None
    reasons: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when nothing refuses the event."""
        return not self.reasons

    def __bool__(self) -> bool:
        return not self.reasons

    @property
    def retryable(self) -> bool:
        """True when refused only for reasons a later retry can overcome."""
        return bool(self.reasons) and all(r.retryable for r in self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in the order the guards produced them."""
        return tuple(r.code for r in self.reasons)

    def explain(self, lang: str = "en") -> list[str]:
        """One line per reason: ``code: message — remedy``, in ``lang``.

        The lines :meth:`Outcome.explain` gives for the same refusal, so a support
        screen shows a ``check`` and a ``fire`` alike; empty when allowed.
        """
        return _explain(self.reasons, lang)


_ROW_SEQ, _ROW_PAYLOAD, _ROW_CHANGES = 1, 8, 11
"""Where a stored history row holds the seq, payload and changes ``Outcome.record`` needs.

The row is a store's, in the history table's column order: terminal id, seq,
event, from state, to state, version, actor, at, payload, reasons, idempotency
key, changes (see ``posflow.store._sqlrows._RowEncoding.record_row``).
"""


class Outcome:
    """The result of ``fire``: the terminal after the attempt and its history record.

    Outcomes are read-only. A refused outcome keeps the terminal unchanged and
    carries the reasons; call :meth:`raise_for_blocked` to turn a refusal into a
    :class:`~posflow.errors.TransitionBlocked` exception.

    Outcomes pickle, for handing to another process: the copy has the same
    terminals, reasons, time and history record, but not the context the event
    was fired in (its ports stay in this process).
    """

    __slots__ = (
        "_at",
        "_changes",
        "_ctx",
        "_record",
        "event",
        "idempotency_key",
        "previous",
        "reasons",
        "terminal",
    )

    terminal: Terminal
    """The terminal after the attempt: the new record when accepted, the same one when refused."""
    previous: Terminal
    """The terminal before the attempt."""
    event: str
    """The event that was fired."""
    reasons: tuple[Reason, ...]
    """Every reason for a refusal; empty when accepted."""
    idempotency_key: str | None
    """The caller's deduplication key, if one was given."""
    _at: dt.datetime | int  # an int: fire's reading of the system clock (time.time_ns())
    _record: HistoryRecord | tuple[Any, ...] | None
    """The record once built; ``None`` until then; or, when a store saved it, the history row
    it wrote (see ``_ROW_SEQ``), whose ``seq`` and masked payload and changes as JSON text
    (which reads back equal to them) ``record`` builds it from. A store that appends many
    records keeps them this way rather than building each: the row exists anyway, and
    holds only ints and strings, which the cyclic GC stops tracking."""

    def __init__(
        self,
        terminal: Terminal,
        previous: Terminal,
        event: str,
        reasons: tuple[Reason, ...],
        ctx: Context,
        at: dt.datetime,
        idempotency_key: str | None = None,
        changes: Mapping[str, Any] | None = None,
        record: HistoryRecord | None = None,
    ) -> None:
        self.terminal = terminal
        self.previous = previous
        self.event = event
        self.reasons = reasons
        self._ctx = ctx
        self._at = at
        self.idempotency_key = idempotency_key
        self._changes = changes
        self._record = record

    @property
    def at(self) -> dt.datetime:
        """When the event was decided (timezone-aware)."""
        at = self._at
        if type(at) is int:
            # fire read the system clock as integer nanoseconds; this is the datetime
            # dt.datetime.now(dt.UTC) would have given then (both floor to the µs)
            at = self._at = _EPOCH + _timedelta(0, 0, at // 1000)
        return at  # type: ignore[return-value]

    @property
    def ok(self) -> bool:
        """True when the transition took place."""
        return not self.reasons

    def __bool__(self) -> bool:
        return not self.reasons

    @property
    def blocked(self) -> bool:
        """True when the transition was refused."""
        return bool(self.reasons)

    @property
    def retryable(self) -> bool:
        """True when refused only for reasons a later retry can overcome."""
        return bool(self.reasons) and all(r.retryable for r in self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes of a refusal, in order."""
        return tuple(r.code for r in self.reasons)

    @property
    def record(self) -> HistoryRecord:
        """The history record of this attempt (built on first access, then kept)."""
        rec = self._record
        if isinstance(rec, HistoryRecord):
            return rec
        reasons = self.reasons
        previous = self.previous
        to_state = None if reasons else self.terminal.state
        codes = tuple([r.code for r in reasons]) if reasons else ()
        if rec is None:
            built = build_record(
                previous.id, None, self.event, previous.state, to_state,
                self.terminal.version, self._ctx.actor, self.at, self._ctx.payload, codes,
                self.idempotency_key, self._changes,
            )  # fmt: skip
        else:  # the row a store saved: its seq, and payload and changes as the JSON it wrote
            seq, payload_json, changes_json = rec[_ROW_SEQ], rec[_ROW_PAYLOAD], rec[_ROW_CHANGES]
            built = filled_record(
                previous.id, seq, self.event, previous.state, to_state,
                self.terminal.version, self._ctx.actor, self.at, view_of(payload_json), codes,
                self.idempotency_key, view_of(changes_json),
            )  # fmt: skip
        self._record = built
        return built

    def __reduce__(self) -> tuple[Any, ...]:
        # the context (its ports may be connections) and the unmasked changes stay here:
        # the copy carries the history record, built and masked now, in their place
        return (
            _unpickle_outcome,
            (self.terminal, self.previous, self.event, self.reasons, self.at,
             self.idempotency_key, self.record),
        )  # fmt: skip

    def raise_for_blocked(self) -> Outcome:
        """Raise :class:`~posflow.errors.TransitionBlocked` if refused; return ``self`` if not."""
        if self.reasons:
            raise TransitionBlocked(
                terminal_id=self.previous.id,
                event=self.event,
                state=self.previous.state,
                reasons=self.reasons,
            )
        return self

    def explain(self, lang: str = "en") -> list[str]:
        """One line per reason: ``code: message — remedy``, in ``lang`` (see Verdict.explain)."""
        return _explain(self.reasons, lang)

    def __repr__(self) -> str:
        if self.reasons:
            codes = ", ".join(r.code for r in self.reasons)
            return f"<Outcome blocked {self.event!r} in {self.previous.state!r}: {codes}>"
        return (
            f"<Outcome ok {self.event!r}: {self.previous.state!r} -> {self.terminal.state!r}"
            f" v{self.terminal.version}>"
        )


_new = object.__new__
# object.__new__'s arguments as one tuple, for a call written _new(*_AN_OUTCOME): that
# call hands the tuple over as it is, where _new(Outcome) builds (and frees) one each
# time and reaches object.__new__ through the generic vectorcall path (about 3% of an
# accepted fire, callgrind); Lifecycle.fire uses it too
_AN_OUTCOME = (Outcome,)


def _unpickle_outcome(
    terminal: Terminal,
    previous: Terminal,
    event: str,
    reasons: tuple[Reason, ...],
    at: dt.datetime,
    idempotency_key: str | None,
    record: HistoryRecord,
) -> Outcome:
    """A pickled :class:`Outcome` back, its record given (so its context is never read)."""
    ctx = Context(record.payload, actor=record.actor)
    return Outcome(
        terminal, previous, event, reasons, ctx, at, idempotency_key, record.changes, record
    )


def decided(
    terminal: Terminal,
    previous: Terminal,
    event: str,
    reasons: tuple[Reason, ...],
    ctx: Context,
    at: dt.datetime,
    idempotency_key: str | None,
    changes: Mapping[str, Any] | None,
) -> Outcome:
    """The engine's constructor: the same fields as ``Outcome(...)``, a little cheaper.

    ``Lifecycle.fire`` carries an inlined copy of it on its accepted path; a new
    slot must be set in both.
    """
    out: Outcome = _new(*_AN_OUTCOME)
    out.terminal = terminal
    out.previous = previous
    out.event = event
    out.reasons = reasons
    out._ctx = ctx
    out._at = at
    out.idempotency_key = idempotency_key
    out._changes = changes
    out._record = None
    return out
