"""Rebuilding a terminal from its history, checking each record against the table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from posflow._terminal import Terminal
from posflow.errors import ReplayError

if TYPE_CHECKING:
    from posflow._engine import Step
    from posflow._history import HistoryRecord

__all__ = ["replay_records"]


def replay_records(
    table: Mapping[str, Mapping[str, Step]],
    initial: str,
    records: Iterable[HistoryRecord],
    terminal_id: str | None,
    data: Mapping[str, Any] | None,
) -> Terminal:
    """What :meth:`posflow.Lifecycle.replay` does, on the lifecycle's compiled table.

    Raises:
        ReplayError: on any record the table could not have produced.
    """
    state, version = initial, 0
    current = dict(data or {})
    tid = terminal_id
    for i, rec in enumerate(records):
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
