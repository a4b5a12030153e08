"""What every store provides: the protocols, the values they exchange, the id checks.

A store knows nothing about lifecycles or guards. It keeps terminals and their
history and offers write transactions in which the service loads terminals,
decides with the engine, and saves the result with a version check. Reads
(``get``, ``history``, ``counts``, ``scan``) each run in their own short
transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from posflow._history import HistoryRecord
from posflow._reasons import Reason
from posflow._terminal import Terminal
from posflow.errors import InvalidInput

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_RUN_ID_LENGTH",
    "SCHEMA_VERSION",
    "Loaded",
    "Prior",
    "Store",
    "StoreTx",
    "Write",
]

SCHEMA_VERSION = 1
"""The schema version this posflow reads and writes."""

MAX_ID_LENGTH = 255
"""The longest terminal id or idempotency key, in characters, that every store accepts.

Both are primary or unique keys; PostgreSQL refuses index entries over about
2.7 kB, and 255 characters stay under that even at 4 UTF-8 bytes each, for an
id and a key together. Longer ones are refused up front with ``InvalidInput``.
"""

MAX_RUN_ID_LENGTH = 64
"""The longest ``run_id`` of a drain, in characters (its keys are ``run_id:terminal_id``)."""


class StaleRead(Exception):
    """A transaction decided on terminals it did not read, and one of them had changed.

    A store may hand out a terminal it saved itself without reading its row again
    (the SQLite store does: see ``_SQLTx.load_many``), as long as it proves before
    committing that the row is still that one. When the proof fails, it rolls back,
    forgets what it kept and raises this; the service then decides the same
    commands again, on terminals read from the database. It never reaches the
    caller.
    """


class KeyTaken(Exception):
    """A batch saved under an idempotency key already used, which it had not looked up.

    A store whose unique ``(terminal_id, idempotency_key)`` index refuses a used key
    may let the service skip looking keys up (``defer_key_lookups``); a refused
    insert then rolls the batch back with this, and the service decides it again
    with every key looked up first. It never reaches the caller.
    """


class Loaded:
    """A terminal as a write transaction read it.

    Attributes:
        terminal: the terminal.
        seq: how many history records it has (the ``seq`` its next record gets).
        token: store-private data kept between load and save (the encoded data).
    """

    __slots__ = ("seq", "terminal", "token")

    def __init__(self, terminal: Terminal, seq: int, token: object = None) -> None:
        self.terminal = terminal
        self.seq = seq
        self.token = token

    def __repr__(self) -> str:
        return f"Loaded({self.terminal!r}, seq={self.seq})"


class Prior:
    """An earlier attempt found under an idempotency key: its record and its reasons."""

    __slots__ = ("reasons", "record")

    def __init__(self, record: HistoryRecord, reasons: tuple[Reason, ...]) -> None:
        self.record = record
        self.reasons = reasons

    def __repr__(self) -> str:
        return f"Prior({self.record!r})"


class Write:
    """What one transaction saves for one terminal: its new row and its new history rows.

    Attributes:
        loaded: the terminal as it was read; its ``seq`` is the version check.
        terminal: the terminal after every accepted event in the transaction.
        data: the encoded data when it changed, else ``None`` (the stored data stays).
        rows: the encoded history records, in order, from ``loaded.seq`` on.
        plain: the terminal's data is exactly what reading it back would give
            (only plain JSON types: see
            :func:`~posflow.store._records.changes_json`), so a store may keep
            the terminal and hand it out again while its row is unchanged,
            instead of decoding the row. Set by the service for stores whose
            transaction offers ``record_row`` (the SQL store).
    """

    __slots__ = ("data", "loaded", "plain", "rows", "terminal")

    def __init__(
        self,
        loaded: Loaded,
        terminal: Terminal,
        data: object,
        rows: list[Any],
        plain: bool = False,
    ) -> None:
        self.loaded = loaded
        self.terminal = terminal
        self.data = data
        self.rows = rows
        self.plain = plain


class StoreTx(Protocol):
    """One write transaction; everything done through it commits or rolls back together."""

    def insert(self, terminals: Sequence[Terminal], data: Sequence[object]) -> None:
        """Add new terminals (``data`` from :meth:`encode_data`); ``TerminalExists`` if one is."""

    def load(self, terminal_id: str, key: str | None) -> tuple[Loaded, Prior | None]:
        """Read a terminal and the attempt recorded under ``key``; ``TerminalNotFound`` if none."""
        ...

    def load_many(self, ids: Collection[str]) -> dict[str, Loaded]:
        """Read (and, where the database can, lock) several terminals; unknown ids are absent.

        ``ids`` may hold text no store can hold (see :func:`storable`): no terminal
        has such an id, so it is absent too, and must not fail the call.
        """
        ...

    def find_keys(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], Prior]:
        """The attempts recorded under each ``(terminal_id, key)`` pair, where there is one."""
        ...

    def claim(self, state: str, key_prefix: str, limit: int) -> list[Loaded]:
        """Up to ``limit`` terminals in ``state`` with no record keyed ``key_prefix + id``.

        Rows locked by another transaction are skipped where the database can.
        """
        ...

    def encode_data(self, terminal: Terminal) -> object:
        """The terminal's data as the store keeps it; ``InvalidInput`` if it cannot."""
        ...

    def encode_record(self, record: HistoryRecord, seq: int, reasons: Sequence[Reason]) -> object:
        """A history record as the store keeps it at ``seq``; ``InvalidInput`` if it cannot."""
        ...

    def save(self, writes: Sequence[Write]) -> None:
        """Save each write if its terminal is unchanged since loaded; else ConcurrencyConflict."""


