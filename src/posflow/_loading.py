"""Loading lifecycles from documents (dict, YAML, JSON, TOML) through a pydantic schema."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import pydantic

from posflow._spec import Effect, State, Transition
from posflow.errors import DefinitionProblem, InvalidDefinition
from posflow.guards import Guard, GuardLike, GuardRegistry, all_of, any_of, guard_name, not_
from posflow.guards._framework import _AllOf, _AnyOf, _Composite, _Not

if TYPE_CHECKING:
    from posflow._lifecycle import Lifecycle

__all__ = ["LifecycleDocument", "lifecycle_from_dict", "lifecycle_to_dict"]

_Name = Annotated[str, pydantic.StringConstraints(min_length=1, strip_whitespace=True)]


class _StateDoc(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: _Name
    final: bool = False
    description: str = ""


class _AnyOfDoc(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    any_of: list[GuardDoc] = pydantic.Field(min_length=1)


class _AllOfDoc(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    all_of: list[GuardDoc] = pydantic.Field(min_length=1)


class _NotDoc(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)
    not_: GuardDoc = pydantic.Field(alias="not")


GuardDoc = _Name | _AnyOfDoc | _AllOfDoc | _NotDoc
_AnyOfDoc.model_rebuild()
_AllOfDoc.model_rebuild()
_NotDoc.model_rebuild()


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str | dict) else value


class _TransitionDoc(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    trigger: _Name
    source: list[_Name] = pydantic.Field(min_length=1)
    dest: _Name
    conditions: list[GuardDoc] = []
    unless: list[GuardDoc] = []
    effect: _Name | None = None
    description: str = ""

    @pydantic.field_validator("source", "conditions", "unless", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [] if value is None else _one_or_many(value)


class LifecycleDocument(pydantic.BaseModel):
    """The schema of a lifecycle document, in ``transitions``' vocabulary.

    States are names or ``{name, final, description}`` mappings; transitions are
    ``{trigger, source, dest, conditions, unless, effect}`` mappings or
    ``[trigger, source, dest]`` lists, exactly as ``transitions.Machine`` takes
    them. A condition is a guard name, or ``{any_of: [...]}``, ``{all_of: [...]}``
    or ``{not: ...}``.
    """

    model_config = pydantic.ConfigDict(extra="forbid")
    name: str = "lifecycle"
    initial: _Name
    states: list[_Name | _StateDoc]
    transitions: list[_TransitionDoc]

    @pydantic.field_validator("transitions", mode="before")
    @classmethod
    def _lists_to_dicts(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            if isinstance(item, list | tuple) and len(item) == 3:
                out.append({"trigger": item[0], "source": item[1], "dest": item[2]})
            else:
                out.append(item)
        return out


def _guard(doc: Any) -> GuardLike:
    if isinstance(doc, str):
        return doc
    if isinstance(doc, _AnyOfDoc):
        return any_of(*(_guard(d) for d in doc.any_of))
    if isinstance(doc, _AllOfDoc):
        return all_of(*(_guard(d) for d in doc.all_of))
    return not_(_guard(doc.not_))


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif (
            part in {"str", "_StateDoc", "_AnyOfDoc", "_AllOfDoc", "_NotDoc"}
            or "constrained" in part
        ):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "document"


def _message(error: Any) -> str:
    """The schema's message, in the document's terms where it would name a private class."""
    if error["type"] == "model_type" and "_TransitionDoc" in error["msg"]:
        return (
            "a transition is a mapping {trigger, source, dest, ...} "
            "or a list [trigger, source, dest]"
        )
    return str(error["msg"])


_GLOBAL_KINDS = frozenset({"unreachable_state", "dead_end", "empty_definition"})
"""Problems of the whole graph, which a malformed state or transition left out would fake."""


def _problems_of_the_rest(
    cls: type[Lifecycle],
    document: Mapping[str, Any],
    guards: GuardRegistry | Mapping[str, Guard] | None,
    effects: Mapping[str, Effect] | None,
) -> list[DefinitionProblem]:
    """The problems of the states and transitions that are well formed, beside malformed ones.

    A document that fails the schema is checked again without its malformed
    states and transitions, so that one misspelt key does not hide an unknown
    state or guard elsewhere. Reachability and dead ends are not judged then:
    the parts left out could be what connects the rest.
    """
    states = document.get("states")
    transitions = document.get("transitions")
    if not isinstance(states, list) or not isinstance(transitions, list):
        return []
    rest: dict[str, Any] = {k: document[k] for k in ("name", "initial") if k in document}
    # where each kept item was in the document, to name it there
    at = {
        "states": [i for i, s in enumerate(states) if _valid(_STATE, s)],
        "transitions": [
            i
            for i, t in enumerate(LifecycleDocument._lists_to_dicts(transitions))
            if _valid(_TRANSITION, t)
        ],
    }
    rest["states"] = [states[i] for i in at["states"]]
    rest["transitions"] = [transitions[i] for i in at["transitions"]]
    try:
        lifecycle_from_dict(
            cls, rest, guards=guards, effects=effects, source=None, second_look=False
        )
    except InvalidDefinition as exc:

        def placed(text: str) -> str:
            return _INDEX.sub(lambda m: f"{m[1]}[{at[m[1]][int(m[2])]}]", text)

        return [
            DefinitionProblem(placed(p.where), placed(p.message), p.kind)
            for p in exc.problems
            if p.kind not in _GLOBAL_KINDS and p.kind != "malformed"
        ]
    return []


_INDEX = re.compile(r"\b(states|transitions)\[(\d+)\]")


_STATE: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(_Name | _StateDoc)
_TRANSITION: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(_TransitionDoc)


def _valid(adapter: pydantic.TypeAdapter[Any], item: Any) -> bool:
    try:
        adapter.validate_python(item)
    except pydantic.ValidationError:
        return False
    return True


def lifecycle_from_dict(
    cls: type[Lifecycle],
    document: Mapping[str, Any],
    *,
    guards: GuardRegistry | Mapping[str, Guard] | None,
    effects: Mapping[str, Effect] | None,
    source: str | None,
    second_look: bool = True,
) -> Lifecycle:
    """Validate ``document`` and build the lifecycle it describes.

    With ``second_look``, a document that fails the schema has its well-formed
    parts checked too (see :func:`_problems_of_the_rest`).
    """
    if not isinstance(document, Mapping):
        raise InvalidDefinition(
            [
                DefinitionProblem(
                    "document", f"expected a mapping, got {type(document).__name__}", "malformed"
                )
            ],
            source=source,
        )
    if not document:
        raise InvalidDefinition(
            [DefinitionProblem("document", "the definition is empty", "empty_definition")],
            source=source,
        )
    try:
        doc = LifecycleDocument.model_validate(dict(document))
    except pydantic.ValidationError as exc:
        found = {
            DefinitionProblem(_where(e["loc"]), _message(e), "malformed"): None
            for e in exc.errors()
        }
        if second_look:
            for problem in _problems_of_the_rest(cls, document, guards, effects):
                found.setdefault(problem, None)
        raise InvalidDefinition(list(found), source=source) from None
    effects = effects or {}
    problems: list[DefinitionProblem] = []
    transitions = []
    for i, t in enumerate(doc.transitions):
        effect = None
        if t.effect is not None:
            effect = effects.get(t.effect)
            if effect is None:
                problems.append(
                    DefinitionProblem(
                        f"transitions[{i}] ({t.trigger}).effect",
                        f"unknown effect {t.effect!r}",
                        "unknown_effect",
                    )
                )
        transitions.append(
            Transition(
                t.trigger,
                tuple(t.source),
                t.dest,
                conditions=tuple(_guard(c) for c in t.conditions),
                unless=tuple(_guard(c) for c in t.unless),
                effect=effect,
                description=t.description,
            )
        )
    states = [
        State(s) if isinstance(s, str) else State(s.name, s.final, s.description)
        for s in doc.states
    ]
    try:
        lifecycle = cls(states, transitions, doc.initial, guards=guards, name=doc.name)
    except InvalidDefinition as exc:
        raise InvalidDefinition([*problems, *exc.problems], source=source or doc.name) from None
    if problems:
        raise InvalidDefinition(problems, source=source or doc.name)
    return lifecycle


def _guard_doc(g: object) -> Any:
    if isinstance(g, str):
        return g
    if isinstance(g, _AnyOf):
        return {"any_of": [_guard_doc(p) for p in g.parts]}
    if isinstance(g, _AllOf):
        return {"all_of": [_guard_doc(p) for p in g.parts]}
    if isinstance(g, _Not):
        return {"not": _guard_doc(g.parts[0])}
    if isinstance(g, _Composite):  # pragma: no cover - every composite kind is handled above
        raise TypeError(type(g).__name__)
    return guard_name(g)


def lifecycle_to_dict(lifecycle: Lifecycle) -> dict[str, Any]:
    """The document form of ``lifecycle`` (guards by name; effects by function name)."""
    states: list[Any] = [
        s.name
        if not (s.final or s.description)
        else {"name": s.name, "final": s.final, "description": s.description}
        for s in lifecycle.state_specs
    ]
    transitions = []
    for t in lifecycle.transitions:
        doc: dict[str, Any] = {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
        if t.conditions:
            doc["conditions"] = [_guard_doc(g) for g in t.conditions]
        if t.unless:
            doc["unless"] = [_guard_doc(g) for g in t.unless]
        if t.effect is not None:
            doc["effect"] = guard_name(t.effect)
        transitions.append(doc)
    return {
        "name": lifecycle.name,
        "initial": lifecycle.initial,
        "states": states,
        "transitions": transitions,
    }
