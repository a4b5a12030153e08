"""The engine benchmark still runs (tiny iteration counts; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_engine.py"
ENGINES = ("posflow", "baseline", "transitions", "python-statemachine")


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


class TestBenchEngine:
    def test_main_times_every_engine_and_operation_and_prints_a_table(
        self, bench: ModuleType, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = bench.main(["--repeats", "1", "--iterations", "5", "--terminals", "5"])
        out = capsys.readouterr().out
        expected = {(e, op) for e in ENGINES for op in ("fire", "check")}
        extra = {("posflow", "fire+record"), ("posflow", "available")}
        assert set(result["us"]) == expected | extra
        assert all(us > 0 for us in result["us"].values())
        assert set(result["memory"]) == set(ENGINES)
        assert [label for label, _, _ in result["ratios"]][:3] == [
            "posflow fire / baseline fire",
            "transitions fire / posflow fire",
            "posflow check / baseline check",
        ]
        for engine in ENGINES:
            assert engine in out
        assert "'activate'" in out
        assert "available()" in out

    def test_memory_can_be_skipped(self, bench: ModuleType) -> None:
        result = bench.main(["--repeats", "1", "--iterations", "3", "--terminals", "0"])
        assert result["memory"] == {}

    def test_the_model_puts_exactly_two_guards_on_one_transition(self, bench: ModuleType) -> None:
        model = bench.build_model()
        guarded = [s for s in model.steps if s.guards]
        assert [(s.trigger, s.guards) for s in guarded] == [("activate", bench.GUARDS)]
        assert len(bench.GUARDS) == 2

    def test_a_baseline_that_skips_its_guards_is_refused_before_timing(
        self, bench: ModuleType, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def unguarded(self: Any, terminal: Any, event: str, ctx: Any) -> Any:
            dest = self.table[terminal.state][event][0]
            return bench.BaseTerminal(terminal.id, dest, terminal.version + 1, terminal.data)

        monkeypatch.setattr(bench.Baseline, "fire", unguarded)
        with pytest.raises(bench.BenchmarkInvalid, match="baseline refuses"):
            bench.verify(bench.build_model())
