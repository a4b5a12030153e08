"""The declarative parts of a lifecycle: states and transitions, and their validation."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from posflow.errors import DefinitionProblem, UnknownGuard

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal
    from posflow.guards import GuardLike, GuardRegistry

__all__ = ["Effect", "State", "Transition", "find_problems"]

Effect: TypeAlias = "Callable[[Terminal, Context], Mapping[str, Any] | None]"
"""Runs when a transition is accepted; returns the terminal data it changes."""


# The converters never raise: what they cannot read is kept as it was given, for
# find_problems to name with its location when a Lifecycle is built (a Transition on
# its own does not know where it sits in a definition).


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if value is None:
        return ()
    try:
        return tuple(value)
    except TypeError:  # not iterable: one malformed source
        return (value,)  # type: ignore[return-value]


def _guards(value: object) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or callable(value):
        return (value,)
    try:
        return tuple(value)  # type: ignore[arg-type]
    except TypeError:  # not iterable: one malformed guard
        return (value,)


@attrs.frozen(slots=True)
class State:
    """A state a terminal can be in.

    A state is a plain value; a :class:`~posflow.Lifecycle` built from it checks it
    (a name that is a non-empty string, ``final`` a bool) and lists what is wrong as
    :class:`~posflow.errors.InvalidDefinition` problems.

    Attributes:
        name: a noun or participle, such as ``in_stock``.
        final: ``True`` when no transition needs to leave it; a bool, not a truthy value
            (``final="no"`` is a definition problem, not a final state).
        description: what being in this state means (used in docs and diagrams).
    """

    name: str
    final: bool = False
    description: str = ""


@attrs.frozen(slots=True)
class Transition:
    """A step from one or more source states to a destination, under guards.

    Like :class:`State`, a transition is checked when a :class:`~posflow.Lifecycle`
    is built from it, not when it is made: every field that is not what it must be
    is listed there as an :class:`~posflow.errors.InvalidDefinition` problem, with
    the transition's position.

    Attributes:
        trigger: the event name (a verb, such as ``activate``).
        source: the states it may leave from.
        dest: the state it leads to; ``"="`` means "stay in the source state".
        conditions: guards (objects or registered names) that must all pass.
        unless: guards that must all *refuse* for the step to be allowed.
        effect: runs on acceptance and returns the terminal data it changes: a callable,
            or the name of one of :func:`posflow.default_effects`, which the lifecycle
            looks up when it is built (an ``unknown_effect`` problem if it is not there).
        description: what the step means, for docs.
    """

    trigger: str
    source: tuple[str, ...] = attrs.field(converter=_names)
    dest: str
    conditions: tuple[GuardLike, ...] = attrs.field(default=(), converter=_guards)
    unless: tuple[GuardLike, ...] = attrs.field(default=(), converter=_guards)
    effect: Effect | None = attrs.field(default=None, eq=False)
    description: str = ""

    def dest_from(self, source: str) -> str:
        """The state this transition leads to when taken from ``source``."""
        return source if self.dest == "=" else self.dest


def _guard_names(g: object) -> Iterable[str]:
    if isinstance(g, str):
        yield g
    elif hasattr(g, "names"):
        yield from g.names()


def _kind_of(value: object) -> str:
    return type(value).__name__


def find_problems(
    states: Sequence[State],
    transitions: Sequence[object],
    initial: str,
    registry: GuardRegistry,
    effects: Mapping[str, Effect],
) -> list[DefinitionProblem]:
    """Every structural problem of a definition, each with its location.

    ``transitions`` may hold anything the caller was given: whatever is not a
    :class:`Transition` is a problem here, as is every field of one that is not of
    the type it must be (looked at before it is hashed or compared, so that nothing
    but :class:`~posflow.errors.InvalidDefinition` can come out of building).
    String effects are looked up in ``effects``.
    """
    problems: list[DefinitionProblem] = []
    add = problems.append
    if not states:
        add(DefinitionProblem("states", "the lifecycle declares no states", "empty_definition"))
    if not transitions:
        add(
            DefinitionProblem(
                "transitions", "the lifecycle declares no transitions", "empty_definition"
            )
        )
    names = _state_problems(states, add)
    if not isinstance(initial, str):
        add(
            DefinitionProblem(
                "initial", f"the initial state must be a name, got {_kind_of(initial)}", "malformed"
            )
        )
    elif states and initial not in names:
        add(
            DefinitionProblem(
                "initial", f"initial state {initial!r} is not declared", "unknown_state"
            )
        )
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(transitions):
        if not isinstance(t, Transition):
            add(
                DefinitionProblem(
                    f"transitions[{i}]",
                    "a transition must be a Transition or a [trigger, source, dest] list, "
                    f"got {_kind_of(t)}",
                    "malformed",
                )
            )
            continue
        _transition_problems(i, t, names, seen, registry, effects, add)
    if problems:
        return problems
    problems.extend(_graph_problems(states, transitions, initial))  # type: ignore[arg-type]
    return problems


def _state_problems(states: Sequence[State], add: Callable[[DefinitionProblem], None]) -> set[str]:
    """The problems of each state, added; the names declared."""
    names: set[str] = set()
    for i, s in enumerate(states):
        if not isinstance(s.name, str):
            add(
                DefinitionProblem(
                    f"states[{i}]",
                    f"a state must be a State or a name, got {_kind_of(s.name)}",
                    "malformed",
                )
            )
            continue
        if not s.name:
            add(DefinitionProblem(f"states[{i}]", "a state needs a non-empty name", "malformed"))
        elif s.name in names:
            add(
                DefinitionProblem(
                    f"states[{i}]", f"state {s.name!r} is declared twice", "duplicate_state"
                )
            )
        if not isinstance(s.final, bool):
            add(
                DefinitionProblem(
                    f"states[{i}] ({s.name}).final",
                    f"final must be True or False, got {s.final!r}",
                    "malformed",
                )
            )
        names.add(s.name)
    return names


def _transition_problems(
    i: int,
    t: Transition,
    names: set[str],
    seen: dict[tuple[str, str], int],
    registry: GuardRegistry,
    effects: Mapping[str, Effect],
    add: Callable[[DefinitionProblem], None],
) -> None:
    """The problems of transition ``i``, added; its (source, trigger) pairs kept in ``seen``."""
    where = f"transitions[{i}] ({t.trigger})"
    trigger_ok = isinstance(t.trigger, str) and bool(t.trigger)
    if not trigger_ok:
        add(DefinitionProblem(where, "a transition needs a trigger (an event name)", "malformed"))
    if not t.source:
        add(DefinitionProblem(f"{where}.source", "a transition needs a source", "malformed"))
    for src in t.source:
        if not isinstance(src, str):
            add(
                DefinitionProblem(
                    f"{where}.source",
                    f"a source must be a state name, got {_kind_of(src)}",
                    "malformed",
                )
            )
            continue
        if src not in names:
            add(DefinitionProblem(f"{where}.source", f"unknown state {src!r}", "unknown_state"))
        if not trigger_ok:
            continue
        key = (src, t.trigger)
        if key in seen:
            add(
                DefinitionProblem(
                    where,
                    f"a second transition for event {t.trigger!r} from {src!r} "
                    f"(first at transitions[{seen[key]}])",
                    "duplicate_transition",
                )
            )
        else:
            seen[key] = i
    if not isinstance(t.dest, str) or not t.dest:
        add(
            DefinitionProblem(
                f"{where}.dest",
                f"a transition needs a dest (a state name or '='), got {t.dest!r}",
                "malformed",
            )
        )
    elif t.dest != "=" and t.dest not in names:
        add(DefinitionProblem(f"{where}.dest", f"unknown state {t.dest!r}", "unknown_state"))
    _guard_problems(where, t, registry, add)
    _effect_problems(where, t.effect, effects, add)


def _guard_problems(
    where: str, t: Transition, registry: GuardRegistry, add: Callable[[DefinitionProblem], None]
) -> None:
    """The problems of a transition's guards, added."""
    for field, guards in (("conditions", t.conditions), ("unless", t.unless)):
        for j, g in enumerate(guards):
            if not (isinstance(g, str) or callable(g)):
                add(
                    DefinitionProblem(
                        f"{where}.{field}[{j}]",
                        "a guard must be a name or a callable",
                        "malformed",
                    )
                )
                continue
            for name in _guard_names(g):
                try:
                    registry[name]
                except UnknownGuard:
                    add(
                        DefinitionProblem(
                            f"{where}.{field}[{j}]", f"unknown guard {name!r}", "unknown_guard"
                        )
                    )


