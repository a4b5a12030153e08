"""The JSON codec of the SQL store: terminal data, history payloads, changes and reasons.

Compact ASCII JSON, written with the C encoder reused across calls and read with
the C scanner, so that a batch spends its time in the database rather than here.
Values already known to be plain JSON (see :func:`~posflow._mask.plain_json`)
are written by pydantic-core's encoder, which is faster still (see
:func:`encode_plain`). Only JSON values are accepted in terminal data (so it
reads back equal); history payloads and changes are encoded leniently (dates as
ISO text, other objects as their text). Text holding a surrogate pair is refused
everywhere (see :func:`refuse_surrogate_pairs`): JSON cannot keep it apart from
the character the pair encodes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import json.scanner
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from pydantic_core import PydanticSerializationError, SchemaSerializer, core_schema

from posflow._catalogue import default_catalogue
from posflow._mask import plain_json
from posflow._reasons import Category, Reason
from posflow._terminal import data_dict
from posflow.errors import CorruptRecord, InvalidInput

_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_PAIRED = (
    "holds a surrogate pair (two code points from U+D800 to U+DFFF), "
    "which JSON would read back as one other character"
)


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
    text = str(value)
    if _SURROGATE_PAIR.search(text):  # its JSON would read back as another character
        raise ValueError(f"the text of a {type(value).__name__} {_PAIRED}")
    return text


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


def _paired(value: Any, where: str) -> str | None:
    """Where in ``value`` text (a key or a value) holds a surrogate pair, or ``None``."""
    if isinstance(value, str):
        return where if _SURROGATE_PAIR.search(value) else None
    found: str | None = None
    if isinstance(value, Mapping):
        for k, v in value.items():
            found = _paired(k, f"a key of {where}") or _paired(v, f"{where}[{k!r}]")
            if found:
                break
    elif isinstance(value, list | tuple | set | frozenset):
        for i, v in enumerate(value):
            found = _paired(v, f"{where}[{i}]")
            if found:
                break
    return found


def refuse_surrogate_pairs(text: str, value: Any, where: str) -> str:
    r"""``text``, the JSON of ``value``; ``ValueError`` if ``value`` holds a surrogate pair.

    The ASCII JSON of a high surrogate followed by a low one (``"\ud83d\ude00"``
    as two code points) is the same text as that of the one character they
    encode (``"😀"``), which is what reading it back gives: the value would come
    back altered. A lone surrogate reads back as it was, and is kept. Both write
    ``\ud8..`` to ``\udf..`` escapes, so only a text holding one is looked through.
    """
    if "\\ud" in text:
        found = _paired(value, where)
        if found is not None:
            raise ValueError(f"{found} {_PAIRED}")
    return text


_serialize = SchemaSerializer(
    core_schema.dict_schema(core_schema.any_schema(), core_schema.any_schema())
).to_json
"""pydantic-core's JSON encoder for a mapping, built once.

