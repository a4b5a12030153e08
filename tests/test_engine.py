"""The engine's fast path keeps the full semantics of ``check`` and ``fire``.

``Lifecycle.fire`` builds its Terminal and Outcome without their constructors and
reads the system clock without going through ``ctx.now()`` (see
docs/performance.md). These tests pin what callers must still see: every guard
run once, every reason kept, frozen terminals equal to ones built normally, and
the time ``ctx.now()`` would give.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow.errors import PortUnavailable

FAILED = posflow.reason_spec(
    "compliance.engine_rule_failed",
    retryable=False,
    en="Rule {rule} does not hold.",
    zh_cn="规则 {rule} 不成立。",
    remedy_en="Make rule {rule} hold.",
    remedy_zh_cn="请使规则 {rule} 成立。",
)

BEHAVIOURS = (
    "pass",
    "none",
    "true",
    "reason",
    "two",
    "false",
    "raise",
    "port",
    "generator",
    "empty_list",
    "empty_set",
    "zero",
    "one",
    "empty_text",
    "empty_mapping",
)
EXPECTED_CODES: dict[str, tuple[str, ...]] = {
    "pass": (),
    "none": (),
    "true": (),
    "reason": ("compliance.engine_rule_failed",),
    "two": ("compliance.engine_rule_failed", "compliance.engine_rule_failed"),
    "false": ("guard.refused",),
    "raise": ("guard.error",),
    "port": ("port.unavailable",),
    "generator": (),
    "empty_list": (),
    "empty_set": (),
    # falsy, but not a guard result: refused as a truthy non-result (1) is
    "zero": ("guard.error",),
    "one": ("guard.error",),
    "empty_text": ("guard.error",),
    "empty_mapping": ("guard.error",),
}


def _guard(behaviour: str, calls: list[str], label: str) -> Callable[..., Any]:
    def fail(exc: Exception) -> Any:
        raise exc

    answers: dict[str, Callable[[], Any]] = {
        "pass": lambda: (),
        "none": lambda: None,
        "true": lambda: True,
        "reason": lambda: (FAILED.reason(rule=label),),
        "two": lambda: [FAILED.reason(rule=label), FAILED.reason(rule=label + "'")],
        "false": lambda: False,
        "raise": lambda: fail(ValueError(label)),
        "port": lambda: fail(PortUnavailable("documents")),
        "generator": lambda: (r for r in ()),  # an empty generator: truthy, yet no reason
        "empty_list": list,
        "empty_set": set,
        "zero": lambda: 0,
        "one": lambda: 1,
        "empty_text": lambda: "",
        "empty_mapping": dict,
    }

    def g(terminal: posflow.Terminal, ctx: posflow.Context) -> Any:
        calls.append(label)
        return answers[behaviour]()

    g.__qualname__ = label
    return g


def _lifecycle(guards: tuple[Callable[..., Any], ...], effect: Any = None) -> posflow.Lifecycle:
    return posflow.Lifecycle(
        ["idle", "busy"],
        [
            posflow.Transition("start", "idle", "busy", conditions=guards, effect=effect),
            posflow.Transition("stop", "busy", "idle"),
        ],
        "idle",
        guards=posflow.GuardRegistry(),
    )


def _built(terminal: posflow.Terminal) -> posflow.Terminal:
    return posflow.Terminal(terminal.id, terminal.state, terminal.version, terminal.data)


class TestLifecycleFire:
    @given(st.lists(st.sampled_from(BEHAVIOURS), max_size=5), st.integers(0, 10**6))
    def test_every_guard_runs_once_and_every_reason_is_kept_in_order(
        self, behaviours: list[str], version: int
    ) -> None:
        calls: list[str] = []
        labels = [f"g{i}" for i in range(len(behaviours))]
        guards = tuple(_guard(b, calls, label) for b, label in zip(behaviours, labels, strict=True))
        lc = _lifecycle(guards)
        t = posflow.Terminal("T1", "idle", version, {"k": 1})
        ctx = posflow.Context(clock=posflow.FrozenClock())

        outcome = lc.fire(t, "start", ctx)
        verdict = lc.check(t, "start", ctx)

        assert calls == labels + labels
        expected = tuple(c for b in behaviours for c in EXPECTED_CODES[b])
        assert outcome.codes == expected
        assert verdict.codes == expected
        assert outcome.ok is (not expected)
        assert verdict.allowed is (not expected)
        if expected:
            assert outcome.terminal is t
            assert outcome.record.to_state is None
            assert outcome.record.reasons == expected
        else:
            assert outcome.terminal == posflow.Terminal("T1", "busy", version + 1, {"k": 1})
            assert outcome.record.to_state == "busy"

    def test_the_new_terminal_is_a_real_frozen_terminal_equal_to_a_normally_built_one(
        self,
    ) -> None:
        lc = _lifecycle(())
        t = posflow.Terminal("T1", "idle", 4, {"merchant": {"name": "M"}})
        new = lc.fire(t, "start").terminal
        assert type(new) is posflow.Terminal
        assert new == _built(new)
        assert repr(new) == repr(_built(new))
        assert attrs.asdict(new) == attrs.asdict(_built(new))
        assert (new.id, new.state, new.version) == ("T1", "busy", 5)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            new.state = "idle"  # type: ignore[misc]

    def test_data_changed_by_an_effect_is_read_only_and_not_shared_with_the_effect(
        self,
    ) -> None:
        given_back: dict[str, Any] = {"count": 1}
        lc = _lifecycle((), effect=lambda terminal, ctx: given_back)
        t = posflow.Terminal("T1", "idle", 0, {"name": "M"})
        outcome = lc.fire(t, "start")
        given_back["count"] = 99
        assert dict(outcome.terminal.data) == {"name": "M", "count": 1}
        assert isinstance(outcome.terminal.data, MappingProxyType)
        with pytest.raises(TypeError):
            outcome.terminal.data["count"] = 2  # type: ignore[index]
        assert dict(t.data) == {"name": "M"}
        assert dict(outcome.record.changes) == {"count": 99}  # masked copy made on first read

    def test_without_an_effect_the_new_terminal_shares_the_old_read_only_data(self) -> None:
        lc = _lifecycle(())
        t = posflow.Terminal("T1", "idle", 0, {"name": "M"})
        assert lc.fire(t, "start").terminal.data is t.data


class TestOutcomeAt:
    def test_with_the_system_clock_the_time_is_read_when_the_event_is_decided(self) -> None:
        clock = posflow.SystemClock()
        lc = _lifecycle(())
        before = clock.now()
        outcome = lc.fire(posflow.Terminal("T1", "idle"), "start", posflow.Context())
        after = clock.now()
        assert before <= outcome.at <= after
        assert outcome.at.tzinfo is not None
        assert outcome.at.utcoffset() == dt.timedelta(0)
        assert outcome.at is outcome.at
        assert outcome.record.at == outcome.at

    def test_a_frozen_clock_gives_its_time(self) -> None:
        clock = posflow.FrozenClock(dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC))
        outcome = _lifecycle(()).fire(
            posflow.Terminal("T1", "idle"), "start", posflow.Context(clock=clock)
        )
        assert outcome.at == dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)

    def test_a_fixed_time_on_the_context_wins_over_its_clock(self) -> None:
        at = dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC)
        ctx = posflow.Context(clock=posflow.FrozenClock(), at=at)
        assert _lifecycle(()).fire(posflow.Terminal("T1", "idle"), "start", ctx).at == at

    def test_a_clock_derived_from_the_system_clock_is_asked(self) -> None:
        fixed = dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.UTC)

        class Late(posflow.SystemClock):
            __slots__ = ()

            def now(self) -> dt.datetime:
                return fixed

        ctx = posflow.Context(clock=Late())
        assert _lifecycle(()).fire(posflow.Terminal("T1", "idle"), "start", ctx).at == fixed

    def test_a_context_that_redefines_now_is_asked(self) -> None:
        fixed = dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.UTC)

        @attrs.frozen(slots=True)
        class AuditContext(posflow.Context):
            def now(self) -> dt.datetime:
                return fixed

        ctx = AuditContext()
        assert _lifecycle(()).fire(posflow.Terminal("T1", "idle"), "start", ctx).at == fixed

    def test_refusals_carry_the_time_too(self) -> None:
        clock = posflow.FrozenClock()
        ctx = posflow.Context(clock=clock)
        outcome = _lifecycle(()).fire(posflow.Terminal("T1", "busy"), "start", ctx)
        assert outcome.blocked
        assert outcome.at == clock.now()

    def test_an_outcome_built_by_hand_keeps_the_time_it_was_given(self) -> None:
        t = posflow.Terminal("T1", "idle")
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        outcome = posflow.Outcome(t, t, "start", (), posflow.Context(), at)
        assert outcome.at is at
        assert outcome.record.at is at


class TestLifecycleCheck:
    @pytest.mark.parametrize(
        ("state", "event"),
        [("idle", "start"), ("busy", "stop"), ("busy", "start"), ("nowhere", "x")],
    )
    def test_check_and_fire_agree_on_every_cell_and_outside_the_table(
        self, state: str, event: str
    ) -> None:
        lc = _lifecycle(())
        t = posflow.Terminal("T1", state)
        ctx = posflow.Context(clock=posflow.FrozenClock())
        verdict, outcome = lc.check(t, event, ctx), lc.fire(t, event, ctx)
        assert verdict.allowed == outcome.ok
        assert verdict.codes == outcome.codes

    def test_an_unguarded_cell_answers_with_one_shared_verdict(self) -> None:
        lc = _lifecycle(())
        t = posflow.Terminal("T1", "idle")
        assert lc.check(t, "start") is lc.check(t, "start")


def _mapping_of(outcome: posflow.Outcome) -> Mapping[str, Any]:
    return outcome.record.to_dict()


class TestHistoryRecordFromFastOutcome:
    def test_the_record_of_an_accepted_event_is_complete(self) -> None:
        clock = posflow.FrozenClock()
        ctx = posflow.Context(payload={"operator": "op1"}, actor="ops", clock=clock)
        outcome = _lifecycle(()).fire(
            posflow.Terminal("T1", "idle", 2), "start", ctx, idempotency_key="k-1"
        )
        assert _mapping_of(outcome) == {
            "terminal_id": "T1",
            "seq": None,
            "event": "start",
            "from_state": "idle",
            "to_state": "busy",
            "version": 3,
            "actor": "ops",
            "at": clock.now().isoformat(),
            "payload": {"operator": "op1"},
            "reasons": [],
            "idempotency_key": "k-1",
            "changes": {},
        }
