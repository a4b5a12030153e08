"""The ``posflow`` command, driven through its entry point (typer's CliRunner)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import posflow
from posflow.cli import _app, app
from posflow.cli._errors import ExitCode

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def simulate_json(db: Path, *args: str) -> dict[str, Any]:
    result = invoke("simulate", "--db", str(db), "--json", *args)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def without_timing(report: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in report["params"].items() if k not in {"workers", "db"}}
    rest = {k: v for k, v in report.items() if k not in {"seconds", "events_per_second"}}
    return {**rest, "params": params}


def foreign_database(directory: Path) -> Path:
    """A SQLite file that holds another application's table and none of posflow's."""
    db = directory / "other.db"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE songs (title TEXT)")
    return db


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A database holding a small simulated fleet, and the run's report."""
    db = tmp_path_factory.mktemp("fleet") / "fleet.db"
    report = simulate_json(db, "--terminals", "120", "--days", "6", "--seed", "7")
    return db, report


@pytest.fixture
def default_file(tmp_path: Path) -> Path:
    """The default lifecycle written out as a definition file."""
    path = tmp_path / "default.json"
    path.write_text(json.dumps(posflow.default_lifecycle().to_dict()))
    return path


class TestSimulate:
    def test_the_report_accounts_for_every_terminal_and_event(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        _, report = fleet
        assert sum(report["states"].values()) == 120
        assert list(report["states"]) == list(posflow.default_lifecycle().states)
        events = report["events"]
        assert events["accepted"] + events["refused"] == events["total"] > 120
        by_event = events["by_event"].values()
        assert sum(e["accepted"] for e in by_event) == events["accepted"]
        assert sum(e["refused"] for e in by_event) == events["refused"]
        assert report["events_per_second"] > 0

    def test_the_fleet_meets_faults_from_every_category(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        _, report = fleet
        codes = {r["code"] for r in report["top_refusal_reasons"]}
        categories = {c.split(".")[0] for c in codes}
        assert {"documents", "session", "stock"} <= categories
        for reason in report["top_refusal_reasons"]:
            assert reason["message"]
            assert reason["remedy"]
            assert reason["count"] > 0

    def test_reasons_are_ordered_by_frequency(self, fleet: tuple[Path, dict[str, Any]]) -> None:
        _, report = fleet
        counts = [r["count"] for r in report["top_refusal_reasons"]]
        assert counts == sorted(counts, reverse=True)

    def test_the_database_holds_what_the_report_says(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        db, report = fleet
        with contextlib.closing(sqlite3.connect(db)) as conn:
            rows = dict(
                conn.execute("SELECT state, COUNT(*) FROM posflow_terminals GROUP BY state")
            )
        assert rows == {s: n for s, n in report["states"].items() if n}

    def test_the_same_seed_gives_the_same_report(self, tmp_path: Path) -> None:
        args = ("--terminals", "40", "--days", "4", "--seed", "3")
        first = simulate_json(tmp_path / "a.db", *args)
        second = simulate_json(tmp_path / "b.db", *args)
        assert without_timing(first) == without_timing(second)

    def test_another_seed_gives_another_run(self, tmp_path: Path) -> None:
        first = simulate_json(tmp_path / "a.db", "--terminals", "60", "--seed", "1")
        second = simulate_json(tmp_path / "b.db", "--terminals", "60", "--seed", "2")
        assert without_timing(first) != without_timing(second)

    @settings(max_examples=5, deadline=None)
    @given(seed=st.integers(0, 2**32), terminals=st.integers(1, 25), days=st.integers(1, 5))
    def test_any_seed_and_size_replays_identically(
        self, tmp_path_factory: pytest.TempPathFactory, seed: int, terminals: int, days: int
    ) -> None:
        where = tmp_path_factory.mktemp("replay")
        args = ("--terminals", str(terminals), "--days", str(days), "--seed", str(seed))
        first = simulate_json(where / "a.db", *args)
        again = simulate_json(where / "a.db", *args)  # also: a second run replaces the first
        assert without_timing(first) == without_timing(again)
        assert sum(first["states"].values()) == terminals

    @pytest.mark.slow
    def test_workers_do_not_change_the_results(self, tmp_path: Path) -> None:
        args = ("--terminals", "50", "--days", "4", "--seed", "11")
        one = simulate_json(tmp_path / "one.db", *args, "--workers", "1")
        two = simulate_json(tmp_path / "two.db", *args, "--workers", "2")
        assert two["params"]["workers"] == 2
        assert without_timing(one) == without_timing(two)

    def test_a_small_fleet_runs_in_one_worker_by_default(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        _, report = fleet  # 120 terminals, no --workers
        assert report["params"]["workers"] == 1

    @pytest.mark.parametrize(
        ("cores", "terminals", "workers"),
        [
            (2, 10_000, 2),
            (2, 100_000, 2),
            (2, 9_999, 1),
            (8, 12_000, 2),
            (8, 1_000_000, 8),
            (1, 100_000, 1),
            (4, 1, 1),
        ],
    )
    def test_by_default_a_worker_per_core_and_per_5000_terminals(
        self, monkeypatch: pytest.MonkeyPatch, cores: int, terminals: int, workers: int
    ) -> None:
        monkeypatch.setattr(_app.os, "sched_getaffinity", lambda _pid: set(range(cores)))
        assert _app.default_workers(terminals) == workers

    def test_the_default_worker_count_is_what_simulate_is_given(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        given: dict[str, Any] = {}

        def run(params: Any, **options: Any) -> None:
            given.update(options)

        from posflow.cli import _sim_cli  # what simulate imports when it runs

        monkeypatch.setattr(_sim_cli, "run", run)
        monkeypatch.setattr(_app, "default_workers", lambda terminals: terminals // 1000)
        assert (
            invoke("simulate", "--db", str(tmp_path / "w.db"), "--terminals", "7000").exit_code == 0
        )
        assert given["workers"] == 7
        assert invoke("simulate", "--db", str(tmp_path / "w.db"), "--workers", "3").exit_code == 0
        assert given["workers"] == 3

    def test_the_human_report_names_states_events_reasons_and_throughput(
        self, tmp_path: Path
    ) -> None:
        result = invoke("simulate", "--db", str(tmp_path / "h.db"), "--terminals", "30")
        assert result.exit_code == 0, result.output
        for heading in ("Terminals per state", "Events", "Most frequent refusal", "events/s"):
            assert heading in result.stdout
        assert "simulating" not in result.stdout  # no progress bar when not on a terminal

    def test_the_report_speaks_chinese(self, tmp_path: Path) -> None:
        db = tmp_path / "zh.db"
        result = invoke("simulate", "--db", str(db), "--terminals", "30", "--lang", "zh-CN")
        assert result.exit_code == 0, result.output
        assert "各状态终端数" in result.stdout
        report = simulate_json(db, "--terminals", "30", "--lang", "zh-CN")
        assert any(
            "，" in r["message"] or "。" in r["message"] for r in report["top_refusal_reasons"]
        )

    def test_a_database_with_foreign_terminals_is_left_alone(self, tmp_path: Path) -> None:
        from posflow.store import SQLStore, TerminalService

        db = tmp_path / "theirs.db"
        store = SQLStore(f"sqlite:///{db}")
        store.create_schema()
        TerminalService(posflow.default_lifecycle(), store).create("THEIRS", {})
        store.close()
        result = invoke("simulate", "--db", str(db), "--terminals", "5")
        assert result.exit_code == ExitCode.BAD_DATABASE
        assert "no simulation wrote" in result.stderr
        assert "Traceback" not in result.output

    @pytest.mark.parametrize(
        "args",
        [
            ("--terminals", "0"),
            ("--terminals", "many"),
            ("--days", "0"),
            ("--workers", "0"),
            ("--lang", "fr"),
            ("--seed", "-1"),
            ("--bogus",),
        ],
    )
    def test_bad_arguments_exit_with_the_usage_code(self, args: tuple[str, ...]) -> None:
        result = invoke("simulate", *args)
        assert result.exit_code == ExitCode.USAGE
        assert "Traceback" not in result.output

    def test_an_error_message_is_shown_as_it_is(self, tmp_path: Path) -> None:
        db = tmp_path / "[bold]fleet[/bold].db"
        result = invoke("explain", "T0000001", "--db", str(db))
        assert result.exit_code == ExitCode.NO_DATABASE
        assert "[bold]fleet[/bold].db" in result.stderr

    def test_an_unreachable_database_is_one_line(self, tmp_path: Path) -> None:
        url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        result = invoke("simulate", "--db", url, "--terminals", "5")
        assert result.exit_code == ExitCode.NO_DATABASE
        assert result.stderr.count("\n") == 1
        assert result.stderr.count("cannot connect to the database") == 1
        assert "Traceback" not in result.output

    def test_an_unsupported_database_says_so_once(self) -> None:
        result = invoke("simulate", "--db", "mysql://root@127.0.0.1/test", "--terminals", "5")
        assert result.exit_code == ExitCode.NO_DATABASE
        assert result.stderr.startswith("error: ")
        assert "cannot reach" not in result.stderr
        assert "Traceback" not in result.output


class TestExplain:
    def test_it_shows_the_state_and_what_may_happen_next(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        db, _ = fleet
        result = invoke("explain", "T0000000", "--db", str(db))
        assert result.exit_code == 0, result.output
        assert "T0000000 is " in result.stdout
        assert "as of 2026-01-11T00:00" in result.stdout

    def test_a_refused_event_lists_every_reason_with_its_remedy(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        db, _ = fleet
        result = invoke("explain", "T0000000", "--db", str(db), "--event", "no_such_event")
        assert result.exit_code == 0, result.output
        assert "lifecycle.unknown_event" in result.stdout
        assert "→ Check the event name" in result.stdout

    def test_it_explains_in_chinese(self, fleet: tuple[Path, dict[str, Any]]) -> None:
        db, _ = fleet
        args = ("explain", "T0000000", "--db", str(db), "--event", "nope", "--lang", "zh-CN")
        result = invoke(*args)
        assert "不属于该生命周期" in result.stdout

    def test_the_world_of_the_run_decides(self, fleet: tuple[Path, dict[str, Any]]) -> None:
        """Every event explain allows for a terminal is one the stored world would accept."""
        db, _ = fleet
        for index in range(0, 120, 7):
            terminal_id = f"T{index:07d}"
            result = invoke("explain", terminal_id, "--db", str(db), "--json")
            assert result.exit_code == 0, result.output
            doc = json.loads(result.stdout)
            assert doc["terminal"] == terminal_id
            lifecycle = posflow.default_lifecycle()
            assert set(doc["events"]) == set(lifecycle.allowed_events(doc["state"]))
            for verdict in doc["events"].values():
                assert verdict["allowed"] == (not verdict["reasons"])
                for reason in verdict["reasons"]:
                    assert reason["remedy"]

    def test_an_unknown_terminal_has_its_own_code(self, fleet: tuple[Path, dict[str, Any]]) -> None:
        db, _ = fleet
        result = invoke("explain", "T9999999", "--db", str(db))
        assert result.exit_code == ExitCode.UNKNOWN_TERMINAL
        assert "no terminal 'T9999999'" in result.stderr

    def test_a_terminal_in_a_state_the_lifecycle_does_not_declare_is_not_usable(
        self, fleet: tuple[Path, dict[str, Any]], tmp_path: Path
    ) -> None:
        db = tmp_path / "copy.db"
        db.write_bytes(fleet[0].read_bytes())
        with contextlib.closing(sqlite3.connect(db)) as conn, conn:
            conn.execute("UPDATE posflow_terminals SET state = 'ghost' WHERE id = 'T0000004'")
        result = invoke("explain", "T0000004", "--db", str(db))
        assert result.exit_code == ExitCode.BAD_DATABASE
        assert "state 'ghost'" in result.stderr

    def test_a_missing_database_has_its_own_code(self, tmp_path: Path) -> None:
        result = invoke("explain", "T0000000", "--db", str(tmp_path / "absent.db"))
        assert result.exit_code == ExitCode.NO_DATABASE
        assert "no database at" in result.stderr
        assert not (tmp_path / "absent.db").exists()

    def test_a_corrupt_database_has_its_own_code(self, tmp_path: Path) -> None:
        db = tmp_path / "corrupt.db"
        db.write_bytes(b"this is not a database at all" * 100)
        result = invoke("explain", "T0000000", "--db", str(db))
        assert result.exit_code == ExitCode.BAD_DATABASE
        assert "Traceback" not in result.output

    def test_a_database_without_a_run_explains_with_empty_ports(self, tmp_path: Path) -> None:
        from posflow.store import SQLStore, TerminalService

        db = tmp_path / "plain.db"
        store = SQLStore(f"sqlite:///{db}")
        store.create_schema()
        TerminalService(posflow.default_lifecycle(), store).create("X1", {"merchant": {}})
        store.close()
        result = invoke("explain", "X1", "--db", str(db))
        assert result.exit_code == 0, result.output
        assert "no simulation parameters" in result.stdout
        assert "✗ review" in result.stdout

    def test_a_database_without_posflow_tables_is_not_usable(self, tmp_path: Path) -> None:
        result = invoke("explain", "T0000000", "--db", str(foreign_database(tmp_path)))
        assert result.exit_code == ExitCode.BAD_DATABASE, result.output
        assert "Traceback" not in result.output

    def test_debug_shows_the_traceback(self, tmp_path: Path) -> None:
        db = tmp_path / "corrupt.db"
        db.write_bytes(b"garbage" * 500)
        result = invoke("--debug", "explain", "T0000000", "--db", str(db))
        assert result.exit_code != 0
        assert result.exception is not None


class TestHistory:
    def test_the_audit_trail_as_a_table(self, fleet: tuple[Path, dict[str, Any]]) -> None:
        db, _ = fleet
        result = invoke("history", "T0000001", "--db", str(db))
        assert result.exit_code == 0, result.output
        assert "applied → " in result.stdout or "refused" in result.stdout

    def test_the_audit_trail_as_json_has_no_secret_in_clear(
        self, fleet: tuple[Path, dict[str, Any]]
    ) -> None:
        from posflow.cli._plan import Params, Plan

        db, _ = fleet
        for index in range(0, 120, 13):
            result = invoke("history", f"T{index:07d}", "--db", str(db), "--json")
            assert result.exit_code == 0, result.output
            records = json.loads(result.stdout)
            assert [r["seq"] for r in records] == list(range(len(records)))
            assert records[0]["from_state"] == "applied"
            plan = Plan.draw(Params(7, 120, 6), index)
            assert plan.password not in result.stdout
            assert plan.merchant["legal_rep_id_number"] not in result.stdout

    def test_the_audit_trail_as_json_masks_camel_case_payload_keys(self, tmp_path: Path) -> None:
        from posflow.store import SQLStore, TerminalService

        db = tmp_path / "camel.db"
        store = SQLStore(f"sqlite:///{db}")
        try:
            store.create_schema()
            svc = TerminalService(posflow.default_lifecycle(), store)
            svc.create("T1")
            payload = {"operatorPassword": "pw!8888", "contactPhone": "13812345678"}
            svc.fire("T1", "sign_in", posflow.Context(payload, actor="op"))
        finally:
            store.close()
        result = invoke("history", "T1", "--db", str(db), "--json")
        assert result.exit_code == 0, result.output
        (record,) = json.loads(result.stdout)
        assert record["payload"] == {"operatorPassword": "******", "contactPhone": "138****5678"}

    def test_an_unknown_terminal_has_its_own_code(self, fleet: tuple[Path, dict[str, Any]]) -> None:
        db, _ = fleet
        result = invoke("history", "nobody", "--db", str(db))
        assert result.exit_code == ExitCode.UNKNOWN_TERMINAL


class TestArguments:
    """An argument no command could use is a usage error (2) naming it, before any database."""

    @pytest.mark.parametrize("command", ["explain", "history"])
    @pytest.mark.parametrize(
        ("terminal_id", "why"),
        [
            ("", "must be a non-empty string"),
            ("   ", "must not be whitespace only"),
            ("T" * 300, "must be at most 255 characters long (got 300)"),
            ("T\udcff", "must be valid Unicode (no lone surrogates)"),
        ],
    )
    def test_an_unusable_terminal_id_is_a_usage_error_naming_it(
        self, fleet: tuple[Path, dict[str, Any]], command: str, terminal_id: str, why: str
    ) -> None:
        db, _ = fleet
        result = invoke(command, terminal_id, "--db", str(db))
        assert result.exit_code == ExitCode.USAGE, result.output
        assert result.stderr == f"error: invalid value for TERMINAL_ID: {why}\n"

    @pytest.mark.parametrize("command", ["explain", "history"])
    def test_the_terminal_id_is_checked_before_the_database(
        self, tmp_path: Path, command: str
    ) -> None:
        result = invoke(command, "", "--db", str(tmp_path / "absent.db"))
        assert result.exit_code == ExitCode.USAGE
        assert "TERMINAL_ID" in result.stderr

    @pytest.mark.parametrize(
        "command", [("simulate", "--terminals", "5"), ("explain", "T1"), ("history", "T1")]
    )
    @pytest.mark.parametrize("db", ["", " ", "sqlite://", "sqlite:///:memory:"])
    def test_an_empty_or_in_memory_database_is_a_usage_error(
        self, command: tuple[str, ...], db: str
    ) -> None:
        result = invoke(*command, "--db", db)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert result.stderr.startswith(f"error: invalid value for --db {db!r}: ")
        assert result.stderr.count("\n") == 1


class TestDamagedDatabase:
    """A file that is not a usable posflow database is code 4 in every command, never 3."""

    COMMANDS = (
        ("simulate", "--terminals", "5"),
        ("explain", "T0000001"),
        ("history", "T0000001"),
    )

    @pytest.fixture
    def truncated(self, fleet: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
        """The fleet's database cut after 8 KiB, as ``head -c 8192`` would."""
        db, _ = fleet
        cut = tmp_path / "cut.db"
        cut.write_bytes(db.read_bytes()[:8192])
        return cut

    @pytest.mark.parametrize("command", COMMANDS)
    def test_a_truncated_database_is_not_usable(
        self, truncated: Path, command: tuple[str, ...]
    ) -> None:
        result = invoke(*command, "--db", str(truncated))
        assert result.exit_code == ExitCode.BAD_DATABASE, result.output
        assert result.stderr == (
            "error: the database is damaged or is not a database: "
            f"database disk image is malformed (sqlite:///{truncated})\n"
        )

    @pytest.mark.parametrize("command", COMMANDS)
    def test_a_text_file_is_not_usable(self, tmp_path: Path, command: tuple[str, ...]) -> None:
        text = tmp_path / "notes.db"
        text.write_text("shopping list\n" * 100)
        result = invoke(*command, "--db", str(text))
        assert result.exit_code == ExitCode.BAD_DATABASE, result.output
        assert result.stderr.count("\n") == 1
        assert "cannot connect" not in result.stderr

    @pytest.mark.parametrize("command", [("simulate", "--terminals", "5"), ("explain", "T0000001")])
    def test_damaged_simulation_parameters_are_not_usable(
        self, fleet: tuple[Path, dict[str, Any]], tmp_path: Path, command: tuple[str, ...]
    ) -> None:
        db, _ = fleet
        copy = tmp_path / "copy.db"
        copy.write_bytes(db.read_bytes())
        with contextlib.closing(sqlite3.connect(copy)) as conn:
            (root,) = conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'posflow_simulation'"
            ).fetchone()
            (size,) = conn.execute("PRAGMA page_size").fetchone()
        data = bytearray(copy.read_bytes())
        data[(root - 1) * size : root * size] = b"\xff" * size
        copy.write_bytes(bytes(data))
        result = invoke(*command, "--db", str(copy))
        assert result.exit_code == ExitCode.BAD_DATABASE, result.output
        assert "database disk image is malformed" in result.stderr

    def test_a_database_without_posflow_tables_says_so(self, tmp_path: Path) -> None:
        result = invoke("history", "T0000000", "--db", str(foreign_database(tmp_path)))
        assert result.exit_code == ExitCode.BAD_DATABASE
        assert result.stderr == "error: the database is not usable: it holds no posflow tables\n"


class TestDiagram:
    @pytest.mark.parametrize(("fmt", "start"), [("mermaid", "stateDiagram-v2"), ("dot", "digraph")])
    def test_it_draws_the_default_lifecycle(self, fmt: str, start: str) -> None:
        result = invoke("diagram", "--format", fmt)
        assert result.exit_code == 0
        assert result.stdout.startswith(start)
        assert result.stdout == posflow.default_lifecycle().diagram(fmt)  # type: ignore[arg-type]

    def test_it_draws_a_definition_file(self, default_file: Path) -> None:
        result = invoke("diagram", "--definition", str(default_file), "--format", "dot")
        assert result.exit_code == 0, result.output
        assert result.stdout == posflow.default_lifecycle().diagram("dot")

    def test_a_missing_definition_is_a_bad_file(self, tmp_path: Path) -> None:
        result = invoke("diagram", "--definition", str(tmp_path / "none.yaml"))
        assert result.exit_code == ExitCode.BAD_FILE

    def test_a_broken_definition_is_a_bad_file(self) -> None:
        path = Path(__file__).parent / "data" / "broken.yaml"
        result = invoke("diagram", "--definition", str(path))
        assert result.exit_code == ExitCode.BAD_FILE
        assert "not a valid lifecycle definition" in result.stderr

    def test_an_unknown_format_is_a_usage_error(self) -> None:
        assert invoke("diagram", "--format", "png").exit_code == ExitCode.USAGE


class TestValidate:
    def test_a_good_definition_passes(self, default_file: Path) -> None:
        result = invoke("validate", str(default_file))
        assert result.exit_code == 0, result.output
        assert "a valid lifecycle definition" in result.stdout

    def test_every_problem_of_a_definition_is_listed_with_its_location(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(
            "states: [a, b]\ninitial: c\ntransitions:\n  - {trigger: go, source: a, dest: zz}\n"
        )
        result = invoke("validate", str(path))
        assert result.exit_code == ExitCode.PROBLEMS
        assert f"{path}: initial:" in result.stdout
        assert f"{path}: transitions[0] (go).dest:" in result.stdout
        assert "2 problem(s) in lifecycle definition" in result.stdout

    def test_text_in_square_brackets_is_shown_as_it_is(self, tmp_path: Path) -> None:
        # rich would read "[trigger, source, dest]" or "[red]" as markup and drop it
        path = tmp_path / "bad.yaml"
        path.write_text(
            "states: [a, '[red]b[/red]', '[red]b[/red]']\ninitial: a\n"
            "transitions:\n  - [only_two, a]\n  - {trigger: go, source: a, dest: zz}\n"
        )
        result = invoke("validate", str(path))
        assert result.exit_code == ExitCode.PROBLEMS
        assert "or a list [trigger, source, dest]" in result.stdout
        assert "[red]b[/red]" in result.stdout

    def test_a_policy_is_recognised_and_checked(self, tmp_path: Path) -> None:
        good = tmp_path / "policy.toml"
        good.write_text("cooling_off_days = 30\n")
        assert "a valid policy" in invoke("validate", str(good)).stdout
        bad = tmp_path / "policy.json"
        bad.write_text('{"cooling_off_days": -1, "min_credit_score": "high"}')
        result = invoke("validate", str(bad))
        assert result.exit_code == ExitCode.PROBLEMS
        assert "cooling_off_days:" in result.stdout
        assert "min_credit_score:" in result.stdout

    def test_a_file_that_does_not_parse_is_a_problem(self, tmp_path: Path) -> None:
        path = tmp_path / "x.json"
        path.write_text("{bad")
        result = invoke("validate", str(path))
        assert result.exit_code == ExitCode.PROBLEMS
        assert "line 1, column 2" in result.stdout

    def test_a_missing_file_is_a_bad_file(self, tmp_path: Path) -> None:
        result = invoke("validate", str(tmp_path / "none.yaml"))
        assert result.exit_code == ExitCode.BAD_FILE
        assert "no such file" in result.stderr


class TestErrors:
    def test_no_command_shows_help(self) -> None:
        result = invoke()
        assert "simulate" in result.output
        assert "explain" in result.output

    def test_an_unexpected_error_is_one_line_with_a_hint(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(fmt: str) -> str:
            raise RuntimeError("boom\nsecond line")

        monkeypatch.setattr(posflow.Lifecycle, "diagram", lambda self, fmt: broken(fmt))
        result = invoke("diagram")
        assert result.exit_code == ExitCode.INTERNAL
        assert result.stderr.strip().count("\n") == 0
        assert "boom" in result.stderr
        assert "--debug" in result.stderr

    def test_a_posflow_error_without_its_own_code_is_internal(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from posflow.errors import PortUnavailable

        def broken(self: object, fmt: str) -> str:
            raise PortUnavailable("inventory", "odd")

        monkeypatch.setattr(posflow.Lifecycle, "diagram", broken)
        result = invoke("diagram")
        assert result.exit_code == ExitCode.INTERNAL
        assert "PortUnavailable:" in result.stderr


class TestClosedOutput:
    """A reader that went away ends the command quietly with 141, never with 1."""

    def test_a_closed_output_ends_quietly_with_its_own_code(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def closed(self: object, fmt: str) -> str:
            raise BrokenPipeError

        monkeypatch.setattr(posflow.Lifecycle, "diagram", closed)
        result = invoke("diagram")
        assert result.exit_code == ExitCode.BROKEN_PIPE == 128 + 13
        assert result.stderr == ""

    def test_rich_output_reports_a_closed_pipe_instead_of_exiting_with_1(self) -> None:
        from posflow.cli._output import Output

        class Closed:
            def write(self, text: str) -> int:
                raise BrokenPipeError

            def flush(self) -> None:
                raise BrokenPipeError

        with pytest.raises(BrokenPipeError):
            Output(file=Closed()).print("a report")  # type: ignore[arg-type]


class TestDocs:
    def test_every_exit_code_is_documented_and_no_other(self) -> None:
        import re

        text = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text("utf-8")
        section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
        documented = {int(n) for n in re.findall(r"^\| (\d+) \|", section, re.M)}
        assert documented == {int(code) for code in ExitCode}

    def test_the_documented_defaults_are_the_real_ones(self) -> None:
        from posflow.cli import _app

        text = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text("utf-8")
        assert f"| `--terminals N` | {_app.DEFAULT_TERMINALS:,} |" in text
        assert f"| `--days D` | {_app.DEFAULT_DAYS} |" in text
        assert f"| `--seed S` | {_app.DEFAULT_SEED} |" in text
        assert f"`{_app.DEFAULT_DB}`" in text


class TestProgressAndPlumbing:
    def test_a_terminal_gets_a_progress_bar_on_stderr(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import io

        from rich.console import Console

        from posflow.cli import _sim_cli

        screen = io.StringIO()

        def console(*args: Any, **kwargs: Any) -> Console:
            if kwargs.get("stderr"):
                return Console(file=screen, force_terminal=True, width=100)
            return Console(*args, **kwargs)

        monkeypatch.setattr(_sim_cli, "Console", console)
        result = invoke("simulate", "--db", str(tmp_path / "p.db"), "--terminals", "20")
        assert result.exit_code == 0, result.output
        assert "simulating" in screen.getvalue()
        assert "events" in screen.getvalue()

    def test_a_database_changed_during_the_run_is_reported(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from posflow.store import SQLStore

        monkeypatch.setattr(SQLStore, "counts", lambda self: {"applied": -1})
        result = invoke("simulate", "--db", str(tmp_path / "c.db"), "--terminals", "5")
        assert result.exit_code == ExitCode.BAD_DATABASE
        assert "changed during the run" in result.stderr

    def test_explain_on_an_unreachable_server_is_one_line(self) -> None:
        url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        result = invoke("explain", "T0000000", "--db", url)
        assert result.exit_code == ExitCode.NO_DATABASE
        assert "Traceback" not in result.output

    def test_the_module_runs_as_the_command(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import runpy
        import sys

        monkeypatch.setattr(sys, "argv", ["posflow", "diagram"])
        with pytest.raises(SystemExit) as exited:
            runpy.run_module("posflow.cli", run_name="__main__")
        assert exited.value.code == 0


class TestWorkersPlumbing:
    def test_a_worker_reports_progress_and_returns_its_tally(self, tmp_path: Path) -> None:
        import queue

        from posflow.cli._plan import Params
        from posflow.cli._sim_cli import ServiceFactory, _prepare
        from posflow.cli._simulate import _worker

        url = f"sqlite:///{tmp_path / 'w.db'}"
        _prepare(url)
        q: queue.Queue[int] = queue.Queue()
        tally = _worker(ServiceFactory(url), Params(1, 20, 2), 1, 2, q)
        assert tally.created == 10
        reported = []
        while not q.empty():
            reported.append(q.get())
        assert sum(reported) == tally.events
        assert len(reported) == 2 * 8  # one report per round

    def test_drain_passes_every_count_on(self) -> None:
        import queue

        from posflow.cli._simulate import _drain

        q: queue.Queue[int] = queue.Queue()
        for n in (3, 4, 5):
            q.put(n)
        seen: list[int] = []
        _drain(q, seen.append, timeout=0)
        assert seen == [3, 4, 5]
        _drain(q, seen.append, timeout=0.01)
        assert seen == [3, 4, 5]
        q.put(1)
        _drain(q, None, timeout=0.01)
        assert q.empty()
