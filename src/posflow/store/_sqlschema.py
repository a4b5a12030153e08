"""The SQL store's tables: names, DDL per dialect, migrations, and the schema methods.

The names and DDL are text shared by the store's statements and reads; the
schema methods (create, upgrade, check, drop) are inherited by the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from posflow.errors import CorruptRecord, SchemaMismatch
from posflow.store._base import SCHEMA_VERSION
from posflow.store._sqlconn import _rollback

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


class _SchemaManagement:
    """The schema methods of :class:`~posflow.store.SQLStore`: create, upgrade, check, drop."""

    _dbapi: Any
    _recent: dict[str, Any]
    _schema: str | None
    _schema_ok: bool
    _sqlite: bool

    if TYPE_CHECKING:  # provided by SQLStore and its statements

        def _connect(self) -> Any: ...

        def _release(self, conn: Any, failure: BaseException | None = None) -> None: ...

        def _translate(
            self, exc: Exception, terminal_id: str | None = None, version: int = 0
        ) -> Exception: ...

        def _q(self, sql: str) -> str: ...

    @contextlib.contextmanager
    def _unit_of_work(self, begin: str | None = None) -> Iterator[Any]:
        """A cursor on a pooled connection, committed when the block ends.

        Any error rolls the work back (a database error is raised as posflow's own,
        see ``_translate``) and the connection goes back to the pool either way.
        ``begin`` is a statement to open the transaction with (SQLite's ``BEGIN``).
        """
        conn = self._connect()
        failure: BaseException | None = None
        try:
            cur = conn.cursor()
            if begin is not None:
                cur.execute(begin)
            yield cur
            conn.commit()
        except self._dbapi.Error as exc:
            failure = exc
            _rollback(conn)
            raise self._translate(exc) from exc
        except BaseException:
            _rollback(conn)
            raise
        finally:
            self._release(conn, failure)

    def _table_exists(self, cur: Any, table: str) -> bool:
        if self._sqlite:
            cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
            return cur.fetchone() is not None
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        row = cur.fetchone()
        return bool(row and row[0])

    def _version_in(self, cur: Any) -> int | None:
        if not self._table_exists(cur, M):
            return None
        cur.execute(self._q(f"SELECT value FROM {M} WHERE key = ?"), ("schema_version",))
        row = cur.fetchone()
        if row is None:
            return None
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise CorruptRecord(f"the schema version {row[0]!r} is not a number") from None

    def schema_version(self) -> int | None:
        """The schema version found in the database; ``None`` when there is no schema yet."""
        with self._unit_of_work() as cur:
            return self._version_in(cur)

    def _ensure_schema(self) -> None:
        if self._schema_ok:
            return
        found = self.schema_version()
        if found != SCHEMA_VERSION:
            raise SchemaMismatch(found=found, expected=SCHEMA_VERSION)
        self._schema_ok = True

    def _ddl(self, steps: Callable[[Any, int | None], None]) -> None:
        with self._unit_of_work("BEGIN IMMEDIATE" if self._sqlite else None) as cur:
            if not self._sqlite:
                # one schema change at a time, even when many processes start together
                cur.execute("SELECT pg_advisory_xact_lock(7470501)")
                if self._schema is not None:
                    cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"')
            steps(cur, self._version_in(cur))
        self._schema_ok = True

    def _create(self, cur: Any) -> None:
        for stmt in _DDL_SQLITE if self._sqlite else _DDL_POSTGRES:
            cur.execute(stmt)
        cur.execute(
            self._q(f"INSERT INTO {M} (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
            ("schema_version", str(SCHEMA_VERSION)),
        )

    def create_schema(self) -> None:
        """Create the tables, indexes and version row if missing; safe to call every start.

        Raises:
            SchemaMismatch: the database holds another schema version (use
                :meth:`upgrade_schema` for an older one).
            StoreUnavailable: the database cannot be reached.
        """

        def steps(cur: Any, found: int | None) -> None:
            if found is not None and found != SCHEMA_VERSION:
                raise SchemaMismatch(found=found, expected=SCHEMA_VERSION)
            self._create(cur)

        self._ddl(steps)

    def upgrade_schema(self) -> None:
        """Bring the schema to this version: create it when absent, migrate an older one.

        Raises:
            SchemaMismatch: the schema is newer than this posflow, or no migration
                path from its version exists.
        """

        def steps(cur: Any, found: int | None) -> None:
            if found is None:
                self._create(cur)
                return
            version = found
            while version < SCHEMA_VERSION and version in _MIGRATIONS:
                for stmt in _MIGRATIONS[version]:
                    cur.execute(stmt)
                version += 1
            if version != SCHEMA_VERSION:
                raise SchemaMismatch(found=found, expected=SCHEMA_VERSION)
            cur.execute(
                self._q(f"UPDATE {M} SET value = ? WHERE key = ?"),
                (str(SCHEMA_VERSION), "schema_version"),
            )

        self._ddl(steps)

    def drop_schema(self) -> None:
        """Drop posflow's tables (and the PostgreSQL schema given at construction). Irreversible.

        Every read and transaction then raises ``SchemaMismatch`` until
        :meth:`create_schema` (or :meth:`upgrade_schema`) makes the tables again,
        empty. Dropping twice is not an error.
        """
        with self._unit_of_work() as cur:
            if self._schema is not None and not self._sqlite:
                cur.execute(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE')
            else:
                for table in (H, T, M):
                    cur.execute(f"DROP TABLE IF EXISTS {table}")
        self._schema_ok = False
        self._recent = {}  # a history deleted is no history that grew: trust nothing kept
