"""The questions support desks are asked, each answered by the reasons of a refusal.

Each test builds the situation behind one answer and checks the exact reason
codes the default lifecycle gives, whether a retry can help, and that the answer
reads in both languages.
"""

from __future__ import annotations

import datetime as dt

import pytest

import posflow
from guard_world import MERCHANT_ID, MODEL, SN, TERMINAL, World
from posflow.ports import BlacklistEntry, Device, DeviceModel, Document, RegionRule, Suspension


def _explained(outcome: posflow.Outcome) -> tuple[str, ...]:
    """The codes of a refusal, after checking every reason reads in both languages."""
    assert not outcome.ok
    assert outcome.terminal is outcome.previous
    for reason in outcome.reasons:
        for lang in posflow.LANGUAGES:
            assert reason.message(lang)
            assert reason.remedy(lang)
            assert "{" not in reason.message(lang) + reason.remedy(lang)
    return outcome.codes


class TestWhyCantIClaimMyTerminalOnline:
    def test_because_the_review_found_documents_missing(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "business_licence")
        world.documents.remove(MERCHANT_ID, "id_card_back")
        outcome = world.fire(world.new_terminal(), "review")
        assert _explained(outcome) == ("documents.required_document_missing",)
        assert outcome.reasons[0].params["documents"] == ["business_licence", "id_card_back"]

    def test_because_the_terminal_is_not_in_stock(self) -> None:
        world = World()
        t = world.terminal("in_stock")
        world.inventory.remove_device(SN)
        assert _explained(world.fire(t, "activate")) == ("stock.sn_not_registered",)

    def test_because_the_region_is_not_served(self) -> None:
        world = World()
        world.risk.set_region(RegionRule("310000", served=False))
        assert _explained(world.fire(world.new_terminal(), "review")) == (
            "compliance.region_not_served",
        )

    def test_because_the_region_forbids_the_model(self) -> None:
        world = World()
        t = world.terminal("in_stock")
        world.risk.set_region(RegionRule("310000", forbidden_models=[MODEL]))
        assert _explained(world.fire(t, "activate")) == ("compliance.model_forbidden_in_region",)


class TestWhyIsMyTerminalNotInStock:
    def test_because_the_model_is_uncertified(self) -> None:
        world = World()
        world.inventory.add_model(DeviceModel(MODEL, certifications=[]))
        assert _explained(world.fire(world.terminal("reviewed"), "ship")) == (
            "stock.model_uncertified",
        )

    def test_because_the_sn_is_not_registered_in_inventory(self) -> None:
        world = World()
        t = world.terminal("shipped")
        world.inventory.remove_device(SN)
        assert _explained(world.fire(t, "receive")) == ("stock.sn_not_registered",)

    def test_because_the_model_is_incompatible(self) -> None:
        world = World()
        world.inventory.add_model(DeviceModel(MODEL, host_compatible=False))
        assert _explained(world.fire(world.terminal("reviewed"), "ship")) == (
            "stock.model_incompatible",
        )

    def test_because_of_a_regional_restriction(self) -> None:
        world = World()
        world.risk.set_region(RegionRule("310000", required_certifications=["sh-local"]))
        assert _explained(world.fire(world.terminal("reviewed"), "ship")) == (
            "compliance.region_certification_missing",
        )

    def test_because_of_an_order_error(self) -> None:
        world = World()
        world.inventory.add_device(Device("SN-Q", "Q1"))
        t = world.terminal("shipped", shipped_sn=None)
        assert _explained(world.fire(t, "receive", sn="SN-Q")) == ("stock.order_mismatch",)

    def test_because_it_was_lost_in_transit(self) -> None:
        world = World()
        t = world.terminal("shipped")
        world.inventory.update_device(SN, location="lost")
        outcome = world.fire(t, "receive")
        assert _explained(outcome) == ("stock.shipment_fault",)
        reshipped = world.fire(t, "report_lost", cause="lost").raise_for_blocked().terminal
        assert reshipped.state == "reviewed"
        assert reshipped.data["shipment_faults"][0]["cause"] == "lost"

    def test_because_of_a_stock_shortage_which_a_retry_can_overcome(self) -> None:
        world = World()
        world.inventory.update_device(SN, terminal_id="T-other")
        outcome = world.fire(world.terminal("reviewed"), "ship", sn=None)
        assert _explained(outcome) == ("stock.out_of_stock",)
        assert outcome.retryable
        world.inventory.add_device(Device("SN-NEW", MODEL))
        assert world.fire(world.terminal("reviewed"), "ship", sn=None).ok


