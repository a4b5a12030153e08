"""The SQL store's write transaction: the ``StoreTx`` protocol on one DBAPI connection.

:class:`SQLStore.transaction` hands one out; it reads, locks and writes with the
statements the store prepared, and commits or rolls back on leaving the ``with`` block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from posflow._terminal import Terminal
from posflow.errors import (
    ConcurrencyConflict,
    TerminalExists,
    TerminalNotFound,
)
from posflow.store._base import Loaded, Prior, Write
from posflow.store._json import decode_reasons
from posflow.store._sqlconn import _rollback
from posflow.store._sqlrows import _RowEncoding, _seq, record_from, terminal_from
from posflow.store._sqlschema import T
from posflow.store._sqlstmt import _IN_CHUNK, chunks

if TYPE_CHECKING:
    from posflow.store._sql import SQLStore

_utcnow = dt.datetime.now
_new = object.__new__
_UTC = dt.UTC


class _SQLTx(_RowEncoding):
    """One write transaction on a :class:`SQLStore`."""

    __slots__ = ("_conn", "_cur", "_kept", "_reading", "_s")

    def __init__(self, store: SQLStore) -> None:
        self._s = store
        self._conn: Any = None
        self._cur: Any = None
        self._reading = False
        """Optimistic SQLite: still in the read transaction, without the write lock."""
        # a batch shares one masked payload and often one time: encode each once
        self._payload: object = None
        self._payload_text = "{}"
        self._payload_exact = True
        self._at: object = None
        self._at_text: Any = None
        self._kept: dict[str, tuple[int, object, Terminal]] | None = None
        """Plain terminals this transaction saved, by id: ``(seq, data text, terminal)``."""

    def __enter__(self) -> _SQLTx:
        s = self._s
        conn = self._conn = s._connect()
        try:
            cur = self._cur = conn.cursor()
            if s._optimistic:
                cur.execute("BEGIN")
                self._reading = True
            elif s._sqlite:
                cur.execute("BEGIN IMMEDIATE")
        except s._dbapi.Error as exc:
            _rollback(conn)
            s._release(conn, exc)
            raise s._translate(exc) from exc
        return self

    def _lock(self) -> None:
        """Optimistic SQLite: end the read transaction and take the write lock to write.

        What was read may have changed meanwhile; every write checks it did not.
        """
        self._reading = False
        cur = self._cur
        try:
            cur.execute("COMMIT")
            cur.execute("BEGIN IMMEDIATE")
        except self._s._dbapi.Error as exc:
            raise self._s._translate(exc) from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        s = self._s
        failure = exc
        try:
            if exc_type is None:
                try:
                    conn.commit()
                except s._dbapi.Error as err:
                    failure = err
                    _rollback(conn)
                    raise s._translate(err) from err
                if self._kept:
                    s._recent = self._kept  # committed: what the next load may reuse
            else:
                _rollback(conn)
        finally:
            s._release(conn, failure)

    # -- the StoreTx protocol ------------------------------------------------------------------

    def insert(self, terminals: Sequence[Terminal], data: Sequence[object]) -> None:
        """Add new terminals; ``TerminalExists`` names one that is already stored."""
        if self._reading:
            self._lock()
        s = self._s
        now = s._ts(_utcnow(_UTC))
        rows = [
            (t.id, t.state, t.version, d, now, now) for t, d in zip(terminals, data, strict=True)
        ]
        try:
            if len(rows) == 1:
                self._cur.execute(s._insert_terminal, rows[0])
            else:
                self._cur.executemany(s._insert_terminal, rows)
        except s._dbapi.IntegrityError:
            raise TerminalExists(self._existing([t.id for t in terminals])) from None
        except s._dbapi.Error as exc:
            raise s._translate(exc) from exc

    def _existing(self, ids: list[str]) -> str:
        s = self._s
        _rollback(self._conn)
        if s._sqlite:
            self._cur.execute("BEGIN IMMEDIATE")
        for part in chunks(ids, _IN_CHUNK):
            where, params = s._in("id", part)
            self._cur.execute(f"SELECT id FROM {T} WHERE {where} ORDER BY id LIMIT 1", params)
            row = self._cur.fetchone()
            if row is not None:
                return str(row[0])
        return ids[0]  # pragma: no cover - a racing writer inserted and removed it meanwhile

    def load(self, terminal_id: str, key: str | None) -> tuple[Loaded, Prior | None]:
        """Read a terminal and, when ``key`` is given, the attempt recorded under it."""
        s = self._s
        cur = self._cur
        try:
            if key is None:
                cur.execute(s._load, (terminal_id,))
            else:
                cur.execute(s._load_key, (key, terminal_id))
            row = cur.fetchone()
        except s._dbapi.Error as exc:
            raise s._translate(exc, terminal_id) from exc
        if row is None:
            raise TerminalNotFound(terminal_id)
        loaded = Loaded(
            self._terminal(s._recent, terminal_id, row[0], row[1], row[2], row[3]),
            _seq(terminal_id, row[2]),
            row[3],
        )
        if key is None or row[4] is None:
            return loaded, None
        h = row[4:]
        return loaded, Prior(record_from(terminal_id, h, key), decode_reasons(terminal_id, h[8]))

    def load_many(self, ids: Collection[str]) -> dict[str, Loaded]:
        """Read and lock (PostgreSQL: ``FOR UPDATE``, in id order) several terminals."""
        s = self._s
        cur = self._cur
        out: dict[str, Loaded] = {}
        lock = "" if s._sqlite else " ORDER BY id FOR UPDATE"
        recent = s._recent
        try:
            for part in chunks(sorted(ids), _IN_CHUNK):
                where, params = s._in("id", part)
                cur.execute(
                    f"SELECT id, state, version, seq, data FROM {T} WHERE {where}{lock}", params
                )
                for tid, state, version, stored_seq, data in cur.fetchall():
                    # self._terminal and _seq, inlined: once per terminal of every batch
                    seq = stored_seq
                    kept = recent.get(tid)
                    if (
                        kept is None
                        or kept[0] != seq
                        or kept[1] != data
                        or seq.__class__ is not int
                        or version.__class__ is not int
                        or (t := kept[2]).version != version
                        or t.state != state
                    ):
                        t = terminal_from(tid, state, version, data)
                        seq = _seq(tid, stored_seq)
                    # Loaded(t, seq, data) without the call into its __init__
                    loaded = _new(Loaded)
                    loaded.terminal = t
                    loaded.seq = seq
                    loaded.token = data
                    out[tid] = loaded
        except s._dbapi.Error as exc:
            raise s._translate(exc) from exc
        return out

    @staticmethod
    def _terminal(
        recent: dict[str, tuple[int, object, Terminal]],
        tid: str,
        state: Any,
        version: Any,
        seq: Any,
        data: Any,
    ) -> Terminal:
        """The terminal of a stored row: the one last saved, when the row is still that one.

        A plain terminal (see ``Write.plain``) that this store committed is
        reused while its row holds the same history length, data text, state
        and version: decoding the row would give an equal terminal.
        """
        kept = recent.get(tid)
        if kept is not None:
            t = kept[2]
            if (
                kept[0] == seq
                and kept[1] == data
                and t.state == state
                and t.version == version
                and version.__class__ is int
            ):
                return t
        return terminal_from(tid, state, version, data)

    def find_keys(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], Prior]:
        """The attempts recorded under each ``(terminal_id, key)`` pair.

        The pairs are joined to the unique key index as pairs (one index probe
        each), not as ``terminal_id IN (...) AND key IN (...)``, which probes
        every id with every key.
        """
        s = self._s
        cur = self._cur
        out: dict[tuple[str, str], Prior] = {}
        try:
            for part in chunks(sorted(set(pairs)), _IN_CHUNK):
                sql, params = s._pairs_query(part)
                cur.execute(sql, params)
                for h in cur.fetchall():
                    out[h[0], h[11]] = Prior(
                        record_from(h[0], h[1:], h[11]), decode_reasons(h[0], h[9])
                    )
        except s._dbapi.Error as exc:
            raise s._translate(exc) from exc
        return out

    def claim(self, state: str, key_prefix: str, limit: int) -> list[Loaded]:
        """Up to ``limit`` terminals in ``state`` not yet keyed for this run (PG: SKIP LOCKED)."""
        s = self._s
        cur = self._cur
        try:
            cur.execute(s._claim, (state, key_prefix, limit))
            rows = cur.fetchall()
        except s._dbapi.Error as exc:
            raise s._translate(exc) from exc
        return [
            Loaded(terminal_from(tid, st, version, data), _seq(tid, seq), data)
            for tid, st, version, seq, data in rows
        ]

    def save(self, writes: Sequence[Write]) -> None:  # noqa: PLR0912 - one and many, inlined
        """Update each terminal if its history length is still the one read; append history."""
        if self._reading:
            self._lock()
        s = self._s
        cur = self._cur
        now = s._ts(_utcnow(_UTC))
        first = writes[0] if writes else None
        try:
            if len(writes) == 1 and first is not None:
                t = first.terminal
                seq = first.loaded.seq
                if first.data is None:
                    cur.execute(
                        s._update_same, (t.state, t.version, seq + len(first.rows), now, t.id, seq)
                    )
                else:
                    cur.execute(
                        s._update_data,
                        (t.state, t.version, seq + len(first.rows), first.data, now, t.id, seq),
                    )
                if cur.rowcount != 1:
                    raise ConcurrencyConflict(
                        terminal_id=t.id, expected_version=first.loaded.terminal.version
                    )
                if len(first.rows) == 1:
                    cur.execute(s._insert_history, first.rows[0])
                else:
                    cur.executemany(s._insert_history, first.rows)
                return
            same: list[tuple[Any, ...]] = []
            changed: list[tuple[Any, ...]] = []
            rows: list[Any] = []
            kept = self._kept = {}
            for w in writes:
                t = w.terminal
                seq = w.loaded.seq
                after = seq + len(w.rows)
                if w.data is None:
                    same.append((t.state, t.version, after, now, t.id, seq))
                    if w.plain:
                        kept[t.id] = (after, w.loaded.token, t)
                else:
                    changed.append((t.state, t.version, after, w.data, now, t.id, seq))
                    if w.plain:
                        kept[t.id] = (after, w.data, t)
                rows.extend(w.rows)
            for stmt, params in ((s._update_same, same), (s._update_data, changed)):
                if params:
                    cur.executemany(stmt, params)
                    if cur.rowcount != len(params) and cur.rowcount != -1:
                        raise self._conflict(writes)
            if rows:
                cur.executemany(s._insert_history, rows)
        except s._dbapi.Error as exc:
            tid = first.terminal.id if first is not None else None
            version = first.loaded.terminal.version if first is not None else 0
            raise s._translate(exc, tid, version) from exc

    def _conflict(self, writes: Sequence[Write]) -> ConcurrencyConflict:
        w = writes[0]
        return ConcurrencyConflict(
            terminal_id=w.terminal.id, expected_version=w.loaded.terminal.version
        )