``pydantic_core.to_json`` writes the same text, but sets up its encoder on every
call: about 400 instructions more for the small mappings a fire stores. The keys
are of any schema, not ``str_schema()``: with that one, a key holding a
surrogate is written as U+FFFD replacement characters where it should fail.
"""

_serialize_ascii: Callable[[dict[str, Any]], bytes] = functools.partial(
    _serialize, ensure_ascii=True
)
"""``_serialize`` writing ASCII text, as :func:`encode_plain` does (a C call, no Python frame)."""

PlainEncoder = Callable[[dict[str, Any]], str]
"""An encoder of plain JSON values: :func:`encode_plain` or :func:`encode_plain_utf8`."""


def encode_plain(value: dict[str, Any]) -> str:
    r"""``value``, known to be plain JSON, as compact JSON text; as ``_encode_strict`` would.

    pydantic-core's encoder writes the small mappings a fire stores two to three
    times as fast as the json module's C encoder. It is used only for plain
    values (exactly ``dict``, ``list``, ``str``, ``int``, finite ``float``,
    ``bool``, ``None``, with ``str`` keys; see :func:`~posflow._mask.plain_json`):
    it would write a datetime, a set or a UUID as text where this store refuses
    them, and NaN or infinity as bare words where JSON has none. A nesting deeper
    than it goes, or a surrogate (which :func:`~posflow._mask.plain_json` does
    not take for plain), is left to ``_encode_strict``, which writes or refuses
    it as it always has; text with a surrogate pair raises ``ValueError`` (see
    :func:`refuse_surrogate_pairs`).

    The text is ASCII, as the json module's always was, with non-ASCII text as
    ``\u`` escapes: UTF-8 text would read back equal, but a PostgreSQL connection
    in another encoding (``LATIN1``, ``WIN1252``, ...) cannot send every
    character, and psycopg would then fail the write with a
    ``UnicodeEncodeError`` on data it used to store. (pydantic-core leaves the
    ASCII control character DEL as it is, where the json module escapes it; both
    read back equal.) Escaping costs about 70 ns more on an ASCII value than
    pydantic-core's UTF-8 text, and writes Chinese text about a quarter faster
    than the json module does.
    """
    try:
        return _serialize(value, ensure_ascii=True).decode()
    except PydanticSerializationError:  # too deep, a surrogate: the json module decides
        return refuse_surrogate_pairs(_encode_strict(value), value, "value")


def encode_plain_utf8(value: dict[str, Any]) -> str:
    """:func:`encode_plain` for a database that keeps text as UTF-8 whatever the client.

    SQLite stores every text as UTF-8 (or UTF-16) and has no connection encoding
    that could fail to carry a character, so its JSON is written with non-ASCII
    text as it is: about 1,000 instructions (some 70 ns) cheaper per value than
    escaping it, and half the size or less for Chinese text. Either text reads
    back equal.
    """
    try:
        return _serialize(value).decode()
    except PydanticSerializationError:  # too deep, a surrogate: the json module decides
        return refuse_surrogate_pairs(_encode_strict(value), value, "value")


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not a JSON number")


# NaN and infinity are refused as posflow never writes them (JSON has neither): stored
# data therefore holds only finite numbers, as plain_json requires of plain data
_scan: Any = json.scanner.make_scanner(  # C
    json.JSONDecoder(parse_constant=_no_constant)  # type: ignore[arg-type]
)


def _decode(text: str) -> Any:
    """``json.loads`` for the compact JSON posflow writes, without its Python wrappers."""
    try:
        value, end = _scan(text, 0)
    except StopIteration as stop:
        raise ValueError(f"no JSON value at position {stop.value}") from None
    if end != len(text) and text[end:].strip():
        raise ValueError(f"extra text after the JSON value at position {end}")
    return value


def check_keys(terminal_id: str, value: Any, where: str = "data") -> None:
    """Refuse a mapping key that is not text, at any depth of ``value``.

    JSON object keys are text: the encoder would turn ``1``, ``True`` or ``None``
    into ``"1"``, ``"true"`` or ``"null"``, so such data would read back with
    other keys (and two keys could become one). Only data that is not plain JSON
    (see :func:`~posflow._mask.plain_json`) needs this walk.
    """
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInput(
                    f"terminal {terminal_id!r}: keys must be str, got the "
                    f"{type(k).__name__} key {k!r} in {where}",
                    field="data",
                )
            check_keys(terminal_id, v, f"{where}[{k!r}]")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_keys(terminal_id, v, f"{where}[{i}]")


def encode_data(
    terminal_id: str, data: Mapping[str, Any], plain: PlainEncoder = encode_plain
) -> str:
    """Terminal data as JSON text; only JSON values are accepted, so it reads back equal.

    ``plain`` writes plain JSON values (see :func:`encode_plain_utf8`).
    """
    value = data if type(data) is dict else data_dict(data)
    try:
        if plain_json(value):
            return plain(value)
        return refuse_surrogate_pairs(_encode_strict(value), value, "data")
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(
            f"terminal {terminal_id!r}: data must hold only JSON values "
            f"(str, int, float, bool, None, list, dict with str keys): {exc}",
            field="data",
        ) from None


def encode_audit(value: Any, plain: PlainEncoder = encode_plain) -> str:
    """A history payload or changes as JSON; dates become ISO text, other objects their text.

    ``plain`` writes plain JSON values (see :func:`encode_plain_utf8`). Text holding
    a surrogate pair is refused with ``InvalidInput``, as it could not read back as
    it was (see :func:`refuse_surrogate_pairs`).
    """
    if not value:
        return "{}"
    if type(value) is not dict:
        value = data_dict(value)  # payloads are read-only views too
    try:
        if plain_json(value):
            return plain(value)
        text = _encode_strict(value)
    except (TypeError, ValueError, RecursionError):
        text = None
    try:
        if text is None:
            text = _encode_lenient(value)
        return refuse_surrogate_pairs(text, value, "value")
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"cannot be stored as JSON: {exc}", field="payload") from None


def encode_reasons(reasons: Sequence[Reason]) -> str:
    """Reasons as JSON ``[[code, guard, retryable, params], ...]`` (params already masked).

    Evidence is encoded leniently, as payloads are (dates as ISO text, other
    objects as their text). Evidence that cannot be stored as it is (text holding
    a surrogate pair, a key that JSON has no form for) raises ``InvalidInput``
    naming the reasons, rather than reading back as something else or failing
    inside the encoder.
    """
    value = [[r.code, r.guard, r.retryable, dict(r.params)] for r in reasons]
    try:
        return refuse_surrogate_pairs(_encode_lenient(value), value, "evidence")
    except (TypeError, ValueError, RecursionError) as exc:
        codes = ", ".join(repr(r.code) for r in reasons)
        raise InvalidInput(
            f"the evidence of the reasons {codes} cannot be stored as JSON: {exc}",
            field="reasons",
        ) from None


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
