"""The reading half of the SQL store's write transaction: terminals, keys and claims.

:class:`~posflow.store._sqltx._SQLTx` reads through these methods: the rows of the
terminals a batch fires at (or the ones the store kept, trusted and proved before
the commit), the attempts recorded under idempotency keys, and a drain's claims.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from posflow._terminal import Terminal
from posflow.errors import TerminalNotFound
from posflow.store._base import Loaded, Prior, StaleRead, storable
from posflow.store._json import decode_reasons
from posflow.store._sqlrows import _RowEncoding, _seq, record_from, terminal_from
from posflow.store._sqlschema import T
from posflow.store._sqlstmt import _IN_CHUNK, chunks

if TYPE_CHECKING:
    from posflow.store._sql import SQLStore

_new = object.__new__


class _TxReads(_RowEncoding):
    """What a :class:`~posflow.store._sqltx._SQLTx` reads, and the proof of what it did not."""

    __slots__ = ("_keys_deferred", "_trusted")  # set by _SQLTx.__init__ (documented there)

    _s: SQLStore
    _cur: Any
    _keys_deferred: bool
    _trusted: dict[str, int]

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
                out[tid] = kept  # as the save that kept it made it: no new object
                trusted[tid] = kept.seq
            if not unread:
                return out
            ids = unread
        # text no store can hold is stored nowhere: it is absent, not looked for (a NUL
        # would fail PostgreSQL's query for the whole batch)
        ids = [tid for tid in ids if storable(tid)]
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
                        or kept.seq != seq
                        or kept.token != data
                        or seq.__class__ is not int
                        or version.__class__ is not int
                        or (t := kept.terminal).version != version
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
        recent: dict[str, Loaded],
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
            t = kept.terminal
            if (
                kept.seq == seq
                and kept.token == data
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
