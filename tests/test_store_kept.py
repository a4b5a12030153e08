"""SQLite batches start from the terminals the previous batch saved, without reading them.

The kept terminal is trusted, not assumed: another writer (here a second store on
the same file, as another process would be) that moved a terminal on between two
batches is found out before the commit, by the ``seq`` check of the ``UPDATE`` or
by reading the ``seq`` of a terminal the batch did not write, and the batch is
decided again on what is stored. Nothing the other writer did is lost or
overwritten, and the caller sees no conflict.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posflow import Context, Lifecycle, State, Terminal, Transition
from posflow.errors import InvalidInput
from posflow.store import Command, DuplicateOutcome, RetryPolicy, SQLStore, TerminalService, _sqltx


def _tick(t: Terminal, ctx: Context) -> dict[str, Any]:
    n = int(t.data.get("n", 0)) + 1
    if ctx.payload.get("picky") and n < 3:
        return {"n": n, "bad": object()}  # no JSON value: the batch fails on this data
    return {"n": n}


def _ready(t: Terminal, ctx: Context) -> bool:
    return int(t.data.get("n", 0)) >= 2


LIFECYCLE = Lifecycle(
    ["a", State("b", final=True)],
    [
        Transition("tick", "a", "=", effect=_tick),
        Transition("go", "a", "b", conditions=[_ready]),
    ],
    "a",
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "kept.db"
    SQLStore(f"sqlite:///{path}").create_schema()
    return path


@pytest.fixture
def store(path: Path) -> Iterator[SQLStore]:
    store = SQLStore(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.fixture
def other(path: Path) -> Iterator[TerminalService]:
    """Another writer on the same file, with a store (and kept terminals) of its own."""
    store = SQLStore(f"sqlite:///{path}")
    yield TerminalService(LIFECYCLE, store)
    store.close()


def _service(store: SQLStore, **options: Any) -> TerminalService:
    svc = TerminalService(LIFECYCLE, store, **options)
    if store.counts() == {}:
        svc.create_many([("T1", None), ("T2", None)])
    return svc


def _traced(store: SQLStore) -> list[str]:
    """The statements the store's pooled connections run from now on, as they run."""
    seen: list[str] = []
    for conn in store._idle:
        conn.set_trace_callback(seen.append)
    return seen


def _terminal_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and "FROM posflow_terminals" in s]


def test_a_batch_at_the_terminals_the_last_one_saved_reads_none_of_them(
    store: SQLStore,
) -> None:
    svc = _service(store)
    first = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    seen = _traced(store)
    again = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    assert _terminal_reads(seen) == []
    assert again[0].previous is first[0].terminal
    assert [store.get(t).data["n"] for t in ("T1", "T2")] == [2, 2]
    assert svc.verify_all() == []


def test_a_write_by_another_store_between_two_batches_is_not_lost(
    store: SQLStore, other: TerminalService
) -> None:
    svc = _service(store)  # no retry policy: the caller would see a conflict
    svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    other.fire("T1", "tick")  # T1 moves on behind the first store's back
    outs = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    assert [o.ok for o in outs] == [True, True]
    assert outs[0].previous.version == 2  # decided on what the other writer stored
    assert store.get("T1").data["n"] == 3
    assert [r.version for r in store.history("T1")] == [1, 2, 3]
    assert svc.verify_all() == []
    # and the batch after that starts from what this one saved, read or kept
    assert svc.fire_many([Command("T1", "tick")])[0].previous is outs[0].terminal


def test_a_key_used_by_another_store_between_two_batches_is_a_duplicate(
    store: SQLStore, other: TerminalService
) -> None:
    svc = _service(store)
    svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    first = other.fire("T1", "tick", Context({"by": "other"}), idempotency_key="msg-7")
    outs = svc.fire_many([Command("T1", "tick", idempotency_key="msg-7"), Command("T2", "tick")])
    assert isinstance(outs[0], DuplicateOutcome)
    assert outs[0].record == first.record
    assert outs[0].terminal.data["n"] == 2  # the terminal as stored, not as kept
    assert [r.idempotency_key for r in store.history("T1")] == [None, "msg-7"]
    assert store.get("T2").data["n"] == 2
    assert svc.verify_all() == []


def test_a_kept_terminal_the_batch_does_not_write_is_checked_too(
    store: SQLStore, other: TerminalService
) -> None:
    # T1's only command is refused and not recorded: no UPDATE proves T1, its seq is read
    svc = _service(store, record_refusals=False)
    svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    other.fire("T1", "tick")  # now n == 2: T1 is ready to go
    outs = svc.fire_many([Command("T1", "go"), Command("T2", "tick")])
    assert [o.ok for o in outs] == [True, True]  # kept, T1 (n == 1) would have refused
    assert store.get("T1").state == "b"
    assert svc.verify_all() == []


