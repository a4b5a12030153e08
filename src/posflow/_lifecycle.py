"""The lifecycle: a definition compiled once into a table, and the engine that runs it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from posflow._context import Context
from posflow._definition import checked_definition
from posflow._engine import (
    bad_input,
    check_args,
    collect,
    compile_table,
    decide,
    default_context,
    refused,
    sources_in,
    structural_refusal,
)
from posflow._history import HistoryRecord
from posflow._outcome import _AN_OUTCOME, Outcome, Verdict
from posflow._replay import replay_records
from posflow._spec import Effect, State, Transition
from posflow._terminal import Terminal, _TerminalSlots, terminal_id_of
from posflow.guards import Guard, GuardRegistry, guard_name
from posflow.guards._framework import reasons_for_exception

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["Lifecycle"]

_new = object.__new__
_time_ns = time.time_ns
_proxy = MappingProxyType
_PASSED = ()  # what a passing guard returns, most often: the empty tuple (one object)


class Lifecycle:
    """A terminal lifecycle: states, events and guarded transitions, compiled to a table.

    One lifecycle serves any number of terminals and threads: it keeps no
    per-terminal objects and no mutable state (beyond a cache of the immutable
    verdicts that refuse an event no transition leaves the state by), and
    ``check``, ``fire`` and ``available`` are pure functions of the terminal and
    the context.

    Args:
        states: the states, as :class:`State` objects or plain names.
        transitions: the transitions, as :class:`Transition` objects or, as
            :meth:`from_dict` takes them, ``[trigger, source, dest]`` lists.
        initial: the state new terminals start in.
        guards: the registry guard names are resolved against; defaults to
            posflow's built-in guards.
        name: a label for docs, diagrams and error messages.

    A transition's effect given by name is looked up in
    :func:`posflow.default_effects` (the lifecycle keeps the function); your own
    effects are given as functions, or by name to :meth:`from_dict`.

    Raises:
        InvalidDefinition: listing every problem found, each with its location:
            also a ``states`` or ``transitions`` that is not a list, and any field
            of a state or transition that is not of the type it must be.
    """

    __slots__ = (
        "_events",
        "_refusals",
        "_registry",
        "_states",
        "_table",
        "_transitions",
        "initial",
        "name",
    )

    def __init__(
        self,
        states: Iterable[State | str],
        transitions: Iterable[Transition],
        initial: str,
        *,
        guards: GuardRegistry | Mapping[str, Guard] | None = None,
        name: str = "lifecycle",
    ) -> None:
        if guards is None:
            from posflow.guards import default_guards  # noqa: PLC0415 - avoids an import cycle

            registry = default_guards()
        else:
            registry = guards if isinstance(guards, GuardRegistry) else GuardRegistry(guards)
        self._states, self._transitions = checked_definition(
            states, transitions, initial, registry, name
        )
        self.initial = initial
        self.name = name
        self._registry = registry
        self._table = compile_table(self._states, self._transitions, registry)
        self._events = tuple(dict.fromkeys(t.trigger for t in self._transitions))
        # (state, event) -> the verdict refusing it for want of a transition; filled on
        # first use (a reason costs tens of µs to build and mask, and available() asks
        # for most of them on every call), bounded by declared states x declared events
        self._refusals: dict[tuple[str, str], Verdict] = {}

    # -- introspection -------------------------------------------------------------

    @property
    def states(self) -> tuple[str, ...]:
        """Every declared state name, in declaration order."""
        return tuple(s.name for s in self._states)

    @property
    def state_specs(self) -> tuple[State, ...]:
        """The declared :class:`State` objects (with ``final`` and descriptions)."""
        return self._states

    @property
    def final_states(self) -> frozenset[str]:
        """The states marked final."""
        return frozenset(s.name for s in self._states if s.final)

    @property
    def events(self) -> tuple[str, ...]:
        """Every event name, in the order first declared."""
        return self._events

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """The declared transitions."""
        return self._transitions

    @property
    def guards(self) -> GuardRegistry:
        """The registry this lifecycle resolved its guard names against."""
        return self._registry

    def allowed_events(self, state: str) -> tuple[str, ...]:
        """The events that have a transition from ``state`` (guards not consulted)."""
        return tuple(self._table.get(state, ()))

    def sources_of(self, event: str) -> tuple[str, ...]:
        """The states from which ``event`` has a transition."""
        return sources_in(self._table, event)

    def __repr__(self) -> str:
        return (
            f"<Lifecycle {self.name!r}: {len(self._states)} states, "
            f"{len(self._transitions)} transitions, initial {self.initial!r}>"
        )

    # -- terminals -------------------------------------------------------------------

    def new_terminal(self, terminal_id: str, data: Mapping[str, Any] | None = None) -> Terminal:
        """A fresh terminal in the initial state, version 0.

        Raises:
            InvalidInput: naming ``terminal_id`` when it is not a non-empty string, or
                is whitespace only; naming ``data`` when that is not a mapping.
        """
        # the Terminal's own check, naming this method's parameter
        return Terminal(terminal_id_of(terminal_id, "terminal_id"), self.initial, 0, data)

    # -- the engine ------------------------------------------------------------------

    def check(self, terminal: Terminal, event: str, ctx: Context | None = None) -> Verdict:
        """Decide whether ``event`` may happen to ``terminal`` now, without doing it.

        Every guard is evaluated, so the verdict lists every reason, not only the
        first. Nothing is changed and no history is written.

        Raises:
            InvalidInput: naming ``terminal`` or ``event`` when it is not a
                :class:`Terminal` or an event name, and ``ctx`` when it is not a
                :class:`Context` (or ``None``) and the event is refused. Like
                ``fire``, ``check`` looks at its arguments only when something
                fails, so an allowed verdict (no guard, or guards that pass without
                reading the context) does not look at ``ctx``.
        """
        try:
            step = self._table[terminal.state][event]
        except KeyError:
            if ctx is not None and ctx.__class__ is not Context:
                check_args(terminal, event, ctx)
            return structural_refusal(
                self._table, self._events, self._refusals, terminal.state, event
            )
        except (AttributeError, TypeError) as exc:
            problem = bad_input(terminal, event, ctx)
            if problem is None:
                raise
            raise problem from exc
        if not step.guards:
            return step.allowed
        reasons = decide(step.guards, terminal, default_context() if ctx is None else ctx)
        if not reasons:
            return step.allowed
        if ctx is not None and ctx.__class__ is not Context:
            # a context that is not one makes every guard that reads it fail: say so
            check_args(terminal, event, ctx)
        return Verdict(event, terminal.state, step.dest, reasons)

    def available(self, terminal: Terminal, ctx: Context | None = None) -> dict[str, Verdict]:
        """Every event this lifecycle knows, each with its verdict from the current state.

        This is the call a support screen makes: what may happen next, and for
        everything that may not, why.

        Raises:
            InvalidInput: naming ``terminal`` or ``ctx`` when it is not a
                :class:`Terminal` or a :class:`Context` (or ``None``).
        """
        check_args(terminal, "", ctx)
        if ctx is None:
            ctx = default_context()
        return {e: self.check(terminal, e, ctx) for e in self._events}

    def fire(  # noqa: PLR0912, PLR0915 - the hot path is inlined on purpose (docs/performance.md)
        self,
        terminal: Terminal,
        event: str,
        ctx: Context | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Apply ``event`` to ``terminal`` if every guard allows it.

        Returns an :class:`Outcome`: on success the new terminal (next state,
        ``version + 1``, data changed by the transition's effect) and a history
        record; on refusal the unchanged terminal and every reason. A refusal is
        not an exception; call ``outcome.raise_for_blocked()`` for one.

        Raises:
            InvalidInput: naming ``terminal``, ``event`` or ``ctx`` when it is not a
                :class:`Terminal`, an event name or a :class:`Context` (or ``None``).
        """
        # the arguments are not checked before the work: this try costs nothing (3.11)
        # until something raises, and then bad_input says whether the terminal, the
        # event or the context was not what it must be. Guards and effects never raise
        # into it: their own try blocks turn whatever they raise into refusals.
        try:
            if ctx is None:
                ctx = default_context()
            try:
                step = self._table[terminal.state][event]
            except KeyError:
                found = structural_refusal(
                    self._table, self._events, self._refusals, terminal.state, event
                ).reasons
                return refused(terminal, event, found, ctx, idempotency_key)
            # the guards, as engine.decide runs them: this is most of what an event costs.
            # One or two are called here, unrolled, so that each call site sees one guard
            # and nothing is looped or unpacked; a result other than () (None, True, a
            # refusal, a raised exception's reasons) is judged by engine.collect.
            if step.arity == 2:
                g0, g1 = step.calls
                try:
                    r0 = g0(terminal, ctx)
                except Exception as exc:  # noqa: BLE001 - every guard failure becomes a refusal
                    r0 = reasons_for_exception(step.guards[0][0], exc)
                try:
                    r1 = g1(terminal, ctx)
                except Exception as exc:  # noqa: BLE001
                    r1 = reasons_for_exception(step.guards[1][0], exc)
                if r0 is not _PASSED or r1 is not _PASSED:
                    found = collect(step.guards, (r0, r1))
                    if found:
                        return refused(terminal, event, found, ctx, idempotency_key)
            elif step.arity == 1:
                try:
                    r0 = step.calls[0](terminal, ctx)
                except Exception as exc:  # noqa: BLE001
                    r0 = reasons_for_exception(step.guards[0][0], exc)
                if r0 is not _PASSED:
                    found = collect(step.guards, (r0,))
                    if found:
                        return refused(terminal, event, found, ctx, idempotency_key)
            elif step.arity:  # three or more guards: the engine's own loop
                found = decide(step.guards, terminal, ctx)
                if found:
                    return refused(terminal, event, found, ctx, idempotency_key)
            data = terminal.data
            changes = None
            if step.effect is not None:
                try:
                    changes = step.effect(terminal, ctx)
                    if changes:  # inside the try: a result that is not a mapping fails here
                        if changes.__class__ is dict:
                            # a Terminal's data is a read-only view of a dict of its own, and
                            # the view's copy() copies that dict at once (see data_dict)
                            fresh = data.copy()  # type: ignore[attr-defined]
                            fresh.update(changes)
                        else:
                            fresh = {**data, **changes}
                        data = _proxy(fresh)  # adopt_data, inlined
                except Exception as exc:  # noqa: BLE001 - an effect failure refuses, never half-applies
                    # the same reasons a raising guard gives: malformed input is not retryable
                    found = reasons_for_exception(f"effect:{guard_name(step.effect)}", exc)
                    return refused(terminal, event, found, ctx, idempotency_key)
            # fill bare slots, then make them a Terminal (see _terminal._TerminalSlots)
            new: Any = _TerminalSlots()
            new.id = terminal.id
            new.state = step.dest
            new.version = terminal.version + 1
            new.data = data
            new.__class__ = Terminal
            # outcome.decided, inlined
            out: Outcome = _new(*_AN_OUTCOME)
            out.terminal = new
            out.previous = terminal
            out.event = event
            out.reasons = ()
            out._ctx = ctx
            out.idempotency_key = idempotency_key
            out._changes = changes
            out._record = None
            if ctx._system_time:
                # the system clock as integer nanoseconds; Outcome.at makes the datetime
                # SystemClock.now() would have given, only when it is read
                out._at = _time_ns()
            elif ctx._frozen is not None:
                out._at = ctx._frozen._at  # FrozenClock.now(), read without the two calls
            else:
                out._at = ctx.now()
            return out
        except (AttributeError, TypeError) as exc:
            problem = bad_input(terminal, event, ctx)
            if problem is None:
                raise
            raise problem from exc

    # -- history -----------------------------------------------------------------------

    def replay(
        self,
        records: Iterable[HistoryRecord],
        *,
        terminal_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Terminal:
        """Rebuild a terminal from its history, checking every record on the way.

        State and version are rebuilt exactly; data is rebuilt from each record's
        masked ``changes`` on top of ``data``.

        Raises:
            ReplayError: on any record this lifecycle could not have produced
                (wrong terminal, wrong source state, no such transition, wrong
                destination, or a version that skips), and on an item that is not a
                :class:`HistoryRecord` (such as a dict).
            InvalidInput: naming ``records`` or ``data`` when it is not an iterable
                or a mapping.
        """
        return replay_records(self._table, self.initial, records, terminal_id, data)

    # -- loading and interop --------------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        document: Mapping[str, Any],
        *,
        guards: GuardRegistry | Mapping[str, Guard] | None = None,
        effects: Mapping[str, Effect] | None = None,
        source: str | None = None,
    ) -> Lifecycle:
        """Build a lifecycle from a dict in ``transitions``' vocabulary.

        Raises:
            InvalidDefinition: for a malformed document or any structural problem.
        """
        from posflow._loading import lifecycle_from_dict  # noqa: PLC0415 - pydantic schema lazily

        return lifecycle_from_dict(cls, document, guards=guards, effects=effects, source=source)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        guards: GuardRegistry | Mapping[str, Guard] | None = None,
        effects: Mapping[str, Effect] | None = None,
    ) -> Lifecycle:
        """Load a lifecycle from a YAML, JSON or TOML file (chosen by extension)."""
        from posflow._reading import read_document  # noqa: PLC0415

        doc = read_document(Path(path))
        return cls.from_dict(doc, guards=guards, effects=effects, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """The definition as a document ``from_dict`` reads back (named guards only)."""
        from posflow._loading import lifecycle_to_dict  # noqa: PLC0415

        return lifecycle_to_dict(self)

    def to_machine(self, model: object = None, **kwargs: Any) -> Machine:
        """Build a real ``transitions.Machine`` from this definition, guards as conditions."""
        from posflow._interop import to_machine  # noqa: PLC0415

        return to_machine(self, model, **kwargs)

    def diagram(self, fmt: Literal["mermaid", "dot"] = "mermaid") -> str:
        """Render the lifecycle as a Mermaid ``stateDiagram-v2`` or a Graphviz ``digraph``."""
        from posflow._interop import diagram  # noqa: PLC0415

        return diagram(self, fmt)