def _effect_problems(
    where: str,
    effect: object,
    effects: Mapping[str, Effect],
    add: Callable[[DefinitionProblem], None],
) -> None:
    """The problem of a transition's effect, if it has one, added."""
    if isinstance(effect, str):
        if effect not in effects:
            add(
                DefinitionProblem(
                    f"{where}.effect",
                    f"unknown effect {effect!r} (a name must be one of posflow.default_effects();"
                    " pass your own effects as functions)",
                    "unknown_effect",
                )
            )
    elif effect is not None and not callable(effect):
        add(
            DefinitionProblem(
                f"{where}.effect",
                f"an effect must be a name or a callable, got {_kind_of(effect)}",
                "malformed",
            )
        )


def _graph_problems(
    states: Sequence[State], transitions: Sequence[Transition], initial: str
) -> list[DefinitionProblem]:
    out_edges: dict[str, set[str]] = {s.name: set() for s in states}
    for t in transitions:
        for src in t.source:
            out_edges[src].add(t.dest_from(src))
    reached = {initial}
    queue = deque([initial])
    while queue:
        for nxt in out_edges[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    problems = []
    for i, s in enumerate(states):
        if s.name not in reached:
            problems.append(
                DefinitionProblem(
                    f"states[{i}] ({s.name})",
                    f"state {s.name!r} cannot be reached from {initial!r}",
                    "unreachable_state",
                )
            )
        if not s.final and not (out_edges[s.name] - {s.name}):
            problems.append(
                DefinitionProblem(
                    f"states[{i}] ({s.name})",
                    f"state {s.name!r} is not final and has no way out",
                    "dead_end",
                )
            )
    return problems
