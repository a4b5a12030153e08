"""Properties of the engine on random valid lifecycles, events and guard outcomes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import posflow
from strategies import POOL_RULE_FAILED, build, event_steps, lifecycle_docs

KNOWN_CODES = {*posflow.default_catalogue(), POOL_RULE_FAILED.code}


class TestEngineProperties:
    @given(doc=lifecycle_docs(), data=st.data())
    def test_random_runs_keep_every_engine_invariant(
        self, doc: dict[str, Any], data: st.DataObject
    ) -> None:
        lc = build(doc)
        steps = data.draw(event_steps(lc.events))
        clock = posflow.FrozenClock()
        start = lc.new_terminal("T-prop", {"steps": 0})
        t = start
        records = []
        for event, payload in steps:
            ctx = posflow.Context(payload, clock=clock)
            verdict = lc.check(t, event, ctx)
            available = lc.available(t, ctx)
            assert list(available) == list(lc.events)
            for e, v in available.items():
                assert v == lc.check(t, e, ctx), e
            outcome = lc.fire(t, event, ctx)
            records.append(outcome.record)

            # the engine is a function of (terminal, event, ctx): fire agrees with check
            assert outcome.ok == verdict.allowed
            assert outcome.reasons == verdict.reasons
            assert outcome.terminal.state in lc.states
            if outcome.ok:
                assert outcome.terminal.state == verdict.dest
                assert outcome.terminal.version == t.version + 1
                assert outcome.record.to_state == outcome.terminal.state
            else:
                assert outcome.terminal is t  # a refusal changes nothing
                assert outcome.record.to_state is None
                assert outcome.record.version == t.version
                assert outcome.retryable == all(r.retryable for r in outcome.reasons)
            for reason in outcome.reasons:
                assert reason.code in KNOWN_CODES
                for lang in posflow.LANGUAGES:
                    assert "{" not in reason.message(lang), reason
                    assert "{" not in reason.remedy(lang), reason
            assert outcome.previous is t
            t = outcome.terminal
            clock.advance(seconds=30)

        assert lc.replay(records, terminal_id="T-prop", data=start.data) == t
        if records:  # the records themselves name the terminal
            assert lc.replay(records, data=start.data) == t
        accepted = [r for r in records if r.accepted]
        assert [r.version for r in accepted] == list(range(1, t.version + 1))

    @given(doc=lifecycle_docs(), data=st.data())
    def test_an_event_with_a_transition_is_refused_only_for_guard_reasons(
        self, doc: dict[str, Any], data: st.DataObject
    ) -> None:
        lc = build(doc)
        state = data.draw(st.sampled_from(lc.states))
        t = posflow.Terminal("T", state)
        outcomes = data.draw(st.fixed_dictionaries({"outcomes": st.just({})}))
        for event in lc.events:
            verdict = lc.check(t, event, posflow.Context(outcomes))
            if event in lc.allowed_events(state):
                # with every pool guard passing, only an unless-guard can refuse
                assert set(verdict.codes) <= {"lifecycle.blocking_condition_present"}
                assert verdict.dest is not None
            else:
                assert verdict.codes == ("lifecycle.not_allowed_from_state",)
                assert state not in lc.sources_of(event)

    @given(doc=lifecycle_docs(guards=False))
    def test_without_guards_every_declared_step_is_allowed(self, doc: dict[str, Any]) -> None:
        lc = build(doc)
        for state in lc.states:
            t = posflow.Terminal("T", state)
            allowed = {e for e, v in lc.available(t).items() if v}
            assert allowed == set(lc.allowed_events(state))
