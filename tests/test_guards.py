"""Guards: naming, composition (``all_of``, ``any_of``, ``not_``) and ``GuardRegistry``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow import Context, Terminal
from posflow.errors import InvalidInput, PortUnavailable, UnknownGuard
from posflow.guards import guard_name, run_guard

PHOTO = posflow.reason_spec(
    "documents.photo_missing",
    retryable=False,
    en="No {what} photo.",
    zh_cn="缺少{what}照片。",
    remedy_en="Upload the {what} photo.",
    remedy_zh_cn="请上传{what}照片。",
)
T = Terminal("T", "a")
CTX = Context()


def named(name: str, result: Any = (), *, raises: Exception | None = None) -> Any:
    def check(terminal: Terminal, ctx: Context) -> Any:
        if raises is not None:
            raise raises
        return result

    return posflow.guard(name)(check)


ok = named("g.ok")
storefront = named("docs.storefront", (PHOTO.reason(what="storefront"),))
lease = named("docs.lease", [PHOTO.reason(what="lease")])
refuses = named("g.false", False)
broken = named("g.broken", raises=ValueError("bug"))
offline = named("g.offline", raises=PortUnavailable("vault"))


def codes(result: Any) -> list[str]:
    return [r.code for r in result]


class TestGuardNames:
    def test_the_decorator_names_a_guard_and_returns_it_unchanged(self) -> None:
        def raw(terminal: Terminal, ctx: Context) -> None:
            return None

        assert posflow.guard("x.raw")(raw) is raw
        assert guard_name(raw) == "x.raw"

    def test_an_unnamed_function_is_known_by_its_qualified_name(self) -> None:
        def helper(terminal: Terminal, ctx: Context) -> None:
            return None

        assert guard_name(helper).endswith(
            "test_an_unnamed_function_is_known_by_its_qualified_name.<locals>.helper"
        )

    def test_a_callable_object_is_known_by_its_class(self) -> None:
        class Check:
            def __call__(self, terminal: Terminal, ctx: Context) -> None:
                return None

        assert guard_name(Check()).endswith("Check")

    def test_composites_are_named_after_their_parts(self) -> None:
        assert guard_name(posflow.all_of("a.x", ok)) == "all_of(a.x, g.ok)"
        assert (
            guard_name(posflow.any_of(storefront, lease)) == "any_of(docs.storefront, docs.lease)"
        )
        assert guard_name(posflow.not_(posflow.any_of("a.x"))) == "not_(any_of(a.x))"
        assert repr(posflow.not_("a.x")) == "not_(a.x)"


class TestAllOf:
    def test_passes_when_every_part_passes(self) -> None:
        assert posflow.all_of(ok, ok)(T, CTX) == ()

    def test_refuses_with_the_reasons_of_every_failing_part(self) -> None:
        result = posflow.all_of(storefront, ok, lease, refuses)(T, CTX)
        assert codes(result) == [
            "documents.photo_missing",
            "documents.photo_missing",
            "guard.refused",
        ]
        assert result[2].guard == "g.false"

    def test_an_empty_all_of_passes(self) -> None:
        assert posflow.all_of()(T, CTX) == ()

    def test_a_part_that_raises_becomes_guard_error(self) -> None:
        (reason,) = posflow.all_of(ok, broken)(T, CTX)
        assert (reason.code, reason.guard) == ("guard.error", "g.broken")


class TestAnyOf:
    def test_passes_when_one_alternative_passes(self) -> None:
        assert posflow.any_of(storefront, ok, lease)(T, CTX) == ()

    def test_explains_every_alternative_that_failed(self) -> None:
        result = posflow.any_of(storefront, lease)(T, CTX)
        assert [r.params["what"] for r in result] == ["storefront", "lease"]
        assert [r.message() for r in result] == ["No storefront photo.", "No lease photo."]

    def test_a_broken_alternative_does_not_hide_one_that_passes(self) -> None:
        assert posflow.any_of(broken, ok)(T, CTX) == ()
        assert codes(posflow.any_of(broken, offline)(T, CTX)) == ["guard.error", "port.unavailable"]

    def test_needs_at_least_one_alternative(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            posflow.any_of()


class TestChineseMessagesOfFailures:
    @pytest.mark.parametrize(
        ("port", "chinese"),
        [("documents", "资料库服务"), ("host", "收单主机"), ("vault", "vault 服务")],
    )
    def test_a_port_that_did_not_answer_is_named_in_chinese(self, port: str, chinese: str) -> None:
        down = named("g.down", raises=PortUnavailable(port))
        (reason,) = posflow.all_of(down)(T, CTX)
        assert reason.code == "port.unavailable"
        assert chinese in reason.message("zh-CN")
        assert chinese in reason.remedy("zh-CN")
        assert f"The {port} service" in reason.message("en")

    def test_malformed_input_quotes_the_checks_own_words_as_such(self) -> None:
        bad = named("g.bad", raises=InvalidInput("must be a whole number", field="amount"))
        (reason,) = posflow.all_of(bad)(T, CTX)
        assert reason.code == "guard.invalid_input"
        assert "（原文：must be a whole number）" in reason.message("zh-CN")


class TestNot:
    def test_passes_when_the_inner_guard_refuses(self) -> None:
        assert posflow.not_(storefront)(T, CTX) == ()
        assert posflow.not_(refuses)(T, CTX) == ()

    def test_refuses_when_the_inner_guard_passes(self) -> None:
        (reason,) = posflow.not_(ok)(T, CTX)
        assert (reason.code, reason.guard) == ("lifecycle.blocking_condition_present", "g.ok")
        assert reason.message() == "'g.ok' holds, and this step is allowed only while it does not."

    @pytest.mark.parametrize(
        ("inner", "code"), [(broken, "guard.error"), (offline, "port.unavailable")]
    )
    def test_an_inner_guard_that_cannot_run_still_refuses(self, inner: Any, code: str) -> None:
        assert codes(posflow.not_(inner)(T, CTX)) == [code]
        assert codes(posflow.not_(posflow.not_(inner))(T, CTX)) == [code]

    def test_double_negation_is_the_guard_itself(self) -> None:
        assert posflow.not_(posflow.not_(ok))(T, CTX) == ()
        assert codes(posflow.not_(posflow.not_(storefront))(T, CTX)) == [
            "lifecycle.blocking_condition_present"
        ]


class TestCompositesByName:
    def test_names_inside_composites_resolve_against_the_lifecycle_registry(self) -> None:
        registry = posflow.GuardRegistry.of(ok, storefront, lease)
        lc = posflow.Lifecycle(
            ["a", posflow.State("b", final=True)],
            [
                posflow.Transition(
                    "go",
                    "a",
                    "b",
                    conditions=posflow.any_of(
                        "docs.storefront", posflow.all_of("docs.lease", "g.ok")
                    ),
                    unless=posflow.not_("g.ok"),
                )
            ],
            "a",
            guards=registry,
        )
        verdict = lc.check(T, "go")
        assert [r.params["what"] for r in verdict.reasons] == ["storefront", "lease"]

    def test_run_guard_never_raises(self) -> None:
        assert codes(run_guard("x", broken, T, CTX)) == ["guard.error"]
        assert run_guard("x", ok, T, CTX) == ()


class TestGuardResults:
    """What a guard may return: reasons, True, None or False; anything else is a bug in it."""

    @pytest.mark.parametrize("result", [None, True, (), [], set(), frozenset(), iter(())])
    def test_none_true_and_no_reasons_pass(self, result: Any) -> None:
        assert run_guard("g.x", named("g.x", result), T, CTX) == ()

    def test_false_refuses_as_guard_refused(self) -> None:
        assert codes(run_guard("g.x", refuses, T, CTX)) == ["guard.refused"]

    @pytest.mark.parametrize(
        ("result", "kind"),
        [
            (0, "int"),
            (0.0, "float"),
            (0j, "complex"),
            ("", "str"),
            (b"", "bytes"),
            ({}, "dict"),
            (1, "int"),
            ("no", "str"),
            ({PHOTO.reason(what="x"): 1}, "dict"),
        ],
    )
    def test_a_value_that_is_not_a_guard_result_is_guard_error_saying_so(
        self, result: Any, kind: str
    ) -> None:
        (reason,) = run_guard("g.x", named("g.x", result), T, CTX)
        assert reason.code == "guard.error"
        assert reason.guard == "g.x"
        assert isinstance(reason.error, TypeError)
        assert str(reason.error) == (
            f"guard returned {kind}, which is not a guard result "
            "(an iterable of Reason, a bool or None)"
        )

    @pytest.mark.parametrize("result", [0, "", {}])
    def test_composites_judge_a_falsy_non_result_as_the_engine_does(self, result: Any) -> None:
        zero = named("g.zero", result)
        assert codes(posflow.all_of(ok, zero)(T, CTX)) == ["guard.error"]
        assert codes(posflow.any_of(zero)(T, CTX)) == ["guard.error"]
        assert codes(posflow.not_(zero)(T, CTX)) == ["guard.error"]  # an error is not "absent"

    @pytest.mark.parametrize("result", [0, 0.0, "", {}, b""])
    @pytest.mark.parametrize("others", [0, 1, 2, 4], ids=lambda n: f"{n + 1}-guards")
    def test_a_falsy_non_result_refuses_in_check_and_fire_however_many_guards(
        self, result: Any, others: int
    ) -> None:
        # fire calls one or two guards itself and runs engine.decide for more
        guards = (named("g.odd", result), *(named(f"g.ok{i}") for i in range(others)))
        lc = posflow.Lifecycle(
            ["a", posflow.State("b", final=True)],
            [posflow.Transition("go", "a", "b", conditions=guards)],
            "a",
            guards=posflow.GuardRegistry(),
        )
        assert lc.check(T, "go").codes == ("guard.error",)
        out = lc.fire(T, "go")
        assert out.codes == ("guard.error",)
        assert out.terminal is T
        assert lc.available(T)["go"].codes == ("guard.error",)

    @given(
        value=st.one_of(
            st.integers(),
            st.floats(),
            st.complex_numbers(),
            st.text(max_size=3),
            st.binary(max_size=3),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        ),
        others=st.integers(0, 3),
    )
    def test_any_number_text_or_mapping_refuses_truthy_or_not(
        self, value: Any, others: int
    ) -> None:
        guards = (*(named(f"g.ok{i}") for i in range(others)), named("g.odd", value))
        lc = posflow.Lifecycle(
            ["a", posflow.State("b", final=True)],
            [posflow.Transition("go", "a", "b", conditions=guards)],
            "a",
            guards=posflow.GuardRegistry(),
        )
        assert lc.fire(T, "go").codes == lc.check(T, "go").codes == ("guard.error",)


class TestGuardRegistry:
    def test_of_collects_guards_by_their_names(self) -> None:
        registry = posflow.GuardRegistry.of(ok, storefront)
        assert list(registry) == ["g.ok", "docs.storefront"]
        assert registry["g.ok"] is ok
        assert len(registry) == 2
        assert repr(registry) == "GuardRegistry(2 guards)"

    def test_an_unknown_name_raises_unknown_guard_listing_the_known_ones(self) -> None:
        registry = posflow.GuardRegistry.of(ok, storefront)
        with pytest.raises(UnknownGuard) as caught:
            registry["g.nope"]
        assert caught.value.name == "g.nope"
        assert caught.value.known == ("docs.storefront", "g.ok")
        assert isinstance(caught.value, LookupError)

    def test_in_and_get_answer_without_raising(self) -> None:
        registry = posflow.GuardRegistry.of(ok)
        assert "g.ok" in registry
        assert "g.nope" not in registry
        assert registry.get("g.ok") is ok
        assert registry.get("g.nope") is None
        assert registry.get("g.nope", lease) is lease

    def test_extended_returns_a_new_registry_and_leaves_the_old_one(self) -> None:
        base = posflow.GuardRegistry.of(ok)
        bigger = base.extended({"docs.lease": lease}, **{"docs.storefront": storefront})
        assert set(bigger) == {"g.ok", "docs.lease", "docs.storefront"}
        assert set(base) == {"g.ok"}
        assert base.extended() == base

    def test_a_name_given_again_replaces_the_guard(self) -> None:
        base = posflow.GuardRegistry.of(ok)
        assert base.extended({"g.ok": lease})["g.ok"] is lease
        assert (base | {"g.ok": storefront})["g.ok"] is storefront

    def test_or_merges_with_any_mapping(self) -> None:
        merged = posflow.GuardRegistry.of(ok) | posflow.GuardRegistry.of(lease)
        assert isinstance(merged, posflow.GuardRegistry)
        assert set(merged) == {"g.ok", "docs.lease"}

    def test_two_different_guards_with_one_name_are_refused(self) -> None:
        twin = named("g.ok")
        with pytest.raises(ValueError, match=r"two different guards are named 'g\.ok'"):
            posflow.GuardRegistry.of(ok, twin)
        assert posflow.GuardRegistry.of(ok, ok)["g.ok"] is ok  # the same one twice is fine

    @pytest.mark.parametrize("bad", ["", "  ", " docs.x", 5, None])
    def test_a_guard_name_must_be_a_non_empty_name(self, bad: Any) -> None:
        with pytest.raises(ValueError, match="non-empty dotted name"):
            posflow.guard(bad)

    def test_a_registry_cannot_be_changed_in_place(self) -> None:
        registry = posflow.GuardRegistry.of(ok)
        with pytest.raises(TypeError):
            registry["g.new"] = ok  # type: ignore[index]

    def test_the_default_guards_are_named_by_category(self) -> None:
        registry = posflow.default_guards()
        assert registry is posflow.default_guards()
        categories = {c.value for c in posflow.Category}
        for name, g in registry.items():
            assert name.partition(".")[0] in categories, name
            assert guard_name(g) == name