def test_a_duplicate_on_a_kept_terminal_reports_the_terminal_as_stored(
    store: SQLStore, other: TerminalService
) -> None:
    svc = _service(store)
    svc.fire_many([Command("T1", "tick", idempotency_key="k1"), Command("T2", "tick")])
    other.fire("T1", "tick")
    outs = svc.fire_many([Command("T1", "tick", idempotency_key="k1")])
    assert isinstance(outs[0], DuplicateOutcome)
    assert outs[0].terminal.data["n"] == 2
    assert len(store.history("T1")) == 2


def test_a_failure_decided_on_a_changed_terminal_is_decided_again(
    store: SQLStore, other: TerminalService
) -> None:
    svc = _service(store)
    svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    other.fire("T1", "tick")
    # with T1 as kept (n == 1) the effect gives data no store can hold; as stored, it does not
    outs = svc.fire_many([Command("T1", "tick", {"picky": True}), Command("T2", "tick")])
    assert [o.ok for o in outs] == [True, True]
    assert store.get("T1").data == {"n": 3}
    # a failure that is not a kept terminal's doing still fails, and writes nothing
    svc.create("T3")
    with pytest.raises(InvalidInput):
        svc.fire_many([Command("T1", "tick"), Command("T3", "tick", {"picky": True})])
    assert store.get("T1").data == {"n": 3}
    assert svc.verify_all() == []


def test_a_single_fire_in_between_is_seen(store: SQLStore) -> None:
    svc = _service(store)
    first = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    svc.fire("T1", "tick")
    outs = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    assert outs[0].previous.version == 2
    assert outs[1].previous is first[1].terminal
    assert svc.verify_all() == []


def test_an_optimistic_store_reads_every_terminal(path: Path) -> None:
    # there another writer may move a terminal on while the batch decides: a race the
    # caller is told of (ConcurrencyConflict), which only reading tells from a stale one
    store = SQLStore(f"sqlite:///{path}", optimistic=True)
    try:
        svc = _service(store, retry=RetryPolicy(attempts=2, sleep=lambda _: None))
        svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
        seen = _traced(store)
        svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
        assert len(_terminal_reads(seen)) == 1
    finally:
        store.close()


def test_many_rounds_of_two_stores_taking_turns_add_up(
    store: SQLStore, other: TerminalService
) -> None:
    svc = _service(store)
    ids = [f"M{i}" for i in range(20)]
    svc.create_many((tid, None) for tid in ids)
    for i in range(6):
        svc.fire_many([Command(tid, "tick", idempotency_key=f"a{i}") for tid in ids], batch_size=7)
        other.fire_many(
            [Command(tid, "tick", idempotency_key=f"b{i}") for tid in ids[i::3]], batch_size=5
        )
        # redelivered: every key is found, whoever used it
        again = svc.fire_many(
            [Command(tid, "tick", idempotency_key=f"b{i}") for tid in ids[i::3]]
            + [Command(tid, "tick", idempotency_key=f"a{i}") for tid in ids]
        )
        assert all(isinstance(o, DuplicateOutcome) for o in again)
    for tid in ids:
        assert store.get(tid).data["n"] == len(store.history(tid))
    assert svc.verify_all() == []


# -- keys left to the unique index ------------------------------------------------------


def test_a_key_used_in_an_earlier_batch_is_found_by_the_index_and_answered_as_before(
    store: SQLStore,
) -> None:
    svc = _service(store)
    first = svc.fire_many([Command("T1", "tick", idempotency_key="k1"), Command("T2", "tick")])
    assert store._key_lookups == 0  # nothing was looked up, nothing was taken
    outs = svc.fire_many(
        [
            Command("T2", "tick", idempotency_key="k2"),
            Command("T1", "tick", idempotency_key="k1"),  # taken: the batch is redone
            Command("T1", "tick", idempotency_key="k3"),
        ]
    )
    assert [type(o).__name__ for o in outs] == ["Outcome", "DuplicateOutcome", "Outcome"]
    assert outs[1].record == first[0].record
    assert outs[2].previous.version == 1  # the duplicate changed nothing
    assert [r.idempotency_key for r in store.history("T1")] == ["k1", "k3"]
    assert [r.idempotency_key for r in store.history("T2")] == [None, "k2"]
    assert store._key_lookups == _sqltx._LOOKUP_BATCHES  # the next batches look them up
    svc.fire_many([Command("T1", "tick", idempotency_key="k1")])
    assert store._key_lookups == _sqltx._LOOKUP_BATCHES - 1
    assert svc.verify_all() == []


