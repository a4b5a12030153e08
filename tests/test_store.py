"""TerminalService on every store: memory, SQLite file and PostgreSQL.

Most tests use a small lifecycle built here, whose one guard reads the payload
and the terminal data, so that refusals can be made at will; the last ones run
the full default lifecycle in the guard world with real refusals.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import posflow
from guard_world import PAYLOADS, World
from posflow import Context, Lifecycle, State, Transition
from posflow.errors import (
    ConcurrencyConflict,
    CorruptRecord,
    InvalidInput,
    TerminalExists,
    TerminalNotFound,
)
from posflow.store import (
    Command,
    CommandFailed,
    Discrepancy,
    DuplicateOutcome,
    Loaded,
    MemoryStore,
    Prior,
    RetryPolicy,
    Store,
    StoreTx,
    TerminalService,
)
from sql_support import execute_behind


def gate(terminal: posflow.Terminal, ctx: Context) -> bool:
    """Refuses when the payload says ``block`` or the terminal's data says ``blocked``."""
    return not ctx.payload.get("block") and not terminal.data.get("blocked")


def count(terminal: posflow.Terminal, ctx: Context) -> dict[str, Any]:
    """Counts ticks in the data."""
    return {"n": int(terminal.data.get("n", 0)) + 1, "last": ctx.payload.get("note")}


SMALL = Lifecycle(
    [State("a"), State("b"), State("c", final=True)],
    [
        Transition("go", "a", "b", conditions=(gate,)),
        Transition("back", "b", "a"),
        Transition("tick", ("a", "b"), "=", effect=count),
        Transition("finish", "b", "c"),
    ],
    "a",
    name="small",
)
EVENTS = ("go", "back", "tick", "finish", "nope")
CTX = Context(actor="tester")


def tid() -> str:
    return f"T-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def svc(store: Store) -> TerminalService:
    return TerminalService(SMALL, store)


# -- creating and reading ----------------------------------------------------------------------


class TestCreateAndRead:
    def test_create_then_get(self, svc: TerminalService) -> None:
        t = svc.create("T1", {"merchant": {"id": "M1"}, "n": 0})
        assert (t.id, t.state, t.version) == ("T1", "a", 0)
        got = svc.get("T1")
        assert got == t
        assert dict(got.data) == {"merchant": {"id": "M1"}, "n": 0}
        assert svc.history("T1") == []
        assert svc.counts() == {"a": 1}

    def test_create_twice_is_refused(self, svc: TerminalService) -> None:
        svc.create("T1")
        with pytest.raises(TerminalExists) as err:
            svc.create("T1", {"other": True})
        assert err.value.terminal_id == "T1"
        assert svc.get("T1").data == {}

    def test_create_many_counts_and_stores(self, svc: TerminalService) -> None:
        n = svc.create_many(((f"T{i}", {"i": i}) for i in range(25)), batch_size=10)
        assert n == 25
        assert svc.counts() == {"a": 25}
        assert svc.get("T7").data["i"] == 7

    def test_create_many_refuses_a_taken_id_and_keeps_earlier_batches(
        self, svc: TerminalService
    ) -> None:
        svc.create("T15")
        with pytest.raises(TerminalExists) as err:
            svc.create_many(((f"T{i}", None) for i in range(20)), batch_size=10)
        assert err.value.terminal_id == "T15"
        assert svc.counts() == {"a": 11}  # T0..T9 and T15; the second batch was not stored

    def test_create_many_refuses_a_repeated_id(self, svc: TerminalService) -> None:
        with pytest.raises(TerminalExists):
            svc.create_many([("X", None), ("X", None)])
        assert svc.counts() == {}

    def test_unknown_ids_are_typed_errors(self, svc: TerminalService) -> None:
        for call in (
            lambda: svc.get("ghost"),
            lambda: svc.history("ghost"),
            lambda: svc.fire("ghost", "go", CTX),
            lambda: svc.explain("ghost", CTX),
            lambda: svc.verify("ghost"),
        ):
            with pytest.raises(TerminalNotFound) as err:
                call()
            assert err.value.terminal_id == "ghost"

    @pytest.mark.parametrize(
        "bad", ["", "a\x00b", "\ud800", 7], ids=["empty", "nul", "surrogate", "not-text"]
    )
    def test_unusable_ids_are_refused(self, svc: TerminalService, bad: Any) -> None:
        with pytest.raises(InvalidInput):
            svc.create(bad)
        with pytest.raises(InvalidInput):
            svc.fire(bad, "go", CTX)

    def test_data_that_is_not_json_is_refused(self, sql_store: Store) -> None:
        svc = TerminalService(SMALL, sql_store)
        with pytest.raises(InvalidInput, match="JSON"):
            svc.create("T1", {"when": dt.date(2026, 1, 1)})
        with pytest.raises(TerminalNotFound):
            svc.get("T1")


# -- firing ------------------------------------------------------------------------------------


