"""Loading lifecycles from dicts and YAML, JSON and TOML files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

import posflow
from posflow import Lifecycle
from posflow.errors import InvalidDefinition
from strategies import EFFECTS, POOL, build, documents, lifecycle_docs

DATA = Path(__file__).parent / "data"

KIOSK_CHECK = posflow.reason_spec(
    "stock.kiosk_check_failed",
    retryable=False,
    en="Kiosk check {check} failed.",
    zh_cn="自助机检查 {check} 未通过。",
    remedy_en="Fix {check}.",
    remedy_zh_cn="请处理 {check}。",
)


def _flag(name: str) -> posflow.guards.Guard:
    """A guard that holds when the payload sets ``name`` to true."""

    def check(terminal: posflow.Terminal, ctx: posflow.Context) -> tuple[posflow.Reason, ...]:
        return () if ctx.payload.get(name) else (KIOSK_CHECK.reason(check=name),)

    return posflow.guard(f"kiosk.{name}")(check)


KIOSK_GUARDS = posflow.GuardRegistry.of(
    *(_flag(n) for n in ("powered", "paper_loaded", "paperless", "under_repair"))
)


def _stamp(terminal: posflow.Terminal, ctx: posflow.Context) -> dict[str, Any]:
    return {"opened_at": ctx.now().isoformat()}


def _count_sale(terminal: posflow.Terminal, ctx: posflow.Context) -> dict[str, Any]:
    return {"sales": int(terminal.data.get("sales", 0)) + 1}


KIOSK_EFFECTS = {"stamp": _stamp, "count_sale": _count_sale}


def _load(path: Path) -> Lifecycle:
    return Lifecycle.from_file(path, guards=KIOSK_GUARDS, effects=KIOSK_EFFECTS)


def _failure(path: Path, **kwargs: Any) -> InvalidDefinition:
    with pytest.raises(InvalidDefinition) as caught:
        Lifecycle.from_file(path, **kwargs)
    return caught.value


def _dict_failure(doc: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDefinition) as caught:
        Lifecycle.from_dict(doc, **kwargs)
    return [(p.kind, p.where) for p in caught.value.problems]


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


MINIMAL = {
    "initial": "a",
    "states": ["a", {"name": "b", "final": True}],
    "transitions": [["go", "a", "b"]],
}


class TestFromFile:
    @pytest.mark.parametrize("name", ["kiosk.yaml", "kiosk.json", "kiosk.toml"])
    def test_every_format_loads_the_same_lifecycle(self, name: str) -> None:
        lc = _load(DATA / name)
        assert lc.to_dict() == _load(DATA / "kiosk.yaml").to_dict()
        assert lc.name == "kiosk"
        assert lc.states == ("ordered", "installed", "open", "retired")
        assert lc.final_states == frozenset({"retired"})
        assert lc.events == ("install", "open", "sell", "close", "retire")
        assert lc.state_specs[1].description == "The kiosk stands in the shop."
        assert lc.transitions[-1].description == "Taken out of service."

    @pytest.mark.parametrize("name", ["kiosk.yaml", "kiosk.json", "kiosk.toml"])
    def test_a_loaded_lifecycle_runs_its_composite_guards_and_named_effects(
        self, name: str
    ) -> None:
        lc = _load(DATA / name)
        ctx = posflow.Context(clock=posflow.FrozenClock())
        t = lc.fire(lc.new_terminal("K1"), "install", ctx).raise_for_blocked().terminal
        refused = lc.fire(t, "open", ctx.with_payload(under_repair=True))
        assert refused.codes == (
            "stock.kiosk_check_failed",  # powered
            "stock.kiosk_check_failed",  # paper_loaded (any_of explains every alternative)
            "stock.kiosk_check_failed",  # paperless
            "lifecycle.blocking_condition_present",  # unless under_repair
        )
        assert [r.params.get("check") for r in refused.reasons[:3]] == [
            "powered",
            "paper_loaded",
            "paperless",
        ]
        opened = lc.fire(t, "open", ctx.with_payload(powered=True, paperless=True))
        assert opened.ok
        assert opened.terminal.data["opened_at"] == "2026-01-01T09:00:00+00:00"
        sold = lc.fire(opened.terminal, "sell", ctx.with_payload(powered=True))
        assert (sold.terminal.state, sold.terminal.data["sales"]) == ("open", 1)
        blocked = lc.fire(sold.terminal, "sell", ctx.with_payload(powered=True, under_repair=True))
        assert blocked.codes == ("lifecycle.blocking_condition_present",)

    def test_a_path_may_be_a_string_and_the_extension_any_case(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "KIOSK.YML", (DATA / "kiosk.yaml").read_text(encoding="utf-8"))
        lc = Lifecycle.from_file(str(path), guards=KIOSK_GUARDS, effects=KIOSK_EFFECTS)
        assert lc.name == "kiosk"

    def test_every_problem_of_a_file_is_reported_with_the_file_named(self) -> None:
        error = _failure(DATA / "broken.yaml", guards=POOL, effects=EFFECTS)
        assert error.source == str(DATA / "broken.yaml")
        assert [(p.kind, p.where) for p in error.problems] == [
            ("unknown_effect", "transitions[2] (back).effect"),
            ("duplicate_state", "states[2]"),
            ("unknown_state", "initial"),
            ("unknown_state", "transitions[0] (go).dest"),
            ("duplicate_transition", "transitions[1] (go)"),
            ("unknown_guard", "transitions[1] (go).conditions[0]"),
            ("unknown_state", "transitions[2] (back).source"),
        ]
        assert str(DATA / "broken.yaml") in str(error)

    @pytest.mark.parametrize(
        ("name", "text", "where"),
        [
            ("bad.yaml", "initial: a\nstates: [a, b\n", "line 3, column 1"),
            ("bad.yaml", "initial: a\n  states: [a]\n", "line 2, column 9"),
            ("bad.json", '{"initial": "a", "states": [}', "line 1, column 29"),
            ("bad.toml", "initial = \nstates = []\n", "document"),
        ],
    )
    def test_a_syntax_error_is_malformed_with_its_position(
        self, tmp_path: Path, name: str, text: str, where: str
    ) -> None:
        error = _failure(_write(tmp_path, name, text))
        ((problem,),) = [error.problems]
        assert (problem.kind, problem.where) == ("malformed", where)
        assert problem.message

    @pytest.mark.parametrize(("name", "text"), [("e.yaml", ""), ("e.json", "  \n"), ("e.toml", "")])
    def test_an_empty_file_is_an_empty_definition(
        self, tmp_path: Path, name: str, text: str
    ) -> None:
        error = _failure(_write(tmp_path, name, text))
        assert [(p.kind, p.where) for p in error.problems] == [("empty_definition", "document")]

    def test_a_yaml_file_holding_only_comments_is_empty(self, tmp_path: Path) -> None:
        error = _failure(_write(tmp_path, "c.yaml", "# nothing yet\n"))
        assert error.kinds == {"empty_definition"}

    @pytest.mark.parametrize(
        ("name", "text"), [("l.yaml", "- a\n- b\n"), ("l.json", "[1, 2]"), ("s.json", '"text"')]
    )
    def test_a_top_level_that_is_not_a_mapping_is_malformed(
        self, tmp_path: Path, name: str, text: str
    ) -> None:
        error = _failure(_write(tmp_path, name, text))
        assert [(p.kind, p.where) for p in error.problems] == [("malformed", "document")]
        assert "mapping" in error.problems[0].message

    def test_wrong_types_in_a_file_are_malformed_with_their_location(self, tmp_path: Path) -> None:
        text = (
            '{"initial": "a", "states": "a",'
            ' "transitions": [{"trigger": 3, "source": "a", "dest": "a"}]}'
        )
        error = _failure(_write(tmp_path, "t.json", text))
        assert [(p.kind, p.where) for p in error.problems] == [
            ("malformed", "states"),
            ("malformed", "transitions[0].trigger"),
        ]

    def test_an_unsupported_extension_is_malformed(self, tmp_path: Path) -> None:
        error = _failure(_write(tmp_path, "life.ini", "[x]"))
        assert error.kinds == {"malformed"}
        assert ".ini" in error.problems[0].message

    def test_a_missing_file_is_malformed(self, tmp_path: Path) -> None:
        error = _failure(tmp_path / "absent.yaml")
        assert error.kinds == {"malformed"}
        assert "cannot read" in error.problems[0].message

    def test_a_directory_is_not_a_readable_file(self, tmp_path: Path) -> None:
        (tmp_path / "dir.json").mkdir()
        assert _failure(tmp_path / "dir.json").kinds == {"malformed"}

    def test_a_file_that_is_not_utf8_is_malformed(self, tmp_path: Path) -> None:
        error = _failure(_write(tmp_path, "latin.yaml", "initial: caf\xe9\n".encode("latin-1")))
        assert error.kinds == {"malformed"}
        assert "cannot read" in error.problems[0].message


class TestFromDict:
    def test_the_list_form_is_trigger_source_dest(self) -> None:
        lc = Lifecycle.from_dict(MINIMAL)
        assert lc.transitions == (posflow.Transition("go", "a", "b"),)
        assert lc.name == "lifecycle"

    def test_a_single_condition_may_be_given_without_a_list(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [{"trigger": "go", "source": "a", "dest": "b", "conditions": "pool.g0"}],
        }
        lc = Lifecycle.from_dict(doc, guards=POOL)
        assert lc.transitions[0].conditions == ("pool.g0",)

    def test_null_conditions_mean_none(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [{"trigger": "go", "source": "a", "dest": "b", "conditions": None}],
        }
        assert Lifecycle.from_dict(doc).transitions[0].conditions == ()

    def test_names_are_stripped_of_surrounding_spaces(self) -> None:
        doc = {
            "initial": " a",
            "states": ["a ", {"name": "b", "final": True}],
            "transitions": [[" go", "a", "b"]],
        }
        lc = Lifecycle.from_dict(doc)
        assert (lc.initial, lc.states, lc.events) == ("a", ("a", "b"), ("go",))

    @pytest.mark.parametrize(
        ("condition", "outcomes", "codes"),
        [
            ({"any_of": ["pool.g0", "pool.g1"]}, {"pool.g0": "reason"}, ()),
            (
                {"any_of": ["pool.g0", "pool.g1"]},
                {"pool.g0": "reason", "pool.g1": "false"},
                ("compliance.pool_rule_failed", "guard.refused"),
            ),
            (
                {"all_of": ["pool.g0", "pool.g1"]},
                {"pool.g0": "reason", "pool.g1": "false"},
                ("compliance.pool_rule_failed", "guard.refused"),
            ),
            ({"not": "pool.g0"}, {}, ("lifecycle.blocking_condition_present",)),
            ({"not": "pool.g0"}, {"pool.g0": "reason"}, ()),
            (
                {"not": {"not": "pool.g0"}},
                {"pool.g0": "false"},
                ("lifecycle.blocking_condition_present",),
            ),
        ],
    )
    def test_composite_conditions_behave_like_the_python_composers(
        self, condition: Any, outcomes: dict[str, str], codes: tuple[str, ...]
    ) -> None:
        doc = {
            **MINIMAL,
            "transitions": [
                {"trigger": "go", "source": "a", "dest": "b", "conditions": [condition]}
            ],
        }
        lc = Lifecycle.from_dict(doc, guards=POOL)
        verdict = lc.check(lc.new_terminal("T"), "go", posflow.Context({"outcomes": outcomes}))
        assert verdict.codes == codes

    def test_unless_refuses_while_its_guard_holds(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [{"trigger": "go", "source": "a", "dest": "b", "unless": ["pool.g0"]}],
        }
        lc = Lifecycle.from_dict(doc, guards=POOL)
        t = lc.new_terminal("T")
        holds = lc.check(t, "go", posflow.Context({"outcomes": {"pool.g0": "pass"}}))
        assert holds.codes == ("lifecycle.blocking_condition_present",)
        assert holds.reasons[0].guard == "pool.g0"
        assert holds.reasons[0].message() == (
            "'pool.g0' holds, and this step is allowed only while it does not."
        )
        assert lc.check(t, "go", posflow.Context({"outcomes": {"pool.g0": "reason"}}))

    def test_effects_are_looked_up_by_name(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [{"trigger": "go", "source": "a", "dest": "b", "effect": "count"}],
        }
        lc = Lifecycle.from_dict(doc, effects=EFFECTS)
        assert lc.transitions[0].effect is EFFECTS["count"]
        assert lc.fire(lc.new_terminal("T"), "go").terminal.data["steps"] == 1

    def test_an_unknown_effect_is_reported_with_its_location(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [{"trigger": "go", "source": "a", "dest": "b", "effect": "nope"}],
        }
        assert _dict_failure(doc) == [("unknown_effect", "transitions[0] (go).effect")]

    def test_an_unknown_effect_alone_still_fails_the_build(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [{"trigger": "go", "source": "a", "dest": "b", "effect": "x"}],
        }
        assert _dict_failure(doc, effects=EFFECTS) == [
            ("unknown_effect", "transitions[0] (go).effect")
        ]

    def test_an_empty_mapping_is_an_empty_definition(self) -> None:
        assert _dict_failure({}) == [("empty_definition", "document")]

    def test_something_other_than_a_mapping_is_malformed(self) -> None:
        assert _dict_failure(["initial", "a"]) == [("malformed", "document")]

    @pytest.mark.parametrize(
        ("doc", "expected"),
        [
            ({**MINIMAL, "extra": 1}, [("malformed", "extra")]),
            ({"states": ["a"], "transitions": []}, [("malformed", "initial")]),
            ({**MINIMAL, "states": "a"}, [("malformed", "states")]),
            ({**MINIMAL, "transitions": [["go", "a"]]}, [("malformed", "transitions[0]")]),
            (
                {**MINIMAL, "transitions": [{"trigger": "go", "source": [], "dest": "b"}]},
                [("malformed", "transitions[0].source")],
            ),
            (
                {**MINIMAL, "transitions": [{"trigger": " ", "source": "a", "dest": "b"}]},
                [("malformed", "transitions[0].trigger")],
            ),
            (
                {
                    **MINIMAL,
                    "transitions": [{"trigger": "go", "source": "a", "dest": "b", "when": 1}],
                },
                [("malformed", "transitions[0].when")],
            ),
            ({**MINIMAL, "name": None}, [("malformed", "name")]),
        ],
    )
    def test_wrong_types_and_extra_keys_are_malformed_with_their_location(
        self, doc: dict[str, Any], expected: list[tuple[str, str]]
    ) -> None:
        assert _dict_failure(doc) == expected

    def test_a_malformed_composite_condition_points_into_the_condition(self) -> None:
        doc = {
            **MINIMAL,
            "transitions": [
                {
                    "trigger": "go",
                    "source": "a",
                    "dest": "b",
                    "conditions": [{"not": {"any_of": []}}],
                }
            ],
        }
        problems = _dict_failure(doc)
        assert {kind for kind, _ in problems} == {"malformed"}
        assert ("malformed", "transitions[0].conditions[0].not.any_of") in problems

    def test_every_problem_of_a_document_is_reported(self) -> None:
        doc = {
            "initial": "a",
            "states": ["a", "b", "c"],
            "transitions": [
                {"trigger": "go", "source": "a", "dest": "b", "effect": "nope"},
                ["go", "a", "zz"],
                {"trigger": "x", "source": "a", "dest": "c", "conditions": "nope.guard"},
            ],
        }
        assert _dict_failure(doc) == [
            ("unknown_effect", "transitions[0] (go).effect"),
            ("duplicate_transition", "transitions[1] (go)"),
            ("unknown_state", "transitions[1] (go).dest"),
            ("unknown_guard", "transitions[2] (x).conditions[0]"),
        ]

    def test_a_malformed_item_does_not_hide_the_problems_of_the_others(self) -> None:
        doc = {
            "initial": "a",
            "states": ["a", {"name": "b", "colour": 1}, "b", "a"],
            "transitions": [
                {"trigger": "go4", "source": "a", "dest": "b", "colour": "red"},
                ["go", "a", "c"],
                ["only_two", "a"],
                {"trigger": "back", "source": "b", "dest": "a", "conditions": ["no.such"]},
                {"trigger": "go", "source": "a", "dest": "b"},
            ],
        }
        with pytest.raises(InvalidDefinition) as caught:
            Lifecycle.from_dict(doc)
        problems = caught.value.problems
        found = {(p.kind, p.where) for p in problems}
        # the malformed items, then the others' problems, each where it is in the document
        assert {
            ("malformed", "transitions[0].colour"),
            ("malformed", "transitions[2]"),
            ("malformed", "states[1].colour"),
            ("duplicate_state", "states[3]"),
            ("unknown_state", "transitions[1] (go).dest"),
            ("unknown_guard", "transitions[3] (back).conditions[0]"),
            ("duplicate_transition", "transitions[4] (go)"),
        } <= found
        # the graph is not judged without the parts left out
        assert not {"unreachable_state", "dead_end"} & {p.kind for p in problems}
        (dup,) = [p for p in problems if p.kind == "duplicate_transition"]
        assert "transitions[1]" in dup.message
        (two,) = [p for p in problems if p.where == "transitions[2]"]
        assert "list [trigger, source, dest]" in two.message
        assert "_TransitionDoc" not in str(caught.value)

    def test_the_source_argument_names_the_document_in_errors(self) -> None:
        with pytest.raises(InvalidDefinition, match=r"in onboarding\.yaml") as caught:
            Lifecycle.from_dict({}, source="onboarding.yaml")
        assert caught.value.source == "onboarding.yaml"

    @given(doc=documents())
    def test_loading_any_document_raises_nothing_but_invalid_definition(self, doc: Any) -> None:
        problems: tuple[posflow.errors.DefinitionProblem, ...] = ()
        try:
            lc = Lifecycle.from_dict(doc, guards=POOL, effects=EFFECTS)
        except InvalidDefinition as exc:
            problems = exc.problems
            assert problems
        else:
            assert lc.initial in lc.states
        assert all(p.kind and p.where and p.message for p in problems)


class TestToDict:
    @given(doc=lifecycle_docs())
    def test_a_document_survives_a_round_trip(self, doc: dict[str, Any]) -> None:
        lc = build(doc)
        again = build(lc.to_dict())
        assert again.to_dict() == lc.to_dict()
        assert again.states == lc.states
        assert again.final_states == lc.final_states
        assert {
            (src, t.trigger, t.dest_from(src)) for t in again.transitions for src in t.source
        } == {(src, t.trigger, t.dest_from(src)) for t in lc.transitions for src in t.source}

    def test_guard_objects_and_effects_are_written_by_name(self) -> None:
        g0 = POOL["pool.g0"]
        lc = Lifecycle(
            ["a", posflow.State("b", final=True, description="done")],
            [
                posflow.Transition(
                    "go",
                    "a",
                    "b",
                    conditions=[g0, posflow.any_of("pool.g1", posflow.not_(g0))],
                    unless=posflow.all_of("pool.g2"),
                    effect=EFFECTS["count"],
                )
            ],
            "a",
            guards=POOL,
            name="n",
        )
        assert lc.to_dict() == {
            "name": "n",
            "initial": "a",
            "states": ["a", {"name": "b", "final": True, "description": "done"}],
            "transitions": [
                {
                    "trigger": "go",
                    "source": ["a"],
                    "dest": "b",
                    "conditions": ["pool.g0", {"any_of": ["pool.g1", {"not": "pool.g0"}]}],
                    "unless": [{"all_of": ["pool.g2"]}],
                    "effect": "count",
                }
            ],
        }

    def test_the_default_lifecycle_round_trips_with_its_effects(self) -> None:
        lc = posflow.default_lifecycle()
        effects = {t.effect.__name__: t.effect for t in lc.transitions if t.effect is not None}
        again = Lifecycle.from_dict(lc.to_dict(), effects=effects)
        assert again.to_dict() == lc.to_dict()
        assert again.transitions == lc.transitions


class TestDuplicateKeys:
    @pytest.mark.parametrize(
        ("suffix", "text"),
        [
            (".yaml", "initial: a\ninitial: b\nstates: [a]\ntransitions: []\n"),
            (".json", '{"initial": "a", "initial": "b", "states": ["a"], "transitions": []}'),
        ],
    )
    def test_a_key_given_twice_is_a_malformed_document_not_a_silent_last_win(
        self, tmp_path: Path, suffix: str, text: str
    ) -> None:
        path = tmp_path / f"twice{suffix}"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidDefinition) as info:
            Lifecycle.from_file(path)
        (problem,) = info.value.problems
        assert problem.kind == "malformed"
        assert "'initial' appears twice" in problem.message
