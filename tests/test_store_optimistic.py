"""``SQLStore(optimistic=True)``: SQLite batches read and decide without the write lock.

A second service writes the same terminal while the first is deciding (from
inside one of the first service's guards), which is the race the option opens;
the write's check on the history length catches it, and the batch is retried
or reported, never half-applied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from posflow import Context, Lifecycle, State, Terminal, Transition
from posflow.errors import ConcurrencyConflict, StoreUnavailable
from posflow.store import Command, RetryPolicy, SQLStore, TerminalService


def _count(t: Terminal, ctx: Context) -> dict[str, Any]:
    return {"n": int(t.data.get("n", 0)) + 1}


def _lifecycle(guard: Callable[[Terminal, Context], bool]) -> Lifecycle:
    return Lifecycle(
        ["a", State("b", final=True)],
        [
            Transition("tick", "a", "=", conditions=[guard], effect=_count),
            Transition("go", "a", "b"),
        ],
        "a",
    )


def _store(path: Path, *, optimistic: bool) -> SQLStore:
    store = SQLStore(f"sqlite:///{path}", optimistic=optimistic)
    store.create_schema()
    return store


class Interloper:
    """A guard that, the first ``times`` times it runs, has another service tick ``T1`` first."""

    def __init__(self, other: Callable[[], TerminalService], times: int = 1) -> None:
        self.other = other
        self.left = times

    def __call__(self, t: Terminal, ctx: Context) -> bool:
        if self.left > 0:
            self.left -= 1
            self.other().fire("T1", "tick")
        return True


def _pair(
    tmp_path: Path, times: int, retry: RetryPolicy | None
) -> tuple[TerminalService, SQLStore]:
    path = tmp_path / "race.db"
    plain = _lifecycle(lambda t, c: True)
    second = TerminalService(plain, _store(path, optimistic=True))
    first_store = _store(path, optimistic=True)
    first = TerminalService(_lifecycle(Interloper(lambda: second, times)), first_store, retry=retry)
    first.create_many([("T1", {}), ("T2", {})])
    return first, first_store


def test_a_lost_race_is_retried_from_what_is_stored_now(tmp_path: Path) -> None:
    first, store = _pair(tmp_path, 1, RetryPolicy(attempts=3, sleep=lambda _: None))
    outs = first.fire_many([Command("T1", "tick"), Command("T2", "tick")], Context())
    assert [o.ok for o in outs] == [True, True]
    # the interloper's tick, then ours on top of it: nothing lost, nothing doubled
    assert store.get("T1").data["n"] == 2
    assert store.get("T1").version == 2
    assert [r.version for r in store.history("T1")] == [1, 2]
    assert store.get("T2").data["n"] == 1
    assert first.verify_all() == []


def test_without_a_retry_policy_the_lost_batch_is_reported_and_nothing_of_it_kept(
    tmp_path: Path,
) -> None:
    first, store = _pair(tmp_path, 1, None)
    with pytest.raises(ConcurrencyConflict):
        first.fire_many([Command("T1", "tick"), Command("T2", "tick")], Context())
    assert store.get("T1").data["n"] == 1  # only the interloper's tick
    assert store.get("T2").version == 0  # the batch was rolled back whole
    assert len(store.history("T1")) == 1


def test_single_fires_and_creation_work_as_without_the_option(tmp_path: Path) -> None:
    first, store = _pair(tmp_path, 0, None)
    assert first.fire("T1", "tick", Context()).ok
    first.create("T3")
    assert first.fire("T3", "tick", Context()).terminal.version == 1
    assert store.get("T1").data["n"] == 1
    assert first.verify_all() == []


def test_the_option_changes_nothing_elsewhere(tmp_path: Path) -> None:
    # in memory there is no other process: the write lock is taken at once, as without it
    memory = SQLStore("sqlite://", optimistic=True)
    memory.create_schema()
    svc = TerminalService(_lifecycle(lambda t, c: True), memory)
    svc.create("T1")
    assert svc.fire("T1", "tick", Context()).ok
    assert memory.get("T1").data["n"] == 1


def test_a_write_lock_held_too_long_is_reported_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = SQLStore(f"sqlite:///{path}", optimistic=True, busy_timeout=0.05)
    store.create_schema()
    svc = TerminalService(_lifecycle(lambda t, c: True), store)
    svc.create("T1")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process is writing, and takes its time
        with pytest.raises(StoreUnavailable, match="locked"):
            svc.fire_many([Command("T1", "tick")], Context())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.get("T1").version == 0
    assert svc.fire_many([Command("T1", "tick")], Context())[0].ok  # and it works once free
