"""Stored rows of the SQL store: decoded into terminals and records, encoded from outcomes.

Decoding checks every column and raises ``CorruptRecord`` for what posflow did
not write; encoding turns a history record (or, faster, an outcome) into the
row the transaction inserts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from posflow._history import HistoryRecord, filled_record
from posflow._mask import _plain_json, plain_json
from posflow._outcome import Outcome
from posflow._reasons import Reason
from posflow._terminal import Terminal, terminal_of
from posflow.errors import CorruptRecord, InvalidInput
from posflow.store._json import (
    check_keys,
    decode_data,
    decode_json,
    encode_audit,
    encode_data,
    encode_reasons,
)
from posflow.store._records import _EMPTY, changes_json, masked_payload

if TYPE_CHECKING:
    from posflow.store._sql import SQLStore


def _seq(terminal_id: str, value: Any) -> int:
    if type(value) is not int or value < 0:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored history length {value!r} is invalid",
            terminal_id=terminal_id,
        )
    return value


def terminal_from(terminal_id: str, state: Any, version: Any, data: Any) -> Terminal:
    """A :class:`Terminal` from stored columns, checked; ``CorruptRecord`` if they are not."""
    if type(state) is not str or type(version) is not int or version < 0:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored state {state!r} / version {version!r} is invalid",
            terminal_id=terminal_id,
        )
    return terminal_of(terminal_id, state, version, decode_data(terminal_id, data))


def _from_ts(value: Any, terminal_id: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored time {value!r} is not a timestamp",
            terminal_id=terminal_id,
        ) from None


_REASON_FIELDS = 4  # code, guard, retryable, params (see encode_reasons)


def record_from(terminal_id: str, r: Sequence[Any], key: str | None) -> HistoryRecord:
    """A history record from columns in the ``_HCOLS`` order; ``CorruptRecord`` if malformed."""
    seq, event, from_state, to_state, version, actor, at, payload, reasons, changes = r[:10]
    if (
        type(seq) is not int
        or type(version) is not int
        or type(event) is not str
        or type(from_state) is not str
        or (to_state is not None and type(to_state) is not str)
        or type(actor) is not str
    ):
        raise CorruptRecord(
            f"terminal {terminal_id!r}: history row {seq!r} has malformed columns",
            terminal_id=terminal_id,
        )
    p = decode_json(terminal_id, "payload", payload)
    c = decode_json(terminal_id, "changes", changes)
    codes = decode_json(terminal_id, "reasons", reasons)
    if type(p) is not dict or type(c) is not dict or type(codes) is not list:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: history row {seq} holds malformed JSON",
            terminal_id=terminal_id,
        )
    # a refusal (no to_state) has reasons, each as encode_reasons wrote it, and an
    # accepted transition none
    if to_state is None:
        if not codes or not all(
            type(item) is list and len(item) == _REASON_FIELDS and type(item[0]) is str
            for item in codes
        ):
            raise CorruptRecord(
                f"terminal {terminal_id!r}: history row {seq} holds malformed reasons",
                terminal_id=terminal_id,
            )
        codes_t = tuple([item[0] for item in codes])
    elif codes:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: history row {seq} is accepted and holds reasons",
            terminal_id=terminal_id,
        )
    else:
        codes_t = ()
    return filled_record(
        terminal_id, seq, event, from_state, to_state, version, actor,
        _from_ts(at, terminal_id), MappingProxyType(p), codes_t, key, MappingProxyType(c),
    )  # fmt: skip


class _RowEncoding:
    """The encoding half of the SQL write transaction: data, records and outcomes as rows.

    A batch shares one masked payload and often one time: each is encoded once
    and kept in the transaction's slots.
    """

    __slots__ = ("_at", "_at_text", "_payload", "_payload_exact", "_payload_text")

    _at: object
    _at_text: Any
    _payload: object
    _payload_exact: bool  # _payload_text reads back equal to _payload (see record_row)
    _payload_text: str
    _s: SQLStore

    def encode_data(self, terminal: Terminal) -> object:
        """The terminal's data as JSON text (see :func:`~posflow.store._json.encode_data`)."""
        return encode_data(terminal.id, terminal.data.copy(), self._s._encode_plain)  # type: ignore[attr-defined]

    @property
    def plain_bytes(self) -> Callable[[dict[str, Any]], bytes]:
        """The store's serializer of plain JSON values to bytes (see ``SQLStore._plain_bytes``).

        ``fire_many`` calls it for data known to be plain, where
        :meth:`encode_plain_data` would be one Python call more; it raises
        ``ValueError`` where that method falls back to the json module.
        """
        return self._s._plain_bytes

    def encode_plain_data(self, terminal: Terminal) -> object:
        """``encode_data(terminal)`` for data known to be plain JSON (see ``Write.plain``)."""
        try:
            return self._s._plain_bytes(terminal.data.copy()).decode()  # type: ignore[attr-defined]
        except (TypeError, ValueError, RecursionError):
            # pydantic-core's limits (see SQLStore._plain_bytes): encoded as any other data
            return encode_data(terminal.id, terminal.data, self._s._encode_plain)

    def encode_record(self, record: HistoryRecord, seq: int, reasons: Sequence[Reason]) -> object:
        """A history row: the record at ``seq`` with its payload, reasons and changes as JSON."""
        plain = self._s._encode_plain
        payload = record.payload
        if payload is not self._payload:
            self._payload_text = encode_audit(payload, plain)
            self._payload_exact = plain_json(payload)
            self._payload = payload
        at = record.at
        if at is not self._at:
            self._at_text = self._s._ts(at)
            self._at = at
        return (
            record.terminal_id,
            seq,
            record.event,
            record.from_state,
            record.to_state,
            record.version,
            record.actor,
            self._at_text,
            self._payload_text,
            encode_reasons(reasons) if reasons else "[]",
            record.idempotency_key,
            encode_audit(record.changes, plain) if record.changes else "{}",
        )

    def record_row(
        self, out: Outcome, seq: int, payload: Mapping[str, Any] | None = None
    ) -> tuple[tuple[Any, ...], bool]:
        """``encode_record(record_of(out, seq, payload), seq, out.reasons)``, cheaper.

        Also returns whether the changes are plain JSON (see ``Write.plain``).
        The changes are encoded once, and masked only when one of their keys is
        sensitive (see :func:`~posflow.store._records.changes_json`).

        The outcome's ``record`` is the one :func:`~posflow.store._records.record_of`
        builds, but it is built only when read: while payload and changes are
        texts that read back equal to them, the outcome keeps the row instead,
        which holds ``seq`` and the two texts (see ``Outcome._record``). A batch's
        outcomes then leave no record, mapping views or copies of the changes for
        the cyclic GC to walk over until they are read, and most never are.

        The JSON is written by the store's encoder for plain values: UTF-8 text
        on SQLite, ASCII on PostgreSQL (see :func:`~posflow.store._json.encode_plain_utf8`).
        """
        raw = out._changes
        masked: Mapping[str, Any] | None = None
        try:
            if not raw:
                changes_text = "{}"
            elif raw.__class__ is dict and _plain_json(raw, True):  # unmasked_plain_json
                # changes_json's common case, inlined: plain changes encoded as they are
                try:
                    changes_text = self._s._plain_bytes(raw).decode()
                except (ValueError, RecursionError):  # pydantic-core's limits: changes_json's way
                    changes_text, masked = changes_json(raw, self._s._encode_plain)
            else:
                check_keys(out.previous.id, raw, "changes")  # they become the terminal's data
                changes_text, masked = changes_json(raw, self._s._encode_plain)
        except RecursionError:  # the walks above, on changes nested about a thousand deep
            raise InvalidInput(
                f"terminal {out.previous.id!r}: the changes nest too deep to be stored",
                field="data",
            ) from None
        reasons = out.reasons
        prev = out.previous
        ctx = out._ctx
        if payload is None:
            payload = masked_payload(ctx.payload)
        if payload is not self._payload:
            self._payload_text = encode_audit(payload, self._s._encode_plain)
            self._payload_exact = plain_json(payload)
            self._payload = payload
        at = out._at
        if at.__class__ is int:  # the system clock's reading, not yet a datetime
            at = out.at
        if at is not self._at:
            self._at_text = self._s._ts(at)  # type: ignore[arg-type]  # a datetime by now
            self._at = at
        # the record no longer needs the unmasked changes: let the effect's mapping go
        # rather than keep one per outcome alive (often a GC-tracked dict) for nothing
        out._changes = None
        after = out.terminal
        row = (
            prev.id,
            seq,
            out.event,
            prev.state,
            None if reasons else after.state,
            after.version,
            ctx.actor,
            self._at_text,
            self._payload_text,
            encode_reasons(reasons) if reasons else "[]",
            out.idempotency_key,
            changes_text,
        )
        if masked is None and self._payload_exact:
            out._record = row  # its seq and JSON texts: the record is built from them if read
        else:
            changes = _plain_view(raw) if masked is None else masked
            out._record = _record(out, seq, at, payload, changes)
        return row, masked is None


def _plain_view(changes: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Plain changes as the record keeps them: an equal read-only copy, as masking makes."""
    return MappingProxyType(dict(changes)) if changes else _EMPTY


def _record(
    out: Outcome,
    seq: int,
    at: Any,
    payload: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> HistoryRecord:
    """``out``'s record at ``seq``, with its payload and changes already masked."""
    reasons = out.reasons
    prev = out.previous
    return filled_record(
        prev.id, seq, out.event, prev.state, None if reasons else out.terminal.state,
        out.terminal.version, out._ctx.actor, at, payload,
        tuple([r.code for r in reasons]) if reasons else (), out.idempotency_key, changes,
    )  # fmt: skip
