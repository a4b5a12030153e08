"""A lifecycle and a policy of your own, loaded from YAML files.

``branch_lifecycle.yaml`` (beside this file) describes a bank partner's
terminals: handed over at a branch instead of shipped, settled within the
session, returned to the branch at the end. ``branch_policy.yaml`` holds the
bank's rules. Both are plain data a team can review; the guards and effects they
name are posflow's own.

Run it with ``python examples/custom_lifecycle.py``.
"""

from __future__ import annotations

from pathlib import Path

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

HERE = Path(__file__).resolve().parent
ACCOUNT = "6228480000000001234"


def load() -> tuple[posflow.Lifecycle, posflow.Policy]:
    """The bank's lifecycle and policy, from the YAML files beside this example."""
    effects = posflow.default_effects()
    lifecycle = posflow.Lifecycle.from_file(HERE / "branch_lifecycle.yaml", effects=effects)
    return lifecycle, posflow.Policy.from_file(HERE / "branch_policy.yaml")


def merchant(merchant_id: str, region: str) -> dict[str, str]:
    """A micro-merchant's application, as the branch takes it."""
    return {
        "id": merchant_id,
        "name": "Chen's Bakery",
        "type": "micro",
        "contact_phone": "13700002222",
        "shop_address": "3 Gulou Road",
        "legal_rep_id_number": "350102198803035678",
        "acquirer_code": "48020000",
        "merchant_code": "898350000000042",
        "settlement_account": ACCOUNT,
        "region": region,
    }


def branch_ports(terminal_ids: tuple[str, ...] = ("T-42",)) -> Ports:
    """The bank's systems, as posflow's in-memory ports (operator 01 on each terminal)."""
    documents = InMemoryDocumentVault()
    kinds = ("id_card_front", "id_card_back", "settlement_account", "lease_contract")
    for merchant_id in ("M-42", "M-43"):
        documents.add(merchant_id, *(Document(kind) for kind in kinds))
    operators = InMemoryOperatorDirectory(cost=2**4)  # cheap hashing for an example
    for terminal_id in terminal_ids:
        operators.add(terminal_id, "01", "2468")
    return Ports(
        documents=documents,
        inventory=InMemoryInventory([DeviceModel("P300")], [Device("SN-42", "P300")]),
        accounts=InMemorySettlementAccounts([SettlementAccount("M-42", ACCOUNT)]),
        operators=operators,
    )


def main() -> None:
    """Walk one terminal through the bank's lifecycle under the bank's policy."""
    lc, policy = load()
    print(lc)
    print("states:", ", ".join(lc.states))
    ctx = posflow.Context(clock=posflow.FrozenClock(), ports=branch_ports(), policy=policy)

    elsewhere = lc.new_terminal("T-43", {"merchant": merchant("M-43", "310000")})
    print("review outside the bank's regions:", lc.fire(elsewhere, "review", ctx).codes)

    steps = [
        ("review", {}),
        ("hand_over", {"sn": "SN-42"}),
        ("activate", {"install_address": "3 Gulou Road"}),
        ("sign_in", {"operator": "01", "password": "2468"}),
        ("record_sale", {"amount": 30_000}),
    ]
    t = lc.new_terminal("T-42", {"merchant": merchant("M-42", "350100")})
    for event, payload in steps:
        t = lc.fire(t, event, ctx.with_payload(payload)).raise_for_blocked().terminal
        print(f"{event:>12} -> {t.state}")

    too_big = lc.fire(t, "record_sale", ctx.with_payload(amount=80_000))
    print("a sale over the bank's micro-merchant cap:", too_big.codes)
    print("  ", too_big.reasons[0].message("zh-CN"))

    early = lc.fire(t, "sign_out", ctx.with_payload(password="2468"))
    print("sign-out before settling:", early.codes)
    for event, payload in [
        ("settle", {}),
        ("sign_out", {"password": "2468"}),
        ("give_back", {}),
    ]:
        t = lc.fire(t, event, ctx.with_payload(payload)).raise_for_blocked().terminal
        print(f"{event:>12} -> {t.state}")


if __name__ == "__main__":
    main()
