"""The SQL store's statements: prepared once per store, in the dialect's placeholders.

The hot statements are built as text when the store is made and kept on it;
statements whose shape depends on how many ids they carry (``IN`` lists, key
pairs) are built per call, at most ``_IN_CHUNK`` ids at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from posflow.store._sqlschema import _HCOLS, H, T

_IN_CHUNK = 500
"""Ids per ``IN (...)`` list (or ``ANY``/``VALUES`` batch) in one statement."""


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` cut in slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _SQLStatements:
    """The statements of a :class:`~posflow.store.SQLStore`, for its dialect."""

    _sqlite: bool

    def _q(self, sql: str) -> str:
        return sql if self._sqlite else sql.replace("?", "%s")

    def _prepare_statements(self) -> None:
        q = self._q
        self._load = q(f"SELECT state, version, seq, data FROM {T} WHERE id = ?")
        hc = ", ".join(f"h.{c.strip()}" for c in _HCOLS.split(","))
        self._load_key = q(
            f"SELECT t.state, t.version, t.seq, t.data, {hc} FROM {T} t "
            f"LEFT JOIN {H} h ON h.terminal_id = t.id AND h.idempotency_key = ? WHERE t.id = ?"
        )
        self._update_data = q(
            f"UPDATE {T} SET state = ?, version = ?, seq = ?, data = ?, updated_at = ? "
            "WHERE id = ? AND seq = ?"
        )
        self._update_same = q(
            f"UPDATE {T} SET state = ?, version = ?, seq = ?, updated_at = ? "
            "WHERE id = ? AND seq = ?"
        )
        self._insert_history = q(
            f"INSERT INTO {H} (terminal_id, seq, event, from_state, to_state, version, actor, at,"
            " payload, reasons, idempotency_key, changes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._insert_terminal = q(
            f"INSERT INTO {T} (id, state, version, seq, data, created_at, updated_at) "
            "VALUES (?, ?, ?, 0, ?, ?, ?)"
        )
        self._history_of = q(
            f"SELECT {_HCOLS}, idempotency_key FROM {H} WHERE terminal_id = ? ORDER BY seq"
        )
        lock = "" if self._sqlite else " FOR UPDATE SKIP LOCKED"
        self._claim = q(
            f"SELECT id, state, version, seq, data FROM {T} t WHERE state = ? AND NOT EXISTS "
            f"(SELECT 1 FROM {H} h WHERE h.terminal_id = t.id AND h.idempotency_key = ? || t.id)"
            f" ORDER BY id LIMIT ?{lock}"
        )
        self._scan = q(
            f"SELECT id, state, version, seq, data FROM {T} WHERE id > ? ORDER BY id LIMIT ?"
        )

    def _in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        if self._sqlite:
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} = ANY(%s)", [list(values)]

    def _pairs_query(self, pairs: Sequence[tuple[str, str]]) -> tuple[str, list[Any]]:
        """The history rows recorded under each ``(terminal_id, key)`` of ``pairs``."""
        hc = ", ".join(f"h.{c.strip()}" for c in _HCOLS.split(","))
        select = f"SELECT h.terminal_id, {hc}, h.idempotency_key FROM "
        on = f" JOIN {H} h ON h.terminal_id = v.t AND h.idempotency_key = v.k"
        if self._sqlite:
            values = ", ".join(["(?, ?)"] * len(pairs))
            params: list[Any] = [x for pair in pairs for x in pair]
            return f"WITH v(t, k) AS (VALUES {values}) {select}v{on}", params
        ids = [p[0] for p in pairs]
        keys = [p[1] for p in pairs]
        return f"{select}unnest(%s::text[], %s::text[]) AS v(t, k){on}", [ids, keys]

    def _ts(self, at: dt.datetime) -> Any:
        return at.isoformat() if self._sqlite else at
