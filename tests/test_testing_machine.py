"""posflow.testing.TerminalMachine: clean workflows pass, and each invariant catches its bug."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

import posflow
from posflow import Context, Lifecycle, Outcome, State, Terminal, Transition, Verdict
from posflow.store import MemoryStore, SQLStore, TerminalService
from posflow.testing import InvariantViolation, SimpleService, TerminalMachine

CLEAN = settings(settings.default, max_examples=25, stateful_step_count=15)
"""Enough runs to walk the default lifecycle widely, bounded for CI."""
BROKEN = settings(
    settings.default,
    max_examples=100,
    stateful_step_count=20,
    phases=[Phase.explicit, Phase.generate],  # catching the bug is the point; no shrinking
    database=None,
)
"""A broken workflow must be caught within these runs (most fail in the first few)."""

# -- a small workflow of "our own", with guards that read the payload -------------------

FORBIDDEN = posflow.reason_spec(
    "compliance.kit_forbidden",
    retryable=False,
    en="The test says no to {event}.",
    zh_cn="测试拒绝了 {event}。",
    remedy_en="Ask again with allow=True.",
    remedy_zh_cn="请以 allow=True 重试。",
)


@posflow.guard("kit.allowed")
def allowed(terminal: Terminal, ctx: Context) -> Any:
    """Passes when the payload says ``allow``."""
    return () if ctx.payload.get("allow") else (FORBIDDEN.reason(event="it"),)


def count(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    return {"steps": int(terminal.data.get("steps", 0)) + 1, "phone": "13812345678"}


def session_lifecycle(cls: type[Lifecycle] = Lifecycle) -> Lifecycle:
    return cls(
        [State("off"), State("on"), State("done", final=True)],
        [
            Transition("start", "off", "on", conditions="kit.allowed", effect=count),
            Transition("tick", "on", "=", conditions="kit.allowed", effect=count),
            Transition("stop", "on", "off", effect=count),
            Transition("finish", ["off", "on"], "done", conditions="kit.allowed"),
        ],
        "off",
        guards=posflow.GuardRegistry.of(allowed),
        name="kit-session",
    )


class SessionMachine(TerminalMachine):
    """The small workflow; the payload allows or refuses each guarded step."""

    lifecycle_class: ClassVar[type[Lifecycle]] = Lifecycle
    service_class: ClassVar[type[SimpleService]] = SimpleService

    def make_lifecycle(self) -> Lifecycle:
        return session_lifecycle(self.lifecycle_class)

    def make_service(self, lifecycle: Lifecycle) -> Any:
        return self.service_class(lifecycle)

    def initial_data(self, terminal_id: str) -> Mapping[str, Any]:
        return {"owner": terminal_id}

    def make_context(self, terminal: Terminal, event: str, data: st.DataObject) -> Context:
        allow = data.draw(st.booleans(), label="allow")
        return Context({"allow": allow}, clock=self.world.clock)


def run(machine: type[TerminalMachine], config: settings) -> None:
    run_state_machine_as_test(machine, settings=config)


def caught(machine: type[TerminalMachine]) -> InvariantViolation:
    with pytest.raises(InvariantViolation) as info:
        run(machine, settings(BROKEN, report_multiple_bugs=False))
    return info.value


# -- clean workflows pass -----------------------------------------------------------------


class TestCleanWorkflows:
    def test_the_default_lifecycle_in_a_happy_world_keeps_every_invariant(self) -> None:
        run(TerminalMachine, CLEAN)

    def test_a_workflow_of_our_own_keeps_every_invariant(self) -> None:
        run(SessionMachine, CLEAN)

    def test_a_machine_reaches_deep_states_of_the_default_lifecycle(self) -> None:
        reached: set[str] = set()

        class Watching(TerminalMachine):
            terminal_count = 1

            @invariant()
            def note(self) -> None:
                reached.update(self.service.get(t).state for t in self.terminal_ids)

        # 50 runs: in 60 seeds none missed; 30 missed "closed" in one seed of 20
        run(Watching, settings(CLEAN, max_examples=50, stateful_step_count=40))
        assert {"signed_in", "closed"} <= reached, sorted(reached)

    def test_most_events_fired_have_a_transition_from_the_state(self) -> None:
        kinds: list[str] = []

        class Counting(TerminalMachine):
            terminal_count = 1

            @invariant()
            def note(self) -> None:
                last = self.last
                if last is None or getattr(self, "_noted", None) is last:
                    return
                self._noted = last
                state = last.previous.state
                if last.event in self.lifecycle.allowed_events(state):
                    kinds.append("allowed")
                elif last.event in self.lifecycle.events:
                    kinds.append("other")
                else:
                    kinds.append("unknown")

        run(Counting, settings(CLEAN, max_examples=30, stateful_step_count=30))
        # drawn six in eight from the state's own events (any event may also be one of
        # them); st.one_of, which keeps each distinct strategy once, gave each kind a third
        assert len(kinds) >= 100, len(kinds)
        assert kinds.count("allowed") >= 0.6 * len(kinds), Counter(kinds)
        assert 0 < kinds.count("unknown") <= 0.25 * len(kinds), Counter(kinds)

    def test_unknown_events_can_be_left_out(self) -> None:
        fired: set[str] = set()

        class KnownOnly(SessionMachine):
            unknown_events = False

            @invariant()
            def note(self) -> None:
                if self.last is not None:
                    fired.add(self.last.event)

        run(KnownOnly, settings(CLEAN, max_examples=10))
        assert fired
        assert fired <= set(session_lifecycle().events)

    def test_users_add_invariants_of_their_own(self) -> None:
        class StepsNeverGoDown(SessionMachine):
            @invariant()
            def steps_are_few(self) -> None:
                for tid in self.terminal_ids:
                    assert int(self.service.get(tid).data.get("steps", 0)) < 3, "too many steps"

        with pytest.raises(AssertionError, match="too many steps"):
            run(StepsNeverGoDown, settings(BROKEN, report_multiple_bugs=False))


# -- each invariant catches a deliberately broken workflow --------------------------------


class LimboLifecycle(Lifecycle):
    """Bug: every accepted step lands in a state nobody declared."""

    def fire(
        self,
        terminal: Terminal,
        event: str,
        ctx: Context | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Outcome:
        out = super().fire(terminal, event, ctx, idempotency_key=idempotency_key)
        if out.blocked:
            return out
        lost = attrs.evolve(out.terminal, state="limbo")
        return Outcome(lost, out.previous, event, (), ctx or Context(), out.at)


class BumpingLifecycle(Lifecycle):
    """Bug: a refusal hands back the terminal with its version bumped."""

    def fire(
        self,
        terminal: Terminal,
        event: str,
        ctx: Context | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Outcome:
        out = super().fire(terminal, event, ctx, idempotency_key=idempotency_key)
        if out.ok:
            return out
        bumped = attrs.evolve(terminal, version=terminal.version + 1)
        return Outcome(bumped, terminal, event, out.reasons, ctx or Context(), out.at)


class OptimisticLifecycle(Lifecycle):
    """Bug: available() ignores the context, so it answers for an empty payload."""

    def available(self, terminal: Terminal, ctx: Context | None = None) -> dict[str, Verdict]:
        return super().available(terminal, None)


class ForgetfulLifecycle(Lifecycle):
    """Bug: available() leaves out the events that are refused."""

    def available(self, terminal: Terminal, ctx: Context | None = None) -> dict[str, Verdict]:
        return {e: v for e, v in super().available(terminal, ctx).items() if v}


class SloppyService(SimpleService):
    """Bug: a refused attempt is saved with the version bumped."""

    def keep(self, outcome: Outcome) -> None:
        super().keep(outcome)
        if outcome.blocked:
            t = self._terminals[outcome.terminal.id]
            self._terminals[t.id] = attrs.evolve(t, version=t.version + 1)


class LossyService(SimpleService):
    """Bug: every third history row is dropped."""

    def history(self, terminal_id: str) -> list[posflow.HistoryRecord]:
        return [r for r in super().history(terminal_id) if r.seq is None or r.seq % 3 != 2]


class DataLosingService(SimpleService):
    """Bug: accepted records are kept without the data changes they made."""

    def history(self, terminal_id: str) -> list[posflow.HistoryRecord]:
        return [attrs.evolve(r, changes={}) for r in super().history(terminal_id)]


class ShuffledService(SimpleService):
    """Bug: the history comes back newest first."""

    def history(self, terminal_id: str) -> list[posflow.HistoryRecord]:
        return super().history(terminal_id)[::-1]


class DeafService(SimpleService):
    """Bug: accepted outcomes are recorded in the history but the terminal is not saved."""

    def keep(self, outcome: Outcome) -> None:
        before = self._terminals[outcome.terminal.id]
        super().keep(outcome)
        self._terminals[before.id] = before


class TestBrokenWorkflowsAreCaught:
    def test_a_step_into_an_undeclared_state(self) -> None:
        machine = type("M", (SessionMachine,), {"lifecycle_class": LimboLifecycle})
        error = caught(machine)
        assert error.invariant == "declared_state"
        assert "limbo" in str(error)

    def test_a_refusal_that_bumps_the_version_in_the_outcome(self) -> None:
        machine = type("M", (SessionMachine,), {"lifecycle_class": BumpingLifecycle})
        assert caught(machine).invariant == "refusal_changes_nothing"

    def test_a_refusal_that_bumps_the_stored_version(self) -> None:
        machine = type("M", (SessionMachine,), {"service_class": SloppyService})
        error = caught(machine)
        assert error.invariant == "refusal_changes_nothing"
        assert "the service" in str(error)

    def test_a_history_that_drops_rows(self) -> None:
        machine = type("M", (SessionMachine,), {"service_class": LossyService})
        assert caught(machine).invariant == "history_replays"

    def test_a_history_out_of_order(self) -> None:
        machine = type("M", (SessionMachine,), {"service_class": ShuffledService})
        error = caught(machine)
        assert error.invariant == "history_replays"
        assert "does not replay" in str(error)

    def test_a_history_that_drops_data_changes(self) -> None:
        machine = type("M", (SessionMachine,), {"service_class": DataLosingService})
        error = caught(machine)
        assert error.invariant == "history_replays"
        assert "other data" in str(error)

    def test_a_service_that_does_not_save_accepted_steps(self) -> None:
        machine = type("M", (SessionMachine,), {"service_class": DeafService})
        assert caught(machine).invariant == "service_keeps_outcome"

    def test_available_that_ignores_the_context(self) -> None:
        machine = type("M", (SessionMachine,), {"lifecycle_class": OptimisticLifecycle})
        assert caught(machine).invariant == "available_agrees_with_check"

    def test_available_that_leaves_out_refused_events(self) -> None:
        machine = type("M", (SessionMachine,), {"lifecycle_class": ForgetfulLifecycle})
        error = caught(machine)
        assert error.invariant == "available_agrees_with_check"
        assert "misses" in str(error)

    def test_a_guard_that_answers_differently_each_time(self) -> None:
        calls = iter(range(10**9))

        @posflow.guard("kit.allowed")
        def flaky(terminal: Terminal, ctx: Context) -> Any:
            """Bug: refuses every other call, whatever it is asked."""
            return () if next(calls) % 2 else (FORBIDDEN.reason(event="it"),)

        class FlakyMachine(SessionMachine):
            def make_lifecycle(self) -> Lifecycle:
                return Lifecycle(
                    ["off", "on"],
                    [
                        Transition("start", "off", "on", conditions="kit.allowed"),
                        Transition("stop", "on", "off"),
                    ],
                    "off",
                    guards=posflow.GuardRegistry.of(flaky),
                )

        assert caught(FlakyMachine).invariant == "available_agrees_with_check"

    def test_a_clean_machine_would_not_have_raised(self) -> None:
        # the control for the cases above: the same machine with no bug passes
        run(SessionMachine, settings(BROKEN, max_examples=30))


# -- the same machine over posflow.store ----------------------------------------------------


class LossyStore(MemoryStore):
    """Bug: every third history row is lost on the way out."""

    def history(self, terminal_id: str) -> list[posflow.HistoryRecord]:
        return [r for i, r in enumerate(super().history(terminal_id)) if i % 3 != 2]


class StuckStore(MemoryStore):
    """Bug: reads return the terminal as it was first stored, whatever was saved since."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[str, Terminal] = {}

    def get(self, terminal_id: str) -> Terminal:
        return self.first.setdefault(terminal_id, super().get(terminal_id))


