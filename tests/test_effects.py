"""The operating data each accepted event of the default lifecycle keeps."""

from __future__ import annotations

import posflow
from guard_world import MERCHANT_ID, MODEL, SN, World


class TestDefaultLifecycleEffects:
    def test_review_keeps_merchant_details_sent_with_it(self) -> None:
        world = World()
        t = world.fire(world.new_terminal(), "review", merchant={"region": "110000"}).terminal
        assert t.data["merchant"]["region"] == "110000"
        assert t.data["merchant"]["id"] == MERCHANT_ID

    def test_ship_records_the_order_and_the_device_shipped(self) -> None:
        world = World()
        t = world.terminal("shipped")
        assert (t.data["model"], t.data["shipped_sn"]) == (MODEL, SN)

    def test_a_lost_shipment_goes_back_for_a_new_one(self) -> None:
        world = World()
        t = world.fire(world.terminal("shipped"), "report_lost", cause="damaged").terminal
        assert t.state == "reviewed"
        assert t.data["shipped_sn"] is None
        assert [f["cause"] for f in t.data["shipment_faults"]] == ["damaged"]

    def test_activation_binds_the_sn_at_the_install_address_and_injects_keys(self) -> None:
        world = World()
        t = world.terminal("activated")
        assert t.data["binding"] == {
            "sn": SN,
            "merchant_id": MERCHANT_ID,
            "install_address": "1 Nanjing Road",
        }
        assert t.data["master_key_injected"] is True
        assert t.data["activated_at"] == world.clock.now().isoformat()

    def test_sales_grow_the_batch_and_the_day(self) -> None:
        world = World()
        t = world.terminal("signed_in")
        for amount in (1200, 800):
            t = world.fire(t, "record_sale", amount=amount).raise_for_blocked().terminal
        assert t.data["batch"] == {"no": 1, "count": 2, "total": 2000, "max": 1200}
        assert t.data["daily"] == {"day": "2026-03-02", "total": 2000}

    def test_a_timed_out_sale_is_not_counted_and_waits_for_its_reversal(self) -> None:
        world = World()
        t = world.terminal("signed_in")
        t = world.fire(t, "record_sale", amount=500, timed_out=True).raise_for_blocked().terminal
        assert t.data["batch"]["count"] == 0
        assert t.data["pending_reversal"]["amount"] == 500
        t = world.fire(t, "send_reversal").raise_for_blocked().terminal
        assert t.data["pending_reversal"] is None

    def test_settlement_empties_the_batch_and_a_new_sign_in_opens_the_next(self) -> None:
        world = World()
        t = world.terminal("signed_out")
        assert t.data["batch"] == {"no": 1, "count": 0, "total": 0, "max": 0}
        assert t.data["balance"] == 1200
        t = world.fire(t, "sign_in").raise_for_blocked().terminal
        assert t.data["batch"]["no"] == 2

    def test_suspension_keeps_its_cause_and_reinstatement_keeps_the_history(self) -> None:
        world = World()
        t = world.fire(world.terminal("activated"), "suspend", cause="cash_out").terminal
        assert (t.data["suspension"], t.data["suspensions"]) == ("cash_out", ["cash_out"])
        t = world.fire(t, "reinstate").terminal
        assert (t.data["suspension"], t.data["suspensions"]) == (None, ["cash_out"])

    def test_reapplication_starts_the_device_data_afresh(self) -> None:
        world = World()
        t = world.terminal("reapplied")
        assert (t.data["sn"], t.data["model"], t.data["batch"]) == (None, None, None)
        assert t.data["closures"] == 1
        assert world.fire(t, "review").ok

    def test_history_masks_passwords_and_settlement_accounts(self) -> None:
        world = World()
        signed_in = world.fire(world.terminal("activated"), "sign_in")
        assert signed_in.record.payload["password"] == posflow.redact({"password": "x"})["password"]
        reviewed = world.fire(world.new_terminal(), "review", merchant={"region": "110000"})
        kept = reviewed.record.changes["merchant"]["settlement_account"]
        assert kept.endswith("3445")
        assert "6222020200112233445" not in repr(reviewed.record) + repr(reviewed.terminal)
