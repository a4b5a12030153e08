"""Building lifecycles in Python: ``State``, ``Transition`` and every definition problem."""

from __future__ import annotations

import attrs
import pytest

import posflow
from posflow import Lifecycle, State, Transition
from posflow.errors import DefinitionProblem, InvalidDefinition


@posflow.guard("test.always")
def always(terminal: posflow.Terminal, ctx: posflow.Context) -> tuple[posflow.Reason, ...]:
    return ()


GUARDS = posflow.GuardRegistry.of(always)


def _problems(*args: object, **kwargs: object) -> list[tuple[str, str]]:
    """Build, expect a failure, and return its (kind, where) pairs."""
    kwargs.setdefault("guards", GUARDS)
    with pytest.raises(InvalidDefinition) as caught:
        Lifecycle(*args, **kwargs)  # type: ignore[arg-type]
    return [(p.kind, p.where) for p in caught.value.problems]


class TestState:
    def test_a_state_is_a_frozen_value_with_defaults(self) -> None:
        s = State("in_stock")
        assert (s.name, s.final, s.description) == ("in_stock", False, "")
        assert s == State("in_stock")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            s.name = "other"  # type: ignore[misc]


class TestTransition:
    def test_a_single_source_name_becomes_a_one_element_tuple(self) -> None:
        t = Transition("ship", "reviewed", "shipped")
        assert t.source == ("reviewed",)

    def test_several_sources_are_kept_in_order(self) -> None:
        t = Transition("suspend", ["activated", "signed_in"], "suspended")
        assert t.source == ("activated", "signed_in")

    def test_a_single_guard_becomes_a_one_element_tuple(self) -> None:
        assert Transition("go", "a", "b", conditions="test.always").conditions == ("test.always",)
        assert Transition("go", "a", "b", unless=always).unless == (always,)
        assert Transition("go", "a", "b", conditions=None).conditions == ()

    def test_dest_from_follows_the_stay_marker(self) -> None:
        assert Transition("record_sale", "signed_in", "=").dest_from("signed_in") == "signed_in"
        assert Transition("settle", "signed_in", "settled").dest_from("signed_in") == "settled"

    def test_effects_do_not_take_part_in_equality(self) -> None:
        assert Transition("go", "a", "b", effect=lambda t, c: None) == Transition("go", "a", "b")


class TestBuildingInPython:
    def test_states_may_be_given_as_plain_names(self) -> None:
        lc = Lifecycle(["a", State("b", final=True)], [Transition("go", "a", "b")], "a")
        assert lc.states == ("a", "b")
        assert lc.final_states == frozenset({"b"})
        assert lc.state_specs == (State("a"), State("b", final=True))

    def test_guards_may_be_a_plain_mapping(self) -> None:
        lc = Lifecycle(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", conditions="mine.ok")],
            "a",
            guards={"mine.ok": always},
        )
        assert list(lc.guards) == ["mine.ok"]
        assert lc.check(lc.new_terminal("T"), "go")

    def test_without_a_registry_names_resolve_against_the_default_guards(self) -> None:
        lc = Lifecycle(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", conditions="session.batch_settled")],
            "a",
        )
        assert set(lc.guards) == set(posflow.default_guards())

    def test_guard_objects_need_no_registry_entry(self) -> None:
        lc = Lifecycle(
            ["a", State("b", final=True)], [Transition("go", "a", "b", conditions=always)], "a"
        )
        assert lc.fire(lc.new_terminal("T"), "go").ok

    def test_the_name_labels_the_lifecycle(self) -> None:
        lc = Lifecycle(["a", State("b", final=True)], [Transition("go", "a", "b")], "a", name="x")
        assert lc.name == "x"
        assert repr(lc) == "<Lifecycle 'x': 2 states, 1 transitions, initial 'a'>"

    def test_a_self_loop_on_a_final_state_is_a_complete_lifecycle(self) -> None:
        lc = Lifecycle([State("only", final=True)], [Transition("ping", "only", "=")], "only")
        assert lc.fire(lc.new_terminal("T"), "ping").terminal.state == "only"


