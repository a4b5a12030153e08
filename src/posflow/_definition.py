"""A lifecycle definition as it is given: checked, and made into states and transitions.

:class:`~posflow.Lifecycle` takes states and transitions in several forms (objects,
names, ``[trigger, source, dest]`` lists, effects by name); this turns them into
:class:`~posflow.State` and :class:`~posflow.Transition` objects, or raises
``InvalidDefinition`` with every problem found.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

import attrs

from posflow._spec import Effect, State, Transition, find_problems
from posflow.errors import DefinitionProblem, InvalidDefinition
from posflow.guards import GuardRegistry

__all__ = ["checked_definition"]


def checked_definition(
    states: object, transitions: object, initial: str, registry: GuardRegistry, name: str
) -> tuple[tuple[State, ...], tuple[Transition, ...]]:
    """The states and transitions of a definition, each problem of which is an error.

    Raises:
        InvalidDefinition: listing every problem found, each with its location.
    """
    given_states = _items(states, "states")
    given_transitions = _items(transitions, "transitions")
    if isinstance(given_states, DefinitionProblem) or isinstance(
        given_transitions, DefinitionProblem
    ):
        shape = [p for p in (given_states, given_transitions) if isinstance(p, DefinitionProblem)]
        raise InvalidDefinition(shape, source=name)
    state_specs = tuple(s if isinstance(s, State) else State(s) for s in given_states)
    steps = tuple(_transition(t) for t in given_transitions)
    effects = _effects_named(steps)
    problems = find_problems(state_specs, steps, initial, registry, effects)
    if problems:
        raise InvalidDefinition(problems, source=name)
    # every step is a Transition now; an effect named is kept as the function it names
    return state_specs, tuple(
        attrs.evolve(t, effect=effects[t.effect]) if isinstance(t.effect, str) else t
        for t in cast("tuple[Transition, ...]", steps)
    )


def _items(value: object, where: str) -> tuple[Any, ...] | DefinitionProblem:
    """``states`` or ``transitions`` as a tuple, or the problem of what was given instead."""
    if not isinstance(value, str | bytes):  # a string is not a list of names
        try:
            return tuple(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    return DefinitionProblem(where, f"must be a list, got {type(value).__name__}", "malformed")


def _transition(item: object) -> object:
    """A transition as given, or one made from a ``[trigger, source, dest]`` list."""
    if isinstance(item, list | tuple) and len(item) == 3:
        return Transition(*item)
    return item  # a Transition, or something find_problems names


def _effects_named(transitions: tuple[object, ...]) -> Mapping[str, Effect]:
    """Where effect names are looked up: the default effects, read only when one is named."""
    if any(isinstance(getattr(t, "effect", None), str) for t in transitions):
        from posflow._default import default_effects  # noqa: PLC0415 - an import cycle

        return default_effects()
    return MappingProxyType({})