class TestFire:
    def test_an_accepted_event_moves_saves_and_records(self, svc: TerminalService) -> None:
        svc.create("T1")
        ctx = Context({"note": "hi", "password": "s3cret"}, actor="ops")
        out = svc.fire("T1", "go", ctx)
        assert out.ok
        assert (out.terminal.state, out.terminal.version) == ("b", 1)
        assert svc.get("T1") == out.terminal
        (rec,) = svc.history("T1")
        assert rec == out.record
        assert (rec.seq, rec.event, rec.from_state, rec.to_state, rec.version) == (
            0,
            "go",
            "a",
            "b",
            1,
        )
        assert rec.actor == "ops"
        assert rec.payload["note"] == "hi"
        assert rec.payload["password"] != "s3cret"  # noqa: S105 - masked in history
        assert rec.reasons == ()

    def test_an_effect_changes_stored_data(self, svc: TerminalService) -> None:
        svc.create("T1", {"n": 5})
        out = svc.fire("T1", "tick", Context({"note": "x"}))
        assert out.terminal.data["n"] == 6
        assert svc.get("T1").data == {"n": 6, "last": "x"}
        assert dict(svc.history("T1")[0].changes) == {"n": 6, "last": "x"}

    def test_a_refusal_is_recorded_and_changes_nothing_else(self, svc: TerminalService) -> None:
        svc.create("T1")
        out = svc.fire("T1", "go", Context({"block": True}))
        assert out.blocked
        assert out.codes == ("guard.refused",)
        assert svc.get("T1").state == "a"
        assert svc.get("T1").version == 0
        (rec,) = svc.history("T1")
        assert (rec.to_state, rec.reasons, rec.version, rec.seq) == (None, ("guard.refused",), 0, 0)
        # the next accepted event follows the refusal in history
        svc.fire("T1", "go", CTX)
        assert [r.seq for r in svc.history("T1")] == [0, 1]

    def test_refusals_can_be_left_out_of_history(self, store: Store) -> None:
        svc = TerminalService(SMALL, store, record_refusals=False)
        svc.create("T1")
        out = svc.fire("T1", "finish", CTX)
        assert out.codes == ("lifecycle.not_allowed_from_state",)
        assert svc.history("T1") == []
        assert svc.fire("T1", "go", CTX).ok
        assert [r.seq for r in svc.history("T1")] == [0]

    def test_unknown_events_are_refused_and_recorded(self, svc: TerminalService) -> None:
        svc.create("T1")
        out = svc.fire("T1", "launch", CTX)
        assert out.codes == ("lifecycle.unknown_event",)
        assert svc.history("T1")[0].event == "launch"

    def test_the_context_is_not_changed(self, svc: TerminalService) -> None:
        svc.create("T1")
        ctx = Context({"note": "n"}, actor="me")
        before = (dict(ctx.payload), ctx.actor, ctx.at)
        svc.fire("T1", "tick", ctx, idempotency_key="k")
        svc.fire_many([Command("T1", "tick"), Command("T1", "tick", {"note": "m"})], ctx)
        assert (dict(ctx.payload), ctx.actor, ctx.at) == before

    def test_explain_reads_and_writes_nothing(self, svc: TerminalService) -> None:
        svc.create("T1")
        verdict = svc.explain("T1", Context({"block": True}), "go")
        assert verdict.codes == ("guard.refused",)
        everything = svc.explain("T1", CTX)
        assert set(everything) == set(SMALL.events)
        assert everything["go"].allowed
        assert not everything["finish"].allowed
        assert svc.history("T1") == []


# -- idempotency -------------------------------------------------------------------------------


class TestIdempotency:
    def test_a_reused_key_returns_the_first_outcome_and_changes_nothing(
        self, svc: TerminalService
    ) -> None:
        svc.create("T1")
        first = svc.fire("T1", "tick", CTX, idempotency_key="msg-1")
        again = svc.fire("T1", "tick", CTX, idempotency_key="msg-1")
        assert isinstance(again, DuplicateOutcome)
        assert again.duplicate
        assert not isinstance(first, DuplicateOutcome)
        assert again.ok
        assert again.record == first.record
        assert again.terminal == first.terminal
        assert svc.get("T1").data["n"] == 1
        assert len(svc.history("T1")) == 1

    def test_the_key_wins_over_a_different_event(self, svc: TerminalService) -> None:
        svc.create("T1")
        svc.fire("T1", "go", CTX, idempotency_key="k")
        again = svc.fire("T1", "finish", CTX, idempotency_key="k")
        assert again.event == "go"
        assert svc.get("T1").state == "b"

    def test_a_refusal_is_repeated_with_its_reasons(self, svc: TerminalService) -> None:
        svc.create("T1")
        first = svc.fire("T1", "go", Context({"block": True}), idempotency_key="k")
        again = svc.fire("T1", "go", CTX, idempotency_key="k")
        assert again.blocked
        assert again.codes == first.codes
        assert again.explain("en") == first.explain("en")
        assert again.explain("zh-CN") == first.explain("zh-CN")
        assert svc.get("T1").state == "a"
        assert len(svc.history("T1")) == 1

    def test_keys_belong_to_one_terminal(self, svc: TerminalService) -> None:
        svc.create_many([("T1", None), ("T2", None)])
        assert svc.fire("T1", "go", CTX, idempotency_key="k").ok
        out = svc.fire("T2", "go", CTX, idempotency_key="k")
        assert not isinstance(out, DuplicateOutcome)
        assert svc.counts() == {"b": 2}

    def test_a_duplicate_after_later_events_reports_the_first_result(
        self, svc: TerminalService
    ) -> None:
        svc.create("T1")
        first = svc.fire("T1", "go", CTX, idempotency_key="k")
        svc.fire("T1", "finish", CTX)
        again = svc.fire("T1", "go", CTX, idempotency_key="k")
        assert (again.previous.state, again.terminal.state) == ("a", "b")
        assert again.terminal.version == first.terminal.version
        assert svc.get("T1").state == "c"

    def test_an_unrecorded_refusal_keeps_its_key_free(self, store: Store) -> None:
        svc = TerminalService(SMALL, store, record_refusals=False)
        svc.create("T1")
        assert svc.fire("T1", "go", Context({"block": True}), idempotency_key="k").blocked
        assert svc.fire("T1", "go", CTX, idempotency_key="k").ok


