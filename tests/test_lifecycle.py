"""The engine: introspection, ``new_terminal``, ``check``, ``fire`` and ``available``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import posflow
from posflow import Context, Lifecycle, State, Terminal, Transition
from posflow.errors import InvalidInput, PortUnavailable

RULE = posflow.reason_spec(
    "documents.rule_missing",
    retryable=False,
    en="Document {doc} is missing.",
    zh_cn="缺少资料 {doc}。",
    remedy_en="Upload {doc}.",
    remedy_zh_cn="请上传 {doc}。",
)


class Calls:
    """Named guards that record every call, with a result chosen per test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def returning(self, name: str, result: Any) -> posflow.guards.Guard:
        def check(terminal: Terminal, ctx: Context) -> Any:
            self.seen.append(name)
            return result

        return posflow.guard(name)(check)

    def raising(self, name: str, exc: Exception) -> posflow.guards.Guard:
        def check(terminal: Terminal, ctx: Context) -> Any:
            self.seen.append(name)
            raise exc

        return posflow.guard(name)(check)


def one_step(*conditions: Any, unless: Any = (), effect: Any = None, dest: str = "b") -> Lifecycle:
    """``a --go--> b`` (b final) under the given guards."""
    return Lifecycle(
        ["a", State("b", final=True)],
        [Transition("go", "a", dest, conditions=conditions, unless=unless, effect=effect)],
        "a",
    )


def shop() -> Lifecycle:
    """A small lifecycle with a fork, a shared event and a self-loop."""
    return Lifecycle(
        [State("new"), State("open"), State("paused"), State("gone", final=True)],
        [
            Transition("open", "new", "open"),
            Transition("sell", "open", "="),
            Transition("pause", "open", "paused"),
            Transition("resume", "paused", "open"),
            Transition("drop", ["new", "open", "paused"], "gone"),
        ],
        "new",
        name="shop",
    )


def _reads_the_context(terminal: Terminal, ctx: Context) -> tuple[()]:
    """A guard that reads the payload, as nearly every real guard does."""
    ctx.payload.get("amount")
    return ()


class _UnhashableName(str):
    """An event name that is a str but fails where the table looks it up."""

    __slots__ = ()

    def __hash__(self) -> int:
        raise TypeError("this name cannot be hashed")


NOT_A_CONTEXT: list[Any] = [{"a": 1}, "ctx", posflow.FrozenClock()]
NOT_A_TERMINAL: list[Any] = [None, "T", {"id": "T", "state": "a"}]


class TestIntrospection:
    def test_states_events_and_transitions_keep_declaration_order(self) -> None:
        lc = shop()
        assert lc.states == ("new", "open", "paused", "gone")
        assert lc.events == ("open", "sell", "pause", "resume", "drop")
        assert [t.trigger for t in lc.transitions] == list(lc.events)
        assert lc.initial == "new"

    def test_final_states(self) -> None:
        assert shop().final_states == frozenset({"gone"})

    def test_allowed_events_lists_what_a_state_has_a_transition_for(self) -> None:
        lc = shop()
        assert lc.allowed_events("open") == ("sell", "pause", "drop")
        assert lc.allowed_events("gone") == ()
        assert lc.allowed_events("not-a-state") == ()

    def test_sources_of_lists_the_states_an_event_leaves_from(self) -> None:
        lc = shop()
        assert lc.sources_of("drop") == ("new", "open", "paused")
        assert lc.sources_of("sell") == ("open",)
        assert lc.sources_of("nope") == ()

    def test_the_default_lifecycle_has_the_documented_shape(self) -> None:
        lc = posflow.default_lifecycle()
        assert lc.states == (
            "applied",
            "reviewed",
            "rejected",
            "shipped",
            "in_stock",
            "activated",
            "signed_in",
            "settled",
            "signed_out",
            "suspended",
            "closing",
            "closed",
            "reapplied",
        )
        assert set(lc.events) == {
            "review",
            "reject",
            "resubmit",
            "ship",
            "report_lost",
            "receive",
            "activate",
            "sign_in",
            "record_sale",
            "send_reversal",
            "settle",
            "sign_out",
            "suspend",
            "reinstate",
            "request_close",
            "cancel_close",
            "close",
            "reapply",
        }
        assert lc.initial == "applied"
        assert lc is posflow.default_lifecycle()


