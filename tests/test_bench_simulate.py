"""The simulation benchmark still runs (a tiny fleet; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_simulate.py"


def test_it_runs_the_same_events_on_every_back_end(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_simulate", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        result = module.main(["--terminals", "12", "--days", "2"])
    finally:
        del sys.modules[spec.name]
    assert result["events"] > 12
    assert set(result["rate"]) == {"engine", "memory", "sqlite"}
    assert all(rate > 0 for rate in result["rate"].values())
    assert set(result["cpu_us"]) == {"engine", "memory", "sqlite"}
    out = capsys.readouterr().out
    assert "sqlite / engine (time)" in out
