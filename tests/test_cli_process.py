"""The installed ``posflow`` console script, run as a real process; and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

SCRIPT = shutil.which("posflow", path=str(Path(sys.executable).parent))
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_DB = f"posflow_cli_test_{uuid.uuid4().hex[:12]}"
"""A database of this run's own: runs from other checkouts may share the server."""


def posflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert SCRIPT is not None, "the posflow console script is not installed in this venv"
    return subprocess.run(
        [SCRIPT, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


class TestConsoleScript:
    def test_simulate_then_explain_and_history_in_the_working_directory(
        self, tmp_path: Path
    ) -> None:
        done = posflow("simulate", "--terminals", "25", "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "posflow.db").is_file()  # the default database
        report = json.loads(done.stdout)
        assert sum(report["states"].values()) == 25
        assert done.stderr == ""  # no progress bar when stderr is not a terminal
        shown = posflow("explain", "T0000003", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "T0000003 is" in shown.stdout
        trail = posflow("history", "T0000003", "--json", cwd=tmp_path)
        assert json.loads(trail.stdout)[0]["terminal_id"] == "T0000003"

    def test_errors_are_one_line_with_their_codes(self, tmp_path: Path) -> None:
        missing = posflow("history", "T0000000", cwd=tmp_path)
        assert missing.returncode == 3
        assert missing.stderr.startswith("error: no database at posflow.db")
        assert "Traceback" not in missing.stderr
        usage = posflow("simulate", "--terminals", "-5", cwd=tmp_path)
        assert usage.returncode == 2
        assert "Traceback" not in usage.stderr

    @pytest.mark.parametrize(
        "args",
        [
            ("simulate", "--terminals", "30"),
            ("simulate", "--terminals", "30", "--json"),
            ("diagram",),
            ("validate", "broken.yaml"),
        ],
    )
    def test_output_into_a_closed_pipe_ends_quietly_with_141(
        self, tmp_path: Path, args: tuple[str, ...]
    ) -> None:
        """As ``posflow simulate | head -1`` does once ``head`` has its line."""
        (tmp_path / "broken.yaml").write_text("states: [a]\ninitial: b\n")
        reader, writer = os.pipe()
        os.close(reader)  # the reader has gone before the first line
        try:
            done = subprocess.run(
                [SCRIPT or "posflow", *args],
                cwd=tmp_path,
                stdout=writer,
                stderr=subprocess.PIPE,
                text=True,
                timeout=300,
                check=False,
            )
        finally:
            os.close(writer)
        assert done.returncode == 141
        assert done.stderr == ""

    def test_the_module_runs_as_well(self, tmp_path: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "posflow.cli", "diagram", "--format", "dot"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("digraph")


def _postgres() -> str | None:
    """A URL to a fresh database for these tests, or ``None`` when there is no server."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the dev extra brings it
        return None
    try:
        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=test", autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    except psycopg.OperationalError:
        return None
    return f"{PG_SERVER}/{PG_DB}"


@pytest.mark.postgres
def test_simulate_into_postgresql_gives_the_sqlite_results(tmp_path: Path) -> None:
    url = _postgres()
    if url is None:
        if os.environ.get("CI") == "true":  # pragma: no cover - CI must have the server
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    args = ("simulate", "--terminals", "30", "--days", "3", "--seed", "5", "--json")
    # two workers writing at once (what a larger fleet gets by default) give the
    # single worker's results
    try:
        on_pg = posflow(*args, "--db", url, "--workers", "2", cwd=tmp_path)
        assert on_pg.returncode == 0, on_pg.stderr
        on_sqlite = posflow(*args, cwd=tmp_path)
        first, second = json.loads(on_pg.stdout), json.loads(on_sqlite.stdout)
        assert first["states"] == second["states"]
        assert first["events"] == second["events"]
        explained = posflow("explain", "T0000002", "--db", url, cwd=tmp_path)
        assert explained.returncode == 0, explained.stderr
        assert "the end of the run" in explained.stdout
    finally:
        _drop()


def _drop() -> None:
    import psycopg  # present whenever _postgres gave a URL

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
