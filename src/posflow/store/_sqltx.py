"""The SQL store's write transaction: the ``StoreTx`` protocol on one DBAPI connection.

:class:`SQLStore.transaction` hands one out; it reads (with the methods of
:mod:`posflow.store._sqlreads`), locks and writes with the statements the store
prepared, and commits or rolls back on leaving the ``with`` block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from posflow._mask import plain_json
from posflow._terminal import Terminal
from posflow.errors import (
    ConcurrencyConflict,
    TerminalExists,
)
from posflow.store._base import KeyTaken, Loaded, StaleRead, Write, check_id
from posflow.store._json import check_keys
from posflow.store._sqlconn import _rollback
from posflow.store._sqlreads import _TxReads
from posflow.store._sqlschema import T
from posflow.store._sqlstmt import _IN_CHUNK, chunks

if TYPE_CHECKING:
    from posflow.store._sql import SQLStore

_LOOKUP_BATCHES = 50
"""Batches that look their keys up after one that found a key taken (see ``defer_key_lookups``)."""

_utcnow = dt.datetime.now
_new = object.__new__
_UTC = dt.UTC


class _SQLTx(_TxReads):
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
        self._kept: dict[str, Loaded] | None = None
        """Plain terminals this transaction saved, by id, as a load would read them."""
        self._keys_deferred = False
        """The service did not look the keys up: a refused insert is ``KeyTaken``."""
        self._trusted: dict[str, int] = {}
        """SQLite: terminals handed out without reading their rows, by id: the ``seq`` kept.

        Each is proved still current before the commit: by the ``seq`` check of its
        ``UPDATE`` when it is saved, else by reading its ``seq`` (see ``_check_trusted``).
        """

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
                    if self._trusted:
                        self._check_trusted()
                    conn.commit()
                except s._dbapi.Error as err:
                    failure = err
                    _rollback(conn)
                    raise s._translate(err) from err
                except StaleRead:
                    _rollback(conn)
                    raise
                if self._kept:
                    s._remember(self._kept)  # committed: what the next loads may reuse
            else:
                stale = False
                if (
                    self._trusted
                    and isinstance(exc, Exception)
                    and not isinstance(exc, StaleRead | KeyTaken)
                ):
                    # the failure may come from deciding on a terminal that had changed:
                    # then the commands are decided again rather than fail for it
                    try:
                        self._check_trusted()
                    except StaleRead:
                        stale = True
                    except Exception:  # noqa: BLE001, S110 - the original failure is reported
                        pass
                _rollback(conn)
                if stale:
                    raise StaleRead from exc
        finally:
            s._release(conn, failure)

    def insert(self, terminals: Sequence[Terminal], data: Sequence[object]) -> None:
        """Add new terminals; ``TerminalExists`` names one that is already stored.

        An id no store may hold (see :func:`~posflow.store._base.check_id`) is
        ``InvalidInput``, before anything is sent to the database.
        """
        for t in terminals:
            check_id(t.id)
        if self._reading:
            self._lock()
        s = self._s
        plain = [plain_json(t.data) for t in terminals]
        for t, p in zip(terminals, plain, strict=True):
            if not p:
                check_keys(t.id, t.data)  # the text would read back with other keys
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
        if len(rows) > 1 or s._cache_terminals:
            # kept as a batch's saved terminals are: no history yet (seq 0), and only
            # those whose data reads back equal from its text (see Write.plain). A
            # single create is kept only where it joins the others (cache_terminals):
            # by default it would push out the whole last batch
            self._kept = {
                t.id: Loaded(t, 0, d) for t, d, p in zip(terminals, data, plain, strict=True) if p
            }

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

    def save(self, writes: Sequence[Write]) -> None:  # noqa: PLR0912, PLR0915 - one and many, inlined
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
                    if self._trusted:
                        raise self._stale()
                    raise ConcurrencyConflict(
                        terminal_id=t.id, expected_version=first.loaded.terminal.version
                    )
                self._trusted.pop(t.id, None)
                # the kept terminal is no longer the stored one: keep the new one in its
                # place (a batch at one terminal), or forget it (the rest; a single fire)
                recent = s._recent
                if first.plain and t.id in recent:
                    kept = first.data if first.data is not None else first.loaded.token
                    recent[t.id] = Loaded(t, seq + len(first.rows), kept)
                else:
                    recent.pop(t.id, None)
                if len(first.rows) == 1:
                    cur.execute(s._insert_history, first.rows[0])
                else:
                    cur.executemany(s._insert_history, first.rows)
                return
            same: list[tuple[Any, ...]] = []
            changed: list[tuple[Any, ...]] = []
            rows: list[Any] = []
            kept = self._kept = {}
            trusted = self._trusted
            trusting = bool(trusted)  # a failed seq check is then a StaleRead
            for w in writes:
                t = w.terminal
                if trusted:
                    trusted.pop(t.id, None)  # proved by the seq check of its UPDATE
                seq = w.loaded.seq
                after = seq + len(w.rows)
                if w.data is None:
                    same.append((t.state, t.version, after, now, t.id, seq))
                    token = w.loaded.token
                else:
                    changed.append((t.state, t.version, after, w.data, now, t.id, seq))
                    token = w.data
                if w.plain:
                    # Loaded(t, after, token) without the call into its __init__
                    loaded = kept[t.id] = _new(Loaded)
                    loaded.terminal = t
                    loaded.seq = after
                    loaded.token = token
                rows.extend(w.rows)
            for stmt, params in ((s._update_same, same), (s._update_data, changed)):
                if params:
                    cur.executemany(stmt, params)
                    if cur.rowcount != len(params) and cur.rowcount != -1:
                        if trusting:
                            raise self._stale()
                        raise self._conflict(writes)
            if rows:
                cur.executemany(s._insert_history, rows)
        except s._dbapi.Error as exc:
            if self._keys_deferred and isinstance(exc, s._dbapi.IntegrityError):
                # an index refused a row: a key already used (the seq checks passed)
                s._key_lookups = _LOOKUP_BATCHES
                raise KeyTaken from exc
            tid = first.terminal.id if first is not None else None
            version = first.loaded.terminal.version if first is not None else 0
            raise s._translate(exc, tid, version) from exc

    def _conflict(self, writes: Sequence[Write]) -> ConcurrencyConflict:
        w = writes[0]
        return ConcurrencyConflict(
            terminal_id=w.terminal.id, expected_version=w.loaded.terminal.version
        )
