"""The engine's parts: compiled table cells, guard evaluation and refusals.

``Lifecycle.check`` and ``Lifecycle.fire`` run these on every event, so they are
written for speed (see ``docs/performance.md``); their behaviour is specified by
the lifecycle's docs and tests, not by anything here.
"""

from __future__ import annotations

import functools

from posflow._catalogue import NOT_ALLOWED_FROM_STATE, UNDECLARED_STATE, UNKNOWN_EVENT
from posflow._context import Context
from posflow._outcome import Outcome, Verdict, decided
from posflow._reasons import Reason
from posflow._spec import Effect, State, Transition
from posflow._terminal import Terminal
from posflow.errors import InvalidInput
from posflow.guards import Guard, GuardRegistry, guard_name, not_
from posflow.guards._framework import GuardResult, _Composite, normalise, reasons_for_exception

__all__ = [
    "Step",
    "bad_input",
    "check_args",
    "collect",
    "compile_table",
    "decide",
    "default_context",
    "refused",
    "resolve",
    "sources_in",
    "structural_refusal",
]


class Step:
    """One compiled (state, event) cell of the table."""

    __slots__ = (
        "allowed",
        "arity",
        "calls",
        "dest",
        "effect",
        "event",
        "guards",
        "source",
        "transition",
    )

    def __init__(
        self, transition: Transition, source: str, guards: tuple[tuple[str, Guard], ...]
    ) -> None:
        self.transition = transition
        self.event = transition.trigger
        self.source = source
        self.dest = transition.dest_from(source)
        self.guards = guards
        # the callables alone, for fire's unrolled calls (names are needed only on refusal)
        self.calls = tuple(g for _, g in guards)
        self.arity = len(guards)
        self.effect: Effect | None = transition.effect
        # verdicts are immutable, so the "allowed" one is made once per cell
        self.allowed = Verdict(self.event, source, self.dest, ())


def resolve(g: object, registry: GuardRegistry) -> tuple[str, Guard]:
    """A guard as the table keeps it: ``(name, callable)``, names looked up in ``registry``."""
    if isinstance(g, str):
        return g, registry[g]
    if isinstance(g, _Composite):
        return guard_name(g), g.bind(registry)  # type: ignore[return-value]
    return guard_name(g), g  # type: ignore[return-value]


def compile_table(
    states: tuple[State, ...], transitions: tuple[Transition, ...], registry: GuardRegistry
) -> dict[str, dict[str, Step]]:
    """The table ``fire`` and ``check`` look steps up in: ``{state: {event: Step}}``."""
    table: dict[str, dict[str, Step]] = {s.name: {} for s in states}
    for t in transitions:
        guards = tuple(resolve(g, registry) for g in t.conditions)
        guards += tuple(resolve(not_(g), registry) for g in t.unless)
        for src in t.source:
            table[src][t.trigger] = Step(t, src, guards)
    return table


def decide(
    guards: tuple[tuple[str, Guard], ...], terminal: Terminal, ctx: Context
) -> tuple[Reason, ...]:
    """Run every guard, in order, and collect every reason (a raising guard gives one too).

    A guard passes with ``None``, ``True`` or no reasons (an empty tuple, list or
    other iterable); ``False`` refuses with ``guard.refused``; and a result that is
    none of these (``0``, ``""``, a mapping, ...) refuses with ``guard.error``,
    however it would read as a bool: see :func:`~posflow.guards._framework.normalise`.

    ``Lifecycle.fire`` runs steps of one or two guards itself (judging any result other
    than the empty tuple with :func:`collect`) and calls this for more.
    """
    found: list[Reason] | None = None
    for name, g in guards:
        try:
            r = g(terminal, ctx)
        except Exception as exc:  # noqa: BLE001 - every guard failure becomes a refusal
            r = reasons_for_exception(name, exc)
        if r:
            if r is True:
                continue
        elif r is None or r.__class__ is tuple or r.__class__ is list:
            continue  # None or no reasons: the guard passed
        # anything else falsy (False, 0, "", {}) is judged by normalise, never taken for a pass
        if found is None:
            found = []
        found.extend(normalise(name, r))
    return () if found is None else tuple(found)


