"""Engine and DBAPI connection set-up for the SQL store, and quiet clean-up helpers.

SQLAlchemy builds the engine and each connection; these functions choose the pool,
configure every new connection (SQLite pragmas, the PostgreSQL time zone and search
path), and close or roll back connections without masking the error being raised.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from posflow.errors import CorruptRecord, StoreUnavailable

_SQLITE_DAMAGED = frozenset({11, 26})
"""SQLite's primary result codes ``SQLITE_CORRUPT`` and ``SQLITE_NOTADB``."""
_POSTGRES_DAMAGED = frozenset({"XX001", "XX002"})
"""PostgreSQL's ``data_corrupted`` and ``index_corrupted``."""


def _import_sqlalchemy() -> Any:
    try:
        import sqlalchemy  # noqa: PLC0415 - optional dependency, imported on first use
    except ImportError:  # pragma: no cover - the dev extra installs it
        raise StoreUnavailable("SQLStore needs SQLAlchemy 2: pip install 'posflow[sql]'") from None
    return sqlalchemy


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()


def _close_all(conns: list[Any]) -> None:
    """Close the idle connections of a store that was closed or collected."""
    while conns:
        _close_quietly(conns.pop())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _damaged(exc: BaseException) -> bool:
    """Whether a driver error says the database itself is damaged, or is not a database.

    Such a fault is permanent: retrying cannot help, so it must not be reported as
    :class:`StoreUnavailable` (which services answer with "try again later").
    """
    exc = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_DAMAGED
    return getattr(exc, "sqlstate", None) in _POSTGRES_DAMAGED


def _damage(exc: BaseException, shown: str) -> CorruptRecord:
    """The error for a database that :func:`_damaged` found damaged (``shown``: its URL)."""
    text = _first_line(getattr(exc, "orig", None) or exc)
    return CorruptRecord(f"the database is damaged or is not a database: {text} ({shown})")


def _rollback(conn: Any) -> None:
    with contextlib.suppress(Exception):  # a broken connection is discarded by the pool anyway
        conn.rollback()


def _make_engine(sa: Any, url: Any, pool_size: int) -> Any:
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:  # noqa: BLE001 - a malformed URL is one typed error
        raise StoreUnavailable(f"malformed database URL: {_first_line(exc)}") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername in ("postgresql", "postgres"):  # the short alias, as libpq takes it
        parsed = parsed.set(drivername="postgresql+psycopg")
    name = parsed.drivername
    if name.partition("+")[0] != "sqlite" and name != "postgresql+psycopg":
        # said before SQLAlchemy looks for the driver, whose absence would be the message
        raise StoreUnavailable(
            f"unsupported database {name}: use sqlite or postgresql+psycopg",
            url=shown,
        )
    # posflow commits or rolls back every transaction itself: no reset on return needed
    kwargs: dict[str, Any] = {"pool_reset_on_return": None}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # one in-memory database lives as long as its one connection: share it
            kwargs["poolclass"] = sa.pool.StaticPool
            kwargs["creator"] = _shared_memory_connection()
        else:
            kwargs["pool_size"] = pool_size
    else:
        kwargs["pool_size"] = pool_size
    try:
        return sa.create_engine(parsed, **kwargs)
    except Exception as exc:  # noqa: BLE001 - unknown dialects, missing drivers
        raise StoreUnavailable(
            f"cannot use this database URL: {_first_line(exc)}", url=shown
        ) from None


def _shared_memory_connection() -> Callable[[], Any]:
    import sqlite3  # noqa: PLC0415 - only for in-memory SQLite

    shared: list[Any] = []

    def connect() -> Any:
        if not shared:
            shared.append(sqlite3.connect(":memory:", check_same_thread=False))
        return shared[0]

    return connect


def _sqlite_setup(
    busy_ms: int, synchronous: str, wal: bool, checkpoint: int
) -> Callable[[Any, Any], None]:
    def setup(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # posflow issues BEGIN / COMMIT itself
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute(f"PRAGMA wal_autocheckpoint = {checkpoint}")
        cur.execute(f"PRAGMA synchronous = {synchronous}")
        cur.close()

    return setup


def _postgres_setup(schema: str | None) -> Callable[[Any, Any], None]:
    def setup(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SET TIME ZONE 'UTC'")
        if schema is not None:
            cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return setup
