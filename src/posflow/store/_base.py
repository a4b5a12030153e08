"""What every store provides: the protocols, the records they exchange, the JSON codec.

A store knows nothing about lifecycles or guards. It keeps terminals and their
history and offers write transactions in which the service loads terminals,
decides with the engine, and saves the result with a version check. Reads
(``get``, ``history``, ``counts``, ``scan``) each run in their own short
transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import json.scanner
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import Any, Protocol

from posflow._catalogue import default_catalogue
from posflow._history import HistoryRecord, _RecordSlots
from posflow._mask import redact, unmasked_plain_json
from posflow._outcome import Outcome
from posflow._reasons import Category, Reason
from posflow._terminal import Terminal
from posflow.errors import CorruptRecord, InvalidInput

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
            (only plain JSON types: see :func:`masked_changes`), so a store may
            keep the terminal and hand it out again while its row is unchanged,
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
        """Read (and, where the database can, lock) several terminals; unknown ids are absent."""
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
        """The terminal, its stored history length and its history, read together."""
        ...

    def scan(
        self, after: str | None, limit: int
    ) -> list[tuple[Terminal, int, list[HistoryRecord]]]:
        """Up to ``limit`` terminals with ids after ``after``, in id order, with history.

        Each item is ``(terminal, seq, history)``; a terminal whose row cannot be
        decoded raises ``CorruptRecord``.
        """
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""


# -- JSON codec shared by the SQL store -------------------------------------------------


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _lenient(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _encoder(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A compact ASCII JSON encoder; the C one reused across calls when available."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            c = make(None, default, json.encoder.encode_basestring_ascii, None, ":", ",",
                     False, False, False)  # fmt: skip
        except TypeError:  # pragma: no cover - another interpreter's private signature
            c = None
        if c is not None:
            return lambda value: "".join(c(value, 0))
    return json.JSONEncoder(  # pragma: no cover - interpreters without the C accelerator
        separators=(",", ":"), allow_nan=False, default=default
    ).encode


_encode_strict = _encoder(_refuse)
_encode_lenient = _encoder(_lenient)
_scan: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # C


def _decode(text: str) -> Any:
    """``json.loads`` for the compact JSON posflow writes, without its Python wrappers."""
    try:
        value, end = _scan(text, 0)
    except StopIteration as stop:
        raise ValueError(f"no JSON value at position {stop.value}") from None
    if end != len(text) and text[end:].strip():
        raise ValueError(f"extra text after the JSON value at position {end}")
    return value


def encode_data(terminal_id: str, data: Mapping[str, Any]) -> str:
    """Terminal data as JSON text; only JSON values are accepted, so it reads back equal."""
    try:
        return _encode_strict(data if type(data) is dict else dict(data))
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(
            f"terminal {terminal_id!r}: data must hold only JSON values "
            f"(str, int, float, bool, None, list, dict with str keys): {exc}",
            field="data",
        ) from None


def encode_audit(value: Any) -> str:
    """A history payload or changes as JSON; dates become ISO text, other objects their text."""
    if not value:
        return "{}"
    if type(value) is not dict:
        value = dict(value)
    try:
        return _encode_strict(value)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return _encode_lenient(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"cannot be stored as JSON: {exc}", field="payload") from None


def encode_reasons(reasons: Sequence[Reason]) -> str:
    """Reasons as JSON ``[[code, guard, retryable, params], ...]`` (params already masked)."""
    return _encode_lenient([[r.code, r.guard, r.retryable, dict(r.params)] for r in reasons])


def decode_data(terminal_id: str, text: object) -> Mapping[str, Any]:
    """Stored terminal data back as a read-only mapping; ``CorruptRecord`` if unreadable."""
    try:
        value = _decode(text)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored data is not JSON ({exc})", terminal_id=terminal_id
        ) from None
    if type(value) is not dict:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored data is not a JSON object", terminal_id=terminal_id
        )
    return MappingProxyType(value)


def decode_json(terminal_id: str, what: str, text: object) -> Any:
    """A JSON column of a history row; ``CorruptRecord`` if unreadable."""
    try:
        return _decode(text)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored history {what} is not JSON ({exc})",
            terminal_id=terminal_id,
        ) from None


def decode_reasons(terminal_id: str, text: object) -> tuple[Reason, ...]:
    """Stored reasons back as :class:`~posflow.Reason` objects (messages from the catalogue)."""
    raw = decode_json(terminal_id, "reasons", text)
    catalogue = default_catalogue()
    out: list[Reason] = []
    try:
        for code, guard, retryable, params in raw:
            spec = catalogue.get(code)
            category = spec.category if spec is not None else _category(code)
            out.append(
                Reason(
                    code=str(code),
                    category=category,
                    params=MappingProxyType(dict(params)),
                    retryable=bool(retryable),
                    guard=guard,
                    spec=spec,
                )
            )
    except (TypeError, ValueError) as exc:
        raise CorruptRecord(
            f"terminal {terminal_id!r}: stored history reasons are malformed ({exc})",
            terminal_id=terminal_id,
        ) from None
    return tuple(out)


def _category(code: str) -> Category:
    try:
        return Category(code.partition(".")[0])
    except ValueError:
        return Category.GUARD  # a code from a user catalogue this process does not know


def check_text(value: object, field: str, longest: int | None = None) -> str:
    """An id, event, actor or key as every store can keep it: non-empty text, no NUL.

    With ``longest``, also at most that many characters. ``InvalidInput`` names
    ``field`` otherwise.
    """
    if type(value) is not str or not value:
        raise InvalidInput("must be a non-empty string", field=field)
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
    """A terminal id or idempotency key: :func:`check_text` and :data:`MAX_ID_LENGTH`."""
    return check_text(value, field, MAX_ID_LENGTH)


def storable(value: object) -> bool:
    """Whether :func:`check_id` would accept ``value`` (without raising)."""
    if type(value) is str and value and len(value) <= MAX_ID_LENGTH and value.isascii():
        return "\x00" not in value  # the common case, without an exception handler
    try:
        check_id(value, "value")
    except InvalidInput:
        return False
    return True


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` cut in slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def masked_payload(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The payload as history keeps it: sensitive values masked, read-only."""
    return MappingProxyType(redact(payload)) if payload else _EMPTY


