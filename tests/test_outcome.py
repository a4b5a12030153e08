"""``Verdict`` and ``Outcome``: what ``check`` and ``fire`` answer."""

from __future__ import annotations

import datetime as dt

import pytest

import posflow
from posflow import Context, Lifecycle, State, Terminal, Transition
from posflow.errors import PortUnavailable, TransitionBlocked

MISSING = posflow.reason_spec(
    "documents.form_missing",
    retryable=False,
    en="Form {form} is missing.",
    zh_cn="缺少表格 {form}。",
    remedy_en="Fill in form {form}.",
    remedy_zh_cn="请填写表格 {form}。",
)
AT = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)


def _lifecycle(*conditions: posflow.guards.GuardLike) -> Lifecycle:
    return Lifecycle(
        ["a", State("b", final=True)],
        [Transition("go", "a", "b", conditions=conditions, effect=lambda t, c: {"moved": True})],
        "a",
    )


@posflow.guard("docs.form")
def form_missing(terminal: Terminal, ctx: Context) -> tuple[posflow.Reason, ...]:
    return (MISSING.reason(form="A1"),)


@posflow.guard("port.down")
def port_down(terminal: Terminal, ctx: Context) -> tuple[posflow.Reason, ...]:
    raise PortUnavailable("vault")


class TestVerdict:
    def test_an_allowed_verdict_is_truthy_and_has_no_reasons(self) -> None:
        v = posflow.Verdict("go", "a", "b")
        assert v
        assert v.allowed
        assert (v.codes, v.retryable) == ((), False)

    def test_a_refused_verdict_is_falsy_and_lists_its_codes(self) -> None:
        r = MISSING.reason(form="A1")
        v = posflow.Verdict("go", "a", "b", (r, r))
        assert not v
        assert not v.allowed
        assert v.codes == ("documents.form_missing", "documents.form_missing")

    def test_a_verdict_is_retryable_only_when_every_reason_is(self) -> None:
        verdict = _lifecycle(port_down).check(Terminal("T", "a"), "go")
        assert verdict.retryable
        mixed = _lifecycle(port_down, form_missing).check(Terminal("T", "a"), "go")
        assert mixed.codes == ("port.unavailable", "documents.form_missing")
        assert not mixed.retryable

    def test_verdicts_compare_by_value(self) -> None:
        lc = _lifecycle(form_missing)
        assert lc.check(Terminal("T", "a"), "go") == lc.check(Terminal("T", "a"), "go")

    @pytest.mark.parametrize("lang", ["en", "zh-CN"])
    def test_explain_gives_the_lines_the_outcome_of_the_same_refusal_gives(self, lang: str) -> None:
        lc = _lifecycle(form_missing, port_down)
        t = Terminal("T", "a")
        verdict = lc.check(t, "go")
        assert verdict.explain(lang) == lc.fire(t, "go").explain(lang)
        assert len(verdict.explain(lang)) == 2

    def test_explain_renders_code_message_and_remedy(self) -> None:
        verdict = posflow.Verdict("go", "a", "b", (MISSING.reason(form="A1"),))
        assert verdict.explain() == [
            "documents.form_missing: Form A1 is missing. — Fill in form A1."
        ]
        assert verdict.explain("zh-CN") == [
            "documents.form_missing: 缺少表格 A1。 — 请填写表格 A1。"
        ]

    def test_an_allowed_verdict_explains_nothing(self) -> None:
        assert posflow.Verdict("go", "a", "b").explain() == []


class TestOutcome:
    def test_an_accepted_outcome(self) -> None:
        lc = _lifecycle()
        t = lc.new_terminal("T")
        outcome = lc.fire(t, "go", Context(at=AT, actor="op"))
        assert outcome
        assert (outcome.ok, outcome.blocked, outcome.retryable) == (True, False, False)
        assert (outcome.codes, outcome.reasons, outcome.event) == ((), (), "go")
        assert outcome.explain() == []
        assert outcome.raise_for_blocked() is outcome
        assert repr(outcome) == "<Outcome ok 'go': 'a' -> 'b' v1>"

    def test_a_refused_outcome(self) -> None:
        lc = _lifecycle(form_missing, port_down)
        outcome = lc.fire(lc.new_terminal("T"), "go", Context(at=AT))
        assert not outcome
        assert (outcome.ok, outcome.blocked, outcome.retryable) == (False, True, False)
        assert outcome.codes == ("documents.form_missing", "port.unavailable")
        assert repr(outcome) == (
            "<Outcome blocked 'go' in 'a': documents.form_missing, port.unavailable>"
        )

    def test_explain_gives_one_line_per_reason_in_either_language(self) -> None:
        outcome = _lifecycle(form_missing).fire(Terminal("T", "a"), "go")
        assert outcome.explain() == [
            "documents.form_missing: Form A1 is missing. — Fill in form A1."
        ]
        assert outcome.explain("zh-CN") == [
            "documents.form_missing: 缺少表格 A1。 — 请填写表格 A1。"
        ]
        with pytest.raises(posflow.errors.InvalidInput):
            outcome.explain("fr")

    def test_raise_for_blocked_raises_transition_blocked_with_every_reason(self) -> None:
        outcome = _lifecycle(form_missing, port_down).fire(Terminal("T7", "a"), "go")
        with pytest.raises(TransitionBlocked) as caught:
            outcome.raise_for_blocked()
        error = caught.value
        assert (error.terminal_id, error.event, error.state) == ("T7", "go", "a")
        assert error.reasons == outcome.reasons
        assert str(error) == (
            "'go' refused for terminal 'T7' in 'a': documents.form_missing, port.unavailable"
        )
        assert isinstance(error, posflow.errors.RuntimeFailure)

    def test_the_record_of_an_accepted_step(self) -> None:
        lc = _lifecycle()
        ctx = Context({"note": "hi"}, actor="op1", at=AT)
        outcome = lc.fire(lc.new_terminal("T"), "go", ctx, idempotency_key="k1")
        rec = outcome.record
        assert rec is outcome.record  # built once, then kept
        assert (rec.terminal_id, rec.seq, rec.event) == ("T", None, "go")
        assert (rec.from_state, rec.to_state, rec.version) == ("a", "b", 1)
        assert (rec.actor, rec.at, rec.idempotency_key) == ("op1", AT, "k1")
        assert rec.payload == {"note": "hi"}
        assert rec.changes == {"moved": True}
        assert rec.reasons == ()
        assert rec.accepted

    def test_the_record_of_a_refusal(self) -> None:
        lc = _lifecycle(form_missing)
        outcome = lc.fire(lc.new_terminal("T"), "go", Context(at=AT))
        rec = outcome.record
        assert (rec.from_state, rec.to_state, rec.version) == ("a", None, 0)
        assert rec.reasons == ("documents.form_missing",)
        assert rec.changes == {}
        assert not rec.accepted
