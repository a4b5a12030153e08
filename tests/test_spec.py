"""Building lifecycles in Python: ``State``, ``Transition`` and every definition problem."""

from __future__ import annotations

from typing import Any

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

    @pytest.mark.parametrize(
        "kwargs",
        [{"source": None}, {"source": 5}, {"conditions": 5}, {"unless": 5.0}],
        ids=["source-none", "source-int", "conditions-int", "unless-float"],
    )
    def test_a_field_of_the_wrong_type_is_kept_for_the_lifecycle_to_name(
        self, kwargs: dict[str, Any]
    ) -> None:
        fields: dict[str, Any] = {"trigger": "go", "source": "a", "dest": "b", **kwargs}
        t = Transition(**fields)  # no TypeError here: Lifecycle lists it with its place
        assert t.trigger == "go"

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

    def test_transitions_may_be_trigger_source_dest_lists_as_from_dict_takes_them(self) -> None:
        lc = Lifecycle(
            ["a", "b", State("c", final=True)],
            [["go", "a", "b"], ("stop", ["a", "b"], "c")],  # type: ignore[list-item]
            "a",
        )
        assert lc.transitions == (
            Transition("go", "a", "b"),
            Transition("stop", ["a", "b"], "c"),
        )
        assert lc.fire(lc.new_terminal("T"), "go").terminal.state == "b"

    def test_an_effect_may_be_named_as_one_of_the_default_effects(self) -> None:
        lc = Lifecycle(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", effect="record_receipt")],  # type: ignore[arg-type]
            "a",
        )
        assert lc.transitions[0].effect is posflow.default_effects()["record_receipt"]
        assert lc.to_dict()["transitions"][0]["effect"] == "record_receipt"
        t = lc.new_terminal("T", {"sn": "SN-1"})
        at = posflow.FrozenClock().now()
        data = lc.fire(t, "go", posflow.Context(at=at)).terminal.data
        assert (data["sn"], data["received_at"]) == ("SN-1", at.isoformat())

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

    def test_an_effect_name_no_default_effect_has_is_an_unknown_effect(self) -> None:
        with pytest.raises(InvalidDefinition) as caught:
            Lifecycle(
                ["a", State("b", final=True)],
                [Transition("go", "a", "b", effect="nope")],  # type: ignore[arg-type]
                "a",
            )
        (problem,) = caught.value.problems
        assert (problem.kind, problem.where) == ("unknown_effect", "transitions[0] (go).effect")
        assert "unknown effect 'nope'" in problem.message

    def test_an_effect_that_is_neither_a_name_nor_callable_is_malformed(self) -> None:
        problems = _problems(
            ["a", State("b", final=True)],
            [Transition("go", "a", "b", effect=5)],  # type: ignore[arg-type]
            "a",
        )
        assert problems == [("malformed", "transitions[0] (go).effect")]

    def test_a_transition_of_nones_lists_its_trigger_source_and_dest(self) -> None:
        problems = _problems(["a", State("b", final=True)], [Transition(None, None, None)], "a")  # type: ignore[arg-type]
        assert problems == [
            ("malformed", "transitions[0] (None)"),
            ("malformed", "transitions[0] (None).source"),
            ("malformed", "transitions[0] (None).dest"),
        ]

    def test_sources_and_guards_of_the_wrong_type_are_malformed(self) -> None:
        problems = _problems(
            ["a", State("b", final=True)],
            [
                Transition("go", 5, "b"),  # type: ignore[arg-type]
                Transition("go", [["a"]], "b"),  # type: ignore[list-item]
                Transition("stop", "a", ["b"], conditions=5),  # type: ignore[arg-type]
            ],
            "a",
        )
        assert problems == [
            ("malformed", "transitions[0] (go).source"),
            ("malformed", "transitions[1] (go).source"),
            ("malformed", "transitions[2] (stop).dest"),
            ("malformed", "transitions[2] (stop).conditions[0]"),
        ]

    @pytest.mark.parametrize("item", [{"trigger": "go"}, "go", ["go", "a"], 5])
    def test_a_transition_that_is_neither_a_transition_nor_a_list_of_three_is_malformed(
        self, item: Any
    ) -> None:
        problems = _problems(["a", State("b", final=True)], [item], "a")
        assert problems == [("malformed", "transitions[0]")]

    @pytest.mark.parametrize(
        ("states", "transitions"),
        [
            (None, [Transition("go", "a", "b")]),
            (["a", "b"], 5),
            ("ab", [Transition("go", "a", "b")]),
        ],
        ids=["states-none", "transitions-int", "states-string"],
    )
    def test_states_or_transitions_that_are_not_a_list_are_malformed(
        self, states: Any, transitions: Any
    ) -> None:
        (problem,) = _problems(states, transitions, "a")
        assert problem[0] == "malformed"
        assert problem[1] in {"states", "transitions"}

    def test_a_state_that_is_neither_a_state_nor_a_name_is_malformed(self) -> None:
        with pytest.raises(InvalidDefinition) as caught:
            Lifecycle([1, "a", State("b", final=True)], [Transition("go", "a", "b")], "a")  # type: ignore[list-item]
        assert [str(p) for p in caught.value.problems] == [
            "states[0]: a state must be a State or a name, got int"
        ]

    @pytest.mark.parametrize("final", ["no", 1, None])
    def test_final_must_be_a_bool(self, final: Any) -> None:
        problems = _problems(["a", State("b", final=final)], [Transition("go", "a", "b")], "a")
        assert problems == [("malformed", "states[1] (b).final")]

    def test_an_initial_state_that_is_not_a_name_is_malformed(self) -> None:
        problems = _problems(["a", State("b", final=True)], [Transition("go", "a", "b")], ["a"])
        assert problems == [("malformed", "initial")]

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
