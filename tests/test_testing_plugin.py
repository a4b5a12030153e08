"""The pytest plugin: registered as an entry point, its posflow_* fixtures, run with pytester."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def test_the_plugin_is_registered_as_an_entry_point() -> None:
    (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "posflow"]
    assert entry.value == "_posflow_pytestplugin"
    # it lives outside the package so that loading it imports nothing of posflow
    spec = importlib.util.find_spec(entry.value)
    assert spec is not None
    assert spec.origin is not None
    source = Path(spec.origin).read_text(encoding="utf-8")
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in top_level if "posflow" in line], top_level


def test_the_fixtures_are_listed_with_their_docs(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--fixtures", "-p", "no:cacheprovider")
    text = result.stdout.str()
    for name in (
        "posflow_lifecycle",
        "posflow_clock",
        "posflow_world",
        "posflow_ports",
        "posflow_context",
        "posflow_service",
    ):
        assert name in text, name
    assert "frozen clock" in text


def test_the_fixtures_work_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import datetime as dt

        import pytest

        import posflow


        def test_lifecycle_and_clock(posflow_lifecycle, posflow_clock):
            assert posflow_lifecycle is posflow.default_lifecycle()
            start = posflow_clock.now()
            posflow_clock.advance(days=1)
            assert posflow_clock.now() - start == dt.timedelta(days=1)


        def test_a_fresh_service_per_test(posflow_service, posflow_world, posflow_context):
            posflow_service.create("T-world", {"merchant": posflow_world.merchant})
            assert posflow_service.fire("T-world", "review", posflow_context("review")).ok
            assert posflow_service.get("T-world").state == "reviewed"
            assert len(posflow_service.history("T-world")) == 1


        def test_the_service_is_fresh_again(posflow_service):
            with pytest.raises(posflow.errors.TerminalNotFound):
                posflow_service.get("T-world")


        def test_ports_set_in_the_test(posflow_world, posflow_ports, posflow_context):
            t = posflow_world.walk_to("activated")
            posflow_ports.fail("host")
            outcome = posflow_world.lifecycle.fire(t, "sign_in", posflow_context("sign_in"))
            assert "port.unavailable" in outcome.codes


        @pytest.mark.posflow_ports(fail="documents")
        def test_ports_set_by_a_marker(posflow_world, posflow_context):
            t = posflow_world.walk_to("in_stock")
            check = posflow_world.lifecycle.check(t, "activate", posflow_context("activate"))
            assert "port.unavailable" in check.codes


        @pytest.mark.posflow_ports(misbehave=["risk"], crm="a crm")
        def test_misbehaving_and_extra_ports(posflow_ports, posflow_context):
            ctx = posflow_context(actor="ops", amount=5)
            assert ctx.ports.extra["crm"] == "a crm"
            assert ctx.ports.risk.score("M") == "nonsense"
            assert (ctx.actor, dict(ctx.payload)) == ("ops", {"amount": 5})


        def test_the_service_is_the_store_s(posflow_service):
            from posflow.store import TerminalService

            assert isinstance(posflow_service, TerminalService)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=7)


def test_a_conftest_points_the_fixtures_at_its_own_lifecycle(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        import posflow


        @pytest.fixture
        def posflow_lifecycle():
            return posflow.Lifecycle(
                ["open", posflow.State("shut", final=True)],
                [posflow.Transition("shut", "open", "shut")],
                "open",
                name="door",
            )
        """
    )
    pytester.makepyfile(
        """
        def test_the_service_runs_the_door(posflow_service, posflow_context):
            posflow_service.create("D1")
            assert posflow_service.fire("D1", "shut", posflow_context()).ok
            assert posflow_service.get("D1").state == "shut"


        def test_the_world_runs_it_too(posflow_world):
            assert posflow_world.lifecycle.name == "door"
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_a_user_s_state_machine_runs_as_a_test_case(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import attrs
        from hypothesis import Phase, settings
        from posflow.testing import SimpleService, TerminalMachine


        class Workflow(TerminalMachine):
            pass


        class Broken(TerminalMachine):
            def make_service(self, lifecycle):
                return Forgetful(lifecycle)


        class Forgetful(SimpleService):
            def history(self, terminal_id):
                return super().history(terminal_id)[:1]


        Workflow.TestCase.settings = settings(
            max_examples=10, stateful_step_count=10, deadline=None, database=None
        )
        Broken.TestCase.settings = settings(
            Workflow.TestCase.settings, phases=[Phase.generate], max_examples=50
        )
        TestWorkflow = Workflow.TestCase
        TestBroken = Broken.TestCase
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*InvariantViolation*history_replays*"])


def test_the_plugin_can_be_switched_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_it(posflow_clock):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:posflow", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'posflow_clock' not found*"])
