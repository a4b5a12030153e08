"""Closing guards: balance paid out, complaints, penalty, device returned."""

from __future__ import annotations

import datetime as dt

import pytest

import posflow
from guard_world import MERCHANT_ID, World, codes, run


class TestBalancePaidOut:
    def test_a_zero_balance_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.balance_paid_out", world.terminal("closing")) == ()

    def test_funds_still_held_for_the_merchant_block_closure(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, balance=12_345)
        (reason,) = run(world, "settlement.balance_paid_out", world.terminal("closing"))
        assert (reason.code, reason.params["balance_yuan"]) == (
            "settlement.balance_not_paid_out",
            "123.45",
        )


class TestNoOpenComplaints:
    def test_no_complaint_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.no_open_complaints", world.terminal("closing")) == ()

    def test_open_complaints_block_closure(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, open_complaints=2)
        (reason,) = run(world, "settlement.no_open_complaints", world.terminal("closing"))
        assert (reason.code, reason.params["count"]) == ("settlement.open_complaints", 2)


class TestEarlyTerminationSettled:
    def test_within_the_minimum_term_the_penalty_is_due(self) -> None:
        world = World()
        (reason,) = run(world, "settlement.early_termination_settled", world.terminal("closing"))
        assert reason.code == "settlement.early_termination_penalty_due"
        assert reason.params["penalty_yuan"] == "500.00"
        assert reason.params["term_ends"] == "2027-03-02"

    def test_a_paid_penalty_allows_closure(self) -> None:
        world = World()
        t = world.terminal("closing")
        assert codes(world, "settlement.early_termination_settled", t, penalty_paid=True) == ()

    def test_after_the_minimum_term_no_penalty_is_due(self) -> None:
        world = World()
        t = world.terminal("closing")
        world.clock.advance(days=365)
        assert codes(world, "settlement.early_termination_settled", t) == ()

    def test_the_contract_start_counts_when_recorded(self) -> None:
        world = World()
        t = world.terminal("closing", contract_start="2024-01-01T00:00:00+00:00")
        assert codes(world, "settlement.early_termination_settled", t) == ()

    def test_a_policy_without_penalty_never_charges_one(self) -> None:
        world = World(policy=posflow.Policy(early_termination_penalty=0))
        assert codes(world, "settlement.early_termination_settled", world.terminal("closing")) == ()

    @pytest.mark.parametrize(
        ("data", "payload", "field"),
        [
            ({"activated_at": "last spring"}, {}, "data.activated_at"),
            ({}, {"penalty_paid": "yes"}, "payload.penalty_paid"),
        ],
    )
    def test_malformed_dates_and_flags_are_invalid_input(
        self, data: dict[str, object], payload: dict[str, object], field: str
    ) -> None:
        world = World()
        t = world.terminal("closing", **data)
        (reason,) = run(world, "settlement.early_termination_settled", t, **payload)
        assert (reason.code, reason.params["field"]) == ("guard.invalid_input", field)


class TestDeviceReturnedOrFeeCharged:
    @pytest.mark.parametrize("flag", ["device_returned", "recovery_fee_charged"])
    def test_a_returned_device_or_a_charged_fee_passes(self, flag: str) -> None:
        world = World()
        t = world.terminal("closing")
        assert codes(world, "stock.device_returned_or_fee_charged", t, **{flag: True}) == ()

    def test_a_device_neither_returned_nor_charged_for_blocks_closure(self) -> None:
        world = World()
        t = world.terminal("closing")
        (reason,) = run(world, "stock.device_returned_or_fee_charged", t, device_returned=False)
        assert (reason.code, reason.params["fee_yuan"]) == ("stock.device_not_returned", "300.00")

    def test_a_return_recorded_on_the_terminal_counts(self) -> None:
        world = World()
        t = world.terminal("closing", device_returned=True)
        assert codes(world, "stock.device_returned_or_fee_charged", t) == ()

    def test_closure_keeps_how_it_was_settled_and_clears_the_flags(self) -> None:
        world = World()
        t = world.terminal("closed")
        assert t.data["last_closure"] == {
            "penalty_paid": True,
            "device_returned": True,
            "recovery_fee_charged": False,
        }
        assert (t.data["device_returned"], t.data["binding"]) == (None, None)
        assert t.data["closed_at"] == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC).isoformat()
