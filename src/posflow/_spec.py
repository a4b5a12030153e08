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


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _guards(value: object) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or callable(value):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


@attrs.frozen(slots=True)
class State:
    """A state a terminal can be in.

    Attributes:
        name: a noun or participle, such as ``in_stock``.
        final: true when no transition needs to leave it.
        description: what being in this state means (used in docs and diagrams).
    """

    name: str
    final: bool = False
    description: str = ""


@attrs.frozen(slots=True)
class Transition:
    """A step from one or more source states to a destination, under guards.

    Attributes:
        trigger: the event name (a verb, such as ``activate``).
        source: the states it may leave from.
        dest: the state it leads to; ``"="`` means "stay in the source state".
        conditions: guards (objects or registered names) that must all pass.
        unless: guards that must all *refuse* for the step to be allowed.
        effect: runs on acceptance and returns the terminal data it changes.
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


def find_problems(  # noqa: PLR0912 - one pass that names every problem it meets
    states: Sequence[State],
    transitions: Sequence[Transition],
    initial: str,
    registry: GuardRegistry,
) -> list[DefinitionProblem]:
    """Every structural problem of a definition, each with its location."""
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
    names: set[str] = set()
    for i, s in enumerate(states):
        if not s.name or not isinstance(s.name, str):
            add(DefinitionProblem(f"states[{i}]", "a state needs a non-empty name", "malformed"))
        elif s.name in names:
            add(
                DefinitionProblem(
                    f"states[{i}]", f"state {s.name!r} is declared twice", "duplicate_state"
                )
            )
        names.add(s.name)
    if states and initial not in names:
        add(
            DefinitionProblem(
                "initial", f"initial state {initial!r} is not declared", "unknown_state"
            )
        )
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(transitions):
        where = f"transitions[{i}] ({t.trigger})"
        if not t.trigger:
            add(DefinitionProblem(where, "a transition needs a trigger", "malformed"))
        if not t.source:
            add(DefinitionProblem(f"{where}.source", "a transition needs a source", "malformed"))
        for src in t.source:
            if src not in names:
                add(DefinitionProblem(f"{where}.source", f"unknown state {src!r}", "unknown_state"))
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
        if t.dest != "=" and t.dest not in names:
            add(DefinitionProblem(f"{where}.dest", f"unknown state {t.dest!r}", "unknown_state"))
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
    if problems:
        return problems
    problems.extend(_graph_problems(states, transitions, initial))
    return problems


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