def collect(
    guards: tuple[tuple[str, Guard], ...], results: tuple[GuardResult, ...]
) -> tuple[Reason, ...]:
    """The reasons in guard results already obtained, judged exactly as :func:`decide` does.

    ``Lifecycle.fire`` calls one or two guards itself and comes here only when a
    result is not the empty tuple, so that no guard is ever called twice.
    """
    found: list[Reason] = []
    for (name, _), r in zip(guards, results, strict=True):
        if r:
            if r is True:
                continue
        elif r is None or r.__class__ is tuple or r.__class__ is list:
            continue  # None or no reasons: the guard passed
        found.extend(normalise(name, r))  # as in decide: 0, "" or {} is not a pass
    return tuple(found)


def refused(
    terminal: Terminal,
    event: str,
    reasons: tuple[Reason, ...],
    ctx: Context,
    idempotency_key: str | None,
) -> Outcome:
    """The outcome of a refusal: the terminal unchanged, every reason, the time of asking.

    Raises:
        InvalidInput: when ``ctx`` is not a :class:`Context`: something else with a
            ``now()`` (a clock passed in its place) would otherwise be kept on the
            outcome, and its guards' failures reported as the terminal's refusal.
    """
    if ctx.__class__ is not Context:  # a class compare, on refusals only
        check_args(terminal, event, ctx)
    return decided(terminal, terminal, event, reasons, ctx, ctx.now(), idempotency_key, None)


@functools.cache
def default_context() -> Context:
    """The context used when the caller gives none (shared: contexts are immutable)."""
    return Context()


def bad_input(terminal: object, event: object, ctx: object) -> InvalidInput | None:
    """What is wrong with the arguments of ``check``, ``fire`` or ``available``, if anything.

    The engine does not look at its arguments before the work (``fire`` and ``check``
    are the hot path): when the work fails with an ``AttributeError`` or a
    ``TypeError``, it asks this. An error returned is raised in place of the one that
    was met; ``None`` means the arguments are sound, and the original exception
    propagates unchanged. Guards and effects never get here: the engine turns what
    they raise into refusals.
    """
    if not isinstance(terminal, Terminal):
        return InvalidInput(
            f"must be a posflow Terminal, got {type(terminal).__name__}", field="terminal"
        )
    if not isinstance(terminal.state, str):  # Terminal takes any state; the table needs a name
        return InvalidInput(
            f"must be a state name, got {type(terminal.state).__name__}", field="terminal.state"
        )
    if not isinstance(event, str):
        return InvalidInput(f"must be an event name, got {type(event).__name__}", field="event")
    if ctx is not None and not isinstance(ctx, Context):
        return InvalidInput(
            f"must be a posflow Context or None, got {type(ctx).__name__}", field="ctx"
        )
    return None


def check_args(terminal: object, event: object, ctx: object) -> None:
    """Raise :class:`~posflow.errors.InvalidInput` for whichever argument is not what it must be."""
    problem = bad_input(terminal, event, ctx)
    if problem is not None:
        raise problem


def sources_in(table: dict[str, dict[str, Step]], event: str) -> tuple[str, ...]:
    """The states from which ``event`` has a transition in ``table``."""
    return tuple(s for s, row in table.items() if event in row)


def structural_refusal(
    table: dict[str, dict[str, Step]],
    events: tuple[str, ...],
    refusals: dict[tuple[str, str], Verdict],
    state: str,
    event: str,
) -> Verdict:
    """The verdict for an event with no transition from ``state``.

    Refusals of declared (state, event) pairs are kept in ``refusals`` (a reason
    costs tens of µs to build and mask); others are built each time, so that the
    cache cannot grow unbounded.
    """
    try:
        return refusals[state, event]
    except KeyError:
        pass
    row = table.get(state)
    if row is None:
        return Verdict(event, state, None, (UNDECLARED_STATE.reason(state=state),))
    allowed = tuple(row)
    if event not in events:
        reason = UNKNOWN_EVENT.reason(event=event, known=events, allowed=allowed)
        return Verdict(event, state, None, (reason,))
    reason = NOT_ALLOWED_FROM_STATE.reason(
        event=event,
        state=state,
        allowed=allowed or ("none",),
        sources=sources_in(table, event),
    )
    verdict = refusals[state, event] = Verdict(event, state, None, (reason,))
    return verdict