# -- bulk --------------------------------------------------------------------------------------


class TestFireMany:
    def test_commands_apply_in_order_per_terminal_across_batches(
        self, svc: TerminalService
    ) -> None:
        svc.create_many((f"T{i}", None) for i in range(4))
        commands = [
            Command(f"T{i % 4}", e) for e in ("go", "tick", "back", "tick") for i in range(4)
        ]
        outs = svc.fire_many(commands, CTX, batch_size=3)
        assert len(outs) == len(commands)
        assert all(o.ok for o in outs)
        for i in range(4):
            t = svc.get(f"T{i}")
            assert (t.state, t.version, t.data["n"]) == ("a", 4, 2)
            assert [r.event for r in svc.history(f"T{i}")] == ["go", "tick", "back", "tick"]
            assert [r.seq for r in svc.history(f"T{i}")] == [0, 1, 2, 3]
        assert svc.verify_all() == []

    def test_the_same_as_firing_one_by_one(self, store: Store) -> None:
        one = TerminalService(SMALL, MemoryStore())
        many = TerminalService(SMALL, store)
        for s in (one, many):
            s.create_many([("A", None), ("B", {"blocked": True})])
        commands = [
            Command("A", "go"),
            Command("B", "go"),
            Command("A", "tick", {"note": "x"}, actor="bob"),
            Command("B", "tick"),
            Command("A", "finish"),
            Command("A", "back"),
        ]
        singles = [one.fire(c.terminal_id, c.event, _ctx_for(c)) for c in commands]
        bulk = many.fire_many(commands, CTX, batch_size=4)
        assert [o.codes for o in bulk] == [o.codes for o in singles]
        for t in ("A", "B"):
            assert many.get(t) == one.get(t)
            assert [_fields(r) for r in many.history(t)] == [_fields(r) for r in one.history(t)]

    def test_iter_fire_many_streams(self, svc: TerminalService) -> None:
        svc.create_many((f"T{i}", None) for i in range(10))
        stream = svc.iter_fire_many((Command(f"T{i}", "go") for i in range(10)), CTX, 4)
        first = next(stream)
        assert first.ok
        assert svc.get("T0").state == "b"  # its batch committed before it was yielded
        assert svc.get("T9").state == "a"
        assert len([first, *stream]) == 10
        assert svc.counts() == {"b": 10}

    def test_a_failing_command_is_returned_and_the_rest_commits(self, svc: TerminalService) -> None:
        svc.create_many([("T1", None), ("T2", None)])
        outs = svc.fire_many(
            [
                Command("T1", "go"),
                Command("ghost", "go"),
                Command("T2", "go"),
                Command("T2", "bad\x00event"),
                Command(["not", "hashable"], "go", idempotency_key=["k"]),  # type: ignore[arg-type]
                Command("T2", "tick"),
            ],
            CTX,
            errors="return",
        )
        assert [type(o).__name__ for o in outs] == [
            "Outcome",
            "CommandFailed",
            "Outcome",
            "CommandFailed",
            "CommandFailed",
            "Outcome",
        ]
        failed = outs[1]
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, TerminalNotFound)
        assert not failed.ok
        assert failed.blocked
        assert isinstance(outs[3], CommandFailed)
        assert isinstance(outs[3].error, InvalidInput)
        assert svc.get("T2").version == 2
        assert svc.verify_all() == []

    def test_a_failing_command_rolls_back_its_batch_when_raising(
        self, svc: TerminalService
    ) -> None:
        svc.create_many([("T1", None), ("T2", None), ("T3", None)])
        commands = [Command("T1", "go"), Command("T2", "go"), Command("ghost", "go")]
        with pytest.raises(TerminalNotFound):
            svc.fire_many(commands, CTX, batch_size=2)
        assert svc.counts() == {"b": 2, "a": 1}  # the first batch committed, the second did not

    def test_one_key_at_several_terminals_of_a_batch_is_each_terminals_own(
        self, svc: TerminalService
    ) -> None:
        svc.create_many([("T1", None), ("T2", None)])
        outs = svc.fire_many(
            [
                Command("T1", "tick", idempotency_key="k"),
                Command("T2", "tick", idempotency_key="k"),
                Command("T1", "tick", idempotency_key="k"),
                Command("T2", "tick", idempotency_key="k2"),
                Command("T2", "tick", idempotency_key="k"),
            ],
            CTX,
        )
        assert [isinstance(o, DuplicateOutcome) for o in outs] == [False, False, True, False, True]
        assert (svc.get("T1").data["n"], svc.get("T2").data["n"]) == (1, 2)
        assert outs[2].record == outs[0].record
        assert outs[4].record == outs[1].record

    def test_keys_deduplicate_within_and_across_batches(self, svc: TerminalService) -> None:
        svc.create("T1")
        svc.fire("T1", "tick", CTX, idempotency_key="k0")
        outs = svc.fire_many(
            [
                Command("T1", "tick", idempotency_key="k0"),
                Command("T1", "tick", idempotency_key="k1"),
                Command("T1", "tick", idempotency_key="k1"),
                Command("T1", "tick", idempotency_key="k2"),
            ],
            CTX,
        )
        assert [isinstance(o, DuplicateOutcome) for o in outs] == [True, False, True, False]
        assert svc.get("T1").data["n"] == 3
        assert len(svc.history("T1")) == 3

    def test_refusals_in_bulk_follow_the_switch(self, store: Store) -> None:
        svc = TerminalService(SMALL, store, record_refusals=False)
        svc.create("T1")
        outs = svc.fire_many([Command("T1", "finish"), Command("T1", "go")], CTX)
        assert [o.ok for o in outs] == [False, True]
        assert [r.event for r in svc.history("T1")] == ["go"]

    def test_batch_size_must_be_positive(self, svc: TerminalService) -> None:
        with pytest.raises(InvalidInput):
            svc.fire_many([Command("T1", "go")], CTX, batch_size=0)

    def test_an_unknown_errors_mode_is_refused(self, svc: TerminalService) -> None:
        svc.create("T1")
        for call in (svc.fire_many, lambda *a, **k: list(svc.iter_fire_many(*a, **k))):
            with pytest.raises(InvalidInput, match="'raise' or 'return'") as err:
                call([Command("T1", "go")], CTX, errors="ignore")
            assert err.value.field == "errors"
        assert svc.history("T1") == []

    def test_items_that_are_not_commands_are_refused_before_their_batch(
        self, svc: TerminalService
    ) -> None:
        for errors in ("raise", "return"):
            first, second = f"T1-{errors}", f"T2-{errors}"
            svc.create_many([(first, None), (second, None)])
            items: list[Any] = [Command(first, "go"), (second, "go")]
            with pytest.raises(InvalidInput, match="got tuple") as err:
                svc.fire_many(items, CTX, batch_size=1, errors=errors)  # type: ignore[call-overload]
            assert err.value.field == "commands"
            # the batch before the bad item was committed; nothing of the bad one
            assert [r.event for r in svc.history(first)] == ["go"]
            assert svc.history(second) == []


