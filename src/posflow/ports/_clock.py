"""Clocks: where guards and effects read "now" from, so that tests can stop time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FrozenClock", "SystemClock"]


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
    """

    __slots__ = ("_at",)

    def __init__(self, at: dt.datetime | None = None) -> None:
        at = at or dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
        self._at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        """The frozen time."""
        return self._at

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move the clock forward by ``delta`` (or ``timedelta(**kwargs)``) and return the time."""
        self._at += delta if delta is not None else dt.timedelta(**kwargs)
        return self._at

    def set(self, at: dt.datetime) -> None:
        """Jump to ``at``."""
        self._at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def __repr__(self) -> str:
        return f"FrozenClock({self._at.isoformat()})"