class Store(Protocol):
    """Where terminals and their history live.

    Implementations: :class:`~posflow.store.MemoryStore` and
    :class:`~posflow.store.SQLStore`. Use one through a
    :class:`~posflow.store.TerminalService`.
    """

    def create_schema(self) -> None:
        """Create the tables if they are missing (idempotent); ``SchemaMismatch`` if foreign."""

    def upgrade_schema(self) -> None:
        """Bring an older schema to this version (creating it when absent)."""

    def schema_version(self) -> int | None:
        """The schema version found in the database, ``None`` when there is no schema."""
        ...

    def drop_schema(self) -> None:
        """Remove every terminal, history record and key, and the schema itself. Irreversible.

        Every read and transaction then raises ``SchemaMismatch`` until
        ``create_schema()`` makes the store usable again, empty.
        """

    def transaction(self) -> AbstractContextManager[StoreTx]:
        """A write transaction: commits when the block ends, rolls back when it raises."""
        ...

    def get(self, terminal_id: str) -> Terminal:
        """The stored terminal; ``TerminalNotFound`` if there is none."""
        ...

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """The terminal's history in order; ``TerminalNotFound`` for an unknown terminal."""
        ...

    def counts(self) -> dict[str, int]:
        """How many terminals are in each state (states with none are absent)."""
        ...

    def snapshot(self, terminal_id: str) -> tuple[Terminal, int, list[HistoryRecord]]:
        """The terminal, its stored history length and its history, read together.

        All three as of one moment: a write committed meanwhile is in all or in
        none of them, else ``verify`` would report a discrepancy never stored.
        """
        ...

    def scan(
        self, after: str | None, limit: int
    ) -> list[tuple[Terminal, int, list[HistoryRecord]]]:
        """Up to ``limit`` terminals with ids after ``after``, in id order, with history.

        Each item is ``(terminal, seq, history)``, all read as of one moment (as
        ``snapshot``); a terminal whose row cannot be decoded raises ``CorruptRecord``.
        """
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""


def is_seconds(value: object) -> bool:
    """A number of seconds: an ``int`` or ``float``, 0 or more, finite (a bool is not one)."""
    return type(value) in (int, float) and 0 <= value < float("inf")  # type: ignore[operator]


def check_text(
    value: object, field: str, longest: int | None = None, *, blank: bool = False
) -> str:
    """An id, event, actor or key as every store can keep it: non-empty text, no NUL.

    Text of whitespace alone (spaces, a tab, an ideographic space) is refused
    too: an id, an event or an actor that reads as nothing is a form left blank,
    not a name. ``blank=True`` accepts it, for idempotency keys (see
    :func:`check_key`). Nothing is stripped: text with whitespace around a name
    is kept exactly as given, and is another value than the name alone.

    With ``longest``, also at most that many characters. ``InvalidInput`` names
    ``field`` otherwise.
    """
    if type(value) is not str or not value:
        raise InvalidInput("must be a non-empty string", field=field)
    if not blank and value.isspace():
        raise InvalidInput("must not be whitespace only", field=field)
    if longest is not None and len(value) > longest:
        raise InvalidInput(
            f"must be at most {longest} characters long (got {len(value)})", field=field
        )
    if "\x00" in value:
        raise InvalidInput("must not contain NUL characters", field=field)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("must be valid Unicode (no lone surrogates)", field=field) from None
    return value


def check_id(value: object, field: str = "terminal_id") -> str:
    """A terminal id: :func:`check_text` (so not whitespace only) and :data:`MAX_ID_LENGTH`."""
    return check_text(value, field, MAX_ID_LENGTH)


def check_key(value: object, field: str = "idempotency_key") -> str:
    """An idempotency key: as :func:`check_id`, but whitespace alone is a key like any other.

    A key is an opaque token the caller's messaging made (a message id, a hash),
    compared exactly and never shown as a name: whitespace in it is no sign of a
    form left blank. (It also keeps the batch path's inlined check, see
    :func:`storable`, the whole rule for keys.)
    """
    return check_text(value, field, MAX_ID_LENGTH, blank=True)


def storable(value: object) -> bool:
    """Whether :func:`check_key` would accept ``value`` (without raising): a store can hold it.

    A terminal id of whitespace alone is storable but refused by :func:`check_id`;
    no store holds one, since creation checks ids with it, so looking one up finds
    nothing and the lookup's own ``check_id`` refuses it.
    """
    if type(value) is str and value and len(value) <= MAX_ID_LENGTH and value.isascii():
        return "\x00" not in value  # the common case, without an exception handler
    try:
        check_key(value, "value")
    except InvalidInput:
        return False
    return True
