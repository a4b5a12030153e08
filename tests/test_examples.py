"""Every example in examples/ runs, and says what its docstring promises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
OWN_RUN = {"property_testing"}
"""Examples whose ``main()`` a class below runs (once is enough: they take seconds)."""


def _load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import an example as its own module, with its siblings importable (as when run)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    name = f"example_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def _run(stem: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    _load(EXAMPLES / f"{stem}.py", monkeypatch).main()
    return capsys.readouterr().out


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_every_example_has_a_documented_main_that_runs(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = _load(path, monkeypatch)
    assert module.__doc__
    assert callable(module.main)
    if path.stem not in OWN_RUN:
        module.main()
        assert capsys.readouterr().out.strip()


class TestQuickstart:
    def test_it_walks_to_signed_in_and_explains_the_refused_sign_out(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = _run("quickstart", monkeypatch, capsys)
        assert "sign_in -> signed_in" in out
        assert "session.operator_password_wrong" in out


class TestCustomGuard:
    def test_the_deposit_guard_refuses_explains_and_then_lets_activation_through(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = _run("custom_guard", monkeypatch, capsys)
        assert "deposit short: ('settlement.device_deposit_short',)" in out
        assert "尚差 15000 分" in out
        assert "ledger down: ('port.unavailable',) retryable" in out
        assert "terminal T-77 is activated" in out

    def test_the_guard_is_wired_into_activation_only(self, monkeypatch: pytest.MonkeyPatch) -> None:
        module = _load(EXAMPLES / "custom_guard.py", monkeypatch)
        lc = module.agent_lifecycle()
        guarded = [t.trigger for t in lc.transitions if "agent.deposit_paid" in t.conditions]
        assert guarded == ["activate"]


class TestCustomLifecycle:
    def test_it_loads_the_yaml_files_and_walks_the_bank_s_terminal_to_returned(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = _run("custom_lifecycle", monkeypatch, capsys)
        assert "<Lifecycle 'bank-branch'" in out
        assert "('compliance.region_not_served',)" in out
        assert "('settlement.transaction_limit_exceeded',)" in out
        assert "('session.unsettled_batch',)" in out
        assert out.rstrip().endswith("give_back -> returned")

    def test_the_policy_file_overrides_only_what_it_names(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import posflow

        _, policy = _load(EXAMPLES / "custom_lifecycle.py", monkeypatch).load()
        assert policy.limits.micro.per_transaction == 50_000
        assert policy.served_regions == {"350100", "350200"}
        assert policy.cooling_off_days == posflow.Policy().cooling_off_days


class TestPropertyTesting:
    def test_the_properties_hold_and_the_walk_reaches_every_state(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        module = _load(EXAMPLES / "property_testing.py", monkeypatch)
        module.main()
        out = capsys.readouterr().out
        assert "every promise held" in out
        assert set(module.LIFECYCLE.states) == module.REACHED

    def test_the_promises_catch_a_lifecycle_whose_refusals_change_the_terminal(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        module = _load(EXAMPLES / "property_testing.py", monkeypatch)
        honest = module.LIFECYCLE

        class Leaky:
            """The bank's lifecycle, except that a refused event still bumps the version."""

            def __getattr__(self, name: str) -> object:
                return getattr(honest, name)

            def fire(self, terminal, event, ctx):  # type: ignore[no-untyped-def]
                outcome = honest.fire(terminal, event, ctx)
                if outcome.ok:
                    return outcome
                bumped = type(terminal)(terminal.id, terminal.state, terminal.version + 1)
                return type(
                    "Refused", (), {"ok": False, "codes": outcome.codes, "terminal": bumped}
                )

        monkeypatch.setattr(module, "LIFECYCLE", Leaky())
        with pytest.raises(AssertionError):
            module.step(module.fresh(), "give_back", {})