def _ctx_for(c: Command) -> Context:
    return Context(c.payload or {}, actor=c.actor or CTX.actor)


def _fields(r: posflow.HistoryRecord) -> tuple[Any, ...]:
    return (r.seq, r.event, r.from_state, r.to_state, r.version, r.actor, r.reasons, r.changes)


# -- concurrency -------------------------------------------------------------------------------


class _StaleTx:
    """A transaction whose loads look one history record older than the truth."""

    def __init__(self, tx: StoreTx) -> None:
        self._tx = tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def load(self, terminal_id: str, key: str | None) -> tuple[Loaded, Prior | None]:
        loaded, prior = self._tx.load(terminal_id, key)
        return Loaded(loaded.terminal, loaded.seq - 1, loaded.token), prior

    def load_many(self, ids: Any) -> dict[str, Loaded]:
        return {
            k: Loaded(v.terminal, v.seq - 1, v.token) for k, v in self._tx.load_many(ids).items()
        }


class StaleStore:
    """Wraps a store; its first ``stale`` transactions read stale versions."""

    def __init__(self, inner: Any, stale: int) -> None:
        self._inner = inner
        self.stale = stale

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._inner.transaction() as tx:
            if self.stale > 0:
                self.stale -= 1
                yield _StaleTx(tx)
            else:
                yield tx


class _BlindTx:
    """A transaction whose claim does not see the run's keys (an old snapshot's view)."""

    def __init__(self, tx: StoreTx) -> None:
        self._tx = tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def claim(self, state: str, key_prefix: str, limit: int) -> list[Loaded]:
        return self._tx.claim(state, "\x01never:", limit)


class BlindClaimStore(StaleStore):
    """Wraps a store; its first ``blind`` transactions claim without seeing the run's keys."""

    def __init__(self, inner: Any, blind: int) -> None:
        super().__init__(inner, stale=0)
        self.blind = blind

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._inner.transaction() as tx:
            if self.blind > 0:
                self.blind -= 1
                yield _BlindTx(tx)
            else:
                yield tx


