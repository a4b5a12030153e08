"""What the guard catalogue and the port shield cost.

Run: ``.venv/bin/python benchmarks/bench_guards.py``. Prints microseconds per
call for a port call (trusted in-memory vs shielded user port), building
``Ports()`` and ``Context()``, and checking / firing guarded events of the
default lifecycle in a world where every guard passes.
"""

from __future__ import annotations

import datetime as dt
import timeit
from collections.abc import Callable

import posflow
from posflow.ports import (
    Device,
    DeviceModel,
    Document,
    InMemoryDocumentVault,
    InMemoryHostLink,
    InMemoryInventory,
    InMemoryOperatorDirectory,
    InMemorySettlementAccounts,
    Ports,
    SettlementAccount,
)


class UserHostLink:
    """The same answers as the in-memory host, but not trusted: it gets shielded."""

    def reachable(self, terminal_id: str) -> bool:
        return True

    def window_at(self, at: dt.datetime) -> None:
        return None


def per_call(fn: Callable[[], object], number: int = 20_000) -> float:
    """Best of five runs, in microseconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def world() -> tuple[posflow.Terminal, posflow.Context]:
    clock = posflow.FrozenClock(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    kinds = ("business_licence", "id_card_front", "id_card_back", "settlement_account")
    docs = InMemoryDocumentVault({"M1": [Document(k) for k in (*kinds, "storefront_photo")]})
    operators = InMemoryOperatorDirectory(cost=2)
    operators.add("T1", "01", "0000")
    ports = Ports(
        documents=docs,
        inventory=InMemoryInventory([DeviceModel("P300")], [Device("SN1", "P300")]),
        accounts=InMemorySettlementAccounts([SettlementAccount("M1", "6222020200112233445")]),
        operators=operators,
    )
    merchant = {
        "id": "M1",
        "name": "Ming",
        "contact_phone": "13800000000",
        "shop_address": "1 Road",
        "credit_code": "9131",
        "acquirer_code": "4802",
        "merchant_code": "8983",
        "settlement_account": "6222020200112233445",
    }
    t = posflow.default_lifecycle().new_terminal("T1", {"merchant": merchant})
    return t, posflow.Context(clock=clock, ports=ports)


def main() -> None:
    trusted = Ports(host=InMemoryHostLink())
    shielded = Ports(host=UserHostLink())  # type: ignore[arg-type]
    rows = {
        "port call, trusted in-memory": per_call(lambda: trusted.host.reachable("T1")),
        "port call, shielded user port": per_call(lambda: shielded.host.reachable("T1")),
        "Ports()": per_call(Ports),
        "Context()": per_call(posflow.Context),
    }
    lc = posflow.default_lifecycle()
    t, ctx = world()
    payloads = {
        "ship": {"model": "P300", "sn": "SN1"},
        "receive": {"sn": "SN1"},
        "activate": {"install_address": "1 Road"},
        "sign_in": {"operator": "01", "password": "0000", "software_version": "2.0"},
    }
    applied = t
    rows["check review (5 guards)"] = per_call(lambda: lc.check(applied, "review", ctx))
    for event in ("review", "ship", "receive", "activate", "sign_in"):
        step = ctx.with_payload(payloads.get(event))
        t = lc.fire(t, event, step).raise_for_blocked().terminal
    sale = ctx.with_payload(amount=1200)
    rows["fire record_sale (2 guards)"] = per_call(lambda: lc.fire(t, "record_sale", sale))
    t = lc.fire(t, "record_sale", sale).terminal
    rows["check settle (6 guards)"] = per_call(lambda: lc.check(t, "settle", ctx))
    rows["available() from signed_in"] = per_call(lambda: lc.available(t, ctx), number=2_000)
    width = max(map(len, rows))
    for name, micros in rows.items():
        print(f"{name:<{width}}  {micros:8.2f} µs")


if __name__ == "__main__":
    main()
