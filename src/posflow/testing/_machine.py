"""A rule-based state machine that checks posflow's invariants on a user's workflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from posflow._context import Context
from posflow._lifecycle import Lifecycle
from posflow._mask import redact
from posflow._outcome import Outcome
from posflow._terminal import Terminal
from posflow.errors import ReplayError
from posflow.testing._service import ServiceLike, SimpleService
from posflow.testing._world import World

__all__ = ["InvariantViolation", "TerminalMachine"]

UNKNOWN_EVENT = "posflow.testing.no_such_event"
"""An event no lifecycle declares; the machine fires it now and then (it must be refused)."""

# the kinds of event a step draws (see TerminalMachine._event); plain strings, so that
# hypothesis shows them as such in a shrunk example
_ALLOWED = "allowed from the state"
_ANY = "any declared event"
_UNKNOWN = "an unknown event"


class InvariantViolation(AssertionError):
    """A posflow invariant did not hold; ``invariant`` names which one.

    Attributes:
        invariant: ``"declared_state"``, ``"refusal_changes_nothing"``,
            ``"history_replays"``, ``"available_agrees_with_check"`` or
            ``"service_keeps_outcome"``.
    """

    def __init__(self, invariant: str, message: str) -> None:
        self.invariant = invariant
        super().__init__(f"[{invariant}] {message}")


def _plain(value: Any) -> Any:
    """``value`` as JSON would hold it (tuples as lists), for comparing stored data."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _snapshot(t: Terminal) -> tuple[str, str, int, Any]:
    """What a store keeps of a terminal, in a form that survives a JSON round trip."""
    return t.id, t.state, t.version, _plain(t.data)


