"""A world in which every guard of the default lifecycle passes, for tests to spoil.

Each test builds a :class:`World`, breaks exactly one thing (a document, a port
answer, a policy value, a payload) and checks the reason codes that explain it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

import posflow
from posflow.ports import (
    Device,
    DeviceModel,
    Document,
    FrozenClock,
    InMemoryDocumentVault,
    InMemoryHostLink,
    InMemoryInventory,
    InMemoryOperatorDirectory,
    InMemoryRiskRegistry,
    InMemorySettlementAccounts,
    Ports,
    SettlementAccount,
)

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TERMINAL = "T1"
MERCHANT_ID = "M1"
SN = "SN0001"
MODEL = "P300"
ACCOUNT = "6222020200112233445"
OPERATOR = "01"
PASSWORD = "0000"  # noqa: S105 - a test operator's password

MERCHANT: Mapping[str, Any] = {
    "id": MERCHANT_ID,
    "name": "Ming's Noodles",
    "contact_phone": "13812345678",
    "shop_address": "1 Nanjing Road",
    "type": "enterprise",
    "credit_code": "91310000MA1FL0001X",
    "legal_rep_id_number": "110101199001011234",
    "acquirer_code": "48020000",
    "merchant_code": "898310000000001",
    "settlement_account": ACCOUNT,
    "region": "310000",
}

PAYLOADS: Mapping[str, Mapping[str, Any]] = {
    "ship": {"model": MODEL, "sn": SN},
    "receive": {"sn": SN},
    "activate": {"install_address": "1 Nanjing Road"},
    "sign_in": {"operator": OPERATOR, "password": PASSWORD, "software_version": "2.1.0"},
    "record_sale": {"amount": 1200},
    "sign_out": {"password": PASSWORD},
    "suspend": {"cause": "relocation"},
    "close": {"device_returned": True, "penalty_paid": True},
}
"""The payload each event needs in the happy world."""

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
"""How to reach each state of the default lifecycle from ``applied``."""


def good_documents(today: dt.date) -> list[Document]:
    """Every document any step asks for, valid for years."""
    later = today + dt.timedelta(days=3650)
    earlier = today - dt.timedelta(days=30)
    return [
        Document(kind, issued=earlier, expires=later)
        for kind in (
            "business_licence",
            "id_card_front",
            "id_card_back",
            "settlement_account",
            "storefront_photo",
            "close_request",
            "service_contract",
        )
    ]


@attrs.define
class World:
    """Ports, policy and clock in which the whole default lifecycle can be walked."""

    clock: FrozenClock = attrs.field(factory=lambda: FrozenClock(START))
    documents: InMemoryDocumentVault = attrs.field(factory=InMemoryDocumentVault)
    inventory: InMemoryInventory = attrs.field(factory=InMemoryInventory)
    risk: InMemoryRiskRegistry = attrs.field(factory=InMemoryRiskRegistry)
    accounts: InMemorySettlementAccounts = attrs.field(factory=InMemorySettlementAccounts)
    host: InMemoryHostLink = attrs.field(factory=InMemoryHostLink)
    operators: InMemoryOperatorDirectory = attrs.field(
        factory=lambda: InMemoryOperatorDirectory(cost=2**4)
    )
    policy: posflow.Policy = attrs.field(factory=posflow.Policy)
    merchant: dict[str, Any] = attrs.field(factory=lambda: dict(MERCHANT))
    lifecycle: posflow.Lifecycle = attrs.field(factory=posflow.default_lifecycle)

    def __attrs_post_init__(self) -> None:
        self.documents.add(MERCHANT_ID, *good_documents(self.clock.now().date()))
        self.inventory.add_model(DeviceModel(MODEL, firmware="2.0.0"))
        self.inventory.add_device(Device(SN, MODEL))
        self.risk.set_score(MERCHANT_ID, 720)
        self.accounts.add(SettlementAccount(MERCHANT_ID, ACCOUNT))
        self.operators.add(TERMINAL, OPERATOR, PASSWORD)

    @property
    def ports(self) -> Ports:
        """The world's ports, as a context carries them."""
        return Ports(
            documents=self.documents,
            inventory=self.inventory,
            risk=self.risk,
            accounts=self.accounts,
            host=self.host,
            operators=self.operators,
        )

    def ctx(self, payload: Mapping[str, Any] | None = None, **values: Any) -> posflow.Context:
        """A context for one event in this world."""
        return posflow.Context(
            {**(payload or {}), **values}, clock=self.clock, ports=self.ports, policy=self.policy
        )

    def new_terminal(self, **data: Any) -> posflow.Terminal:
        """A fresh application for the world's merchant."""
        return self.lifecycle.new_terminal(TERMINAL, {"merchant": self.merchant, **data})

    def fire(self, terminal: posflow.Terminal, event: str, **payload: Any) -> posflow.Outcome:
        """Fire ``event`` with the happy payload, overridden by ``payload``."""
        merged = {**PAYLOADS.get(event, {}), **payload}
        return self.lifecycle.fire(terminal, event, self.ctx(merged))

    def check(self, terminal: posflow.Terminal, event: str, **payload: Any) -> posflow.Verdict:
        """Check ``event`` with the happy payload, overridden by ``payload``."""
        merged = {**PAYLOADS.get(event, {}), **payload}
        return self.lifecycle.check(terminal, event, self.ctx(merged))

    def terminal(self, state: str, **data: Any) -> posflow.Terminal:
        """A terminal walked to ``state`` along the happy path (then ``data`` merged in)."""
        t = self.new_terminal()
        for event in PATHS[state]:
            if event == "reapply":
                self.clock.advance(days=self.policy.cooling_off_days + 1)
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
