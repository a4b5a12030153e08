"""A guard of your own, reading a port of your own, added to the default lifecycle.

An agent (代理商) that hands out terminals asks each merchant for a device deposit
before activation. The deposits live in the agent's own ledger, which posflow
knows nothing about: the service declares a port for it (a ``Protocol``), passes
an implementation in ``Ports(extra=...)``, and writes a guard that asks it.

Run it with ``python examples/custom_guard.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

import posflow
from posflow.ports import (
    Device,
    DeviceModel,
    Document,
    InMemoryDocumentVault,
    InMemoryInventory,
    Ports,
)

DEPOSIT = 20_000  # fen: 200 yuan


class DepositLedger(Protocol):
    """The agent's ledger of device deposits: how much each merchant has paid."""

    def paid(self, merchant_id: str) -> int:
        """Deposit paid by ``merchant_id``, in fen."""
        ...


class InMemoryDepositLedger:
    """A ledger kept in a dict, for tests and this example."""

    def __init__(self) -> None:
        self._paid: dict[str, int] = {}

    def pay(self, merchant_id: str, amount: int) -> None:
        """Record a payment."""
        self._paid[merchant_id] = self._paid.get(merchant_id, 0) + amount

    def paid(self, merchant_id: str) -> int:
        """Deposit paid by ``merchant_id``, in fen."""
        return self._paid.get(merchant_id, 0)


class UnreachableLedger:
    """A ledger whose server is down: every call fails."""

    def paid(self, merchant_id: str) -> int:
        """Fail as a network client would."""
        raise ConnectionError("ledger.example: connection refused")


DEPOSIT_SHORT = posflow.reason_spec(
    "settlement.device_deposit_short",
    retryable=False,
    en="The device deposit is {paid} of {required} fen; {missing} fen are still due.",
    zh_cn="设备押金已缴 {paid} 分，应缴 {required} 分，尚差 {missing} 分。",
    remedy_en="Pay the rest of the device deposit to the agent, then activate again.",
    remedy_zh_cn="请向代理商补缴设备押金后重新激活。",
)


@posflow.guard("agent.deposit_paid")
def deposit_paid(terminal: posflow.Terminal, ctx: posflow.Context) -> list[posflow.Reason]:
    """The merchant has paid the agent's device deposit in full."""
    ledger: DepositLedger = ctx.ports.extra["deposits"]
    paid = ledger.paid(terminal.data["merchant"]["id"])  # a failure here is port.unavailable
    if paid >= DEPOSIT:
        return []
    return [DEPOSIT_SHORT.reason(paid=paid, required=DEPOSIT, missing=DEPOSIT - paid)]


def agent_lifecycle() -> posflow.Lifecycle:
    """The default lifecycle, with the deposit checked at activation."""
    default = posflow.default_lifecycle()
    transitions = [
        attrs.evolve(t, conditions=(*t.conditions, "agent.deposit_paid"))
        if t.trigger == "activate"
        else t
        for t in default.transitions
    ]
    return posflow.Lifecycle(
        default.state_specs,
        transitions,
        default.initial,
        guards=default.guards | posflow.GuardRegistry.of(deposit_paid),
        name="agent",
    )


MERCHANT = {
    "id": "M-7",
    "name": "Lan's Tea House",
    "type": "micro",
    "contact_phone": "13900001111",
    "shop_address": "8 Wuyi Road",
    "legal_rep_id_number": "350102199202023456",
    "acquirer_code": "48020000",
    "merchant_code": "898350000000007",
    "settlement_account": "6217000000000000777",
}
PAYLOADS = {
    "ship": {"model": "P300", "sn": "SN-77"},
    "receive": {"sn": "SN-77"},
    "activate": {"install_address": "8 Wuyi Road"},
}


def main() -> None:
    """Activate a terminal before and after the deposit, and with the ledger down."""
    lc = agent_lifecycle()
    clock = posflow.FrozenClock()
    expires = clock.now().date() + dt.timedelta(days=3650)
    documents = InMemoryDocumentVault()
    kinds = ("id_card_front", "id_card_back", "settlement_account", "storefront_photo")
    documents.add("M-7", *(Document(kind, expires=expires) for kind in kinds))
    inventory = InMemoryInventory([DeviceModel("P300")], [Device("SN-77", "P300")])
    ledger = InMemoryDepositLedger()
    ports = Ports(documents=documents, inventory=inventory, extra={"deposits": ledger})
    ctx = posflow.Context(clock=clock, ports=ports)

    t = lc.new_terminal("T-77", {"merchant": MERCHANT})
    for event in ("review", "ship", "receive"):
        t = lc.fire(t, event, ctx.with_payload(PAYLOADS.get(event))).raise_for_blocked().terminal
    print(f"terminal {t.id} is {t.state}")

    activate = ctx.with_payload(PAYLOADS["activate"])
    ledger.pay("M-7", 5_000)
    refused = lc.fire(t, "activate", activate)
    print("deposit short:", refused.codes)
    for line in refused.explain("en") + refused.explain("zh-CN"):
        print("  ", line)

    down = posflow.Context(
        clock=clock, ports=ports.replace(extra={"deposits": UnreachableLedger()})
    )
    outage = lc.fire(t, "activate", down.with_payload(PAYLOADS["activate"]))
    print("ledger down:", outage.codes, "retryable" if outage.retryable else "not retryable")
    print("  ", outage.reasons[0].message("en"))

    ledger.pay("M-7", DEPOSIT - 5_000)
    activated = lc.fire(t, "activate", activate).raise_for_blocked().terminal
    print(f"deposit paid: terminal {activated.id} is {activated.state}")


if __name__ == "__main__":
    main()
