"""The docs stay true: diagrams are the real ones and every code example runs.

pytest collects the ``>>>`` examples of every Markdown page as doctests (see
``--doctest-glob`` in pyproject). The fenced ``python`` blocks that are not
doctests are run here, page by page, in one namespace per page, in a scratch
directory where the page's titled files (```` ```yaml title="shop.yaml" ````)
have been written first.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import posflow

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```([\w+-]*)([^\n]*)\n(.*?)^```$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')


def _mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", text, re.M | re.S)


def _fences(path: Path) -> list[tuple[str, str, str]]:
    """``(language, title, body)`` of every fenced block of a page, in order.

    Each body is preceded by blank lines up to its place in the page, so that a
    traceback from it names the page's own line numbers.
    """
    text = path.read_text(encoding="utf-8")
    out = []
    for match in FENCE.finditer(text):
        lang, info, body = match.groups()
        title = TITLE.search(info)
        if not title:
            body = "\n" * text.count("\n", 0, match.start(3)) + body
        out.append((lang, title.group(1) if title else "", body))
    return out


def _scripts(path: Path) -> list[str]:
    """The page's ``python`` blocks that are not doctests (those run through doctest)."""
    return [body for lang, _, body in _fences(path) if lang == "python" and ">>>" not in body]


def _nav_files(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [f for v in nav.values() for f in _nav_files(v)]
    if isinstance(nav, list):
        return [f for v in nav for f in _nav_files(v)]
    return []


class _SiteLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, whose ``!!python/name:`` tags only mkdocs resolves."""


_SiteLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", lambda _l, s, _n: s)


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


class TestLifecyclePage:
    text = (DOCS / "lifecycle.md").read_text(encoding="utf-8")

    def test_its_diagram_is_the_one_the_library_draws(self) -> None:
        (block,) = _mermaid_blocks(self.text)
        assert block == posflow.default_lifecycle().diagram("mermaid")

    def test_its_states_table_is_the_code_s_states_with_their_descriptions(self) -> None:
        rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|$", self.text, re.M)
        specs = posflow.default_lifecycle().state_specs
        assert rows == [(s.name, s.description) for s in specs]

    def test_its_events_table_is_the_code_s_transitions(self) -> None:
        rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| `([\w=]+)` \| [^|]+ \|$", self.text, re.M)
        found = [(e, tuple(re.findall(r"`(\w+)`", src)), dest) for e, src, dest in rows]
        transitions = posflow.default_lifecycle().transitions
        assert found == [(t.trigger, t.source, t.dest) for t in transitions]


class TestFaq:
    text = (DOCS / "faq.md").read_text(encoding="utf-8")

    @pytest.mark.parametrize(
        "question",
        [
            "Why can't I claim my terminal online?",
            "Why is my terminal not in stock?",
            "Why can't I settle?",
            "Why can't I sign out?",
            "Can I apply again after closing?",
            "How do I activate without a storefront photo?",
        ],
    )
    def test_each_question_users_ask_has_a_section_with_examples(self, question: str) -> None:
        sections = re.split(r"^## ", self.text, flags=re.M)
        (section,) = [s for s in sections if s.startswith(question)]
        assert section.count(">>> ") >= 3

    def test_every_code_it_shows_is_one_posflow_gives(self) -> None:
        shown = set(
            re.findall(r"'((?:documents|compliance|stock|session|settlement)\.\w+)'", self.text)
        )
        assert shown
        assert shown <= set(posflow.default_catalogue())


class TestSite:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_SiteLoader)  # noqa: S506 - SafeLoader subclass

    def test_every_page_in_the_nav_exists(self) -> None:
        for name in _nav_files(self.config["nav"]):
            assert (DOCS / name).is_file(), name

    def test_every_page_of_the_docs_is_in_the_nav(self) -> None:
        assert {p.name for p in PAGES} <= set(_nav_files(self.config["nav"]))

    def test_every_page_the_nav_names_has_a_title(self) -> None:
        for name in _nav_files(self.config["nav"]):
            assert (DOCS / name).read_text(encoding="utf-8").startswith("# "), name


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_code_block_is_run_or_is_not_python(page: Path) -> None:
    """Python is either a doctest (run by doctest) or a script (run below); nothing is skipped."""
    for lang, _title, body in _fences(page):
        assert lang in {"python", "pycon", "sh", "yaml", "toml", "json", "mermaid", "text"}, lang
        if lang == "pycon":
            assert ">>>" in body


@pytest.mark.parametrize(
    "page", [p for p in [*PAGES, ROOT / "README.md"] if _scripts(p)], ids=lambda p: p.name
)
def test_the_python_blocks_of_each_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _lang, title, body in _fences(page):
        if title:
            (tmp_path / title).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for i, script in enumerate(_scripts(page)):
        if TEST_FUNCTION.search(script):
            _run_as_pytest_module(script, tmp_path / f"test_{page.stem}_{i}.py")
        else:
            exec(compile(script, str(page), "exec"), namespace)  # noqa: S102 - the docs' own examples


TEST_FUNCTION = re.compile(r"^def (test_\w+)\(", re.M)


def _run_as_pytest_module(script: str, path: Path) -> None:
    """A block that shows pytest tests is a test module: pytest runs it, and all must pass.

    It runs in a fresh pytest process in the scratch directory, with the plugins
    installed (posflow's own included) and none of this repository's settings.
    """
    path.write_text(script, encoding="utf-8")
    tests = TEST_FUNCTION.findall(script)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(tests)} passed" in result.stdout, result.stdout