def _with_sale(world: World, amount: int = 1200) -> posflow.Terminal:
    t = world.terminal("signed_in")
    return world.fire(t, "record_sale", amount=amount).raise_for_blocked().terminal


class TestWhyCantISettle:
    def test_because_the_batch_is_over_a_limit(self) -> None:
        world = World()
        t = _with_sale(world, 90_000)
        world.merchant["type"] = "micro"
        t = t.with_data(merchant={**t.data["merchant"], "type": "micro"})
        world.policy = posflow.Policy.from_dict(
            {"limits": {"micro": {"per_transaction": 50_000, "daily": 80_000}}}
        )
        assert _explained(world.fire(t, "settle")) == (
            "settlement.transaction_limit_exceeded",
            "settlement.daily_limit_exceeded",
        )

    def test_because_of_the_network_which_a_retry_can_overcome(self) -> None:
        world = World()
        t = _with_sale(world)
        world.host.cut_off(TERMINAL)
        outcome = world.fire(t, "settle")
        assert _explained(outcome) == ("session.host_unreachable",)
        assert outcome.retryable

    def test_because_the_account_is_frozen(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, status="frozen")
        outcome = world.fire(_with_sale(world), "settle")
        assert _explained(outcome) == ("settlement.account_frozen",)
        assert not outcome.retryable

    def test_because_the_account_is_short(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, balance=-10_000)
        assert _explained(world.fire(_with_sale(world), "settle")) == (
            "settlement.insufficient_balance",
        )

    def test_because_of_maintenance_which_a_retry_can_overcome(self) -> None:
        world = World()
        t = _with_sale(world)
        now = world.clock.now()
        world.host.add_maintenance(now, now + dt.timedelta(minutes=30))
        outcome = world.fire(t, "settle")
        assert _explained(outcome) == ("settlement.host_maintenance",)
        assert outcome.retryable
        world.clock.advance(minutes=30)
        assert world.fire(t, "settle").ok

    def test_because_of_the_day_cutover(self) -> None:
        world = World()
        t = _with_sale(world)
        world.host.set_cutover("08:55", "09:10")
        assert _explained(world.fire(t, "settle")) == ("settlement.day_cutover",)

    def test_because_a_reversal_is_pending(self) -> None:
        world = World()
        t = world.fire(_with_sale(world), "record_sale", amount=500, timed_out=True).terminal
        assert _explained(world.fire(t, "settle")) == ("settlement.pending_reversal",)


class TestWhyCantISignOut:
    def test_because_of_the_network(self) -> None:
        world = World()
        t = world.terminal("settled")
        world.host.up = False
        outcome = world.fire(t, "sign_out")
        assert _explained(outcome) == ("session.host_unreachable",)
        assert outcome.retryable

    def test_because_of_the_hardware(self) -> None:
        world = World()
        outcome = world.fire(world.terminal("settled"), "sign_out", hardware_faults=["keyboard"])
        assert _explained(outcome) == ("session.hardware_fault",)
        assert not outcome.retryable

    def test_because_of_the_software_version(self) -> None:
        world = World()
        t = world.terminal("settled")
        world.policy = posflow.Policy(min_software_version="2.2")
        assert _explained(world.fire(t, "sign_out")) == ("session.software_outdated",)

    def test_because_of_a_wrong_password(self) -> None:
        world = World()
        wrong = {"password": "1111"}
        assert _explained(world.fire(world.terminal("settled"), "sign_out", **wrong)) == (
            "session.operator_password_wrong",
        )

    def test_because_the_batch_is_not_settled(self) -> None:
        world = World()
        assert _explained(world.fire(_with_sale(world), "sign_out")) == ("session.unsettled_batch",)

    def test_for_every_reason_at_once(self) -> None:
        world = World()
        t = _with_sale(world)
        world.policy = posflow.Policy(min_software_version="9")
        world.host.up = False
        wrong = {"password": "1111", "hardware_faults": ["touch_screen"]}
        outcome = world.fire(t, "sign_out", **wrong)
        assert _explained(outcome) == (
            "session.unsettled_batch",
            "session.host_unreachable",
            "session.software_outdated",
            "session.hardware_fault",
            "session.operator_password_wrong",
        )
        assert not outcome.retryable


