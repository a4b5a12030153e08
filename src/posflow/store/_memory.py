"""The in-memory store: the reference implementation, for tests and single processes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Sequence
from types import TracebackType

from posflow._history import HistoryRecord
from posflow._reasons import Reason
from posflow._terminal import Terminal
from posflow.errors import ConcurrencyConflict, SchemaMismatch, TerminalExists, TerminalNotFound
from posflow.store._base import SCHEMA_VERSION, Loaded, Prior, Write, check_id
from posflow.store._records import with_seq

__all__ = ["MemoryStore"]


class _Row:
    __slots__ = ("created", "seq", "terminal", "updated")

    def __init__(self, terminal: Terminal, seq: int, created: dt.datetime) -> None:
        self.terminal = terminal
        self.seq = seq
        self.created = created
        self.updated = created


class MemoryStore:
    """Terminals and history in this process's memory, behind one lock.

    It behaves like the SQL store (versions, idempotency keys, typed errors) but
    keeps objects as given, without encoding them, and forgets everything when
    the process ends. Transactions are serialised by a re-entrant lock, so a
    transaction opened inside another one in the same thread sees the outer
    one's reads go stale, exactly as a second writer would make them.

    A new store is ready for use, as if ``create_schema()`` had been called;
    after :meth:`drop_schema` it behaves as a SQL store without tables does.
    """

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._history: dict[str, list[HistoryRecord]] = {}
        self._keys: dict[tuple[str, str], Prior] = {}
        self._lock = threading.RLock()
        self._has_schema = True

    def __repr__(self) -> str:
        if not self._has_schema:
            return "<MemoryStore: no schema>"
        return f"<MemoryStore: {len(self._rows)} terminals>"

    # -- schema: only present or dropped, as a SQL store's tables are -------------------

    def create_schema(self) -> None:
        """Make a dropped store usable again, empty (idempotent: a store in use is left as is)."""
        with self._lock:
            self._has_schema = True

    def upgrade_schema(self) -> None:
        """As :meth:`create_schema`: memory has only the current version, nothing to migrate."""
        self.create_schema()

    def schema_version(self) -> int | None:
        """The current version; ``None`` after :meth:`drop_schema`, until ``create_schema()``."""
        return SCHEMA_VERSION if self._has_schema else None

    def drop_schema(self) -> None:
        """Forget every terminal, history record and idempotency key. Irreversible.

        As on a SQL store whose tables were dropped, every read and transaction
        then raises :class:`~posflow.errors.SchemaMismatch` until
        :meth:`create_schema` (or :meth:`upgrade_schema`) makes the store usable
        again, empty. Dropping twice is not an error. A transaction already open
        finishes first (it holds the store's lock).
        """
        with self._lock:
            self._rows = {}
            self._history = {}
            self._keys = {}
            self._has_schema = False

    def _check_schema(self) -> None:
        """``SchemaMismatch`` after :meth:`drop_schema`, as a SQL store without tables gives."""
        if not self._has_schema:
            raise SchemaMismatch(found=None, expected=SCHEMA_VERSION)

    def close(self) -> None:
        """Nothing to release."""

    # -- transactions ------------------------------------------------------------------

    def transaction(self) -> _MemoryTx:
        """A write transaction; changes are applied only when the block ends without error.

        Raises:
            SchemaMismatch: after :meth:`drop_schema` (here, and again on entering
                the block, should a drop come in between).
        """
        self._check_schema()
        return _MemoryTx(self)

    # -- reads -------------------------------------------------------------------------

    def _row(self, terminal_id: str) -> _Row:
        try:
            return self._rows[terminal_id]
        except KeyError:
            raise TerminalNotFound(terminal_id) from None

    def get(self, terminal_id: str) -> Terminal:
        """The stored terminal; ``TerminalNotFound`` if there is none."""
        check_id(terminal_id)  # the same refusals as the SQL store
        with self._lock:
            self._check_schema()
            return self._row(terminal_id).terminal

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """The terminal's history in order; ``TerminalNotFound`` for an unknown terminal."""
        check_id(terminal_id)  # the same refusals as the SQL store
        with self._lock:
            self._check_schema()
            self._row(terminal_id)
            return list(self._history.get(terminal_id, ()))

    def snapshot(self, terminal_id: str) -> tuple[Terminal, int, list[HistoryRecord]]:
        """The terminal, its stored history length and its history, read together."""
        check_id(terminal_id)  # the same refusals as the SQL store
        with self._lock:
            self._check_schema()
            row = self._row(terminal_id)
            return row.terminal, row.seq, list(self._history.get(terminal_id, ()))

    def counts(self) -> dict[str, int]:
        """How many terminals are in each state."""
        out: dict[str, int] = {}
        with self._lock:
            self._check_schema()
            for row in self._rows.values():
                state = row.terminal.state
                out[state] = out.get(state, 0) + 1
        return out

    def scan(
        self, after: str | None, limit: int
    ) -> list[tuple[Terminal, int, list[HistoryRecord]]]:
        """Up to ``limit`` terminals with ids after ``after``, in id order, with history."""
        with self._lock:
            self._check_schema()
            ids = sorted(i for i in self._rows if after is None or i > after)[:limit]
            return [
                (self._rows[i].terminal, self._rows[i].seq, list(self._history.get(i, ())))
                for i in ids
            ]


class _MemoryTx:
    """One transaction on a :class:`MemoryStore` (holds its lock throughout)."""

    __slots__ = ("_inserts", "_store", "_writes")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._inserts: list[Terminal] = []
        self._writes: list[Write] = []

    def __enter__(self) -> _MemoryTx:
        store = self._store
        store._lock.acquire()
        try:
            store._check_schema()  # dropped since transaction() was called
        except SchemaMismatch:
            store._lock.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            self._store._lock.release()

    def _commit(self) -> None:
        store = self._store
        # dropped inside this transaction, by its own thread: nothing to write into
        store._check_schema()
        now = dt.datetime.now(dt.UTC)
        # check everything first, so that a conflict leaves nothing half-applied
        seen: set[str] = set()
        for t in self._inserts:
            if t.id in store._rows or t.id in seen:
                raise TerminalExists(t.id)
            seen.add(t.id)
        for w in self._writes:
            row = store._rows.get(w.loaded.terminal.id)
            if row is None or row.seq != w.loaded.seq:
                raise ConcurrencyConflict(
                    terminal_id=w.loaded.terminal.id, expected_version=w.loaded.terminal.version
                )
            for rec, _ in w.rows:
                key = rec.idempotency_key
                if key is not None and (rec.terminal_id, key) in store._keys:
                    raise ConcurrencyConflict(
                        terminal_id=rec.terminal_id, expected_version=w.loaded.terminal.version
                    )
        for t in self._inserts:
            store._rows[t.id] = _Row(t, 0, now)
        for w in self._writes:
            tid = w.loaded.terminal.id
            row = store._rows[tid]
            row.terminal = w.terminal
            row.seq += len(w.rows)
            row.updated = now
            log = store._history.setdefault(tid, [])
            for rec, reasons in w.rows:
                log.append(rec)
                if rec.idempotency_key is not None:
                    store._keys[tid, rec.idempotency_key] = Prior(rec, reasons)

    def insert(self, terminals: Sequence[Terminal], data: Sequence[object]) -> None:
        """Add new terminals at commit; ``TerminalExists`` then if one is already stored.

        An id no store may hold (see :func:`~posflow.store._base.check_id`) is
        ``InvalidInput`` at once, as in the SQL store.
        """
        for t in terminals:
            check_id(t.id)
        self._inserts.extend(terminals)

    def load(self, terminal_id: str, key: str | None) -> tuple[Loaded, Prior | None]:
        """Read a terminal and the attempt recorded under ``key``."""
        store = self._store
        row = store._row(terminal_id)
        prior = None if key is None else store._keys.get((terminal_id, key))
        return Loaded(row.terminal, row.seq), prior

    def load_many(self, ids: Collection[str]) -> dict[str, Loaded]:
        """Read several terminals; unknown ids are absent."""
        rows = self._store._rows
        return {i: Loaded(rows[i].terminal, rows[i].seq) for i in ids if i in rows}

    def find_keys(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], Prior]:
        """The attempts recorded under each ``(terminal_id, key)`` pair."""
        keys = self._store._keys
        return {p: keys[p] for p in pairs if p in keys}

    def claim(self, state: str, key_prefix: str, limit: int) -> list[Loaded]:
        """Up to ``limit`` terminals in ``state``, in id order, not yet keyed for this run."""
        store = self._store
        out: list[Loaded] = []
        for tid in sorted(store._rows):
            row = store._rows[tid]
            if row.terminal.state == state and (tid, key_prefix + tid) not in store._keys:
                out.append(Loaded(row.terminal, row.seq))
                if len(out) >= limit:
                    break
        return out

    def encode_data(self, terminal: Terminal) -> object:
        """Memory keeps the terminal object itself."""
        return terminal.data

    def encode_record(self, record: HistoryRecord, seq: int, reasons: Sequence[Reason]) -> object:
        """Memory keeps the record (placed at ``seq``) and its reasons."""
        return (record if record.seq == seq else with_seq(record, seq), tuple(reasons))

    def save(self, writes: Sequence[Write]) -> None:
        """Queue the writes; the version check happens at commit."""
        self._writes.extend(writes)
