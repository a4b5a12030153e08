"""Walk one terminal through the default lifecycle and show refusals explained.

The guards read the outside world through ports; here in-memory ports stand in
for the document store, inventory, settlement system and operator directory.
"""

from __future__ import annotations

import datetime as dt

import posflow
from posflow.ports import (
    Device,
    DeviceModel,
    Document,
    InMemoryDocumentVault,
    InMemoryInventory,
    InMemoryOperatorDirectory,
    InMemorySettlementAccounts,
    Ports,
    SettlementAccount,
)

MERCHANT = {
    "id": "M-001",
    "name": "Ming's Noodles",
    "contact_phone": "13812345678",
    "shop_address": "1 Nanjing Road",
    "type": "individual",
    "credit_code": "92310000MA1FL0001X",
    "acquirer_code": "48020000",
    "merchant_code": "898310000000001",
    "settlement_account": "6222020200112233445",
}
PAYLOADS = {
    "ship": {"model": "P300", "sn": "SN-0001"},
    "receive": {"sn": "SN-0001"},
    "activate": {"install_address": "1 Nanjing Road"},
    "sign_in": {"operator": "01", "password": "0000", "software_version": "2.1.0"},
}


def build_ports(today: dt.date) -> Ports:
    """In-memory stand-ins for the systems a real service plugs in."""
    expires = today + dt.timedelta(days=3650)
    documents = InMemoryDocumentVault()
    for kind in ("business_licence", "id_card_front", "id_card_back", "settlement_account"):
        documents.add("M-001", Document(kind, expires=expires))
    documents.add("M-001", Document("lease_contract", expires=expires))  # no storefront photo
    operators = InMemoryOperatorDirectory()
    operators.add("T-0001", "01", "0000")
    return Ports(
        documents=documents,
        inventory=InMemoryInventory([DeviceModel("P300")], [Device("SN-0001", "P300")]),
        accounts=InMemorySettlementAccounts([SettlementAccount("M-001", "6222020200112233445")]),
        operators=operators,
    )


def main() -> None:
    """Walk the terminal and print each step, then a refusal in both languages."""
    lc = posflow.default_lifecycle()
    clock = posflow.FrozenClock()
    ctx = posflow.Context(clock=clock, ports=build_ports(clock.now().date()))
    t = lc.new_terminal("T-0001", {"merchant": MERCHANT})
    for event in ("review", "ship", "receive", "activate", "sign_in"):
        t = lc.fire(t, event, ctx.with_payload(PAYLOADS.get(event))).raise_for_blocked().terminal
        print(f"{event:>12} -> {t.state}")
    t = lc.fire(t, "record_sale", ctx.with_payload(amount=1200)).terminal
    wrong = {"password": "1234"}  # the operator mistypes the password
    refused = lc.fire(t, "sign_out", ctx.with_payload(wrong))
    for line in refused.explain("en") + refused.explain("zh-CN"):
        print("   refused:", line)


if __name__ == "__main__":
    main()