def test_a_used_key_on_a_command_that_writes_nothing_is_looked_up(store: SQLStore) -> None:
    svc = _service(store, record_refusals=False)
    first = svc.fire_many([Command("T1", "tick", idempotency_key="k1"), Command("T2", "tick")])
    # refused now and not recorded: no insert for the index to refuse, so it is looked up
    outs = svc.fire_many([Command("T1", "go", idempotency_key="k1"), Command("T2", "tick")])
    assert isinstance(outs[0], DuplicateOutcome)
    assert outs[0].record == first[0].record
    assert store._key_lookups == 0  # found without a redo
    # a new key on a refusal that is not recorded stays free
    outs = svc.fire_many([Command("T1", "go", idempotency_key="k9"), Command("T2", "tick")])
    assert not outs[0].ok
    assert not isinstance(outs[0], DuplicateOutcome)
    assert [r.idempotency_key for r in store.history("T1")] == ["k1"]


@pytest.mark.parametrize("errors", ["raise", "return"])
def test_a_used_key_on_a_command_that_fails_is_a_duplicate_as_before(
    store: SQLStore, errors: Any
) -> None:
    svc = _service(store)
    first = svc.fire_many([Command("T1", "tick", idempotency_key="k1"), Command("T2", "tick")])
    # an actor no store can hold is refused only after the key was found
    outs = svc.fire_many(
        [Command("T1", "tick", actor="till\x00", idempotency_key="k1"), Command("T2", "tick")],
        errors=errors,
    )
    assert isinstance(outs[0], DuplicateOutcome)
    assert outs[0].record == first[0].record
    with pytest.raises(InvalidInput):
        svc.fire_many([Command("T1", "tick", actor="till\x00", idempotency_key="k2")])
    assert [r.idempotency_key for r in store.history("T1")] == ["k1"]


def test_an_optimistic_store_looks_keys_up(path: Path) -> None:
    optimistic = SQLStore(f"sqlite:///{path}", optimistic=True)
    try:
        with optimistic.transaction() as tx:
            assert tx.defer_key_lookups() is False
    finally:
        optimistic.close()


@pytest.mark.parametrize("how", ["drop_schema", "close"])
def test_nothing_kept_is_trusted_once_the_database_may_have_started_over(
    store: SQLStore, other: TerminalService, path: Path, how: str
) -> None:
    svc = _service(store)
    svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    if how == "drop_schema":
        store.drop_schema()
    else:
        store.close()
        path.unlink()
    # the tables start over, and their terminals reach the same history length elsewhere
    fresh = other.store
    assert isinstance(fresh, SQLStore)
    fresh.create_schema()
    other.create_many([("T1", {"n": 10}), ("T2", {"n": 10})])
    other.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    outs = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
    assert [o.previous.data["n"] for o in outs] == [11, 11]
    assert store.get("T1").data["n"] == 12


