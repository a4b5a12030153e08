"""The public namespace: ``posflow.__all__`` and importing without the optional extras."""

from __future__ import annotations
import __future__

import re
import subprocess
import sys
import types

import posflow

OPTIONAL = ("sqlalchemy", "typer", "rich", "hypothesis", "pytest", "psycopg", "psycopg2")


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


class TestAll:
    def test_all_is_sorted(self) -> None:
        assert posflow.__all__ == sorted(posflow.__all__, key=_isort_key)

    def test_all_has_no_duplicates(self) -> None:
        assert len(set(posflow.__all__)) == len(posflow.__all__)

    def test_all_equals_the_public_names_of_the_module(self) -> None:
        # submodules appear as attributes when they are imported, whether or not they
        # are re-exported; the ones in __all__ are re-exported on purpose
        exported_modules = {
            n for n in posflow.__all__ if isinstance(getattr(posflow, n), types.ModuleType)
        }
        public = {
            name
            for name, value in vars(posflow).items()
            if not name.startswith("_")
            and not isinstance(value, __future__._Feature)
            and not isinstance(value, types.ModuleType)
        }
        assert set(posflow.__all__) == public | exported_modules | {"__version__"}

    def test_every_exported_module_is_a_posflow_submodule(self) -> None:
        for name in posflow.__all__:
            value = getattr(posflow, name)
            if isinstance(value, types.ModuleType):
                assert value.__name__ == f"posflow.{name}"

    def test_every_public_object_is_documented(self) -> None:
        for name in posflow.__all__:
            value = getattr(posflow, name)
            if callable(value) or isinstance(value, types.ModuleType):
                assert (value.__doc__ or "").strip(), name

    def test_the_version_is_a_string(self) -> None:
        assert re.match(r"^\d+\.\d+", posflow.__version__)

    def test_the_public_submodules_name_their_exports(self) -> None:
        for module in (posflow.errors, posflow.guards):
            for name in module.__all__:
                assert hasattr(module, name), f"{module.__name__}.{name}"


_BLOCKER = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Blocker())
import posflow, posflow.errors, posflow.guards
lc = posflow.default_lifecycle()
t = lc.fire(lc.new_terminal("T"), "reject").terminal
assert t.state == "rejected", t
lc.diagram("mermaid")
effects = {{t.effect.__name__: t.effect for t in lc.transitions if t.effect}}
posflow.Lifecycle.from_dict(lc.to_dict(), effects=effects)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r})
assert not leaked, leaked
print("ok")
"""


class TestImportWithoutExtras:
    def test_import_posflow_works_when_the_optional_extras_are_missing(self) -> None:
        code = _BLOCKER.format(blocked=set(OPTIONAL))
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ok"

    def test_the_blocker_really_blocks(self) -> None:
        code = _BLOCKER.format(blocked=set(OPTIONAL)).replace(
            "import posflow, posflow.errors, posflow.guards", "import rich"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode != 0
        assert "blocked" in result.stderr