class TerminalMachine(RuleBasedStateMachine):
    """Fires random events at terminals and checks posflow's invariants after every step.

    Subclass it, point the hooks at your workflow, and run ``YourMachine.TestCase``
    under pytest (or ``hypothesis.stateful.run_state_machine_as_test``). With no
    hooks overridden it runs the default lifecycle in a :class:`World` where every
    guard passes, so the walks get deep into it: about six events in eight have a
    transition from the terminal's state. To be sure a property is checked in a
    given state, start there with :func:`posflow.testing.strategies.terminals`.

    Hooks (override any):

    - :meth:`make_lifecycle`: your lifecycle, with your guards.
    - :meth:`make_store`: your store; the machine drives a
      ``posflow.store.TerminalService`` over it. ``None`` (the default) keeps
      terminals and history in a :class:`SimpleService`.
    - :meth:`make_service`: the service itself, when building one from a store is
      not enough.
    - :meth:`make_context`: the context each event is fired in (ports, policy,
      payload, clock); it may draw from hypothesis data.
    - :meth:`initial_data`: the data new terminals start with.

    Invariants checked (each failure is an :class:`InvariantViolation` naming it):

    - ``declared_state``: every stored terminal is in a declared state;
    - ``refusal_changes_nothing``: a refused event leaves state, version and data
      as they were, in the outcome and in the service;
    - ``history_replays``: ``lifecycle.replay(service.history(id))`` rebuilds the
      stored state and version, and the stored data as masked;
    - ``available_agrees_with_check``: ``available(t, ctx)`` lists every event of
      the lifecycle, each with the verdict ``check(t, event, ctx)`` gives;
    - ``service_keeps_outcome``: after an accepted event the service holds the
      terminal the outcome announced.

    Add invariants of your own with hypothesis' ``@invariant()`` in the subclass;
    ``self.lifecycle``, ``self.service``, ``self.world``, ``self.terminal_ids``
    and ``self.last`` (the last outcome) are there to look at.

    Attributes:
        terminal_count: how many terminals each run drives (they share the service).
        unknown_events: whether an event the lifecycle does not declare is fired
            now and then.
    """

    terminal_count: ClassVar[int] = 2
    unknown_events: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.lifecycle: Lifecycle = self.make_lifecycle()
        self.world: World = World(lifecycle=self.lifecycle)
        self.service: ServiceLike = self.make_service(self.lifecycle)
        self.terminal_ids: tuple[str, ...] = tuple(
            f"T-machine-{i}" for i in range(max(1, self.terminal_count))
        )
        self.initial: dict[str, Mapping[str, Any]] = {}
        for tid in self.terminal_ids:
            self.world.enrol(tid)
            data = dict(self.initial_data(tid))
            self.service.create(tid, data)
            self.initial[tid] = data
        self.last: Outcome | None = None

    # -- hooks --------------------------------------------------------------------------

    def make_lifecycle(self) -> Lifecycle:
        """The lifecycle under test (the default lifecycle unless overridden)."""
        from posflow._default import default_lifecycle  # noqa: PLC0415 - only when not overridden

        return default_lifecycle()

    def make_store(self) -> Any:
        """A fresh store for one run, or ``None`` to keep everything in memory without one."""
        return None

    def make_service(self, lifecycle: Lifecycle) -> ServiceLike:
        """The service events are fired through: a ``TerminalService`` over :meth:`make_store`.

        Falls back to a :class:`SimpleService` when there is no store.
        """
        store = self.make_store()
        if store is None:
            return SimpleService(lifecycle)
        from posflow.store import TerminalService  # noqa: PLC0415 - the store is optional here

        service: ServiceLike = TerminalService(lifecycle, store)
        return service

    def make_context(self, terminal: Terminal, event: str, data: st.DataObject) -> Context:
        """The context ``event`` is fired in; by default the world's happy context for it.

        ``data`` lets an override draw payloads or port behaviour from hypothesis.
        """
        self.world.prepare(terminal, event)
        return self.world.context_for(event)

    def initial_data(self, terminal_id: str) -> Mapping[str, Any]:
        """The data a new terminal starts with: the world's merchant, by default."""
        return {"merchant": self.world.merchant}

    # -- rules ----------------------------------------------------------------------------

    def _event(self, terminal: Terminal, data: st.DataObject) -> str:
        # weigh the walk towards events that can happen, so that it gets somewhere: about
        # six draws in eight from the state's own events, one from all, one unknown.
        # The weights are the copies in one list: st.one_of keeps each distinct
        # strategy once, so six copies of one had counted as one, each kind came a
        # third of the time, and the walks stalled.
        allowed = self.lifecycle.allowed_events(terminal.state)
        kinds = [_ALLOWED] * 6 if allowed else []
        kinds.append(_ANY)
        if self.unknown_events:
            kinds.append(_UNKNOWN)
        kind = data.draw(st.sampled_from(kinds), label="kind of event")
        if kind == _UNKNOWN:
            return UNKNOWN_EVENT
        events = allowed if kind == _ALLOWED else self.lifecycle.events
        return data.draw(st.sampled_from(events), label="event")

    @rule(data=st.data())
    def fire_event(self, data: st.DataObject) -> None:
        """Fire a drawn event at a drawn terminal and check what the service kept."""
        tid = data.draw(st.sampled_from(self.terminal_ids), label="terminal")
        before = self.service.get(tid)
        event = self._event(before, data)
        ctx = self.make_context(before, event, data)
        self.check_available(before, ctx)
        outcome = self.service.fire(tid, event, ctx)
        self.last = outcome
        after = self.service.get(tid)
        if outcome.ok:
            if _snapshot(after) != _snapshot(outcome.terminal):
                raise InvariantViolation(
                    "service_keeps_outcome",
                    f"{event!r} was accepted but the service kept {after!r}, "
                    f"not {outcome.terminal!r}",
                )
        else:
            self.check_refusal(before, outcome, after)

    @rule(seconds=st.integers(0, 3 * 86400))
    def advance_clock(self, seconds: int) -> None:
        """Let time pass in the world (cooling-off, sessions and documents depend on it)."""
        self.world.clock.advance(seconds=seconds)

    # -- the invariants -------------------------------------------------------------------

    def check_available(self, terminal: Terminal, ctx: Context) -> None:
        """``available`` lists every event, each with the verdict ``check`` gives."""
        available = self.lifecycle.available(terminal, ctx)
        if set(available) != set(self.lifecycle.events):
            missing = sorted(set(self.lifecycle.events) - set(available))
            extra = sorted(set(available) - set(self.lifecycle.events))
            raise InvariantViolation(
                "available_agrees_with_check",
                f"available() in {terminal.state!r} misses {missing} and adds {extra}",
            )
        for event, verdict in available.items():
            checked = self.lifecycle.check(terminal, event, ctx)
            if verdict != checked:
                raise InvariantViolation(
                    "available_agrees_with_check",
                    f"in {terminal.state!r}, available() says {verdict!r} "
                    f"for {event!r} but check() says {checked!r}",
                )

    def check_refusal(self, before: Terminal, outcome: Outcome, after: Terminal) -> None:
        """A refusal leaves state, version and data as they were."""
        for label, t in (("the outcome", outcome.terminal), ("the service", after)):
            if _snapshot(t) != _snapshot(before):
                raise InvariantViolation(
                    "refusal_changes_nothing",
                    f"{outcome.event!r} was refused ({', '.join(outcome.codes)}) but "
                    f"{label} went from {before.state!r} v{before.version} "
                    f"to {t.state!r} v{t.version}"
                    + ("" if _plain(t.data) == _plain(before.data) else " with other data"),
                )

    @invariant()
    def declared_state(self) -> None:
        """Every stored terminal is in a state the lifecycle declares."""
        states = set(self.lifecycle.states)
        for tid in self.terminal_ids:
            t = self.service.get(tid)
            if t.state not in states:
                raise InvariantViolation(
                    "declared_state", f"terminal {tid!r} is in undeclared state {t.state!r}"
                )

    @invariant()
    def history_replays(self) -> None:
        """Each terminal's history replays to its stored state, version and (masked) data."""
        for tid in self.terminal_ids:
            stored = self.service.get(tid)
            records = self.service.history(tid)
            try:
                rebuilt = self.lifecycle.replay(
                    records, terminal_id=tid, data=redact(self.initial[tid])
                )
            except ReplayError as exc:
                raise InvariantViolation(
                    "history_replays", f"the history of {tid!r} does not replay: {exc}"
                ) from exc
            if (rebuilt.state, rebuilt.version) != (stored.state, stored.version):
                raise InvariantViolation(
                    "history_replays",
                    f"the history of {tid!r} ({len(records)} records) replays to "
                    f"{rebuilt.state!r} v{rebuilt.version}, but {stored.state!r} "
                    f"v{stored.version} is stored",
                )
            if _plain(rebuilt.data) != _plain(redact(stored.data)):
                raise InvariantViolation(
                    "history_replays",
                    f"the history of {tid!r} replays to other data than is stored",
                )
