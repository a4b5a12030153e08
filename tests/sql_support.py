"""Changing a SQL store's database behind its back, as a bug or an operator might."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def execute_behind(store: Any, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement (``?`` placeholders) and commit it on a connection of its own.

    The connection is taken from the engine and closed for good afterwards rather
    than handed back to SQLAlchemy's pool, where nothing would close it before the
    store is collected (Python 3.13 warns about a SQLite connection left open).
    """
    fairy = store.engine.raw_connection()
    fairy.detach()
    try:
        cur = fairy.cursor()
        cur.execute(sql if store.dialect == "sqlite" else sql.replace("?", "%s"), params)
        fairy.commit()
    finally:
        fairy.close()
