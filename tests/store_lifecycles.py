"""Small lifecycles that several store test modules share."""

from __future__ import annotations

from posflow import Lifecycle, State, Transition


def two_states(name: str) -> Lifecycle:
    """``a`` to the final ``b`` by ``go``, and ``tick`` from ``a`` to itself, named ``name``."""
    return Lifecycle(
        [State("a"), State("b", final=True)],
        [Transition("go", "a", "b"), Transition("tick", "a", "=")],
        "a",
        name=name,
    )