def masked_changes(changes: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, bool]:
    """Non-empty changes as history keeps them (masked, read-only), as JSON text, and plain.

    Changes with no sensitive key and only plain JSON values
    (:func:`~posflow._mask.unmasked_plain_json`) are copied and encoded as they
    are: masking would copy them unchanged. Others are masked and the masked copy
    encoded. The mapping and text are the same either way; the flag is true only
    in the first case (see :attr:`Write.plain`).
    """
    if changes.__class__ is dict and unmasked_plain_json(changes):
        try:
            return MappingProxyType(dict(changes)), _encode_strict(changes), True
        except (ValueError, RecursionError):  # NaN, infinity: refused below as always
            pass
    masked = redact(changes)
    return MappingProxyType(masked), encode_audit(masked), False


def record_of(out: Outcome, seq: int, payload: Mapping[str, Any] | None = None) -> HistoryRecord:
    """The history record of ``out`` at ``seq``: the same fields as ``out.record``, built once.

    ``payload`` is the already masked payload when the caller has it (a batch
    that shares one context masks it once).
    """
    reasons = out.reasons
    prev = out.previous
    ctx = out._ctx
    rec: Any = _RecordSlots()
    rec.terminal_id = prev.id
    rec.seq = seq
    rec.event = out.event
    rec.from_state = prev.state
    rec.to_state = None if reasons else out.terminal.state
    rec.version = out.terminal.version
    rec.actor = ctx.actor
    rec.at = out.at
    rec.payload = masked_payload(ctx.payload) if payload is None else payload
    rec.reasons = tuple([r.code for r in reasons]) if reasons else ()
    rec.idempotency_key = out.idempotency_key
    changes = out._changes
    rec.changes = MappingProxyType(redact(changes)) if changes else _EMPTY
    rec.__class__ = HistoryRecord
    out._record = rec
    return rec  # type: ignore[no-any-return]


_setattr = object.__setattr__
_RECORD_FIELDS = tuple(a.name for a in HistoryRecord.__attrs_attrs__)


def with_seq(record: HistoryRecord, seq: int) -> HistoryRecord:
    """``record`` placed at ``seq``, without running its masking converters a second time."""
    new: HistoryRecord = object.__new__(HistoryRecord)
    for name in _RECORD_FIELDS:
        _setattr(new, name, getattr(record, name))
    _setattr(new, "seq", seq)
    return new
