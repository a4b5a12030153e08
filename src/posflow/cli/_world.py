"""The simulated world: merchants' files, warehouse, banks, host and operators.

Every port answer is a pure function of the run's parameters (seed, fleet size,
days), the terminal or merchant asked about, and the simulated clock. Nothing in
the world changes as the simulation runs, so ``posflow explain`` can rebuild the
very same world later from the parameters stored with the run and evaluate the
guards exactly as the simulation did. What each terminal meets is its
:class:`~posflow.cli._plan.Plan`; fleet-wide faults (stock shortages, host
maintenance) are drawn per day from the seed alone.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import posflow
from posflow.cli._plan import (
    MAINTENANCE_RATE,
    MODELS,
    SHORTAGE_RATE,
    SIMULATION_POLICY,
    START,
    Params,
    Plan,
    day_of,
    merchant_id,
    shipment_attempt,
    sn_for,
    terminal_id,
    terminal_index,
)
from posflow.cli._world_ports import (
    _Accounts,
    _Documents,
    _Host,
    _Inventory,
    _Merchants,
    _Operators,
    _Risk,
)
from posflow.ports import (
    FrozenClock,
    Ports,
)

__all__ = ["World", "day_of", "natural_payload"]


def _draw_days(seed: int, what: str, days: int, rate: float) -> frozenset[int]:
    r = random.Random(f"{seed}:{what}")  # noqa: S311 - simulation, not secrets
    return frozenset(d for d in range(days) if r.random() < rate)


class World:
    """The ports of one run, answering from the plans and the clock.

    Args:
        params: the run.
        clock: the simulated clock the ports and the contexts share.
    """

    def __init__(self, params: Params, clock: FrozenClock | None = None) -> None:
        self.params = params
        self.clock = clock or FrozenClock(START)
        self.policy = posflow.Policy.from_dict(SIMULATION_POLICY)
        days = max(params.days, 1)
        self._shortage = {
            name: _draw_days(params.seed, f"shortage:{name}", days, SHORTAGE_RATE)
            for name in MODELS
        }
        self._maintenance = _draw_days(params.seed, "maintenance", days, MAINTENANCE_RATE)
        self._plans: dict[int, Plan] = {}
        self._today = (self.clock.now(), day_of(self.clock.now()))
        self._by_id: dict[str, Plan] = {}
        self.ports = Ports(
            documents=_Documents(self),
            inventory=_Inventory(self),
            risk=_Risk(self),
            accounts=_Accounts(self),
            host=_Host(self),
            operators=_Operators(self),
            merchants=_Merchants(self),
        )

    def plan(self, index: int) -> Plan:
        """Terminal ``index``'s plan (drawn once, then kept)."""
        found = self._plans.get(index)
        if found is None:
            found = self._plans[index] = Plan.draw(self.params, index)
            self._by_id[terminal_id(index)] = self._by_id[merchant_id(index)] = found
        return found

    def plan_of(self, identifier: str) -> Plan | None:
        """The plan behind a terminal, merchant or SN id, or ``None`` for a stranger."""
        found = self._by_id.get(identifier)
        if found is not None:
            return found
        index = terminal_index(identifier)
        if index is None or not 0 <= index < self.params.terminals:
            return None
        return self.plan(index)

    def today(self) -> int:
        """The simulated day the clock shows."""
        now = self.clock.now()
        known = self._today  # ports ask several times per event: the day is kept per time
        if now is known[0]:
            return known[1]
        day = day_of(now)
        self._today = (now, day)
        return day

    def context(self, payload: Mapping[str, Any] | None = None) -> posflow.Context:
        """A context in this world, at the clock's time."""
        return posflow.Context(
            payload or {}, actor="simulator", clock=self.clock, ports=self.ports, policy=self.policy
        )

    def in_shortage(self, model: str, day: int) -> bool:
        """Whether the warehouse has no ``model`` on ``day``."""
        return day in self._shortage.get(model, frozenset())

    def in_maintenance(self, day: int) -> bool:
        """Whether the host has a maintenance window on ``day``."""
        return day in self._maintenance


def natural_payload(world: World, terminal: posflow.Terminal, event: str) -> dict[str, Any]:
    """What the terminal's people would send with ``event`` now, with no mistake in it.

    ``posflow explain`` checks each event with this payload, so that a refusal it
    shows comes from the world (a missing document, a frozen account), not from a
    payload left empty.
    """
    plan = world.plan_of(terminal.id)
    if plan is None:
        return {}
    data = terminal.data
    payloads: dict[str, dict[str, Any]] = {
        "ship": {"model": data.get("model") or plan.model},
        "receive": {"sn": sn_for(plan.index, shipment_attempt(data))},
        "activate": {"install_address": f"{plan.index} Nanjing Road"},
        "sign_in": {"operator": "01", "password": plan.password, "software_version": "2.3.0"},
        "record_sale": {"amount": 1200},
        "sign_out": {"password": plan.password},
        "suspend": {"cause": plan.suspend_cause},
        "close": {
            "device_returned": plan.device_returned,
            "recovery_fee_charged": not plan.device_returned,
        },
    }
    return payloads.get(event, {})
