"""The engine's shortcuts agree with the public constructors they stand in for.

``fire`` calls the guards of a one- or two-guard step without a loop, builds its
``Terminal`` from bare slots, leaves ``Outcome.at`` as an integer clock reading
until it is read, and ``Outcome.record`` / ``with_seq`` build ``HistoryRecord``
without attrs' ``__init__``. Each is checked here against the slow, obvious way
of making the same object.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import pickle
import weakref
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow import (
    Context,
    FrozenClock,
    HistoryRecord,
    Lifecycle,
    State,
    SystemClock,
    Terminal,
    Transition,
)
from posflow._history import build_record
from strategies import GUARD_NAMES, OUTCOMES, POOL, TERMINAL_IDS, sensitive_items

AT = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)
NOON = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)

_keys = st.sampled_from(["amount", "sn", "note", "phone", "password", "bank_account", "x"])
# values shorter than any clear secret, so none can contain one
_plain = st.one_of(st.none(), st.integers(-999, 999_999), st.text(max_size=6))
_mappings = st.dictionaries(_keys, _plain, max_size=4)


def _walk() -> Lifecycle:
    return Lifecycle(
        ["a", "b", State("c", final=True)],
        [
            Transition("go", "a", "b", effect=lambda t, c: {"went": True}),
            Transition("end", "b", "c"),
        ],
        "a",
    )


def _fire_agrees_with_check(outcomes: tuple[str, ...]) -> None:
    names = GUARD_NAMES[: len(outcomes)]
    calls: list[str] = []

    def counted(name: str) -> Any:
        def g(terminal: Terminal, ctx: Context) -> Any:
            calls.append(name)
            return POOL[name](terminal, ctx)

        return posflow.guard(name)(g)

    lc = Lifecycle(
        ["a", State("b", final=True)],
        [Transition("go", "a", "b", conditions=list(names))],
        "a",
        guards=posflow.GuardRegistry({n: counted(n) for n in names}),
    )
    ctx = Context({"outcomes": dict(zip(names, outcomes, strict=True))}, at=AT)
    t = Terminal("T", "a")
    verdict = lc.check(t, "go", ctx)
    calls.clear()
    outcome = lc.fire(t, "go", ctx)
    assert calls == list(names), outcomes
    assert outcome.reasons == verdict.reasons, outcomes
    assert outcome.ok is verdict.allowed, outcomes
    assert outcome.terminal.state == ("b" if verdict.allowed else "a")


class TestTheGuardsFireCalls:
    def test_of_up_to_two_guards_are_judged_as_check_judges_them_each_called_once(self) -> None:
        # fire unrolls these: every combination of results, exhaustively
        for arity in range(3):
            for outcomes in itertools.product(OUTCOMES, repeat=arity):
                _fire_agrees_with_check(outcomes)

    @given(st.lists(st.sampled_from(OUTCOMES), min_size=3, max_size=len(GUARD_NAMES)))
    def test_of_more_guards_are_judged_as_check_judges_them_each_called_once(
        self, outcomes: list[str]
    ) -> None:
        _fire_agrees_with_check(tuple(outcomes))


class TestTheTerminalFireMakes:
    @given(
        TERMINAL_IDS,
        st.integers(0, 10**6),
        st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    )
    def test_equals_the_one_the_constructor_makes(
        self, tid: str, version: int, data: dict[str, Any]
    ) -> None:
        t = Terminal(tid, "b", version, data)
        new = _walk().fire(t, "end").terminal
        assert type(new) is Terminal
        assert new == Terminal(tid, "c", version + 1, data)
        assert repr(new) == repr(Terminal(tid, "c", version + 1, data))
        assert new.data is t.data  # no effect: the read-only data is shared, not copied

    def test_is_frozen_and_behaves_like_any_terminal(self) -> None:
        new = _walk().fire(Terminal("T", "a", 0, {"k": 1}), "go").terminal
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            new.state = "c"  # type: ignore[misc]
        with pytest.raises(TypeError):
            new.data["k"] = 2  # type: ignore[index]
        assert copy.copy(new) == new
        assert attrs.evolve(new, state="c").state == "c"
        assert weakref.ref(new)() is new
        assert dict(new.data) == {"k": 1, "went": True}
        assert new.with_data(k=3).data == {"k": 3, "went": True}


class TestTheTimeOfAnOutcome:
    @given(st.integers(0, 2**62))
    def test_is_the_system_clock_reading_floored_to_the_microsecond(self, ns: int) -> None:
        outcome = _walk().fire(Terminal("T", "b"), "end")
        outcome._at = ns  # as fire leaves it for the system clock
        seconds, rest = divmod(ns, 10**9)
        expected = dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(
            microseconds=rest // 1000
        )
        assert outcome.at == expected
        assert outcome.at.tzinfo is dt.UTC
        assert outcome.at is outcome.at  # converted once

    def test_from_the_system_clock_is_now_and_the_record_agrees(self) -> None:
        before = dt.datetime.now(dt.UTC)
        outcome = _walk().fire(Terminal("T", "a"), "go")
        after = dt.datetime.now(dt.UTC)
        assert before <= outcome.at <= after
        assert outcome.record.at == outcome.at

    def test_a_subclassed_context_is_asked_for_the_time(self) -> None:
        class Noon(Context):
            def now(self) -> dt.datetime:
                return AT

        assert _walk().fire(Terminal("T", "a"), "go", Noon()).at == AT

    def test_a_subclassed_system_clock_is_asked_for_the_time(self) -> None:
        class Stuck(SystemClock):
            def now(self) -> dt.datetime:
                return AT

        assert _walk().fire(Terminal("T", "a"), "go", Context(clock=Stuck())).at == AT

    def test_a_fixed_time_wins_however_the_context_was_made(self) -> None:
        fixed = Context(at=AT)
        lc = _walk()
        for ctx in (
            fixed,
            fixed.with_payload(k=1),
            attrs.evolve(Context(), at=AT),
            copy.copy(Context(at=AT)),
        ):
            assert lc.fire(Terminal("T", "a"), "go", ctx).at == AT

    def test_a_context_made_again_without_a_fixed_time_reads_the_system_clock(self) -> None:
        before = dt.datetime.now(dt.UTC)
        for ctx in (
            attrs.evolve(Context(at=AT), at=None),
            copy.copy(Context()),
            Context(clock=SystemClock()),
        ):
            outcome = _walk().fire(Terminal("T", "a"), "go", ctx)
            assert before <= outcome.at <= dt.datetime.now(dt.UTC)

    def test_a_frozen_clock_is_read_as_it_stands_at_each_fire(self) -> None:
        # fire reads the frozen clock's time itself: moving the clock moves the outcomes,
        # whichever way the context was made
        clock = FrozenClock(AT)
        lc = _walk()
        for ctx in (
            Context(clock=clock),
            attrs.evolve(Context(clock=clock, at=NOON), at=None),
            copy.copy(Context(clock=clock)),
            Context(clock=clock).with_payload(k=1),
        ):
            clock.set(AT)
            assert ctx._frozen is clock
            assert lc.fire(Terminal("T", "a"), "go", ctx).at == AT
            later = clock.advance(minutes=5)
            assert lc.fire(Terminal("T", "a"), "go", ctx).at == later

    def test_a_frozen_clock_is_not_read_past_a_fixed_time_a_subclass_or_context(self) -> None:
        class Stuck(FrozenClock):
            def now(self) -> dt.datetime:
                return NOON

        class Noon(Context):
            def now(self) -> dt.datetime:
                return NOON

        lc = _walk()
        for ctx in (
            Context(clock=FrozenClock(AT), at=NOON),
            Context(clock=Stuck(AT)),
            Noon(clock=FrozenClock(AT)),
        ):
            assert ctx._frozen is None
            assert lc.fire(Terminal("T", "a"), "go", ctx).at == NOON

    def test_an_unpickled_context_reads_its_own_copy_of_the_frozen_clock(self) -> None:
        ctx = pickle.loads(pickle.dumps(Context(clock=FrozenClock(AT))))  # noqa: S301 - our own
        assert ctx._frozen is ctx.clock
        later = ctx.clock.advance(hours=1)
        assert _walk().fire(Terminal("T", "a"), "go", ctx).at == later


class TestTheRecordOfAnOutcome:
    @given(_mappings, st.none() | _mappings, sensitive_items())
    def test_equals_the_one_the_constructor_makes(
        self, payload: dict[str, Any], changes: dict[str, Any] | None, item: tuple[str, str]
    ) -> None:
        key, clear = item
        payload = {**payload, key: clear}
        fields: dict[str, Any] = {
            "terminal_id": "T",
            "seq": None,
            "event": "go",
            "from_state": "a",
            "to_state": "b",
            "version": 1,
            "actor": "op1",
            "at": AT,
            "payload": payload,
            "reasons": (),
            "idempotency_key": "k1",
            "changes": changes,
        }
        fast = build_record(*fields.values())
        slow = HistoryRecord(**{**fields, "changes": changes or {}})
        assert type(fast) is HistoryRecord
        assert fast == slow
        assert fast.to_dict() == slow.to_dict()
        assert clear not in repr(fast)
        assert clear not in repr(fast.to_dict())
        with pytest.raises(TypeError):
            fast.payload["x"] = 1  # type: ignore[index]

    @given(_mappings, st.integers(0, 10**6))
    def test_with_seq_changes_only_the_position(self, payload: dict[str, Any], seq: int) -> None:
        outcome = _walk().fire(Terminal("T", "a"), "go", Context(payload, actor="op1", at=AT))
        rec = outcome.record
        placed = rec.with_seq(seq)
        assert placed == attrs.evolve(rec, seq=seq)
        assert placed.seq == seq
        assert rec.seq is None
        assert weakref.ref(placed)() is placed
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            placed.seq = 0  # type: ignore[misc]

    def test_of_a_refusal_lists_the_codes_and_no_destination(self) -> None:
        rec = _walk().fire(Terminal("T", "a"), "end", Context(at=AT)).record
        assert (rec.to_state, rec.version, rec.reasons) == (
            None,
            0,
            ("lifecycle.not_allowed_from_state",),
        )
        assert rec == HistoryRecord("T", None, "end", "a", None, 0, "system", AT, {}, rec.reasons)

    def test_is_built_once(self) -> None:
        outcome = _walk().fire(Terminal("T", "a"), "go")
        assert outcome.record is outcome.record
        assert (
            posflow.Outcome(
                outcome.terminal, outcome.previous, "go", (), Context(), AT, record=outcome.record
            ).record
            is outcome.record
        )
