"""The guard tests' world: :class:`posflow.testing.World` with the names the tests import.

Each test builds a :class:`World`, breaks exactly one thing (a document, a port
answer, a policy value, a payload) and checks the reason codes that explain it.
The world itself is the public one users test with; this module only names its
constants and adds :meth:`World.terminal`, which walks the paths below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import posflow
from posflow.testing import HAPPY_PAYLOADS
from posflow.testing import World as _PublicWorld

_SAMPLE = _PublicWorld()

TERMINAL: str = _SAMPLE.terminal_id
MERCHANT_ID: str = _SAMPLE.merchant_id
MERCHANT: Mapping[str, Any] = dict(_SAMPLE.merchant)
SN: str = HAPPY_PAYLOADS["ship"]["sn"]
MODEL: str = HAPPY_PAYLOADS["ship"]["model"]
OPERATOR: str = HAPPY_PAYLOADS["sign_in"]["operator"]
PASSWORD: str = HAPPY_PAYLOADS["sign_in"]["password"]
PAYLOADS: Mapping[str, Mapping[str, Any]] = HAPPY_PAYLOADS

PATHS: Mapping[str, tuple[str, ...]] = {
    "applied": (),
    "rejected": ("reject",),
    "reviewed": ("review",),
    "shipped": ("review", "ship"),
    "in_stock": ("review", "ship", "receive"),
    "activated": ("review", "ship", "receive", "activate"),
    "signed_in": ("review", "ship", "receive", "activate", "sign_in"),
    "settled": ("review", "ship", "receive", "activate", "sign_in", "settle"),
    "signed_out": ("review", "ship", "receive", "activate", "sign_in", "settle", "sign_out"),
    "suspended": ("review", "ship", "receive", "activate", "suspend"),
    "closing": ("review", "ship", "receive", "activate", "request_close"),
    "closed": ("review", "ship", "receive", "activate", "request_close", "close"),
    "reapplied": ("review", "ship", "receive", "activate", "request_close", "close", "reapply"),
}
"""How to reach each state of the default lifecycle from ``applied`` (a sale before settling)."""


class World(_PublicWorld):
    """The public test world, plus :meth:`terminal` along :data:`PATHS`."""

    def terminal(self, state: str, **data: Any) -> posflow.Terminal:
        """A terminal walked to ``state`` along :data:`PATHS` (then ``data`` merged in)."""
        t = self.new_terminal()
        for event in PATHS[state]:
            self.prepare(t, event)
            if event == "settle":
                t = self.fire(t, "record_sale").raise_for_blocked().terminal
            t = self.fire(t, event).raise_for_blocked().terminal
        return t.with_data(**data) if data else t


def run(world: World, name: str, terminal: posflow.Terminal, **payload: Any) -> tuple[Any, ...]:
    """Run the built-in guard ``name`` alone, exactly as the engine would."""
    g = posflow.default_guards()[name]
    return posflow.guards.run_guard(name, g, terminal, world.ctx(payload))


def codes(world: World, name: str, terminal: posflow.Terminal, **payload: Any) -> tuple[str, ...]:
    """The reason codes the built-in guard ``name`` gives (empty when it passes)."""
    return tuple(r.code for r in run(world, name, terminal, **payload))
