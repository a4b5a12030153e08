"""History records as stores keep them: masked payloads and changes, built once.

A record is built straight from an outcome (without running the record's masking
converters a second time) and moved to another ``seq`` without copying through
its constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from posflow._history import HistoryRecord, _RecordSlots
from posflow._mask import redact, unmasked_plain_json
from posflow._outcome import Outcome
from posflow.store._json import _encode_strict, encode_audit

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def masked_payload(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The payload as history keeps it: sensitive values masked, read-only."""
    return MappingProxyType(redact(payload)) if payload else _EMPTY


def masked_changes(changes: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, bool]:
    """Non-empty changes as history keeps them (masked, read-only), as JSON text, and plain.

    Changes with no sensitive key and only plain JSON values
    (:func:`~posflow._mask.unmasked_plain_json`) are copied and encoded as they
    are: masking would copy them unchanged. Others are masked and the masked copy
    encoded. The mapping and text are the same either way; the flag is true only
    in the first case (see :attr:`~posflow.store.Write.plain`).
    """
    if changes.__class__ is dict and unmasked_plain_json(changes):
        try:
            return MappingProxyType(dict(changes)), _encode_strict(changes), True
        except (ValueError, RecursionError):  # NaN, infinity: refused below as always
            pass
    masked = redact(changes)
    return MappingProxyType(masked), encode_audit(masked), False


def record_of(out: Outcome, seq: int, payload: Mapping[str, Any] | None = None) -> HistoryRecord:
    """The history record of ``out`` at ``seq``: the same fields as ``out.record``, built once.

    ``payload`` is the already masked payload when the caller has it (a batch
    that shares one context masks it once).
    """
    reasons = out.reasons
    prev = out.previous
    ctx = out._ctx
    rec: Any = _RecordSlots()
    rec.terminal_id = prev.id
    rec.seq = seq
    rec.event = out.event
    rec.from_state = prev.state
    rec.to_state = None if reasons else out.terminal.state
    rec.version = out.terminal.version
    rec.actor = ctx.actor
    rec.at = out.at
    rec.payload = masked_payload(ctx.payload) if payload is None else payload
    rec.reasons = tuple([r.code for r in reasons]) if reasons else ()
    rec.idempotency_key = out.idempotency_key
    changes = out._changes
    rec.changes = MappingProxyType(redact(changes)) if changes else _EMPTY
    rec.__class__ = HistoryRecord
    out._record = rec
    return rec  # type: ignore[no-any-return]


_setattr = object.__setattr__
_RECORD_FIELDS = tuple(a.name for a in HistoryRecord.__attrs_attrs__)


def with_seq(record: HistoryRecord, seq: int) -> HistoryRecord:
    """``record`` placed at ``seq``, without running its masking converters a second time."""
    new: HistoryRecord = object.__new__(HistoryRecord)
    for name in _RECORD_FIELDS:
        _setattr(new, name, getattr(record, name))
    _setattr(new, "seq", seq)
    return new
