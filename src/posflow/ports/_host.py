"""The host link port: whether the acquirer's host answers, and when it does not settle."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import attrs

from posflow.errors import InvalidInput
from posflow.ports._checks import as_enum, as_text, as_utc

__all__ = ["HostLink", "HostWindow", "InMemoryHostLink", "WindowKind"]


class WindowKind(enum.StrEnum):
    """Why the host is not settling for a while; both pass by themselves."""

    MAINTENANCE = "maintenance"
    """Planned system maintenance (系统维护)."""
    CUTOVER = "cutover"
    """The day cut-over (日切), when the host closes one business day and opens the next."""


def _kind(value: object) -> WindowKind:
    return as_enum(WindowKind, value, "window.kind")


def _start(value: object) -> dt.datetime:
    return as_utc(value, "window.start")


def _end(value: object) -> dt.datetime:
    return as_utc(value, "window.end")


@attrs.frozen(slots=True)
class HostWindow:
    """A period in which the host accepts no settlement.

    Attributes:
        kind: maintenance or day cut-over.
        start: when it begins (inclusive, timezone-aware).
        end: when it ends (exclusive); settlement may be retried from then on.
    """

    kind: WindowKind = attrs.field(converter=_kind)
    start: dt.datetime = attrs.field(converter=_start)
    end: dt.datetime = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput("must be after the start", field="window.end")

    def covers(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls inside the window."""
        return self.start <= at < self.end


@runtime_checkable
class HostLink(Protocol):
    """The link between posflow's caller and the acquirer's host (主机)."""

    def reachable(self, terminal_id: str) -> bool:
        """Whether the host answers for ``terminal_id`` now."""
        ...

    def window_at(self, at: dt.datetime) -> HostWindow | None:
        """The maintenance or cut-over window in force at ``at``, if any."""
        ...


def _time(value: object, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"must be a time of day (HH:MM), got {value!r}", field=field)


class InMemoryHostLink:
    """A host link simulated in memory, for tests and simulations.

    Args:
        reachable: whether the host answers at all.
        maintenance: planned maintenance windows, as ``(start, end)`` pairs.
        cutover: the daily cut-over window as ``(start, end)`` times of day in UTC;
            it may run over midnight (``("23:50", "00:10")``).
    """

    __slots__ = ("_cutover", "_down", "_maintenance", "up")

    def __init__(
        self,
        *,
        reachable: bool = True,
        maintenance: Iterable[tuple[dt.datetime, dt.datetime]] = (),
        cutover: tuple[dt.time | str, dt.time | str] | None = None,
    ) -> None:
        self.up = reachable
        self._down: set[str] = set()
        self._maintenance: list[HostWindow] = []
        for start, end in maintenance:
            self.add_maintenance(start, end)
        self._cutover: tuple[dt.time, dt.time] | None = None
        if cutover is not None:
            self.set_cutover(*cutover)

    def reachable(self, terminal_id: str) -> bool:
        """Whether the host answers for ``terminal_id``."""
        return self.up and terminal_id not in self._down

    def window_at(self, at: dt.datetime) -> HostWindow | None:
        """The maintenance or cut-over window covering ``at``, if any."""
        at = as_utc(at, "at")
        for w in self._maintenance:
            if w.covers(at):
                return w
        return self._cutover_at(at)

    def _cutover_at(self, at: dt.datetime) -> HostWindow | None:
        if self._cutover is None:
            return None
        start, end = self._cutover
        utc = at.astimezone(dt.UTC)
        for day in (utc.date() - dt.timedelta(days=1), utc.date()):
            begins = dt.datetime.combine(day, start, dt.UTC)
            ends = dt.datetime.combine(
                day if end > start else day + dt.timedelta(days=1), end, dt.UTC
            )
            if begins <= utc < ends:
                return HostWindow(WindowKind.CUTOVER, begins, ends)
        return None

    def add_maintenance(self, start: dt.datetime, end: dt.datetime) -> HostWindow:
        """Plan a maintenance window and return it."""
        window = HostWindow(WindowKind.MAINTENANCE, start, end)
        self._maintenance.append(window)
        return window

    def set_cutover(self, start: dt.time | str | None, end: dt.time | str | None = None) -> None:
        """Set the daily cut-over window (times of day in UTC); ``None`` removes it."""
        if start is None:
            self._cutover = None
            return
        begins, ends = _time(start, "cutover.start"), _time(end, "cutover.end")
        if begins == ends:
            raise InvalidInput("must differ from the start", field="cutover.end")
        self._cutover = (begins, ends)

    def cut_off(self, terminal_id: str, *, reachable: bool = False) -> None:
        """Make the host unreachable (or reachable again) for one terminal."""
        key = as_text(terminal_id, "terminal_id")
        if reachable:
            self._down.discard(key)
        else:
            self._down.add(key)

    def __repr__(self) -> str:
        return f"InMemoryHostLink(up={self.up}, {len(self._maintenance)} maintenance windows)"
