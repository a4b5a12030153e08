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
from posflow.store._base import KeyTaken, Loaded, Prior, StaleRead, Write
from posflow.store._json import decode_reasons
from posflow.store._sqlconn import _rollback
from posflow.store._sqlrows import _RowEncoding, _seq, record_from, terminal_from
from posflow.store._sqlschema import T
from posflow.store._sqlstmt import _IN_CHUNK, chunks

if TYPE_CHECKING:
    from posflow.store._sql import SQLStore

_LOOKUP_BATCHES = 50
"""Batches that look their keys up after one that found a key taken (see ``defer_key_lookups``)."""

_utcnow = dt.datetime.now
_new = object.__new__
_UTC = dt.UTC


class _SQLTx(_RowEncoding):
    """One write transaction on a :class:`SQLStore`."""

    __slots__ = ("_conn", "_cur", "_kept", "_keys_deferred", "_reading", "_s", "_trusted")

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

    def _check_trusted(self) -> None:
        """Prove that the terminals handed out unread and not saved are still as kept.

        Their commands wrote nothing (duplicates, unrecorded refusals, failures),
        so no ``UPDATE`` checked them: their ``seq`` is read instead. A terminal
        whose history grew meanwhile makes this ``StaleRead``. A driver error is
        left to the caller (``__exit__``), which rolls back before translating it.
        """
        s = self._s
        trusted = self._trusted
        cur = self._cur
        for part in chunks(list(trusted), _IN_CHUNK):
            where, params = s._in("id", part)
            cur.execute(f"SELECT id, seq FROM {T} WHERE {where}", params)
            rows = dict(cur.fetchall())
            for tid in part:
                if rows.get(tid) != trusted[tid]:
                    raise self._stale()

    def _stale(self) -> StaleRead:
        """Forget every kept terminal: the next transaction reads them all."""
        self._s._recent = {}
        self._trusted = {}
        return StaleRead()

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
        """Read and lock (PostgreSQL: ``FOR UPDATE``, in id order) several terminals.

        On SQLite, a terminal a committed batch saved and the store still keeps
        (``s._recent``: the last batch's, or up to ``cache_terminals``) is handed
        out as kept, without reading its row: the ``SELECT`` and checks of a
        batch's rows cost about a tenth of a batched fire.
        It is trusted, not assumed: the ``UPDATE ... WHERE seq = ?`` that saves
        it (or ``_check_trusted`` when nothing is saved) proves before the
        commit that its history did not grow, and the batch is decided again on
        read rows (``StaleRead``) when it did. History only grows, and posflow
        changes a terminal's row only with an append to it, so an equal ``seq``
        is an unchanged row. As the write lock is held from ``BEGIN IMMEDIATE``
        on, a terminal that changed did so before this transaction began, so
        deciding again on its row is exactly what reading it would have given.

        Optimistic SQLite does so only when the store was given
        ``cache_terminals`` (its processes seldom share a terminal): another
        process may then also write during the decision, and a failed check of
        a batch that trusted terminals decides it again on read rows, which is
        what the retry of the ``ConcurrencyConflict`` it would otherwise raise
        does. Not on PostgreSQL, where ``FOR UPDATE`` takes the row locks in id
        order so that two batches cannot deadlock.
        """
        s = self._s
        cur = self._cur
        out: dict[str, Loaded] = {}
        lock = "" if s._sqlite else " ORDER BY id FOR UPDATE"
        recent = s._recent
        if recent and s._trust_kept:
            unread: list[str] = []
            trusted = self._trusted
            for tid in ids:
                kept = recent.get(tid)
                if kept is None:
                    unread.append(tid)
                    continue
                # Loaded(terminal, seq, data text) without the call into its __init__
                loaded = _new(Loaded)
                loaded.terminal = kept[2]
                loaded.seq = trusted[tid] = kept[0]
                loaded.token = kept[1]
                out[tid] = loaded
            if not unread:
                return out
            ids = unread
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

    def defer_key_lookups(self) -> bool:
        """Whether the service may leave its keys unlooked-up for this batch (and does).

        On SQLite (where kept terminals are trusted), the unique ``(terminal_id, idempotency_key)``
        index is the lookup: an insert under a used key fails, the batch rolls
        back (``KeyTaken``) and is decided again with its keys looked up. Looking
        up a batch's keys costs about a twentieth of a batched fire, and a used
        key is rare outside redeliveries; after one, the next
        ``_LOOKUP_BATCHES`` batches look their keys up first, as a redelivery
        seldom comes alone. The write lock is held from ``BEGIN IMMEDIATE`` on
        (optimistic: from before the first write), so a key used by another
        process before the insert is in the index.
        """
        s = self._s
        if not s._trust_kept:
            return False
        if s._key_lookups > 0:
            s._key_lookups -= 1
            return False
        self._keys_deferred = True
        return True

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
                    recent[t.id] = (seq + len(first.rows), kept, t)
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
