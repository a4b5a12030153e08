"""A first end-to-end walk through the default lifecycle, with the ports it needs."""

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


def _ports(today: dt.date) -> Ports:
    later = today + dt.timedelta(days=3650)
    kinds = ("business_licence", "id_card_front", "id_card_back", "settlement_account")
    documents = InMemoryDocumentVault(
        {"M1": [Document(k, expires=later) for k in (*kinds, "storefront_photo")]}
    )
    operators = InMemoryOperatorDirectory(cost=2**4)
    operators.add("T1", "01", "0000")
    return Ports(
        documents=documents,
        inventory=InMemoryInventory([DeviceModel("P300")], [Device("SN1", "P300")]),
        accounts=InMemorySettlementAccounts([SettlementAccount("M1", "6222020200112233445")]),
        operators=operators,
    )


class TestDefaultLifecycleWalk:
    def test_a_terminal_walks_from_application_to_its_first_settlement(self) -> None:
        lc = posflow.default_lifecycle()
        merchant = {
            "id": "M1",
            "name": "Ming's Noodles",
            "contact_phone": "13812345678",
            "shop_address": "1 Road",
            "credit_code": "91310000MA1FL0001X",
            "acquirer_code": "48020000",
            "merchant_code": "898310000000001",
            "settlement_account": "6222020200112233445",
        }
        t = lc.new_terminal("T1", {"merchant": merchant})
        clock = posflow.FrozenClock()
        ctx = posflow.Context(clock=clock, ports=_ports(clock.now().date()))
        payloads = {
            "ship": {"model": "P300", "sn": "SN1"},
            "receive": {"sn": "SN1"},
            "activate": {"install_address": "1 Road"},
            "sign_in": {"operator": "01", "password": "0000", "software_version": "2.0"},
        }
        for event in ("review", "ship", "receive", "activate", "sign_in"):
            step = ctx.with_payload(payloads.get(event))
            t = lc.fire(t, event, step).raise_for_blocked().terminal
        t = lc.fire(t, "record_sale", ctx.with_payload(amount=1200)).raise_for_blocked().terminal
        signing_out = ctx.with_payload({"password": "0000"})
        refused = lc.fire(t, "sign_out", signing_out)
        assert refused.codes == ("session.unsettled_batch",)
        assert refused.terminal is t
        t = lc.fire(t, "settle", ctx).raise_for_blocked().terminal
        t = lc.fire(t, "sign_out", signing_out).raise_for_blocked().terminal
        assert (t.state, t.version, t.data["balance"]) == ("signed_out", 8, 1200)

    def test_a_fresh_terminal_with_empty_ports_is_refused_at_review_with_reasons(self) -> None:
        lc = posflow.default_lifecycle()
        t = lc.new_terminal("T1", {"merchant": {"id": "M1", "name": "Ming's"}})
        outcome = lc.fire(t, "review")
        assert outcome.codes == (
            "documents.application_field_missing",
            "documents.required_document_missing",
        )