def _closed(world: World) -> posflow.Terminal:
    t = world.terminal("closed")
    world.clock.advance(days=world.policy.cooling_off_days)
    return t


class TestCanIApplyAgainAfterClosing:
    def test_yes_as_a_reapplication_reviewed_like_a_new_one(self) -> None:
        world = World()
        t = world.fire(_closed(world), "reapply").raise_for_blocked().terminal
        assert t.state == "reapplied"
        assert world.fire(t, "review").raise_for_blocked().terminal.state == "reviewed"

    def test_not_during_the_cooling_off_period(self) -> None:
        world = World()
        t = world.terminal("closed")
        outcome = world.fire(t, "reapply")
        assert _explained(outcome) == ("compliance.cooling_off_active",)
        assert outcome.retryable

    @pytest.mark.parametrize(
        ("entry", "code"),
        [
            (BlacklistEntry("merchant", MERCHANT_ID), "compliance.merchant_blacklisted"),
            (
                BlacklistEntry("legal_rep", "110101199001011234"),
                "compliance.legal_rep_blacklisted",
            ),
        ],
    )
    def test_not_with_a_risk_record(self, entry: BlacklistEntry, code: str) -> None:
        world = World()
        t = _closed(world)
        world.risk.blacklist(entry)
        assert _explained(world.fire(t, "reapply")) == (code,)

    def test_not_with_a_fraud_suspension_in_the_history(self) -> None:
        world = World()
        world.risk.record_suspension(Suspension(MERCHANT_ID, "cash_out"))
        assert _explained(world.fire(_closed(world), "reapply")) == (
            "compliance.fraud_suspension_on_record",
        )

    def test_not_with_a_score_below_the_threshold(self) -> None:
        world = World()
        world.risk.set_score(MERCHANT_ID, 500)
        assert _explained(world.fire(_closed(world), "reapply")) == (
            "compliance.credit_score_below_threshold",
        )

    def test_not_with_fees_unpaid(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, unpaid_fees=30_000)
        assert _explained(world.fire(_closed(world), "reapply")) == ("settlement.unpaid_fees",)


class TestHowDoIActivateWithoutAStorefrontPhoto:
    def test_without_photo_or_substitute_activation_lists_what_would_do(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "storefront_photo")
        outcome = world.fire(world.terminal("in_stock"), "activate")
        assert _explained(outcome) == ("documents.storefront_proof_missing",)
        assert "lease_contract" in outcome.reasons[0].message("en")

    def test_with_an_accepted_substitute_it_activates(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "storefront_photo")
        world.documents.add(MERCHANT_ID, Document("lease_contract"))
        assert world.fire(world.terminal("in_stock"), "activate").ok


class TestCanIClose:
    def test_not_while_anything_is_owed_either_way(self) -> None:
        world = World()
        t = world.terminal("closing")
        world.accounts.update(MERCHANT_ID, balance=5_000, open_complaints=1)
        outcome = world.fire(t, "close", device_returned=False, penalty_paid=False)
        assert _explained(outcome) == (
            "settlement.balance_not_paid_out",
            "settlement.open_complaints",
            "settlement.early_termination_penalty_due",
            "stock.device_not_returned",
        )

    def test_not_with_an_unsettled_batch(self) -> None:
        world = World()
        t = world.terminal("closing", batch={"no": 3, "count": 2, "total": 900})
        assert _explained(world.fire(t, "close")) == ("session.unsettled_batch",)

    def test_not_without_the_close_request_documents(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "close_request")
        assert _explained(world.fire(world.terminal("activated"), "request_close")) == (
            "documents.required_document_missing",
        )