class TestConcurrency:
    def test_a_stale_version_is_a_conflict_and_nothing_is_saved(self, store: Store) -> None:
        TerminalService(SMALL, store).create("T1")
        TerminalService(SMALL, store).fire("T1", "tick", CTX)
        svc = TerminalService(SMALL, StaleStore(store, stale=1))  # type: ignore[arg-type]
        with pytest.raises(ConcurrencyConflict) as err:
            svc.fire("T1", "go", CTX)
        assert err.value.terminal_id == "T1"
        assert store.get("T1").state == "a"
        assert len(store.history("T1")) == 1

    def test_a_stale_batch_is_a_conflict(self, store: Store) -> None:
        TerminalService(SMALL, store).create_many([("T1", None), ("T2", None)])
        TerminalService(SMALL, store).fire("T2", "tick", CTX)
        # SQLite keeps T1 from create_many: the batch that trusted it is decided again
        # on read rows (the first stale transaction), and those are stale too
        svc = TerminalService(SMALL, StaleStore(store, stale=2))  # type: ignore[arg-type]
        with pytest.raises(ConcurrencyConflict):
            svc.fire_many([Command("T2", "go"), Command("T1", "go")], CTX)
        assert store.counts() == {"a": 2}

    def test_the_retry_policy_reloads_and_wins(self, store: Store) -> None:
        TerminalService(SMALL, store).create("T1")
        TerminalService(SMALL, store).fire("T1", "tick", CTX)
        waits: list[float] = []
        policy = RetryPolicy(attempts=4, base_delay=0.01, jitter=False, sleep=waits.append)
        svc = TerminalService(SMALL, StaleStore(store, stale=2), retry=policy)  # type: ignore[arg-type]
        assert svc.fire("T1", "go", CTX).ok
        assert waits == [0.01, 0.02]
        assert store.get("T1").state == "b"
        assert len(store.history("T1")) == 2

    def test_the_retry_policy_gives_up(self, store: Store) -> None:
        TerminalService(SMALL, store).create("T1")
        TerminalService(SMALL, store).fire("T1", "tick", CTX)
        waits: list[float] = []
        policy = RetryPolicy(attempts=3, sleep=waits.append)
        svc = TerminalService(SMALL, StaleStore(store, stale=10), retry=policy)  # type: ignore[arg-type]
        with pytest.raises(ConcurrencyConflict):
            svc.fire("T1", "go", CTX)
        assert len(waits) == 2
        assert all(0 <= w <= policy.max_delay for w in waits)

    def test_bulk_batches_are_retried(self, store: Store) -> None:
        TerminalService(SMALL, store).create("T1")
        TerminalService(SMALL, store).fire("T1", "tick", CTX)
        policy = RetryPolicy(attempts=2, sleep=lambda _: None)
        svc = TerminalService(SMALL, StaleStore(store, stale=1), retry=policy)  # type: ignore[arg-type]
        assert [o.ok for o in svc.fire_many([Command("T1", "go")], CTX)] == [True]
        assert len(store.history("T1")) == 2

    def test_a_writer_that_commits_in_between_makes_the_first_lose(
        self, concurrent_store: Store
    ) -> None:
        # (SQLite admits one writer at a time, so there the inner write could only wait)
        store = concurrent_store
        outer = TerminalService(SMALL, store)
        outer.create("T1")
        inner_done: list[posflow.Outcome] = []

        def sneaky(terminal: posflow.Terminal, ctx: Context) -> bool:
            if not inner_done:  # another writer saves the terminal while we decide
                inner_done.append(TerminalService(SMALL, store).fire("T1", "tick", CTX))
            return True

        racing = Lifecycle(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", conditions=(sneaky,)), Transition("tick", "a", "=")],
            "a",
        )
        with pytest.raises(ConcurrencyConflict):
            TerminalService(racing, store).fire("T1", "go", CTX)
        assert inner_done[0].ok
        assert [r.event for r in store.history("T1")] == ["tick"]
        assert store.get("T1").version == 1

    def test_threads_racing_on_one_terminal_lose_no_update(self, store: Store) -> None:
        policy = RetryPolicy(attempts=200, base_delay=0.0005, max_delay=0.01)
        svc = TerminalService(SMALL, store, retry=policy)
        svc.create("T1")
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(10):
                    svc.fire("T1", "tick", CTX)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert svc.get("T1").data["n"] == 40
        assert svc.get("T1").version == 40
        assert svc.verify_all() == []

    def test_retry_policy_is_validated(self) -> None:
        with pytest.raises(InvalidInput):
            RetryPolicy(attempts=0)
        with pytest.raises(InvalidInput):
            RetryPolicy(base_delay=-1)
        for bad in ({"attempts": "3"}, {"attempts": 2.0}, {"attempts": True},
                    {"max_delay": "0.1"}, {"base_delay": float("nan")}, {"sleep": 5}):  # fmt: skip
            with pytest.raises(InvalidInput) as err:
                RetryPolicy(**bad)  # type: ignore[arg-type]
            assert err.value.field == next(iter(bad))
        p = RetryPolicy(base_delay=0.01, max_delay=0.03, jitter=False)
        assert [p.delay(n) for n in (1, 2, 3, 4)] == [0.01, 0.02, 0.03, 0.03]
        assert 0.005 <= RetryPolicy(base_delay=0.01).delay(1) <= 0.01


