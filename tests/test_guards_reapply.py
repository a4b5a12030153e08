"""Reapplication guards: cooling-off, fraud history, score, unpaid fees."""

from __future__ import annotations

import pytest

import posflow
from guard_world import MERCHANT_ID, World, codes, run
from posflow.ports import Suspension


class TestCoolingOffElapsed:
    def test_after_the_cooling_off_period_a_merchant_may_reapply(self) -> None:
        world = World()
        t = world.terminal("closed")
        world.clock.advance(days=90)
        assert codes(world, "compliance.cooling_off_elapsed", t) == ()

    def test_during_cooling_off_the_reason_says_from_when_and_is_retryable(self) -> None:
        world = World()
        t = world.terminal("closed")
        world.clock.advance(days=89)
        (reason,) = run(world, "compliance.cooling_off_elapsed", t)
        assert reason.code == "compliance.cooling_off_active"
        assert (reason.params["until"], reason.params["days"]) == ("2026-05-31", 90)
        assert reason.retryable

    def test_a_terminal_never_closed_has_nothing_to_wait_for(self) -> None:
        world = World()
        assert codes(world, "compliance.cooling_off_elapsed", world.new_terminal()) == ()


class TestNoFraudSuspension:
    def test_a_relocation_suspension_does_not_bar_reapplying(self) -> None:
        world = World()
        t = world.terminal("closed", suspensions=["relocation"])
        assert codes(world, "compliance.no_fraud_suspension", t) == ()

    @pytest.mark.parametrize("cause", ["fraud", "cash_out", "money_laundering"])
    def test_a_fraud_related_suspension_on_the_terminal_bars_reapplying(self, cause: str) -> None:
        world = World()
        t = world.terminal("closed", suspensions=["relocation", cause])
        (reason,) = run(world, "compliance.no_fraud_suspension", t)
        assert (reason.code, reason.params["causes"]) == (
            "compliance.fraud_suspension_on_record",
            [cause],
        )

    def test_a_fraud_suspension_in_the_risk_registry_bars_reapplying(self) -> None:
        world = World()
        world.risk.record_suspension(Suspension(MERCHANT_ID, "fraud"))
        assert codes(world, "compliance.no_fraud_suspension", world.terminal("closed")) == (
            "compliance.fraud_suspension_on_record",
        )

    def test_a_registry_answering_something_else_is_unavailable(self) -> None:
        class Odd(posflow.ports.InMemoryRiskRegistry):
            def suspensions(self, merchant_id: str) -> tuple[Suspension, ...]:
                return ("fraud",)  # type: ignore[return-value]

        world = World()
        t = world.terminal("closed")
        world.risk = Odd()
        (reason,) = run(world, "compliance.no_fraud_suspension", t)
        assert (reason.code, reason.params["port"]) == ("port.unavailable", "risk")


class TestCreditScoreSufficient:
    def test_a_score_at_the_threshold_passes(self) -> None:
        world = World()
        world.risk.set_score(MERCHANT_ID, 600)
        assert codes(world, "compliance.credit_score_sufficient", world.terminal("closed")) == ()

    def test_a_score_below_the_threshold_is_refused(self) -> None:
        world = World()
        world.risk.set_score(MERCHANT_ID, 599)
        (reason,) = run(world, "compliance.credit_score_sufficient", world.terminal("closed"))
        assert reason.code == "compliance.credit_score_below_threshold"
        assert (reason.params["score"], reason.params["threshold"]) == (599, 600)

    def test_a_merchant_without_a_score_is_refused(self) -> None:
        world = World()
        t = world.terminal("closed")
        world.risk.set_score(MERCHANT_ID, None)
        (reason,) = run(world, "compliance.credit_score_sufficient", t)
        assert reason.params["score"] == "none"

    def test_a_registry_answering_a_non_number_is_unavailable(self) -> None:
        class Odd(posflow.ports.InMemoryRiskRegistry):
            def score(self, merchant_id: str) -> int | None:
                return 7.5  # type: ignore[return-value]

        world = World()
        t = world.terminal("closed")
        world.risk = Odd()
        assert codes(world, "compliance.credit_score_sufficient", t) == ("port.unavailable",)


class TestFeesPaid:
    def test_no_unpaid_fee_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.fees_paid", world.terminal("closed")) == ()

    def test_unpaid_fees_bar_reapplying(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, unpaid_fees=30_000)
        (reason,) = run(world, "settlement.fees_paid", world.terminal("closed"))
        assert (reason.code, reason.params["amount_yuan"]) == ("settlement.unpaid_fees", "300.00")
