"""Validation shared by the port value classes: bad values fail early, naming the field."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import TypeVar

from posflow.errors import InvalidInput

__all__ = ["as_count", "as_date", "as_enum", "as_minor_units", "as_text", "as_texts", "as_utc"]

E = TypeVar("E", bound=enum.Enum)


def as_text(value: object, field: str, *, optional: bool = False) -> str:
    """A non-empty string, stripped; ``None`` is refused unless ``optional`` (then ``""``)."""
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"must be a non-empty string, got {type(value).__name__}", field=field)
    if not value.strip():
        raise InvalidInput("must be a non-empty string, got an empty one", field=field)
    return value.strip()


def as_texts(values: Iterable[object] | None, field: str) -> frozenset[str]:
    """A set of non-empty strings (a single string is refused: it is not a set of names)."""
    if values is None:
        return frozenset()
    if isinstance(values, str | bytes):
        raise InvalidInput("must be a collection of names, not one string", field=field)
    try:
        return frozenset(as_text(v, f"{field}[]") for v in values)
    except TypeError:
        raise InvalidInput("must be a collection of names", field=field) from None


def as_enum(kind: type[E], value: object, field: str) -> E:
    """The member of ``kind`` for ``value``, naming the allowed values when it is not one."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise InvalidInput(f"{value!r} is not one of: {allowed}", field=field) from None


def as_minor_units(value: object, field: str, *, signed: bool = False) -> int:
    """An amount of money in integer minor units (fen); floats and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"must be an integer amount in minor units (fen), got {type(value).__name__}",
            field=field,
        )
    if value < 0 and not signed:
        raise InvalidInput("must not be negative", field=field)
    return value


def as_count(value: object, field: str) -> int:
    """A non-negative whole number (a count of things)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("must be a non-negative integer", field=field)
    return value


def as_date(value: object, field: str) -> dt.date | None:
    """A calendar date (a datetime gives its date); ISO strings are parsed."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return as_utc(value, field).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"must be a date (YYYY-MM-DD), got {value!r}", field=field)


def as_utc(value: object, field: str) -> dt.datetime:
    """A timezone-aware datetime (naive ones are taken as UTC); ISO strings are parsed."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"must be an ISO 8601 date-time, got {value!r}", field=field
            ) from None
    if not isinstance(value, dt.datetime):
        raise InvalidInput(f"must be a date-time, got {type(value).__name__}", field=field)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
