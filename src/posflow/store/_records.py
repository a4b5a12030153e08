"""History records as stores keep them: masked payloads and changes, built once.

A record is built straight from an outcome (without running the record's masking
converters a second time) and moved to another ``seq`` without copying through
its constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from posflow._history import HistoryRecord, filled_record
from posflow._mask import redact, unmasked_plain_json
from posflow._outcome import Outcome
from posflow.store._json import PlainEncoder, encode_audit, encode_plain

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def masked_payload(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The payload as history keeps it: sensitive values masked, read-only."""
    return MappingProxyType(redact(payload)) if payload else _EMPTY


def changes_json(
    changes: Mapping[str, Any], plain: PlainEncoder = encode_plain
) -> tuple[str, Mapping[str, Any] | None]:
    """Non-empty changes as history stores them: JSON text, and the masked mapping unless plain.

    Changes with no sensitive key and only plain JSON values
    (:func:`~posflow._mask.unmasked_plain_json`) are encoded as they are: masking
    would copy them unchanged, and the text reads back equal to them. The mapping
    is then ``None`` (and the changes are plain: see
    :attr:`~posflow.store.Write.plain`). Others are masked, and the masked copy
    (read-only) is returned with its text.
    """
    if changes.__class__ is dict and unmasked_plain_json(changes):
        try:
            return plain(changes), None
        except (ValueError, RecursionError):  # NaN, infinity: refused below as always
            pass
    masked = MappingProxyType(redact(changes))
    return encode_audit(masked, plain), masked


def record_of(out: Outcome, seq: int, payload: Mapping[str, Any] | None = None) -> HistoryRecord:
    """The history record of ``out`` at ``seq``: the same fields as ``out.record``, built once.

    ``payload`` is the already masked payload when the caller has it (a batch
    that shares one context masks it once).
    """
    reasons = out.reasons
    prev = out.previous
    ctx = out._ctx
    changes = out._changes
    rec = out._record = filled_record(
        prev.id, seq, out.event, prev.state, None if reasons else out.terminal.state,
        out.terminal.version, ctx.actor, out.at,
        masked_payload(ctx.payload) if payload is None else payload,
        tuple([r.code for r in reasons]) if reasons else (), out.idempotency_key,
        MappingProxyType(redact(changes)) if changes else _EMPTY,
    )  # fmt: skip
    return rec


_setattr = object.__setattr__
_RECORD_FIELDS = tuple(a.name for a in HistoryRecord.__attrs_attrs__)


def with_seq(record: HistoryRecord, seq: int) -> HistoryRecord:
    """``record`` placed at ``seq``, without running its masking converters a second time."""
    new: HistoryRecord = object.__new__(HistoryRecord)
    for name in _RECORD_FIELDS:
        _setattr(new, name, getattr(record, name))
    _setattr(new, "seq", seq)
    return new