class TestOverAStore:
    def test_the_default_lifecycle_over_a_memory_store(self) -> None:
        class OverMemory(TerminalMachine):
            def make_store(self) -> Any:
                return MemoryStore()

        run(OverMemory, CLEAN)

    def test_the_machine_drives_a_terminal_service(self) -> None:
        services: list[object] = []

        class Noting(TerminalMachine):
            def make_store(self) -> Any:
                return MemoryStore()

            @invariant()
            def note(self) -> None:
                services.append(self.service)

        run(Noting, settings(CLEAN, max_examples=2, stateful_step_count=2))
        assert services
        assert all(isinstance(s, TerminalService) for s in services)

    def test_a_workflow_of_our_own_over_sqlite(self, tmp_path: Path) -> None:
        made = iter(range(10**6))

        class OverSQLite(SessionMachine):
            def make_service(self, lifecycle: Lifecycle) -> Any:
                return TerminalService(lifecycle, self.make_store())

            def make_store(self) -> Any:
                store = SQLStore(f"sqlite:///{tmp_path}/run{next(made)}.db")
                store.create_schema()
                return store

        run(OverSQLite, settings(CLEAN, max_examples=8, stateful_step_count=10))

    def test_the_default_lifecycle_over_sqlite(self, tmp_path: Path) -> None:
        made = iter(range(10**6))

        class OverSQLite(TerminalMachine):
            terminal_count = 1

            def make_store(self) -> Any:
                store = SQLStore(f"sqlite:///{tmp_path}/default{next(made)}.db")
                store.create_schema()
                return store

        run(OverSQLite, settings(CLEAN, max_examples=4, stateful_step_count=25))

    @pytest.mark.postgres
    def test_a_workflow_of_our_own_over_postgresql(self, postgres_url: str, pg_schema: str) -> None:
        stores: list[SQLStore] = []

        class OverPostgreSQL(SessionMachine):
            def make_service(self, lifecycle: Lifecycle) -> Any:
                while stores:  # one run at a time: the previous run's store is done
                    stores.pop().close()
                store = SQLStore(postgres_url, schema=pg_schema)
                store.drop_schema()
                store.create_schema()
                stores.append(store)
                return TerminalService(lifecycle, store)

        try:
            run(OverPostgreSQL, settings(CLEAN, max_examples=4, stateful_step_count=10))
        finally:
            for store in stores:
                store.close()

    def test_a_store_that_loses_history_rows(self) -> None:
        class Lossy(SessionMachine):
            def make_service(self, lifecycle: Lifecycle) -> Any:
                return TerminalService(lifecycle, LossyStore())

        assert caught(Lossy).invariant == "history_replays"

    def test_a_store_that_does_not_show_what_was_saved(self) -> None:
        class Stuck(TerminalMachine):
            def make_store(self) -> Any:
                return StuckStore()

        assert caught(Stuck).invariant == "service_keeps_outcome"
