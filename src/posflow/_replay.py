"""Rebuilding a terminal from its history, checking each record against the table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from posflow._history import HistoryRecord
from posflow._terminal import Terminal
from posflow.errors import InvalidInput, ReplayError

if TYPE_CHECKING:
    from posflow._engine import Step

__all__ = ["replay_records"]


def _arguments(
    records: Iterable[HistoryRecord], data: Mapping[str, Any] | None
) -> tuple[Iterator[HistoryRecord], dict[str, Any]]:
    """The records to read and the data to start from, or InvalidInput naming which is neither."""
    try:
        items = iter(records)
    except TypeError:
        raise InvalidInput(
            f"must be an iterable of HistoryRecord, got {type(records).__name__}", field="records"
        ) from None
    if data is not None and not isinstance(data, Mapping):
        raise InvalidInput(f"must be a mapping, got {type(data).__name__}", field="data")
    return items, dict(data or {})


def replay_records(
    table: Mapping[str, Mapping[str, Step]],
    initial: str,
    records: Iterable[HistoryRecord],
    terminal_id: str | None,
    data: Mapping[str, Any] | None,
) -> Terminal:
    """What :meth:`posflow.Lifecycle.replay` does, on the lifecycle's compiled table.

    Raises:
        ReplayError: on any record the table could not have produced, and on an
            item that is not a :class:`~posflow.HistoryRecord` at all.
        InvalidInput: when ``records`` is not iterable or ``data`` not a mapping.
    """
    items, current = _arguments(records, data)
    state, version = initial, 0
    tid = terminal_id
    for i, rec in enumerate(items):
        if not isinstance(rec, HistoryRecord):
            raise ReplayError(
                f"is a {type(rec).__name__}, not a HistoryRecord", index=i, terminal_id=tid
            )
        if tid is None:
            tid = rec.terminal_id
        elif rec.terminal_id != tid:
            raise ReplayError(
                f"belongs to terminal {rec.terminal_id!r}, not {tid!r}",
                index=i,
                terminal_id=tid,
            )
        if rec.from_state != state:
            raise ReplayError(
                f"starts from {rec.from_state!r} but the terminal was in {state!r}",
                index=i,
                terminal_id=tid,
            )
        if rec.to_state is None:
            if rec.version != version:
                raise ReplayError(
                    f"refusal at version {rec.version}, expected {version}",
                    index=i,
                    terminal_id=tid,
                )
            if not rec.reasons:
                raise ReplayError(
                    "a refused attempt must carry its reason codes", index=i, terminal_id=tid
                )
            continue
        step = table[state].get(rec.event)
        if step is None:
            raise ReplayError(
                f"no transition for {rec.event!r} from {state!r}", index=i, terminal_id=tid
            )
        if step.dest != rec.to_state:
            raise ReplayError(
                f"{rec.event!r} from {state!r} leads to {step.dest!r}, not {rec.to_state!r}",
                index=i,
                terminal_id=tid,
            )
        if rec.version != version + 1:
            raise ReplayError(f"version {rec.version} after {version}", index=i, terminal_id=tid)
        state, version = rec.to_state, rec.version
        current.update(rec.changes)
    if tid is None:
        raise ReplayError("no records to replay and no terminal_id given", index=0)
    return Terminal(tid, state, version, current)
