"""The reason catalogue is complete, bilingual, and docs/guards.md matches it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import posflow
import posflow.guards

DOCS = Path(__file__).resolve().parent.parent / "docs" / "guards.md"
CATEGORIES = {"documents", "compliance", "stock", "session", "settlement"}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class TestReferenceMarkdown:
    def test_docs_guards_md_is_exactly_what_the_catalogue_generates(self) -> None:
        assert DOCS.read_text(encoding="utf-8") == posflow.guards.reference_markdown(), (
            "docs/guards.md is out of date; regenerate it with the command at its top"
        )

    def test_every_code_appears_with_both_languages_and_its_remedy(self) -> None:
        text = posflow.guards.reference_markdown()
        for code, spec in posflow.default_catalogue().items():
            section = text.split(f"### `{code}`", 1)[1].split("### ", 1)[0]
            assert f"| retryable | {'yes' if spec.retryable else 'no'} |" in section
            for words in (spec.en, spec.zh_cn, spec.remedy_en, spec.remedy_zh_cn):
                assert words.replace("|", "\\|") in section

    def test_every_guard_of_the_default_lifecycle_is_listed(self) -> None:
        text = posflow.guards.reference_markdown()
        for name in posflow.default_guards():
            assert f"| `{name}` |" in text

    def test_another_catalogue_and_lifecycle_can_be_documented(self) -> None:
        spec = posflow.reason_spec(
            "documents.selfie_missing",
            retryable=False,
            en="No selfie | none.",
            zh_cn="缺少自拍。",
            remedy_en="Take one.",
            remedy_zh_cn="请拍一张。",
        )
        lc = posflow.Lifecycle(
            ["a", posflow.State("b", final=True)], [posflow.Transition("go", "a", "b")], "a"
        )
        text = posflow.guards.reference_markdown(posflow.Catalogue([spec]), lc)
        assert "### `documents.selfie_missing`" in text
        assert "No selfie \\| none." in text
        assert "| `go` | `a` | — |" in text
        assert "## stock" not in text


class TestCatalogue:
    def test_every_guard_category_has_codes_and_every_code_a_known_category(self) -> None:
        catalogue = posflow.default_catalogue()
        assert {spec.category.value for spec in catalogue.values()} >= CATEGORIES
        for code in catalogue:
            assert re.fullmatch(r"[a-z]+\.[a-z_]+", code)

    def test_the_chinese_text_shows_no_evidence_the_english_text_lacks(self) -> None:
        for spec in posflow.default_catalogue().values():
            en = _fields(spec.en) | _fields(spec.remedy_en)
            zh = _fields(spec.zh_cn) | _fields(spec.remedy_zh_cn)
            assert {f.removesuffix("_zh") for f in zh} <= en, spec.code

    def test_only_waiting_can_help_retryable_codes(self) -> None:
        retryable = {c for c, s in posflow.default_catalogue().items() if s.retryable}
        assert retryable == {
            "compliance.cooling_off_active",
            "guard.error",
            "port.unavailable",
            "session.host_unreachable",
            "settlement.day_cutover",
            "settlement.host_maintenance",
            "stock.out_of_stock",
        }

    def test_every_guard_of_the_default_registry_protects_a_step(self) -> None:
        used = {
            c
            for t in posflow.default_lifecycle().transitions
            for c in t.conditions
            if isinstance(c, str)
        }
        assert used == set(posflow.default_guards())
