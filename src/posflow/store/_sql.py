"""The SQL store: SQLite (a file, WAL) and PostgreSQL (psycopg 3) through SQLAlchemy 2.

SQLAlchemy supplies URLs, drivers and the connection pool; the statements run on
the pooled DBAPI connection itself, prepared once and reused (``executemany`` for
batches), because per-row SQL expression overhead would cost more than the
database work on the hot path (see ``docs/store.md``).

The statements (``_sqlstmt``) and the schema methods (``_sqlschema``) are written
in modules of their own and inherited from there.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable
from itertools import islice
from typing import Any

from posflow._history import HistoryRecord
from posflow._terminal import Terminal
from posflow.errors import (
    ConcurrencyConflict,
    InvalidInput,
    SchemaMismatch,
    StoreUnavailable,
    TerminalNotFound,
)
from posflow.store._base import SCHEMA_VERSION, Loaded, check_id, is_seconds
from posflow.store._json import _serialize, _serialize_ascii, encode_plain, encode_plain_utf8
from posflow.store._sqlconn import (
    _close_all,
    _close_quietly,
    _damage,
    _damaged,
    _first_line,
    _import_sqlalchemy,
    _make_engine,
    _postgres_setup,
    _sqlite_setup,
)
from posflow.store._sqlrows import _seq, record_from, terminal_from
from posflow.store._sqlschema import _HCOLS, H, T, _SchemaManagement
from posflow.store._sqlstmt import _SQLStatements
from posflow.store._sqltx import _SQLTx

__all__ = ["SQLStore"]

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TOGETHER = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
"""PostgreSQL: every statement of the read sees the snapshot its first one took."""


_SYNCHRONOUS = frozenset({"NORMAL", "FULL", "EXTRA", "OFF"})


def _check_options(**options: Any) -> None:
    """Refuse an option of the wrong type or range with ``InvalidInput`` naming it."""
    for name, value in options.items():
        if name == "optimistic":
            ok = type(value) is bool
            need = "True or False"
        elif name == "busy_timeout":
            ok = is_seconds(value)
            need = "a number of seconds, 0 or more"
        else:
            least = 1 if name == "pool_size" else 0
            ok = type(value) is int and value >= least
            need = f"a whole number, {least} or more"
        if not ok:
            shown = repr(value)
            if len(shown) > 40:
                shown = shown[:37] + "..."
            raise InvalidInput(f"must be {need}, got {shown}", field=name)


class SQLStore(_SQLStatements, _SchemaManagement):
    """Terminals and history in SQLite or PostgreSQL.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path/to/file.db``,
            ``postgresql+psycopg://user@host/db``; plain ``postgresql://`` means psycopg 3),
            or an ``Engine`` built elsewhere.
        schema: PostgreSQL only: the schema (namespace) holding the tables;
            ``create_schema()`` creates it. Default: the connection's search path.
        busy_timeout: SQLite only: seconds a writer waits for the file lock.
        synchronous: SQLite only: ``"NORMAL"`` (default; in WAL mode a commit
            survives a process crash, and may be lost only on power failure) or
            ``"FULL"`` (also survives power failure, slower).
        wal_autocheckpoint: SQLite only: WAL pages between automatic checkpoints
            (SQLite's default is 1000). Fewer checkpoints mean fewer ``fsync`` calls
            and faster commits, and a WAL file up to ``pages * 4 KiB`` large.
        pool_size: connections kept open per process.
        optimistic: SQLite only: a write transaction reads (and the service decides)
            without the file's write lock, and takes it only to write. Writes are
            checked against the history length read, as always, so a batch that lost
            a race to another process raises ``ConcurrencyConflict`` (retried whole
            when the service has a :class:`~posflow.store.RetryPolicy`) instead of
            waiting for the lock before it reads. Several processes then decide at
            once; off by default, as a race is then reported rather than waited out.
        cache_terminals: how many of the terminals it saved the store keeps, decoded, for
            later batches (most recently saved first kept; on SQLite such a batch does
            not read their rows, see docs/store.md). ``0``, the default, keeps only the
            last batch's (a ``create_many`` counts as one). A process that alone writes
            its share of the terminals (a simulation's worker, a shard's consumer) gives
            its share's size; each kept terminal holds its data decoded and as text (2 to
            4 KB for a POS terminal).
            With ``optimistic``, kept terminals are reused without reading them only
            when this is given: the caller says its processes seldom share a terminal.

    Raises:
        StoreUnavailable: for a malformed URL, an unsupported database or driver,
            or a missing driver.
    """

    def __init__(
        self,
        url: Any,
        *,
        schema: str | None = None,
        busy_timeout: float = 30.0,
        synchronous: str = "NORMAL",
        wal_autocheckpoint: int = 10000,
        pool_size: int = 5,
        optimistic: bool = False,
        cache_terminals: int = 0,
    ) -> None:
        sa = _import_sqlalchemy()
        _check_options(
            cache_terminals=cache_terminals,
            busy_timeout=busy_timeout,
            wal_autocheckpoint=wal_autocheckpoint,
            pool_size=pool_size,
            optimistic=optimistic,
        )
        if schema is not None and (type(schema) is not str or not _SCHEMA_NAME.fullmatch(schema)):
            raise InvalidInput("must be a plain SQL identifier", field="schema")
        if type(synchronous) is not str or synchronous.upper() not in _SYNCHRONOUS:
            raise InvalidInput("must be NORMAL, FULL, EXTRA or OFF", field="synchronous")
        self._schema = schema
        self._schema_ok = False
        engine = url if isinstance(url, sa.engine.Engine) else _make_engine(sa, url, pool_size)
        self.engine = engine
        self._shown = engine.url.render_as_string(hide_password=True)
        name = engine.dialect.name
        if name == "sqlite":
            self.dialect = "sqlite"
        elif name == "postgresql" and engine.dialect.driver == "psycopg":
            self.dialect = "postgresql"
        else:
            raise StoreUnavailable(
                f"unsupported database {name}+{engine.dialect.driver}: "
                "use sqlite or postgresql+psycopg",
                url=self._shown,
            )
        if schema is not None and self.dialect == "sqlite":
            raise InvalidInput(
                "is for PostgreSQL only: a SQLite database keeps posflow's tables in its file",
                field="schema",
            )
        self._dbapi = engine.dialect.dbapi
        self._sqlite = self.dialect == "sqlite"
        self._encode_plain = encode_plain_utf8 if self._sqlite else encode_plain
        self._plain_bytes = _serialize if self._sqlite else _serialize_ascii
        """``_encode_plain``'s first step, called directly on the hot paths: its JSON as bytes.

        A C call where ``_encode_plain`` is a Python one around it. It raises
        ``ValueError`` where ``_encode_plain`` falls back to the json module (a nesting
        too deep, a surrogate), so a caller falls back to ``_encode_plain`` then.
        """
        self._optimistic = bool(optimistic) and self._sqlite
        self._cache_terminals = cache_terminals
        # optimistic processes often share terminals: trust kept ones only when asked to
        self._trust_kept = self._sqlite and (not self._optimistic or cache_terminals > 0)
        """Batches may start from kept terminals without reading them (see ``_SQLTx.load_many``)."""
        self._key_lookups = 0
        """Batches left that look their keys up first (see ``_SQLTx.defer_key_lookups``)."""
        self._memory = self._sqlite and engine.url.database in (None, "", ":memory:")
        if self._sqlite:
            self._param = "?"
            ms = max(0, int(busy_timeout * 1000))
            sync = synchronous.upper()
            wal = not self._memory
            sa.event.listen(
                engine, "connect", _sqlite_setup(ms, sync, wal, int(wal_autocheckpoint))
            )
        else:
            self._param = "%s"
            sa.event.listen(engine, "connect", _postgres_setup(schema))
        self._prepare_statements()
        self._idle: list[Any] = []
        self._recent: dict[str, Loaded] = {}
        """The plain terminals the last batch committed, as its next load would read them.

        Each is handed out as it is (see ``_TxReads.load_many``): nothing changes a
        ``Loaded`` once made.
        """
        self._keep = max(1, pool_size)
        self._broken = (self._dbapi.OperationalError, self._dbapi.InterfaceError)
        self._closer = weakref.finalize(self, _close_all, self._idle)
        # a forked child must not share the parent's pooled connections
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_pool(ref))

    # -- connections and errors ----------------------------------------------------------

    def __repr__(self) -> str:
        return f"<SQLStore {self._shown}>"

    def _connect(self) -> Any:
        """A DBAPI connection: an idle one of ours, else a new one made by the engine.

        posflow keeps its own short list of idle connections instead of checking
        one out of SQLAlchemy's pool for every transaction: that checkout costs as
        much as a fifth of a single fire on SQLite. The engine still creates each
        connection (URL, driver, the setup of ``connect`` events).
        """
        try:
            return self._idle.pop()
        except IndexError:
            pass
        try:
            fairy = self.engine.raw_connection()
        except Exception as exc:
            if _damaged(exc):
                raise _damage(exc, self._shown) from exc
            raise StoreUnavailable(
                f"cannot connect to the database: {_first_line(exc)}", url=self._shown
            ) from exc
        conn = fairy.driver_connection
        fairy.detach()  # ours from now on: closed by _release or close()
        return conn

    def _release(self, conn: Any, failure: BaseException | None = None) -> None:
        """Keep ``conn`` for the next transaction, unless it failed at the connection level."""
        broken = self._broken
        if failure is not None and (
            isinstance(failure, broken) or isinstance(failure.__cause__, broken)
        ):
            _close_quietly(conn)
        elif len(self._idle) < self._keep:
            self._idle.append(conn)
        else:
            _close_quietly(conn)

    def _translate(
        self, exc: Exception, terminal_id: str | None = None, version: int = 0
    ) -> Exception:
        """The posflow error for a driver error raised while talking to the database."""
        dbapi = self._dbapi
        text = _first_line(exc)
        state = getattr(exc, "sqlstate", None)
        low = text.lower()
        if isinstance(exc, dbapi.IntegrityError) or state in {"40001", "40P01"}:
            return ConcurrencyConflict(terminal_id=terminal_id or "?", expected_version=version)
        if isinstance(exc, dbapi.DataError) or state == "54000":
            # a value the database cannot hold (NUL in text, an index row too large):
            # the caller's input, not an outage; the service checks ids before this
            return InvalidInput(f"the database refused a value: {text}")
        if "no such table" in low or state == "42P01":
            return SchemaMismatch(found=None, expected=SCHEMA_VERSION)
        if _damaged(exc):
            return _damage(exc, self._shown)
        if "locked" in low or "busy" in low:
            return StoreUnavailable(f"the database stayed locked: {text}", url=self._shown)
        return StoreUnavailable(f"database error: {text}", url=self._shown)

    def _read(self, fn: Callable[[Any], Any], *, together: bool = False) -> Any:
        """Run ``fn(cursor)`` in a short read transaction.

        ``together``: ``fn`` runs several statements that must see the database as
        of one moment (a terminal's row and its history). SQLite's read transaction
        does so by itself; PostgreSQL's default (read committed) takes a new
        snapshot for every statement, so a write committed between the two would
        show a row and a history that never existed together.
        """
        self._ensure_schema()
        if self._sqlite:
            begin: str | None = "BEGIN"
        else:
            begin = _TOGETHER if together else None
        with self._unit_of_work(begin) as cur:
            return fn(cur)

    def _remember(self, kept: dict[str, Loaded]) -> None:
        """Keep the terminals a transaction committed, for the next ones to start from."""
        cap = self._cache_terminals
        if not cap:  # the default: the last batch's terminals only
            self._recent = kept
            return
        recent = self._recent
        recent.update(kept)
        excess = len(recent) - cap
        if excess > 0:  # the first kept go first (a dict keeps its keys in that order)
            for tid in list(islice(recent, excess)):
                del recent[tid]

    def close(self) -> None:
        """Close every connection this store holds (an in-memory SQLite database is lost)."""
        self._closer()
        self._idle = []
        self._recent = {}  # the database may be replaced before the store is used again
        self._closer = weakref.finalize(self, _close_all, self._idle)
        self.engine.dispose()

    # -- transactions ----------------------------------------------------------------------

    def transaction(self) -> _SQLTx:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite: one writer at a time)."""
        if not self._schema_ok:
            self._ensure_schema()
        return _SQLTx(self)

    # -- reads -----------------------------------------------------------------------------

    def _terminal_row(self, cur: Any, terminal_id: str) -> tuple[Terminal, int]:
        cur.execute(self._load, (terminal_id,))
        row = cur.fetchone()
        if row is None:
            raise TerminalNotFound(terminal_id)
        return terminal_from(terminal_id, row[0], row[1], row[3]), _seq(terminal_id, row[2])

    def get(self, terminal_id: str) -> Terminal:
        """The stored terminal; ``TerminalNotFound`` if there is none."""
        check_id(terminal_id)
        result: Terminal = self._read(lambda cur: self._terminal_row(cur, terminal_id)[0])
        return result

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """The terminal's history in order; ``TerminalNotFound`` for an unknown terminal."""
        check_id(terminal_id)

        def run(cur: Any) -> list[HistoryRecord]:
            self._terminal_row(cur, terminal_id)
            cur.execute(self._history_of, (terminal_id,))
            return [record_from(terminal_id, r, r[10]) for r in cur.fetchall()]

        result: list[HistoryRecord] = self._read(run)
        return result

    def snapshot(self, terminal_id: str) -> tuple[Terminal, int, list[HistoryRecord]]:
        """The terminal, its stored history length and its history, in one read transaction."""
        check_id(terminal_id)

        def run(cur: Any) -> tuple[Terminal, int, list[HistoryRecord]]:
            terminal, seq = self._terminal_row(cur, terminal_id)
            cur.execute(self._history_of, (terminal_id,))
            return terminal, seq, [record_from(terminal_id, r, r[10]) for r in cur.fetchall()]

        result: tuple[Terminal, int, list[HistoryRecord]] = self._read(run, together=True)
        return result

    def counts(self) -> dict[str, int]:
        """How many terminals are in each state."""

        def run(cur: Any) -> dict[str, int]:
            cur.execute(f"SELECT state, COUNT(*) FROM {T} GROUP BY state")
            return {str(s): int(n) for s, n in cur.fetchall()}

        result: dict[str, int] = self._read(run)
        return result

    def scan(
        self, after: str | None, limit: int
    ) -> list[tuple[Terminal, int, list[HistoryRecord]]]:
        """Up to ``limit`` terminals with ids after ``after``, in id order, with history."""

        def run(cur: Any) -> list[tuple[Terminal, int, list[HistoryRecord]]]:
            cur.execute(self._scan, (after or "", limit))
            rows = cur.fetchall()
            if not rows:
                return []
            logs: dict[str, list[HistoryRecord]] = {r[0]: [] for r in rows}
            where, params = self._in("terminal_id", [r[0] for r in rows])
            cur.execute(
                f"SELECT terminal_id, {_HCOLS}, idempotency_key FROM {H} WHERE {where} "
                "ORDER BY terminal_id, seq",
                params,
            )
            for h in cur.fetchall():
                logs[h[0]].append(record_from(h[0], h[1:], h[11]))
            return [
                (terminal_from(r[0], r[1], r[2], r[4]), _seq(r[0], r[3]), logs[r[0]]) for r in rows
            ]

        result: list[tuple[Terminal, int, list[HistoryRecord]]] = self._read(run, together=True)
        return result


def _forget_pool(ref: weakref.ref[SQLStore]) -> None:
    """In a forked child: drop inherited connections without closing the parent's."""
    store = ref()
    if store is not None:
        store._closer.detach()
        store._idle = []
        store._closer = weakref.finalize(store, _close_all, store._idle)
        store.engine.dispose(close=False)
        store._recent = {}  # the parent writes on: what it kept is no proof here