class TestNewTerminal:
    def test_a_new_terminal_starts_in_the_initial_state_at_version_zero(self) -> None:
        t = shop().new_terminal("T1", {"sn": "SN1"})
        assert (t.id, t.state, t.version, dict(t.data)) == ("T1", "new", 0, {"sn": "SN1"})

    @pytest.mark.parametrize("bad", ["", None, 7])
    def test_a_terminal_id_must_be_a_non_empty_string(self, bad: Any) -> None:
        with pytest.raises(InvalidInput) as caught:
            shop().new_terminal(bad)
        assert caught.value.field == "terminal_id"

    @pytest.mark.parametrize("data", [[1, 2], [("sn", "SN1")], "sn"])
    def test_data_that_is_not_a_mapping_is_invalid_input_naming_it(self, data: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a mapping") as caught:
            shop().new_terminal("T1", data)
        assert caught.value.field == "data"


class TestCheck:
    def test_an_allowed_event_gives_a_truthy_verdict_with_its_destination(self) -> None:
        t = shop().new_terminal("T")
        verdict = shop().check(t, "open")
        assert verdict
        assert (verdict.event, verdict.state, verdict.dest, verdict.reasons) == (
            "open",
            "new",
            "open",
            (),
        )

    def test_check_changes_nothing(self) -> None:
        calls = Calls()
        lc = one_step(calls.returning("a.ok", ()))
        t = lc.new_terminal("T")
        lc.check(t, "go")
        assert (t.state, t.version) == ("a", 0)

    def test_every_guard_is_evaluated_not_only_the_first_failing(self) -> None:
        calls = Calls()
        lc = one_step(
            calls.returning("g.one", [RULE.reason(doc="licence")]),
            calls.returning("g.two", ()),
            calls.returning("g.three", (RULE.reason(doc="id"), RULE.reason(doc="account"))),
            unless=calls.returning("g.four", ()),
        )
        verdict = lc.check(lc.new_terminal("T"), "go")
        assert calls.seen == ["g.one", "g.two", "g.three", "g.four"]
        assert not verdict
        assert verdict.codes == (
            "documents.rule_missing",
            "documents.rule_missing",
            "documents.rule_missing",
            "lifecycle.blocking_condition_present",
        )
        assert [r.params.get("doc") for r in verdict.reasons[:3]] == ["licence", "id", "account"]
        assert verdict.dest == "b"

    @pytest.mark.parametrize("result", [(), [], None, True, iter(())])
    def test_an_empty_or_true_result_passes(self, result: Any) -> None:
        assert one_step(Calls().returning("g.pass", result)).check(Terminal("T", "a"), "go")

    def test_every_reason_names_the_guard_that_produced_it(self) -> None:
        calls = Calls()
        lc = one_step(
            calls.returning("g.one", [RULE.reason(doc="licence")]),
            calls.returning("g.two", [RULE.reason(doc="id", guard="g.explicit")]),
            posflow.any_of(calls.returning("g.three", [RULE.reason(doc="x")])),
        )
        verdict = lc.check(lc.new_terminal("T"), "go")
        assert [r.guard for r in verdict.reasons] == ["g.one", "g.explicit", "g.three"]

    def test_a_generator_guard_may_yield_its_reasons(self) -> None:
        @posflow.guard("g.gen")
        def gen(terminal: Terminal, ctx: Context) -> Iterator[posflow.Reason]:
            yield RULE.reason(doc="a")
            yield RULE.reason(doc="b")

        assert (
            one_step(gen).check(Terminal("T", "a"), "go").codes == ("documents.rule_missing",) * 2
        )

    def test_a_guard_returning_false_is_refused_without_reason(self) -> None:
        verdict = one_step(Calls().returning("g.no", False)).check(Terminal("T", "a"), "go")
        (reason,) = verdict.reasons
        assert (reason.code, reason.guard, reason.retryable) == ("guard.refused", "g.no", False)
        assert reason.message() == "The check 'g.no' refused without giving a reason."

    def test_a_guard_that_raises_gives_guard_error_naming_it_and_keeping_the_exception(
        self,
    ) -> None:
        boom = KeyError("merchant")
        verdict = one_step(Calls().raising("g.boom", boom)).check(Terminal("T", "a"), "go")
        (reason,) = verdict.reasons
        assert (reason.code, reason.guard, reason.error) == ("guard.error", "g.boom", boom)
        assert reason.params["error_type"] == "KeyError"
        assert reason.retryable
        assert "g.boom" in reason.message()
        assert "KeyError" in reason.message("zh-CN")

    @pytest.mark.parametrize(
        "result", [["not a reason"], [RULE.reason(doc="x"), 3], 42, RULE.reason(doc="x"), object()]
    )
    def test_a_guard_returning_something_other_than_reasons_gives_guard_error(
        self, result: Any
    ) -> None:
        verdict = one_step(Calls().returning("g.odd", result)).check(Terminal("T", "a"), "go")
        (reason,) = verdict.reasons
        assert (reason.code, reason.guard) == ("guard.error", "g.odd")
        assert isinstance(reason.error, TypeError)

    def test_a_generator_guard_that_fails_midway_gives_guard_error(self) -> None:
        @posflow.guard("g.halfway")
        def halfway(terminal: Terminal, ctx: Context) -> Iterator[posflow.Reason]:
            yield RULE.reason(doc="a")
            raise RuntimeError("lost the vault")

        (reason,) = one_step(halfway).check(Terminal("T", "a"), "go").reasons
        assert (reason.code, reason.guard) == ("guard.error", "g.halfway")
        assert isinstance(reason.error, RuntimeError)

    @pytest.mark.parametrize(
        ("exc", "port"),
        [
            (PortUnavailable("inventory", "503"), "inventory"),
            (TimeoutError("slow"), "external"),
            (ConnectionError("reset"), "external"),
        ],
    )
    def test_an_unreachable_port_gives_a_retryable_port_unavailable(
        self, exc: Exception, port: str
    ) -> None:
        verdict = one_step(Calls().raising("g.port", exc)).check(Terminal("T", "a"), "go")
        (reason,) = verdict.reasons
        assert (reason.code, reason.guard, reason.params["port"]) == (
            "port.unavailable",
            "g.port",
            port,
        )
        assert reason.retryable
        assert verdict.retryable
        assert reason.error is exc

    def test_a_connection_error_naming_its_port_keeps_that_name(self) -> None:
        exc = ConnectionError("reset")
        exc.port = "host"  # type: ignore[attr-defined]
        (reason,) = one_step(Calls().raising("g.port", exc)).check(Terminal("T", "a"), "go").reasons
        assert reason.params["port"] == "host"

    def test_an_unknown_event_lists_the_known_and_the_allowed_events(self) -> None:
        lc = shop()
        verdict = lc.check(Terminal("T", "open"), "explode")
        (reason,) = verdict.reasons
        assert reason.code == "lifecycle.unknown_event"
        assert not reason.retryable
        assert reason.params["known"] == lc.events
        assert reason.params["allowed"] == ("sell", "pause", "drop")
        assert verdict.dest is None
        assert reason.message() == (
            "The event 'explode' is not part of this lifecycle. "
            "Events it knows: open, sell, pause, resume, drop."
        )

    def test_an_event_not_allowed_from_the_state_lists_what_is_allowed_and_from_where(
        self,
    ) -> None:
        verdict = shop().check(Terminal("T", "paused"), "sell")
        (reason,) = verdict.reasons
        assert reason.code == "lifecycle.not_allowed_from_state"
        assert reason.params["allowed"] == ("resume", "drop")
        assert reason.params["sources"] == ("open",)
        assert reason.message() == (
            "'sell' cannot happen while the terminal is paused. Allowed now: resume, drop."
        )
        assert reason.remedy() == "Bring the terminal to one of these states first: open."
        assert "resume, drop" in reason.message("zh-CN")

    def test_from_a_state_without_events_nothing_is_allowed(self) -> None:
        (reason,) = shop().check(Terminal("T", "gone"), "open").reasons
        assert reason.params["allowed"] == ("none",)

    def test_a_terminal_in_an_undeclared_state_is_refused_for_every_event(self) -> None:
        lc = shop()
        t = Terminal("T", "vanished")
        for event in (*lc.events, "explode"):
            assert lc.check(t, event).codes == ("lifecycle.undeclared_state",)
        assert lc.fire(t, "open").terminal is t

    def test_a_structural_refusal_is_built_once_per_state_and_event(self) -> None:
        lc = shop()
        paused, other = Terminal("T", "paused"), Terminal("U", "paused", 7, {"k": 1})
        first = lc.check(paused, "sell")
        assert lc.check(other, "sell") is first  # the same immutable verdict, not a copy
        assert lc.available(other)["sell"] is first
        assert lc.fire(other, "sell").reasons is first.reasons
        assert lc.check(Terminal("T", "open"), "resume") is not first
        assert lc.check(Terminal("T", "open"), "resume").state == "open"

    def test_unknown_events_and_undeclared_states_are_not_kept(self) -> None:
        lc = shop()
        for i in range(50):
            assert lc.check(Terminal("T", "open"), f"explode{i}").dest is None
            assert lc.check(Terminal("T", f"vanished{i}"), "open").state == f"vanished{i}"
        # nothing about these requests is cached: the next ones are built afresh, equal
        a, b = (lc.check(Terminal("T", "open"), "explode") for _ in range(2))
        assert a == b
        assert a is not b
        c, d = (lc.check(Terminal("T", "vanished"), "open") for _ in range(2))
        assert c == d
        assert c is not d

    def test_guards_see_the_terminal_and_the_context(self) -> None:
        seen: list[tuple[str, Any, str]] = []

        @posflow.guard("g.look")
        def look(terminal: Terminal, ctx: Context) -> tuple[posflow.Reason, ...]:
            seen.append((terminal.id, ctx.payload.get("amount"), ctx.actor))
            return ()

        one_step(look).check(Terminal("T9", "a"), "go", Context({"amount": 5}, actor="op1"))
        assert seen == [("T9", 5, "op1")]

    def test_a_step_without_guards_is_always_allowed(self) -> None:
        assert shop().check(Terminal("T", "open"), "sell", Context())

    @pytest.mark.parametrize("ctx", NOT_A_CONTEXT)
    @pytest.mark.parametrize(
        ("lifecycle", "event"),
        [
            (lambda: one_step(_reads_the_context), "go"),
            (one_step, "no_such_event"),
            (posflow.default_lifecycle, "review"),
        ],
        ids=["guard-reads-it", "unknown-event", "review"],
    )
    def test_a_context_that_is_not_one_is_invalid_input_when_it_is_refused(
        self, lifecycle: Any, event: str, ctx: Any
    ) -> None:
        lc = lifecycle()
        with pytest.raises(InvalidInput, match="must be a posflow Context or None") as caught:
            lc.check(lc.new_terminal("T"), event, ctx)
        assert caught.value.field == "ctx"

    @pytest.mark.parametrize("terminal", NOT_A_TERMINAL)
    def test_a_terminal_that_is_not_one_is_invalid_input_naming_it(self, terminal: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a posflow Terminal") as caught:
            posflow.default_lifecycle().check(terminal, "review")
        assert caught.value.field == "terminal"

    def test_an_error_that_is_not_about_the_arguments_propagates_unchanged(self) -> None:
        with pytest.raises(TypeError, match="cannot be hashed"):
            shop().check(Terminal("T", "new"), _UnhashableName("open"))


class TestFire:
    def test_an_accepted_event_returns_a_new_terminal_one_version_on(self) -> None:
        lc = shop()
        t = lc.new_terminal("T", {"k": 1})
        outcome = lc.fire(t, "open")
        assert outcome.ok
        assert outcome.previous is t
        assert (outcome.terminal.state, outcome.terminal.version) == ("open", 1)
        assert outcome.terminal.data == {"k": 1}
        assert (t.state, t.version) == ("new", 0)

    def test_a_stay_transition_keeps_the_state_and_counts_a_version(self) -> None:
        lc = shop()
        t = lc.fire(lc.new_terminal("T"), "open").terminal
        after = lc.fire(t, "sell").terminal
        assert (after.state, after.version) == ("open", 2)

    def test_a_refusal_returns_the_same_terminal_object(self) -> None:
        lc = one_step(Calls().returning("g.no", [RULE.reason(doc="x")]))
        t = lc.new_terminal("T")
        outcome = lc.fire(t, "go")
        assert not outcome.ok
        assert outcome.terminal is t
        assert outcome.previous is t

    def test_an_effect_changes_the_data_it_returns_and_keeps_the_rest(self) -> None:
        def effect(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            return {"count": terminal.data["count"] + ctx.payload["n"]}

        lc = one_step(effect=effect)
        outcome = lc.fire(lc.new_terminal("T", {"count": 1, "sn": "X"}), "go", Context({"n": 2}))
        assert outcome.terminal.data == {"count": 3, "sn": "X"}
        assert outcome.record.changes == {"count": 3}

    @pytest.mark.parametrize("result", [None, {}])
    def test_an_effect_returning_nothing_keeps_the_data(self, result: Any) -> None:
        lc = one_step(effect=lambda t, c: result)
        outcome = lc.fire(lc.new_terminal("T", {"k": 1}), "go")
        assert (outcome.ok, dict(outcome.terminal.data)) == (True, {"k": 1})

    def test_an_effect_that_raises_refuses_and_changes_nothing(self) -> None:
        boom = RuntimeError("ledger down")

        def post_to_ledger(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            raise boom

        lc = one_step(effect=post_to_ledger)
        t = lc.new_terminal("T", {"k": 1})
        outcome = lc.fire(t, "go")
        (reason,) = outcome.reasons
        assert outcome.terminal is t
        assert (reason.code, reason.error) == ("guard.error", boom)
        assert reason.guard is not None
        assert reason.guard.startswith("effect:")
        assert "post_to_ledger" in reason.guard
        assert outcome.record.to_state is None

    def test_an_effect_meeting_malformed_input_refuses_with_invalid_input_naming_it(self) -> None:
        def add_amount(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            raise InvalidInput("must be an integer, got str", field="payload.amount")

        lc = one_step(effect=add_amount)
        t = lc.new_terminal("T", {"k": 1})
        outcome = lc.fire(t, "go", Context({"amount": "12"}))
        (reason,) = outcome.reasons
        assert outcome.terminal is t
        assert (reason.code, reason.params["field"]) == ("guard.invalid_input", "payload.amount")
        assert not outcome.retryable
        assert reason.guard is not None
        assert "add_amount" in reason.guard
        assert "payload.amount" in reason.message("en")
        assert outcome.record.reasons == ("guard.invalid_input",)

    def test_an_effect_whose_port_fails_refuses_with_port_unavailable(self) -> None:
        def post_to_ledger(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            raise PortUnavailable("ledger")

        lc = one_step(effect=post_to_ledger)
        outcome = lc.fire(lc.new_terminal("T"), "go")
        (reason,) = outcome.reasons
        assert (reason.code, reason.params["port"], outcome.retryable) == (
            "port.unavailable",
            "ledger",
            True,
        )

    @pytest.mark.parametrize("result", [[("k", 2)], "k=2", 5])
    def test_an_effect_returning_something_other_than_a_mapping_refuses(self, result: Any) -> None:
        lc = one_step(effect=lambda t, c: result)
        t = lc.new_terminal("T", {"k": 1})
        outcome = lc.fire(t, "go")
        assert outcome.codes == ("guard.error",)
        assert outcome.terminal is t

    def test_a_guard_failure_leaves_nothing_half_applied(self) -> None:
        calls = Calls()
        ran: list[str] = []

        def effect(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            ran.append("effect")
            return {"k": 2}

        lc = one_step(
            calls.returning("g.ok", ()), calls.raising("g.boom", ValueError("x")), effect=effect
        )
        t = lc.new_terminal("T", {"k": 1})
        outcome = lc.fire(t, "go")
        assert outcome.codes == ("guard.error",)
        assert ran == []
        assert outcome.terminal is t
        assert dict(t.data) == {"k": 1}

    def test_the_effect_sees_the_terminal_before_the_step(self) -> None:
        seen: list[tuple[str, int]] = []

        def effect(terminal: Terminal, ctx: Context) -> None:
            seen.append((terminal.state, terminal.version))

        lc = one_step(effect=effect)
        lc.fire(lc.new_terminal("T"), "go")
        assert seen == [("a", 0)]

    def test_the_outcome_time_comes_from_the_context(self) -> None:
        lc = shop()
        clock = posflow.FrozenClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
        assert lc.fire(lc.new_terminal("T"), "open", Context(clock=clock)).at == clock.now()
        fixed = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        assert lc.fire(lc.new_terminal("T"), "open", Context(at=fixed)).at == fixed
        assert lc.fire(lc.new_terminal("T"), "explode", Context(at=fixed)).at == fixed

    def test_fire_without_a_context_uses_the_system_clock(self) -> None:
        before = dt.datetime.now(dt.UTC)
        outcome = shop().fire(Terminal("T", "new"), "open")
        assert before <= outcome.at <= dt.datetime.now(dt.UTC)
        assert outcome.record.actor == "system"

    def test_the_idempotency_key_is_kept_on_the_outcome_and_its_record(self) -> None:
        lc = shop()
        outcome = lc.fire(lc.new_terminal("T"), "open", idempotency_key="msg-1")
        assert outcome.idempotency_key == "msg-1"
        assert outcome.record.idempotency_key == "msg-1"
        refused = lc.fire(lc.new_terminal("T"), "sell", idempotency_key="msg-2")
        assert refused.record.idempotency_key == "msg-2"

    def test_fire_agrees_with_check(self) -> None:
        lc = one_step(Calls().returning("g.no", [RULE.reason(doc="x")]))
        t = lc.new_terminal("T")
        assert lc.fire(t, "go").reasons == lc.check(t, "go").reasons

    @pytest.mark.parametrize("ctx", NOT_A_CONTEXT)
    @pytest.mark.parametrize(
        ("lifecycle", "event"),
        [
            (one_step, "go"),
            (lambda: one_step(_reads_the_context), "go"),
            (lambda: one_step(effect=lambda t, c: {"amount": c.payload["amount"]}), "go"),
            (one_step, "no_such_event"),
            (posflow.default_lifecycle, "review"),
        ],
        ids=["unguarded", "guard-reads-it", "effect-reads-it", "unknown-event", "review"],
    )
    def test_a_context_that_is_not_one_is_invalid_input_naming_ctx(
        self, lifecycle: Any, event: str, ctx: Any
    ) -> None:
        lc = lifecycle()
        with pytest.raises(InvalidInput, match="must be a posflow Context or None") as caught:
            lc.fire(lc.new_terminal("T"), event, ctx)
        assert caught.value.field == "ctx"

    @pytest.mark.parametrize("terminal", NOT_A_TERMINAL)
    def test_a_terminal_that_is_not_one_is_invalid_input_naming_it(self, terminal: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a posflow Terminal") as caught:
            posflow.default_lifecycle().fire(terminal, "review")
        assert caught.value.field == "terminal"

    def test_a_terminal_whose_state_is_not_a_name_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            shop().fire(Terminal("T", ["new"]), "open")  # type: ignore[arg-type]
        assert caught.value.field == "terminal.state"

    def test_an_event_that_cannot_be_a_name_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="must be an event name") as caught:
            shop().fire(Terminal("T", "new"), ["open"])  # type: ignore[arg-type]
        assert caught.value.field == "event"

    def test_an_attribute_or_type_error_in_a_guard_or_an_effect_stays_a_refusal(self) -> None:
        calls = Calls()
        guarded = one_step(calls.raising("g.attr", AttributeError("no such field")))
        assert guarded.fire(guarded.new_terminal("T"), "go").codes == ("guard.error",)

        def effect(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            raise TypeError("unsupported operand")

        with_effect = one_step(effect=effect)
        outcome = with_effect.fire(with_effect.new_terminal("T"), "go")
        assert (outcome.codes, type(outcome.reasons[0].error)) == (("guard.error",), TypeError)

    def test_a_subclass_of_context_is_a_context_when_refused_too(self) -> None:
        class TracedContext(Context):
            pass

        lc = one_step(Calls().returning("g.no", [RULE.reason(doc="x")]))
        outcome = lc.fire(lc.new_terminal("T"), "go", TracedContext(at=dt.datetime(2026, 1, 1)))
        assert outcome.codes == ("documents.rule_missing",)
        assert outcome.at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def test_an_error_that_is_not_about_the_arguments_propagates_unchanged(self) -> None:
        broken = AttributeError("the clock lost its hands")

        class BrokenClock:
            def now(self) -> dt.datetime:
                raise broken

        lc = shop()
        with pytest.raises(AttributeError) as caught:
            lc.fire(lc.new_terminal("T"), "open", Context(clock=BrokenClock()))
        assert caught.value is broken

    def test_terminals_are_immutable(self) -> None:
        t = shop().new_terminal("T", {"k": 1})
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            t.state = "open"  # type: ignore[misc]
        with pytest.raises(TypeError):
            t.data["k"] = 2  # type: ignore[index]


class TestAvailable:
    def test_every_event_is_listed_with_its_verdict(self) -> None:
        lc = shop()
        t = Terminal("T", "open")
        verdicts = lc.available(t)
        assert list(verdicts) == list(lc.events)
        assert {e for e, v in verdicts.items() if v} == {"sell", "pause", "drop"}
        assert verdicts["resume"].codes == ("lifecycle.not_allowed_from_state",)

    def test_available_agrees_with_check_for_every_event(self) -> None:
        calls = Calls()
        lc = one_step(calls.returning("g.no", [RULE.reason(doc="x")]))
        t = lc.new_terminal("T")
        ctx = Context()
        assert lc.available(t, ctx) == {e: lc.check(t, e, ctx) for e in lc.events}
        assert not lc.available(t)["go"]

    @pytest.mark.parametrize("terminal", NOT_A_TERMINAL)
    def test_a_terminal_that_is_not_one_is_invalid_input_naming_it(self, terminal: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a posflow Terminal") as caught:
            shop().available(terminal)
        assert caught.value.field == "terminal"

    @pytest.mark.parametrize("ctx", NOT_A_CONTEXT)
    def test_a_context_that_is_not_one_is_invalid_input_naming_ctx(self, ctx: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a posflow Context or None") as caught:
            shop().available(Terminal("T", "open"), ctx)
        assert caught.value.field == "ctx"
