"""``Catalogue`` and ``default_catalogue()``: every code in both languages, with a remedy."""

from __future__ import annotations

import string

import pytest

import posflow
from posflow import Catalogue, ReasonSpec
from posflow.errors import InvalidInput, UnknownReasonCode

CATALOGUE = posflow.default_catalogue()
CODES = sorted(CATALOGUE)


def _fields(template: str) -> set[str]:
    """The ``{placeholders}`` of a template (raises ValueError on a malformed one)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _base(fields: set[str]) -> set[str]:
    return {f.removesuffix("_zh") for f in fields}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _spec(code: str, en: str = "x") -> ReasonSpec:
    return posflow.reason_spec(
        code, retryable=False, en=en, zh_cn="中", remedy_en="y", remedy_zh_cn="中"
    )


class TestDefaultCatalogue:
    def test_it_holds_the_codes_the_engine_itself_produces(self) -> None:
        assert {
            "lifecycle.unknown_event",
            "lifecycle.not_allowed_from_state",
            "lifecycle.undeclared_state",
            "lifecycle.blocking_condition_present",
            "guard.error",
            "guard.refused",
            "port.unavailable",
        } <= set(CATALOGUE)

    @pytest.mark.parametrize("code", CODES)
    def test_every_code_has_a_message_and_remedy_in_every_language(self, code: str) -> None:
        spec = CATALOGUE[code]
        for lang in posflow.LANGUAGES:
            message, remedy = spec.text(lang)
            assert message.strip(), f"{code}: no {lang} message"
            assert remedy.strip(), f"{code}: no {lang} remedy"
        assert _has_chinese(spec.zh_cn), f"{code}: the zh-CN message is not in Chinese"
        assert _has_chinese(spec.remedy_zh_cn), f"{code}: the zh-CN remedy is not in Chinese"
        assert spec.en != spec.zh_cn

    @pytest.mark.parametrize("code", CODES)
    def test_every_code_is_named_after_its_category(self, code: str) -> None:
        spec = CATALOGUE[code]
        prefix, _, rest = code.partition(".")
        assert spec.category.value == prefix
        assert rest
        assert spec.code == code
        assert rest == rest.lower()
        assert " " not in code

    @pytest.mark.parametrize("code", CODES)
    def test_both_languages_show_the_same_evidence(self, code: str) -> None:
        # a zh-CN template may show a translated field, ``x_zh``, in place of ``x``
        spec = CATALOGUE[code]
        assert _fields(spec.en) == _base(_fields(spec.zh_cn)), code
        assert _fields(spec.remedy_en) == _base(_fields(spec.remedy_zh_cn)), code
        assert not {f for f in _fields(spec.en) | _fields(spec.remedy_en) if f.endswith("_zh")}

    @pytest.mark.parametrize("code", CODES)
    def test_every_template_renders_completely_when_its_evidence_is_given(self, code: str) -> None:
        spec = CATALOGUE[code]
        fields = (
            _fields(spec.en)
            | _fields(spec.zh_cn)
            | _fields(spec.remedy_en)
            | _fields(spec.remedy_zh_cn)
        )
        reason = spec.reason(**{f: f"<{f}>" for f in fields})
        for lang in posflow.LANGUAGES:
            for text in (reason.message(lang), reason.remedy(lang)):
                assert "{" not in text, f"{code} ({lang}): {text}"
                assert "}" not in text, f"{code} ({lang}): {text}"

    def test_each_call_builds_an_equal_catalogue(self) -> None:
        assert dict(posflow.default_catalogue()) == dict(CATALOGUE)


class TestCatalogue:
    def test_specs_are_looked_up_by_code_and_listed_sorted(self) -> None:
        b, a = _spec("stock.b"), _spec("stock.a")
        catalogue = Catalogue([b, a])
        assert list(catalogue) == ["stock.a", "stock.b"]
        assert catalogue["stock.b"] is b
        assert len(catalogue) == 2
        assert repr(catalogue) == "Catalogue(2 codes)"

    def test_an_unknown_code_raises_unknown_reason_code(self) -> None:
        with pytest.raises(UnknownReasonCode) as caught:
            Catalogue([])["stock.none"]
        assert caught.value.code == "stock.none"
        assert isinstance(caught.value, LookupError)

    def test_in_and_get_answer_without_raising(self) -> None:
        catalogue = Catalogue([_spec("stock.a")])
        assert "stock.a" in catalogue
        assert "stock.none" not in catalogue
        assert catalogue.get("stock.none") is None

    def test_one_code_declared_twice_differently_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="declared twice"):
            Catalogue([_spec("stock.a"), _spec("stock.a", en="other")])

    def test_the_same_spec_twice_is_harmless(self) -> None:
        assert len(Catalogue([_spec("stock.a"), _spec("stock.a")])) == 1

    def test_merged_adds_specs_from_lists_and_catalogues(self) -> None:
        merged = Catalogue([_spec("stock.a")]).merged(
            [_spec("stock.b")], Catalogue([_spec("stock.c")])
        )
        assert list(merged) == ["stock.a", "stock.b", "stock.c"]

    def test_merging_into_the_default_catalogue_keeps_its_codes(self) -> None:
        merged = CATALOGUE.merged([_spec("compliance.my_rule")])
        assert set(merged) == {*CATALOGUE, "compliance.my_rule"}

    def test_reason_makes_an_occurrence_of_a_code(self) -> None:
        reason = CATALOGUE.reason("port.unavailable", port="vault", guard="docs.x")
        assert (reason.code, reason.params["port"], reason.guard) == (
            "port.unavailable",
            "vault",
            "docs.x",
        )
        assert reason.message() == (
            "The vault service did not answer while 'docs.x' was checked; nothing was changed."
        )

    def test_languages_are_the_library_languages(self) -> None:
        assert CATALOGUE.languages() == posflow.LANGUAGES
