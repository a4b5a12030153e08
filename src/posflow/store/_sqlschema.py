"""The SQL store's tables: names, DDL per dialect, migrations, and decoding of stored rows.

Everything here is text or pure functions over column values, shared by the store
(reads, schema management) and its write transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from posflow._history import HistoryRecord
from posflow._terminal import Terminal, terminal_of
from posflow.errors import CorruptRecord
from posflow.store._base import decode_data, decode_json

_new = object.__new__
_setattr = object.__setattr__

_IN_CHUNK = 500
"""Ids per ``IN (...)`` list (or ``ANY``/``VALUES`` batch) in one statement."""

T = "posflow_terminals"
H = "posflow_history"
M = "posflow_meta"

_HCOLS = "seq, event, from_state, to_state, version, actor, at, payload, reasons, changes"

_DDL_SQLITE = (
    f"CREATE TABLE IF NOT EXISTS {M} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE TABLE IF NOT EXISTS {T} (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        version INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    f"CREATE INDEX IF NOT EXISTS {T}_state ON {T} (state)",
    f"""CREATE TABLE IF NOT EXISTS {H} (
        terminal_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT,
        version INTEGER NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        payload TEXT NOT NULL,
        reasons TEXT NOT NULL,
        idempotency_key TEXT,
        changes TEXT NOT NULL,
        PRIMARY KEY (terminal_id, seq)
    ) WITHOUT ROWID""",
    f"""CREATE UNIQUE INDEX IF NOT EXISTS {H}_key ON {H} (terminal_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL""",
)

_DDL_POSTGRES = (
    f"CREATE TABLE IF NOT EXISTS {M} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE TABLE IF NOT EXISTS {T} (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        version BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        data TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    f"CREATE INDEX IF NOT EXISTS {T}_state ON {T} (state)",
    f"""CREATE TABLE IF NOT EXISTS {H} (
        terminal_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        event TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT,
        version BIGINT NOT NULL,
        actor TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        payload TEXT NOT NULL,
        reasons TEXT NOT NULL,
        idempotency_key TEXT,
        changes TEXT NOT NULL,
        PRIMARY KEY (terminal_id, seq)
    )""",
    f"""CREATE UNIQUE INDEX IF NOT EXISTS {H}_key ON {H} (terminal_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL""",
)

# Steps from each older schema version to the next; empty while version 1 is the only one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {}


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
    try:
        codes_t = tuple(str(item[0]) for item in codes)
    except (TypeError, IndexError):
        raise CorruptRecord(
            f"terminal {terminal_id!r}: history row {seq} holds malformed reasons",
            terminal_id=terminal_id,
        ) from None
    rec: HistoryRecord = _new(HistoryRecord)
    _setattr(rec, "terminal_id", terminal_id)
    _setattr(rec, "seq", seq)
    _setattr(rec, "event", event)
    _setattr(rec, "from_state", from_state)
    _setattr(rec, "to_state", to_state)
    _setattr(rec, "version", version)
    _setattr(rec, "actor", actor)
    _setattr(rec, "at", _from_ts(at, terminal_id))
    _setattr(rec, "payload", MappingProxyType(p))
    _setattr(rec, "reasons", codes_t)
    _setattr(rec, "idempotency_key", key)
    _setattr(rec, "changes", MappingProxyType(c))
    return rec
