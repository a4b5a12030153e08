"""History records: one frozen record per accepted transition or refused attempt."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from posflow._mask import redact

__all__ = ["HistoryRecord", "build_record"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _masked(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # most events carry no payload and most steps change no data: share one empty view
    return MappingProxyType(redact(value)) if value else _EMPTY


class _RecordSlots:
    """The storage of a :class:`HistoryRecord`, without attrs' frozen ``__setattr__``.

    attrs reuses these slots, so :func:`build_record` can fill one with plain
    attribute stores and then give it its class (as ``posflow._terminal`` does).
    """

    __slots__ = (
        "__weakref__",
        "actor",
        "at",
        "changes",
        "event",
        "from_state",
        "idempotency_key",
        "payload",
        "reasons",
        "seq",
        "terminal_id",
        "to_state",
        "version",
    )


@attrs.frozen(slots=True)
class HistoryRecord(_RecordSlots):
    """What happened to a terminal at one step, accepted or refused.

    Payloads and data changes are masked when the record is made, so an audit
    trail never holds an ID number, account, phone or password in clear. Records
    pickle (masked as they are); the copy is equal.

    Attributes:
        terminal_id: the terminal concerned.
        seq: the record's position in the terminal's history (0-based), or ``None``
            until a store or :class:`~posflow.HistoryLog` appends it.
        event: the event asked for.
        from_state: the state the terminal was in.
        to_state: the state it moved to; ``None`` when the attempt was refused.
        version: the terminal's version after the attempt (unchanged when refused).
        actor: who asked.
        at: when the event was decided (timezone-aware).
        payload: the event payload, masked.
        reasons: the reason codes of a refusal (empty when accepted).
        idempotency_key: the caller's deduplication key, if one was given.
        changes: the terminal data the transition changed, masked.
    """

    terminal_id: str
    seq: int | None
    event: str
    from_state: str
    to_state: str | None
    version: int
    actor: str
    at: dt.datetime
    payload: Mapping[str, Any] = attrs.field(converter=_masked, factory=dict)
    reasons: tuple[str, ...] = ()
    idempotency_key: str | None = None
    changes: Mapping[str, Any] = attrs.field(converter=_masked, factory=dict)

    @property
    def accepted(self) -> bool:
        """Whether the transition took place."""
        return self.to_state is not None

    def with_seq(self, seq: int) -> HistoryRecord:
        """Return this record placed at position ``seq`` of its terminal's history."""
        # payload and changes are already masked and read-only: shared, not copied
        return filled_record(
            self.terminal_id, seq, self.event, self.from_state, self.to_state, self.version,
            self.actor, self.at, self.payload, self.reasons, self.idempotency_key, self.changes,
        )  # fmt: skip

    def __reduce__(self) -> tuple[Any, ...]:
        # payload and changes are read-only views pickle cannot copy: send plain dicts
        return (
            _unpickle_record,
            (self.terminal_id, self.seq, self.event, self.from_state, self.to_state,
             self.version, self.actor, self.at, dict(self.payload), self.reasons,
             self.idempotency_key, dict(self.changes)),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the record (``at`` in ISO 8601)."""
        return {
            "terminal_id": self.terminal_id,
            "seq": self.seq,
            "event": self.event,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "version": self.version,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "payload": dict(self.payload),
            "reasons": list(self.reasons),
            "idempotency_key": self.idempotency_key,
            "changes": dict(self.changes),
        }


def _unpickle_record(*fields: Any) -> HistoryRecord:
    """A pickled :class:`HistoryRecord` back (payload and changes were masked already)."""
    rec: Any = _RecordSlots()
    for name, value in zip(_PICKLED_FIELDS, fields, strict=True):
        setattr(rec, name, MappingProxyType(value) if name in _VIEWS else value)
    rec.__class__ = HistoryRecord
    return rec  # type: ignore[no-any-return]


_PICKLED_FIELDS = (
    "terminal_id", "seq", "event", "from_state", "to_state", "version", "actor", "at",
    "payload", "reasons", "idempotency_key", "changes",
)  # fmt: skip
_VIEWS = frozenset({"payload", "changes"})


def build_record(
    terminal_id: str,
    seq: int | None,
    event: str,
    from_state: str,
    to_state: str | None,
    version: int,
    actor: str,
    at: dt.datetime,
    payload: Mapping[str, Any] | None,
    reasons: tuple[str, ...],
    idempotency_key: str | None,
    changes: Mapping[str, Any] | None,
) -> HistoryRecord:
    """The engine's constructor: ``HistoryRecord(...)`` with positional fields, cheaper.

    Payload and changes are masked exactly as the constructor masks them; the other
    fields are taken as given, so the caller must pass them with the right types.
    """
    return filled_record(
        terminal_id, seq, event, from_state, to_state, version, actor, at,
        MappingProxyType(redact(payload)) if payload else _EMPTY,
        reasons, idempotency_key,
        MappingProxyType(redact(changes)) if changes else _EMPTY,
    )  # fmt: skip


def filled_record(
    terminal_id: str,
    seq: int | None,
    event: str,
    from_state: str,
    to_state: str | None,
    version: int,
    actor: str,
    at: dt.datetime,
    payload: Mapping[str, Any],
    reasons: tuple[str, ...],
    idempotency_key: str | None,
    changes: Mapping[str, Any],
) -> HistoryRecord:
    """A record of exactly these fields, without the constructor's checks and copies.

    Every record posflow builds itself comes from here. ``payload`` and ``changes``
    must already be masked read-only views (``MappingProxyType``) that nobody else
    may change; the other fields must have the right types.
    """
    rec: Any = _RecordSlots()
    rec.terminal_id = terminal_id
    rec.seq = seq
    rec.event = event
    rec.from_state = from_state
    rec.to_state = to_state
    rec.version = version
    rec.actor = actor
    rec.at = at
    rec.payload = payload
    rec.reasons = reasons
    rec.idempotency_key = idempotency_key
    rec.changes = changes
    rec.__class__ = HistoryRecord
    return rec  # type: ignore[no-any-return]


def view_of(text: str) -> Mapping[str, Any]:
    """The read-only mapping of JSON object ``text`` (the shared empty one for ``{}``)."""
    return _EMPTY if text == "{}" else MappingProxyType(json.loads(text))
