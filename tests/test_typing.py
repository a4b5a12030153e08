"""The documented usage in ``tests/typing`` passes ``mypy --strict``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "tests" / "typing" / "test_usage.py"


class TestTyping:
    def test_documented_usage_passes_mypy_strict(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(USAGE)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_mypy_catches_a_misuse(self, tmp_path: Path) -> None:
        bad = tmp_path / "misuse.py"
        bad.write_text(
            "import posflow\n"
            "lc = posflow.default_lifecycle()\n"
            "state: int = lc.fire(lc.new_terminal('T'), 'review').terminal.state\n",
            encoding="utf-8",
        )
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(bad)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        assert result.returncode == 1
        assert "Incompatible types in assignment" in result.stdout