# -- drain -------------------------------------------------------------------------------------


class TestDrain:
    def _fleet(self, svc: TerminalService, n: int = 12) -> None:
        svc.create_many((f"T{i:02d}", {"blocked": i % 4 == 0}) for i in range(n))

    def test_drain_fires_every_terminal_in_the_state_once(self, svc: TerminalService) -> None:
        self._fleet(svc)
        report = svc.drain("night-1", "a", "go", CTX, worker="w1", batch_size=5)
        assert (report.fired, report.refused, report.attempted) == (9, 3, 12)
        assert report.codes == {"guard.refused": 3}
        assert report.batches == 3
        assert svc.counts() == {"a": 3, "b": 9}
        for i in range(12):
            keys = [r.idempotency_key for r in svc.history(f"T{i:02d}")]
            assert keys == [f"night-1:T{i:02d}"]
        again = svc.drain("night-1", "a", "go", CTX)
        assert again.attempted == 0
        assert svc.drain("night-2", "a", "go", CTX).refused == 3

    def test_a_run_resumes_where_a_worker_stopped(self, svc: TerminalService) -> None:
        self._fleet(svc)
        first = svc.drain("run", "a", "go", CTX, batch_size=2, limit=5)
        assert first.attempted == 5
        rest = svc.drain("run", "a", "go", CTX, batch_size=4)
        assert first.attempted + rest.attempted == 12
        assert first.fired + rest.fired == 9
        assert svc.verify_all() == []

    def test_workers_in_threads_share_the_work(self, store: Store) -> None:
        svc = TerminalService(SMALL, store, retry=RetryPolicy(attempts=50))
        self._fleet(svc, 40)
        reports = []

        def work(name: str) -> None:
            reports.append(svc.drain("r", "a", "go", CTX, worker=name, batch_size=3))

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r.attempted for r in reports) == 40
        assert sum(r.fired for r in reports) == 30
        for i in range(40):
            assert len(svc.history(f"T{i:02d}")) == 1

    def test_a_terminal_another_worker_just_did_is_skipped(self, store: Store) -> None:
        svc = TerminalService(SMALL, store)
        self._fleet(svc, 4)
        assert svc.drain("r", "a", "tick", CTX).fired == 4  # "tick" stays in "a"
        blind = TerminalService(SMALL, BlindClaimStore(store, blind=1))  # type: ignore[arg-type]
        report = blind.drain("r", "a", "tick", CTX)
        assert (report.attempted, report.batches) == (0, 1)
        for i in range(4):
            assert len(svc.history(f"T{i:02d}")) == 1

    def test_drain_checks_its_arguments(self, svc: TerminalService) -> None:
        with pytest.raises(InvalidInput):
            svc.drain("", "a", "go", CTX)
        with pytest.raises(InvalidInput):
            svc.drain("r", "a", "go", CTX, batch_size=0)

    @pytest.mark.parametrize(
        ("state", "event", "field", "named"),
        [
            ("a", "og", "event", "'og' is not an event"),
            ("aa", "go", "state", "'aa' is not a state"),
            ("b", "go", "event", "'go' has no transition from 'b'"),
        ],
    )
    def test_a_drain_that_could_only_refuse_writes_nothing(
        self, svc: TerminalService, state: str, event: str, field: str, named: str
    ) -> None:
        self._fleet(svc, 4)
        with pytest.raises(InvalidInput, match=named) as err:
            svc.drain("night-1", state, event, CTX)
        assert err.value.field == field
        assert all(svc.history(f"T{i:02d}") == [] for i in range(4))
        # the run is not used up: the right call still does every terminal
        assert svc.drain("night-1", "a", "go", CTX).attempted == 4


# -- verification -----------------------------------------------------------------------------


