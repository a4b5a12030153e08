"""Clocks: where guards and effects read "now" from, so that tests can stop time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from posflow.errors import InvalidInput

__all__ = ["Clock", "FrozenClock", "SystemClock"]


def aware(at: object, field: str) -> dt.datetime:
    """``at`` as a timezone-aware datetime: a naive one is taken as UTC.

    Every clock answers in UTC and guards compare its times with fixed ones, which
    Python refuses between naive and aware datetimes; so a naive time given to posflow
    is read as UTC rather than kept until such a comparison fails.

    Raises:
        InvalidInput: naming ``field`` when ``at`` is not a datetime (a date or a
            string is not one).
    """
    if at.__class__ is not dt.datetime and not isinstance(at, dt.datetime):
        raise InvalidInput(f"must be a datetime, got {type(at).__name__}", field=field)
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


@runtime_checkable
class Clock(Protocol):
    """Where the current time comes from. Times are timezone-aware (UTC)."""

    def now(self) -> dt.datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    __slots__ = ()

    def now(self) -> dt.datetime:
        """The current UTC time."""
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that stands still until moved; for tests and simulations.

    Args:
        at: the time to show; naive datetimes are taken as UTC.

    Raises:
        InvalidInput: when ``at`` is not a datetime.
    """

    __slots__ = ("_at",)

    def __init__(self, at: dt.datetime | None = None) -> None:
        self._at = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC) if at is None else aware(at, "at")

    def now(self) -> dt.datetime:
        """The frozen time."""
        return self._at

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move the clock forward by ``delta`` (or ``timedelta(**kwargs)``) and return the time."""
        self._at += delta if delta is not None else dt.timedelta(**kwargs)
        return self._at

    def set(self, at: dt.datetime) -> None:
        """Jump to ``at`` (naive: UTC).

        Raises:
            InvalidInput: when ``at`` is not a datetime.
        """
        self._at = aware(at, "at")

    def __repr__(self) -> str:
        return f"FrozenClock({self._at.isoformat()})"
