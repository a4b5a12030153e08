"""The docs stay true: the lifecycle diagram in docs/concepts.md is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import posflow

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", text, re.M | re.S)


class TestConcepts:
    def test_the_default_lifecycle_diagram_is_the_one_the_library_draws(self) -> None:
        text = (DOCS / "concepts.md").read_text(encoding="utf-8")
        (block,) = _mermaid_blocks(text)
        assert block == posflow.default_lifecycle().diagram("mermaid")

    def test_every_concept_has_a_section(self) -> None:
        text = (DOCS / "concepts.md").read_text(encoding="utf-8")
        headings = set(re.findall(r"^## (.+)$", text, re.M))
        assert {"States and events", "Guards", "Reasons", "Ports", "Context", "History"} <= headings

    def test_the_docs_have_runnable_examples(self) -> None:
        text = (DOCS / "concepts.md").read_text(encoding="utf-8")
        assert text.count(">>> ") >= 20