class TestVerify:
    def test_a_clean_store_verifies(self, svc: TerminalService) -> None:
        svc.create_many((f"T{i}", None) for i in range(5))
        for e in ("go", "tick", "back", "tick", "go", "finish"):
            svc.fire_many([Command(f"T{i}", e) for i in range(5)], CTX)
        assert svc.verify("T1") is None
        assert svc.verify_all() == []
        assert svc.verify_all(page=2) == []

    def test_a_state_that_disagrees_is_reported(self, store: Any, svc: TerminalService) -> None:
        svc.create_many([("T1", None), ("T2", None)])
        svc.fire("T1", "go", CTX)
        svc.fire("T2", "go", CTX)
        if isinstance(store, MemoryStore):
            row = store._rows["T2"]
            row.terminal = posflow.Terminal("T2", "c", 1, row.terminal.data)
        else:
            execute_behind(store, "UPDATE posflow_terminals SET state = 'c' WHERE id = ?", ("T2",))
        (d,) = svc.verify_all()
        assert isinstance(d, Discrepancy)
        assert d.terminal_id == "T2"
        assert any("state 'c'" in p for p in d.problems)
        assert d.rebuilt is not None
        assert d.rebuilt.state == "b"
        assert svc.verify("T2") == d
        assert svc.verify("T1") is None

    def test_a_version_and_data_that_disagree_are_reported(
        self, store: Any, svc: TerminalService
    ) -> None:
        svc.create("T1")
        svc.fire("T1", "tick", CTX)
        if isinstance(store, MemoryStore):
            row = store._rows["T1"]
            row.terminal = posflow.Terminal("T1", "a", 5, {"n": 9, "last": None})
        else:
            execute_behind(
                store,
                "UPDATE posflow_terminals SET version = 5, data = ? WHERE id = ?",
                ('{"n": 9, "last": null}', "T1"),
            )
        d = svc.verify("T1")
        assert d is not None
        assert len(d.problems) == 2
        assert any("version 5" in p for p in d.problems)
        assert any("'n'" in p for p in d.problems)

    def test_a_history_that_cannot_be_replayed_is_reported(
        self, store: Any, svc: TerminalService
    ) -> None:
        svc.create("T1")
        svc.fire("T1", "go", CTX)
        if isinstance(store, MemoryStore):
            store._rows["T1"].seq = 3
        else:
            execute_behind(
                store,
                "UPDATE posflow_history SET to_state = 'c' WHERE terminal_id = ?",
                ("T1",),
            )
        d = svc.verify("T1")
        assert d is not None
        assert d.problems

    def test_a_blank_id_stored_by_an_older_posflow_is_reported_and_refused(
        self, sql_store: Any
    ) -> None:
        # posflow once stored ids of whitespace alone; it refuses them now
        store = sql_store
        svc = TerminalService(SMALL, store)
        svc.create_many([("T1", None), ("T2", None)])
        svc.fire("T1", "go", CTX)
        svc.fire("T2", "go", CTX)
        for table, column in (("history", "terminal_id"), ("terminals", "id")):
            execute_behind(
                store, f"UPDATE posflow_{table} SET {column} = ? WHERE {column} = ?", (" \t", "T1")
            )
        (d,) = svc.verify_all(page=1)  # verify_all goes on after it, and finds T2 sound
        assert d.terminal_id == " \t"
        assert d.stored is not None
        assert d.stored.state == "b"
        assert d.rebuilt is None
        assert "whitespace only" in d.problems[0]
        assert "another id" in d.problems[0]
        assert svc.counts() == {"b": 2}
        for call in (
            lambda: svc.get(" \t"),
            lambda: svc.history(" \t"),
            lambda: svc.verify(" \t"),
            lambda: svc.fire(" \t", "tick", CTX),
        ):
            with pytest.raises(InvalidInput, match="whitespace only"):
                call()
        assert svc.verify("T2") is None

    def test_corrupt_rows_are_typed_errors_and_verify_all_goes_on(self, sql_store: Any) -> None:
        store = sql_store
        svc = TerminalService(SMALL, store)
        svc.create_many((f"T{i}", None) for i in range(4))
        svc.fire("T3", "go", CTX)
        execute_behind(
            store, "UPDATE posflow_terminals SET data = 'not json' WHERE id = ?", ("T1",)
        )
        execute_behind(
            store, "UPDATE posflow_history SET payload = '[1' WHERE terminal_id = ?", ("T3",)
        )
        with pytest.raises(CorruptRecord) as err:
            svc.get("T1")
        assert err.value.terminal_id == "T1"
        with pytest.raises(CorruptRecord):
            svc.fire("T1", "go", CTX)
        with pytest.raises(CorruptRecord):
            svc.history("T3")
        found = svc.verify_all(page=2)
        assert [d.terminal_id for d in found] == ["T1", "T3"]
        assert all(d.stored is None for d in found)
        assert svc.verify("T0") is None
        assert svc.verify("T1") is not None


# -- hypothesis: the service is the lifecycle, made durable -------------------------------------

steps = st.lists(
    st.tuples(st.sampled_from(EVENTS), st.booleans(), st.sampled_from([None, "k1", "k2", "k3"])),
    max_size=12,
)

fleet_steps = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(EVENTS),
        st.booleans(),
        st.sampled_from([None, "k1", "k2"]),
    ),
    max_size=14,
)


