"""Durable lifecycles: terminals and their history in memory, SQLite or PostgreSQL.

:class:`TerminalService` loads a terminal, lets the lifecycle decide, appends the
history record and saves the terminal in one transaction, with a version check
and idempotency keys. Stores: :class:`MemoryStore` (this process only) and
:class:`SQLStore` (SQLite file or PostgreSQL, through SQLAlchemy 2; install the
``sql`` extra). See ``docs/store.md``.
"""

from __future__ import annotations

from posflow.store._base import (
    MAX_ID_LENGTH,
    MAX_RUN_ID_LENGTH,
    SCHEMA_VERSION,
    Loaded,
    Prior,
    Store,
    StoreTx,
    Write,
)
from posflow.store._memory import MemoryStore
from posflow.store._service import TerminalService
from posflow.store._sql import SQLStore
from posflow.store._values import (
    Command,
    CommandFailed,
    Discrepancy,
    DrainReport,
    DuplicateOutcome,
    RetryPolicy,
)

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_RUN_ID_LENGTH",
    "SCHEMA_VERSION",
    "Command",
    "CommandFailed",
    "Discrepancy",
    "DrainReport",
    "DuplicateOutcome",
    "Loaded",
    "MemoryStore",
    "Prior",
    "RetryPolicy",
    "SQLStore",
    "Store",
    "StoreTx",
    "TerminalService",
    "Write",
]
