"""``to_machine`` and ``diagram``: the ``transitions`` machine as a differential oracle."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transitions import Machine, MachineError

import posflow
from strategies import EFFECTS, POOL, UNKNOWN_EVENT, build, guard_outcomes, lifecycle_docs


class _Model:
    """A model as a service would hand to ``to_machine``."""

    def __init__(self, terminal: posflow.Terminal) -> None:
        self.terminal_id = terminal.id
        self.version = terminal.version
        self.data: dict[str, Any] = dict(terminal.data)


def _trigger(model: Any, event: str, ctx: posflow.Context) -> str:
    """Fire on the machine and say what happened: ``accepted``, ``refused`` or why not."""
    try:
        done = model.trigger(event, ctx=ctx)
    except AttributeError:
        return "unknown_event"
    except MachineError:
        return "not_allowed"
    assert isinstance(done, bool)
    return "accepted" if done else "refused"


def _expected(outcome: posflow.Outcome) -> str:
    if outcome.ok:
        return "accepted"
    if outcome.codes == ("lifecycle.unknown_event",):
        return "unknown_event"
    if outcome.codes == ("lifecycle.not_allowed_from_state",):
        return "not_allowed"
    return "refused"


def _next_event(data: st.DataObject, lifecycle: posflow.Lifecycle, state: str) -> str:
    """Mostly an event the state has a transition for, sometimes any event or an unknown one."""
    allowed = lifecycle.allowed_events(state)
    if allowed and data.draw(st.integers(0, 3), label="pick allowed") > 0:
        return data.draw(st.sampled_from(allowed), label="event")
    return data.draw(st.sampled_from([*lifecycle.events, UNKNOWN_EVENT]), label="event")


def _drive_both(
    data: st.DataObject,
    lifecycle: posflow.Lifecycle,
    terminal: posflow.Terminal,
    payloads: st.SearchStrategy[dict[str, Any]],
    max_steps: int,
) -> None:
    """Fire the same events with the same contexts on posflow and on the machine."""
    clock = posflow.FrozenClock()
    model = _Model(terminal)
    lifecycle.to_machine(model, ignore_invalid_triggers=False)
    assert model.state == terminal.state  # type: ignore[attr-defined]
    for i in range(data.draw(st.integers(0, max_steps), label="steps")):
        event = _next_event(data, lifecycle, terminal.state)
        ctx = posflow.Context(data.draw(payloads, label="payload"), clock=clock)
        outcome = lifecycle.fire(terminal, event, ctx)
        seen = _trigger(model, event, ctx)
        assert seen == _expected(outcome), f"step {i}: {event!r} -> {outcome!r}, machine {seen}"
        terminal = outcome.terminal
        assert model.state == terminal.state, f"step {i}: {event!r}"  # type: ignore[attr-defined]
        assert model.version == terminal.version
        assert model.data == dict(terminal.data)
        clock.advance(minutes=1)


class TestToMachineDifferential:
    @given(doc=lifecycle_docs(), data=st.data())
    def test_random_lifecycles_decide_like_the_transitions_machine_built_from_them(
        self, doc: dict[str, Any], data: st.DataObject
    ) -> None:
        lifecycle = build(doc)
        payloads = st.fixed_dictionaries({"outcomes": guard_outcomes(), "tag": st.integers(0, 3)})
        terminal = lifecycle.new_terminal("T-diff", {"steps": 0})
        _drive_both(data, lifecycle, terminal, payloads, max_steps=15)

    @given(data=st.data())
    def test_the_default_lifecycle_decides_like_its_transitions_machine(
        self, data: st.DataObject
    ) -> None:
        lifecycle = posflow.default_lifecycle()
        complete = {"name": "Ming", "contact_phone": "13812345678", "shop_address": "1 Road"}
        gaps = st.fixed_dictionaries(
            {}, optional=dict.fromkeys(complete, st.sampled_from(["", "  ", None]))
        )
        payloads = st.fixed_dictionaries(
            # every payload carries a valid amount: a failing effect is where the two
            # runtimes differ on purpose (posflow refuses, transitions has already moved)
            {"amount": st.integers(1, 10**6)},
            optional={
                "cause": st.sampled_from(["relocation", "fraud"]),
                "operator": st.sampled_from(["01", "02"]),
            },
        )
        # now and then the event's payload blanks part of the application form
        payloads = st.tuples(payloads, st.integers(0, 5), gaps).map(
            lambda p: {**p[0], "merchant": p[2]} if p[1] == 0 else p[0]
        )
        merchant = {**complete, **data.draw(gaps, label="initial gaps")}
        terminal = lifecycle.new_terminal("T-default", {"merchant": merchant})
        _drive_both(data, lifecycle, terminal, payloads, max_steps=40)


class TestToMachine:
    def test_builds_a_machine_on_a_fresh_model_when_none_is_given(self) -> None:
        lifecycle = build(
            {
                "initial": "a",
                "states": ["a", {"name": "b", "final": True}],
                "transitions": [["go", "a", "b"]],
            }
        )
        machine = lifecycle.to_machine()
        assert isinstance(machine, Machine)
        (model,) = machine.models
        assert model.trigger("go") is True
        assert (model.state, model.version) == ("b", 1)

    def test_an_invalid_trigger_returns_false_by_default(self) -> None:
        lifecycle = posflow.default_lifecycle()
        (model,) = lifecycle.to_machine().models
        assert model.trigger("close") is False
        assert model.trigger(UNKNOWN_EVENT) is False
        assert model.state == lifecycle.initial

    def test_guards_read_the_context_set_on_the_model(self) -> None:
        lifecycle = build(
            {
                "initial": "a",
                "states": ["a", {"name": "b", "final": True}],
                "transitions": [
                    {"trigger": "go", "source": "a", "dest": "b", "conditions": "pool.g0"}
                ],
            }
        )
        (model,) = lifecycle.to_machine().models
        model.ctx = posflow.Context({"outcomes": {"pool.g0": "reason"}})
        assert model.trigger("go") is False
        model.ctx = posflow.Context({"outcomes": {"pool.g0": "pass"}})
        assert model.trigger("go") is True

    def test_effects_change_the_model_data_and_see_the_state_left(self) -> None:
        lifecycle = build(
            {
                "initial": "a",
                "states": ["a", {"name": "b", "final": True}],
                "transitions": [{"trigger": "go", "source": "a", "dest": "b", "effect": "trail"}],
            }
        )
        (model,) = lifecycle.to_machine().models
        model.trigger("go")
        assert model.data == {"trail": ["a"]}

    def test_an_unless_guard_that_raises_blocks_the_machine_as_it_blocks_the_engine(self) -> None:
        lifecycle = build(
            {
                "initial": "a",
                "states": ["a", {"name": "b", "final": True}],
                "transitions": [{"trigger": "go", "source": "a", "dest": "b", "unless": "pool.g0"}],
            }
        )
        ctx = posflow.Context({"outcomes": {"pool.g0": "raise"}})
        assert lifecycle.fire(lifecycle.new_terminal("T"), "go", ctx).codes == ("guard.error",)
        (model,) = lifecycle.to_machine().models
        assert model.trigger("go", ctx=ctx) is False
        assert model.state == "a"

    def test_keyword_arguments_reach_the_machine(self) -> None:
        lifecycle = posflow.default_lifecycle()
        machine = lifecycle.to_machine(ignore_invalid_triggers=False)
        (model,) = machine.models
        with pytest.raises(MachineError):
            model.trigger("close")


_MERMAID_EDGE = re.compile(r"^    (\S+) --> (\S+): (.+)$")
_DOT_EDGE = re.compile(r'^    "([^"]+)" -> "([^"]+)" \[label="([^"]*)"\];$')


def _edges(lifecycle: posflow.Lifecycle) -> set[tuple[str, str, str]]:
    return {(src, t.dest_from(src), t.trigger) for t in lifecycle.transitions for src in t.source}


def _parsed(text: str, pattern: re.Pattern[str]) -> set[tuple[str, str, str]]:
    out = set()
    for line in text.splitlines():
        m = pattern.match(line)
        if m and m.group(1) != "__start__":
            out.update((m.group(1), m.group(2), e) for e in m.group(3).split(", "))
    return out


class TestDiagram:
    @given(doc=lifecycle_docs())
    def test_mermaid_shows_every_state_and_every_edge_once(self, doc: dict[str, Any]) -> None:
        lifecycle = build(doc)
        text = lifecycle.diagram("mermaid")
        assert text.startswith("stateDiagram-v2\n")
        assert f"    [*] --> {lifecycle.initial}" in text.splitlines()
        assert _parsed(text, _MERMAID_EDGE) == _edges(lifecycle)
        shown = set(re.findall(r"\b(s\d+)\b", text))
        assert shown == set(lifecycle.states)
        finals = set(re.findall(r"^    (\S+) --> \[\*\]$", text, re.M))
        assert finals == lifecycle.final_states

    @given(doc=lifecycle_docs())
    def test_dot_shows_every_state_and_every_edge_once(self, doc: dict[str, Any]) -> None:
        lifecycle = build(doc)
        text = lifecycle.diagram("dot")
        assert text.startswith('digraph "random" {')
        assert text.rstrip().endswith("}")
        assert _parsed(text, _DOT_EDGE) == _edges(lifecycle)
        nodes = set(re.findall(r'^    "([^"]+)"(?: \[peripheries=2\])?;$', text, re.M))
        assert nodes == set(lifecycle.states)
        finals = set(re.findall(r'^    "([^"]+)" \[peripheries=2\];$', text, re.M))
        assert finals == lifecycle.final_states
        assert f'"__start__" -> "{lifecycle.initial}";' in text

    def test_the_default_lifecycle_draws_every_transition(self) -> None:
        lifecycle = posflow.default_lifecycle()
        assert _parsed(lifecycle.diagram(), _MERMAID_EDGE) == _edges(lifecycle)
        assert _parsed(lifecycle.diagram("dot"), _DOT_EDGE) == _edges(lifecycle)

    def test_dot_quotes_names_that_need_it(self) -> None:
        lifecycle = posflow.Lifecycle(
            [posflow.State('say "hi"', final=True)],
            [posflow.Transition("go", 'say "hi"', "=")],
            'say "hi"',
        )
        assert r'"say \"hi\""' in lifecycle.diagram("dot")

    def test_an_unknown_format_is_invalid_input(self) -> None:
        with pytest.raises(posflow.errors.InvalidInput, match="svg") as caught:
            posflow.default_lifecycle().diagram("svg")  # type: ignore[arg-type]
        assert caught.value.field == "fmt"


def test_the_effects_of_the_pool_are_named() -> None:
    assert set(EFFECTS) == {"count", "trail", "nothing"}
    assert set(POOL) == {f"pool.g{i}" for i in range(5)}