class TestProperties:
    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30)
    @given(seq=steps, bulk=st.booleans())
    def test_the_service_decides_like_the_bare_lifecycle(
        self, store: Store, seq: list[tuple[str, bool, str | None]], bulk: bool
    ) -> None:
        svc = TerminalService(SMALL, store)
        terminal_id = tid()
        svc.create(terminal_id, {"n": 0})
        bare = SMALL.new_terminal(terminal_id, {"n": 0})
        used: dict[str, posflow.Outcome] = {}
        expected_codes: list[tuple[str, ...]] = []
        expected_log = 0
        for event, block, key in seq:
            ctx = Context({"block": block})
            if key is not None and key in used:
                expected_codes.append(used[key].codes)
                continue
            out = SMALL.fire(bare, event, ctx)
            bare = out.terminal
            expected_codes.append(out.codes)
            expected_log += 1
            if key is not None:
                used[key] = out
        commands = [Command(terminal_id, e, {"block": b}, idempotency_key=k) for e, b, k in seq]
        if bulk:
            outs = svc.fire_many(commands, CTX, batch_size=5)
        else:
            outs = [
                svc.fire(c.terminal_id, c.event, _ctx_for(c), idempotency_key=c.idempotency_key)
                for c in commands
            ]
        assert [o.codes for o in outs] == expected_codes
        stored = svc.get(terminal_id)
        assert (stored.state, stored.version, dict(stored.data)) == (
            bare.state,
            bare.version,
            dict(bare.data),
        )
        history = svc.history(terminal_id)
        assert len(history) == expected_log
        assert SMALL.replay(history, terminal_id=terminal_id).state == stored.state
        assert svc.verify(terminal_id) is None

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30)
    @given(seq=fleet_steps, batch=st.integers(1, 6))
    def test_a_key_in_a_batch_is_its_terminals_own(
        self, store: Store, seq: list[tuple[int, str, bool, str | None]], batch: int
    ) -> None:
        # one key at several terminals, and terminals met more than once in a batch:
        # each terminal's keys deduplicate its own commands only, as single fires do
        svc = TerminalService(SMALL, store)
        ids = [tid() for _ in range(3)]
        svc.create_many((i, {"n": 0}) for i in ids)
        bare = {i: SMALL.new_terminal(i, {"n": 0}) for i in ids}
        used: dict[tuple[str, str], posflow.Outcome] = {}
        expected: list[tuple[bool, tuple[str, ...]]] = []
        for n, event, block, key in seq:
            t = ids[n]
            if key is not None and (t, key) in used:
                expected.append((True, used[(t, key)].codes))
                continue
            out = SMALL.fire(bare[t], event, Context({"block": block}))
            bare[t] = out.terminal
            expected.append((False, out.codes))
            if key is not None:
                used[(t, key)] = out
        commands = [Command(ids[n], e, {"block": b}, idempotency_key=k) for n, e, b, k in seq]
        outs = svc.fire_many(commands, CTX, batch_size=batch)
        assert [(isinstance(o, DuplicateOutcome), o.codes) for o in outs] == expected
        for i in ids:
            stored = svc.get(i)
            assert (stored.version, dict(stored.data)) == (bare[i].version, dict(bare[i].data))
            assert svc.verify(i) is None


# -- the default lifecycle, with real refusals --------------------------------------------------


class TestDefaultLifecycle:
    def test_a_terminal_walks_its_life_with_real_refusals(self, store: Store) -> None:
        world = World(terminal_id="T1")
        svc = TerminalService(world.lifecycle, store)
        svc.create("T1", {"merchant": world.merchant})
        for event in ("review", "ship", "receive", "activate"):
            assert svc.fire("T1", event, world.ctx(PAYLOADS.get(event, {}))).ok, event
        wrong = world.ctx({**PAYLOADS["sign_in"], "password": "9999"})
        expected = world.lifecycle.check(svc.get("T1"), "sign_in", wrong)
        refused = svc.fire("T1", "sign_in", wrong, idempotency_key="signin-1")
        assert refused.blocked
        assert refused.codes == expected.codes
        again = svc.fire(
            "T1", "sign_in", world.ctx(PAYLOADS["sign_in"]), idempotency_key="signin-1"
        )
        assert again.codes == refused.codes
        assert again.explain("zh-CN") == refused.explain("zh-CN")
        assert svc.explain("T1", wrong, "sign_in").codes == expected.codes
        ok = svc.fire("T1", "sign_in", world.ctx(PAYLOADS["sign_in"]), idempotency_key="signin-2")
        assert ok.ok
        history = svc.history("T1")
        assert [r.event for r in history][-2:] == ["sign_in", "sign_in"]
        assert history[-2].reasons == refused.codes
        assert all("9999" not in str(dict(r.payload)) for r in history)
        assert svc.get("T1").data["merchant"]["id"] == world.merchant_id
        assert svc.verify_all() == []

    def test_settle_every_signed_in_terminal_with_drain(self, store: Store) -> None:
        world = World(terminal_id="T1")
        svc = TerminalService(world.lifecycle, store)
        svc.create("T1", {"merchant": world.merchant})
        for event in ("review", "ship", "receive", "activate", "sign_in", "record_sale"):
            svc.fire("T1", event, world.ctx(PAYLOADS.get(event, {}))).raise_for_blocked()
        report = svc.drain("settle-2026-03-02", "signed_in", "settle", world.ctx())
        assert (report.fired, report.refused) == (1, 0)
        assert svc.get("T1").state == "settled"
        assert svc.counts() == {"settled": 1}
        assert svc.verify_all() == []
