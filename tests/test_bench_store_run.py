"""The store benchmark still runs (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_store.py"
TINY = ["--fires", "24", "--terminals", "5", "--batch", "7", "--repeats", "1"]


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_sqlite_run_measures_every_mode_and_prints_ratios_and_goals(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    result = bench.main([*TINY[:-1], "3", "--backends", "sqlite"])  # three repeats: a spread
    out = capsys.readouterr().out
    assert set(result["rates"]) == {("sqlite", mode) for mode in bench.MODES}
    assert all(rate > 0 for rate in result["rates"].values())
    assert result["spread"].keys() == result["rates"].keys()
    for key, (slowest, fastest) in result["spread"].items():
        assert slowest <= result["rates"][key] <= fastest
    assert "slowest" in out
    assert [label for _, label, _ in result["ratios"]] == [
        "fire_many / raw batch",
        "iter_fire_many / raw batch",
        "fire / raw row",
        "fire_many / fire",
    ]
    assert set(result["goals"]) == {
        "sqlite: fire_many >= 50% of raw batch",
        "sqlite: fire >= 5,000/s",
    }
    for mode in bench.MODES:
        assert mode in out
    assert "goal sqlite: fire >= 5,000/s" in out


@pytest.mark.postgres
def test_postgresql_run_measures_every_mode(bench: ModuleType, postgres_url: str) -> None:
    result = bench.main([*TINY, "--backends", "postgresql", "--pg-url", postgres_url])
    assert set(result["rates"]) == {("postgresql", mode) for mode in bench.MODES}
    assert result["skipped"] == {}
    assert "postgresql: fire_many >= 50% of raw batch" in result["goals"]


def test_an_unreachable_postgresql_is_reported_as_skipped(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    result = bench.main([*TINY, "--fires", "3", "--backends", "postgresql", "--pg-url", url])
    assert result["rates"] == {}
    assert "postgresql" in result["skipped"]
    assert "skipped" in capsys.readouterr().out


def test_a_store_that_drops_fires_is_refused(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lossy(svc: Any, work: Any, batch: int) -> int:
        return len(bench.run_fire(svc, work[:-1], batch)) + 1  # claims every fire, commits one less

    monkeypatch.setitem(bench.RUNNERS, "fire", lossy)
    with pytest.raises(bench.BenchmarkInvalid, match="version"):
        bench.main([*TINY, "--backends", "sqlite"])


def test_raw_rows_replay_to_the_state_the_store_would_write(bench: ModuleType) -> None:
    history, updates = bench.raw_rows(bench.plan(6, 2), sqlite=True)
    assert [(h[0], h[1], h[5]) for h in history] == [
        ("T000000", 0, 1),
        ("T000001", 0, 1),
        ("T000000", 1, 2),
        ("T000001", 1, 2),
        ("T000000", 2, 3),
        ("T000001", 2, 3),
    ]
    assert updates[-1][-2:] == ("T000001", 2)  # the version check: seq as read
    assert '"count":3' in updates[-1][3]


def test_key_lookup_benchmark_runs_and_compares_both_queries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = BENCH.with_name("bench_store_keys.py")
    spec = importlib.util.spec_from_file_location("bench_store_keys", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    had = "bench_store" in sys.modules
    try:
        spec.loader.exec_module(module)
        results = module.main(["--depths", "1,3", "--terminals", "4", "--repeats", "1"])
    finally:
        if not had:  # the script imports its sibling benchmark by name
            sys.modules.pop("bench_store", None)
    out = capsys.readouterr().out
    assert set(results) == {1, 3}
    assert all(ours > 0 and theirs > 0 for ours, theirs in results.values())
    assert "crossed / pairs" in out