# -- a store that keeps more than the last batch (cache_terminals) ------------------------


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10", None])
def test_cache_terminals_must_be_a_whole_number(path: Path, bad: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        SQLStore(f"sqlite:///{path}", cache_terminals=bad)
    assert info.value.field == "cache_terminals"


def _pairs(*ids: str) -> list[Command]:
    return [Command(tid, "tick") for tid in ids]


def test_by_default_only_the_last_batch_is_kept(store: SQLStore) -> None:
    svc = _service(store)
    svc.create_many([("T3", None), ("T4", None)])
    svc.fire_many(_pairs("T1", "T2"))
    svc.fire_many(_pairs("T3", "T4"))
    assert set(store._recent) == {"T3", "T4"}


def test_a_store_with_cache_terminals_keeps_that_many_the_latest_saved_last_to_go(
    path: Path,
) -> None:
    store = SQLStore(f"sqlite:///{path}", cache_terminals=4)
    try:
        svc = _service(store)
        svc.create_many((f"T{i}", None) for i in range(3, 7))
        svc.fire_many(_pairs("T1", "T2"))
        svc.fire_many(_pairs("T3", "T4"))
        assert list(store._recent) == ["T1", "T2", "T3", "T4"]
        svc.fire_many(_pairs("T5", "T6"))
        assert list(store._recent) == ["T3", "T4", "T5", "T6"]  # the first kept went first
        # a batch wider than the cache leaves it full, and what it keeps is trusted
        outs = svc.fire_many(_pairs("T1", "T2", "T3", "T4", "T5", "T6"))
        assert set(store._recent) <= {f"T{i}" for i in range(1, 7)}
        assert len(store._recent) == 4
        kept = sorted(store._recent)
        seen = _traced(store)
        again = svc.fire_many(_pairs(*kept))
        assert _terminal_reads(seen) == []
        assert [a.previous for a in again] == [outs[int(t[1:]) - 1].terminal for t in kept]
        assert svc.verify_all() == []
    finally:
        store.close()


def test_terminals_kept_from_earlier_batches_are_trusted_and_checked_alike(
    path: Path, other: TerminalService
) -> None:
    store = SQLStore(f"sqlite:///{path}", cache_terminals=100)
    try:
        svc = _service(store)
        svc.create_many([("T3", None)])
        svc.fire_many(_pairs("T1", "T3"))
        svc.fire_many(_pairs("T2", "T3"))  # T1 is kept from the batch before
        assert set(store._recent) == {"T1", "T2", "T3"}
        other.fire("T1", "tick")
        seen = _traced(store)
        outs = svc.fire_many(_pairs("T1", "T2"))
        assert _terminal_reads(seen)  # found out, and decided again on what is stored
        assert [o.previous.data.get("n") for o in outs] == [2, 1]
        assert [store.get(t).data["n"] for t in ("T1", "T2")] == [3, 2]
        assert svc.verify_all() == []
    finally:
        store.close()


def test_an_optimistic_store_with_cache_terminals_trusts_what_it_kept(
    path: Path, other: TerminalService
) -> None:
    # the caller says its processes seldom share a terminal; when one does, the batch
    # is decided again on what is stored, as the conflict's retry would have done
    store = SQLStore(f"sqlite:///{path}", optimistic=True, cache_terminals=10)
    try:
        svc = _service(store)  # no retry policy: a conflict would reach the caller
        first = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
        seen = _traced(store)
        again = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
        assert _terminal_reads(seen) == []
        assert again[0].previous is first[0].terminal
        other.fire("T2", "tick")
        outs = svc.fire_many([Command("T1", "tick"), Command("T2", "tick")])
        assert [o.previous.data["n"] for o in outs] == [2, 3]
        assert [store.get(t).data["n"] for t in ("T1", "T2")] == [3, 4]
        with store.transaction() as tx:
            assert tx.defer_key_lookups() is True
        assert svc.verify_all() == []
    finally:
        store.close()


def test_a_batch_after_create_many_reads_none_of_the_new_terminals(store: SQLStore) -> None:
    svc = _service(store)  # create_many of T1 and T2
    seen = _traced(store)
    outs = svc.fire_many(_pairs("T1", "T2"))
    assert _terminal_reads(seen) == []
    assert [(o.previous.state, o.previous.version) for o in outs] == [("a", 0), ("a", 0)]
    assert [store.get(t).data["n"] for t in ("T1", "T2")] == [1, 1]
    assert svc.verify_all() == []


def test_a_new_terminal_moved_on_by_another_store_is_found_out(
    store: SQLStore, other: TerminalService
) -> None:
    svc = _service(store)
    other.fire("T1", "tick")  # T1 is no longer as this store created it
    outs = svc.fire_many(_pairs("T1", "T2"))
    assert [o.previous.version for o in outs] == [1, 0]
    assert [store.get(t).data["n"] for t in ("T1", "T2")] == [2, 1]
    assert svc.verify_all() == []


def test_a_new_terminal_whose_data_would_not_read_back_equal_is_read(store: SQLStore) -> None:
    svc = TerminalService(LIFECYCLE, store)
    svc.create_many([("T1", {"pair": (1, 2)}), ("T2", {"pair": [1, 2]})])
    assert set(store._recent) == {"T2"}  # a tuple reads back as a list: T1 is not kept
    seen = _traced(store)
    outs = svc.fire_many(_pairs("T1", "T2"))
    assert len(_terminal_reads(seen)) == 1
    assert outs[0].previous.data["pair"] == [1, 2]


def test_one_new_terminal_replaces_the_last_batch_only_in_a_store_that_keeps_more(
    store: SQLStore, path: Path
) -> None:
    svc = _service(store)
    svc.fire_many(_pairs("T1", "T2"))
    svc.create("T3")
    assert set(store._recent) == {"T1", "T2"}
    bigger = SQLStore(f"sqlite:///{path}", cache_terminals=10)
    try:
        svc = _service(bigger)
        svc.fire_many(_pairs("T1", "T2"))
        svc.create("T4")
        assert set(bigger._recent) == {"T1", "T2", "T4"}
        seen = _traced(bigger)
        svc.fire_many(_pairs("T4"))
        assert _terminal_reads(seen) == []
        assert svc.verify_all() == []
    finally:
        bigger.close()