class TestDefinitionProblems:
    def test_an_empty_definition_names_both_missing_parts(self) -> None:
        assert _problems([], [], "a") == [
            ("empty_definition", "states"),
            ("empty_definition", "transitions"),
        ]

    def test_a_definition_without_transitions_is_empty(self) -> None:
        assert _problems(["a"], [], "a") == [("empty_definition", "transitions")]

    def test_an_unknown_initial_state(self) -> None:
        assert _problems(["a"], [Transition("go", "a", "=")], "nowhere") == [
            ("unknown_state", "initial")
        ]

    def test_an_unknown_source_state(self) -> None:
        problems = _problems(["a", "b"], [Transition("go", ["a", "x"], "b")], "a")
        assert problems == [("unknown_state", "transitions[0] (go).source")]

    def test_an_unknown_destination_state(self) -> None:
        assert _problems(["a"], [Transition("go", "a", "x")], "a") == [
            ("unknown_state", "transitions[0] (go).dest")
        ]

    def test_an_unknown_guard_name_in_conditions_or_unless(self) -> None:
        problems = _problems(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", conditions=["test.always", "nope.x"], unless="nope.y")],
            "a",
        )
        assert problems == [
            ("unknown_guard", "transitions[0] (go).conditions[1]"),
            ("unknown_guard", "transitions[0] (go).unless[0]"),
        ]

    def test_an_unknown_guard_name_inside_a_composite(self) -> None:
        composite = posflow.any_of("test.always", posflow.not_("nope.deep"))
        problems = _problems(
            ["a", State("b", final=True)], [Transition("go", "a", "b", conditions=composite)], "a"
        )
        assert problems == [("unknown_guard", "transitions[0] (go).conditions[0]")]

    def test_a_guard_that_is_neither_a_name_nor_callable(self) -> None:
        problems = _problems(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", conditions=[42])],  # type: ignore[list-item]
            "a",
        )
        assert problems == [("malformed", "transitions[0] (go).conditions[0]")]

    def test_an_unreachable_state(self) -> None:
        problems = _problems(
            ["a", State("b", final=True), State("island", final=True)],
            [Transition("go", "a", "b")],
            "a",
        )
        assert problems == [("unreachable_state", "states[2] (island)")]

    def test_a_non_final_state_without_a_way_out(self) -> None:
        problems = _problems(["a", "b"], [Transition("go", "a", "b")], "a")
        assert problems == [("dead_end", "states[1] (b)")]

    def test_a_self_loop_is_not_a_way_out(self) -> None:
        problems = _problems(
            ["a", "b"], [Transition("go", "a", "b"), Transition("x", "b", "=")], "a"
        )
        assert problems == [("dead_end", "states[1] (b)")]

    def test_a_final_state_may_have_no_way_out(self) -> None:
        lc = Lifecycle(["a", State("b", final=True)], [Transition("go", "a", "b")], "a")
        assert lc.allowed_events("b") == ()

    def test_two_transitions_for_one_state_and_event(self) -> None:
        problems = _problems(
            ["a", State("b", final=True), State("c", final=True)],
            [Transition("go", "a", "b"), Transition("go", ["c", "a"], "c")],
            "a",
        )
        assert problems == [("duplicate_transition", "transitions[1] (go)")]

    def test_a_state_declared_twice(self) -> None:
        problems = _problems(["a", State("b", final=True), "a"], [Transition("go", "a", "b")], "a")
        assert problems == [("duplicate_state", "states[2]")]

    def test_a_nameless_state_or_triggerless_transition_is_malformed(self) -> None:
        problems = _problems(["", "a", State("b", final=True)], [Transition("", "a", "b")], "a")
        assert problems == [("malformed", "states[0]"), ("malformed", "transitions[0] ()")]

    def test_a_transition_without_source_is_malformed(self) -> None:
        problems = _problems(["a", State("b", final=True)], [Transition("go", [], "b")], "a")
        assert problems == [("malformed", "transitions[0] (go).source")]

    def test_every_problem_is_collected_in_one_error(self) -> None:
        with pytest.raises(InvalidDefinition) as caught:
            Lifecycle(
                ["a", "b", "a"],
                [
                    Transition("go", "a", "nowhere"),
                    Transition("go", "a", "b", conditions="nope.x"),
                    Transition("back", "ghost", "a"),
                ],
                "start",
                guards=GUARDS,
                name="broken",
            )
        error = caught.value
        assert error.kinds == {
            "duplicate_state",
            "unknown_state",
            "duplicate_transition",
            "unknown_guard",
        }
        assert len(error.problems) == 6
        assert error.source == "broken"
        message = str(error)
        assert "6 problem(s)" in message
        for problem in error.problems:
            assert f"  - {problem.where}: {problem.message}" in message

    def test_graph_problems_are_all_listed_together(self) -> None:
        problems = _problems(
            ["a", "b", "c", "d"],
            [Transition("go", "a", "b"), Transition("back", "b", "a"), Transition("x", "c", "d")],
            "a",
        )
        assert problems == [
            ("unreachable_state", "states[2] (c)"),
            ("unreachable_state", "states[3] (d)"),
            ("dead_end", "states[3] (d)"),
        ]

    def test_the_error_is_a_value_error_and_a_definition_error(self) -> None:
        with pytest.raises(ValueError, match="invalid lifecycle definition"):
            Lifecycle([], [], "a")
        with pytest.raises(posflow.errors.DefinitionError):
            Lifecycle([], [], "a")

    def test_problems_are_values(self) -> None:
        p = DefinitionProblem("states", "the lifecycle declares no states", "empty_definition")
        assert p == DefinitionProblem(
            "states", "the lifecycle declares no states", "empty_definition"
        )
        assert p != DefinitionProblem("states", "other", "empty_definition")
        assert p != "states"
        assert len({p, DefinitionProblem(p.where, p.message, p.kind)}) == 1
        assert str(p) == "states: the lifecycle declares no states"
        assert repr(p) == (
            "DefinitionProblem('empty_definition' at 'states': 'the lifecycle declares no states')"
        )
