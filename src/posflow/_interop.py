"""Interop with ``transitions``: a real ``Machine`` from a posflow definition, and diagrams."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from transitions import EventData, Machine

from posflow._context import Context
from posflow._spec import Effect
from posflow._terminal import Terminal
from posflow.errors import InvalidInput
from posflow.guards import Guard, guard_name, not_, run_guard
from posflow.guards._framework import _Composite

if TYPE_CHECKING:
    from posflow._lifecycle import Lifecycle

__all__ = ["diagram", "to_machine"]


def _terminal_of(model: Any) -> Terminal:
    return Terminal(
        str(getattr(model, "terminal_id", "machine")),
        model.state,
        int(getattr(model, "version", 0)),
        getattr(model, "data", None) or {},
    )


def _ctx_of(event: EventData) -> Context:
    ctx = event.kwargs.get("ctx") or getattr(event.model, "ctx", None)
    return ctx if isinstance(ctx, Context) else Context()


class _Condition:
    """A posflow guard seen as a ``transitions`` condition: true when it gives no reason."""

    __slots__ = ("guard", "name")

    def __init__(self, name: str, guard: Guard) -> None:
        self.name = name
        self.guard = guard

    def __call__(self, event: EventData) -> bool:
        return not run_guard(self.name, self.guard, _terminal_of(event.model), _ctx_of(event))


class _Unless:
    """A posflow ``unless`` guard as a ``transitions`` one: true, so blocking, unless it refuses.

    A guard that cannot run (``guard.error``, ``port.unavailable``) blocks the step,
    exactly as in the engine: an error never reads as "the condition does not hold".
    """

    __slots__ = ("blocker", "name")

    def __init__(self, name: str, guard: Guard) -> None:
        self.name = name
        self.blocker = not_(guard)

    def __call__(self, event: EventData) -> bool:
        return bool(run_guard(self.name, self.blocker, _terminal_of(event.model), _ctx_of(event)))


class _After:
    """Runs a posflow effect after a ``transitions`` transition and bumps the model's version."""

    __slots__ = ("effect",)

    def __init__(self, effect: Effect | None) -> None:
        self.effect = effect

    def __call__(self, event: EventData) -> None:
        model: Any = event.model
        before = _terminal_of(model)
        # the machine already moved the state; effects see the terminal as it was
        source = event.transition.source if event.transition is not None else model.state
        before = Terminal(before.id, source, before.version, before.data)
        if self.effect is not None:
            changes = self.effect(before, _ctx_of(event))
            if changes:
                model.data = {**(getattr(model, "data", None) or {}), **changes}
        model.version = before.version + 1


class _Model:
    """The model ``to_machine`` creates when none is given."""

    def __init__(self) -> None:
        self.terminal_id = "machine"
        self.version = 0
        self.data: dict[str, Any] = {}
        self.ctx: Context | None = None


def _resolved(lifecycle: Lifecycle, g: object) -> tuple[str, Guard]:
    if isinstance(g, str):
        return g, lifecycle.guards[g]
    if isinstance(g, _Composite):
        return guard_name(g), g.bind(lifecycle.guards)  # type: ignore[return-value]
    return guard_name(g), g  # type: ignore[return-value]


def to_machine(lifecycle: Lifecycle, model: object = None, **kwargs: Any) -> Machine:
    """Build a ``transitions.Machine`` equivalent to ``lifecycle``.

    Guards become ``conditions`` (and ``unless``), effects run as ``after``
    callbacks, and the model gains ``version`` and ``data`` as the posflow engine
    keeps them. Pass ``ctx=`` to a trigger (or set ``model.ctx``) to give guards
    their context. Extra keyword arguments go to ``Machine``.
    """
    if model is None:
        model = _Model()
    transitions = [
        {
            "trigger": t.trigger,
            "source": list(t.source),
            "dest": t.dest,
            "conditions": [_Condition(*_resolved(lifecycle, g)) for g in t.conditions],
            "unless": [_Unless(*_resolved(lifecycle, g)) for g in t.unless],
            "after": [_After(t.effect)],
        }
        for t in lifecycle.transitions
    ]
    options: dict[str, Any] = {
        "auto_transitions": False,
        "send_event": True,
        "ignore_invalid_triggers": True,
    }
    options.update(kwargs)
    return Machine(
        model=model,
        states=list(lifecycle.states),
        transitions=transitions,
        initial=lifecycle.initial,
        **options,
    )


def _dot_id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def diagram(lifecycle: Lifecycle, fmt: Literal["mermaid", "dot"] = "mermaid") -> str:
    """Render ``lifecycle`` as Mermaid ``stateDiagram-v2`` or Graphviz ``dot`` text."""
    edges: dict[tuple[str, str], list[str]] = {}
    for t in lifecycle.transitions:
        for src in t.source:
            edges.setdefault((src, t.dest_from(src)), []).append(t.trigger)
    if fmt == "mermaid":
        lines = ["stateDiagram-v2", f"    [*] --> {lifecycle.initial}"]
        lines += [f"    {a} --> {b}: {', '.join(events)}" for (a, b), events in edges.items()]
        lines += [f"    {s} --> [*]" for s in lifecycle.states if s in lifecycle.final_states]
        return "\n".join(lines) + "\n"
    if fmt == "dot":
        lines = [
            f"digraph {_dot_id(lifecycle.name)} {{",
            "    rankdir=LR;",
            "    node [shape=box, style=rounded];",
            '    "__start__" [shape=point, label=""];',
        ]
        lines += [
            f"    {_dot_id(s)}" + (" [peripheries=2];" if s in lifecycle.final_states else ";")
            for s in lifecycle.states
        ]
        lines.append(f'    "__start__" -> {_dot_id(lifecycle.initial)};')
        lines += [
            f"    {_dot_id(a)} -> {_dot_id(b)} [label={_dot_id(', '.join(events))}];"
            for (a, b), events in edges.items()
        ]
        lines.append("}")
        return "\n".join(lines) + "\n"
    raise InvalidInput(f"unknown diagram format {fmt!r}; use 'mermaid' or 'dot'", field="fmt")
