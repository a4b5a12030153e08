"""The default lifecycle's effects: batches, balances, suspensions and closures.

The guards of the default lifecycle are tested with the guard catalogue; here they
are stripped so that these tests follow the data the effects keep, step by step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

import posflow
from posflow import Context, FrozenClock, Lifecycle

DAY1 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def unguarded() -> Lifecycle:
    lc = posflow.default_lifecycle()
    return Lifecycle(
        lc.state_specs,
        [attrs.evolve(t, conditions=(), unless=()) for t in lc.transitions],
        lc.initial,
        name="unguarded",
    )


class Walk:
    def __init__(self) -> None:
        self.lc = unguarded()
        self.clock = FrozenClock(DAY1)
        self.t = self.lc.new_terminal("T1", {"merchant": {"name": "Ming"}})

    def do(self, *events: str, **payload: Any) -> posflow.Terminal:
        for event in events:
            outcome = self.lc.fire(self.t, event, Context(payload, clock=self.clock))
            self.t = outcome.raise_for_blocked().terminal
        return self.t

    def to_signed_in(self) -> posflow.Terminal:
        return self.do("review", "ship", "receive", "activate", "sign_in", operator="01")


class TestDailyCycle:
    def test_sign_in_opens_a_new_batch_and_records_who_and_when(self) -> None:
        t = Walk().to_signed_in()
        assert t.data["batch"] == {"no": 1, "count": 0, "total": 0}
        assert t.data["operator"] == "01"
        assert t.data["last_sign_in"] == DAY1.isoformat()

    def test_sales_grow_the_batch_and_the_daily_total_in_fen(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=1200)
        t = walk.do("record_sale", amount=350)
        assert t.state == "signed_in"
        assert t.data["batch"] == {"no": 1, "count": 2, "total": 1550}
        assert t.data["daily"] == {"day": "2026-04-01", "total": 1550}

    def test_the_daily_total_starts_again_on_a_new_day(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=1200)
        walk.clock.advance(days=1)
        t = walk.do("record_sale", amount=100)
        assert t.data["daily"] == {"day": "2026-04-02", "total": 100}
        assert t.data["batch"]["total"] == 1300

    def test_settlement_moves_the_batch_total_to_the_balance(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=1200)
        t = walk.do("settle")
        assert t.data["batch"] == {"no": 1, "count": 0, "total": 0}
        assert t.data["balance"] == 1200
        assert t.data["last_settlement"] == DAY1.isoformat()

    def test_the_next_sign_in_after_a_settled_day_opens_the_next_batch(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=1200)
        walk.do("settle", "sign_out")
        assert walk.t.data["last_sign_out"] == DAY1.isoformat()
        t = walk.do("sign_in")
        assert t.data["batch"] == {"no": 2, "count": 0, "total": 0}
        assert t.data["balance"] == 1200

    def test_an_unsettled_batch_carries_over_into_the_next_session(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=500)
        t = walk.do("sign_out", "sign_in")  # possible here only because guards are stripped
        assert t.data["batch"] == {"no": 1, "count": 1, "total": 500}

    @pytest.mark.parametrize("amount", [None, 0, -5, 12.5, "100", True])
    def test_a_sale_without_a_positive_integer_amount_is_not_recorded(self, amount: Any) -> None:
        walk = Walk()
        t = walk.to_signed_in()
        outcome = walk.lc.fire(t, "record_sale", Context({"amount": amount}, clock=walk.clock))
        assert outcome.terminal is t
        (reason,) = outcome.reasons
        assert isinstance(reason.error, posflow.errors.InvalidInput)
        assert reason.error.field == "payload.amount"


class TestExceptionsAndClosure:
    def test_suspension_keeps_its_cause_and_history(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("suspend", cause="relocation")
        t = walk.do("reinstate")
        assert (t.state, t.data["suspension"], t.data["suspensions"]) == (
            "activated",
            None,
            ["relocation"],
        )
        t = walk.do("suspend")
        assert t.data["suspensions"] == ["relocation", "unspecified"]

    def test_closure_is_timed_and_counted_and_reapplication_starts_a_new_review(self) -> None:
        walk = Walk()
        walk.do("review", "ship", "receive", "activate", "request_close", "close")
        assert (walk.t.data["closed_at"], walk.t.data["closures"]) == (DAY1.isoformat(), 1)
        t = walk.do("reapply", "review")
        assert t.state == "reviewed"

    def test_a_close_request_can_be_cancelled(self) -> None:
        walk = Walk()
        t = walk.do("review", "ship", "receive", "activate", "request_close", "cancel_close")
        assert t.state == "activated"

    def test_a_lost_shipment_goes_back_for_a_new_one(self) -> None:
        walk = Walk()
        assert walk.do("review", "ship", "report_lost").state == "reviewed"

    def test_a_rejected_application_can_be_resubmitted(self) -> None:
        walk = Walk()
        assert walk.do("reject", "resubmit").state == "applied"


class TestDefaultGuardsInPlace:
    def test_sign_out_with_an_unsettled_batch_is_refused(self) -> None:
        lc = posflow.default_lifecycle()
        t = posflow.Terminal("T", "signed_in", 5, {"batch": {"no": 3, "count": 2, "total": 900}})
        verdict = lc.check(t, "sign_out")
        assert "session.unsettled_batch" in verdict.codes
        assert verdict.dest == "signed_out"

    def test_review_needs_a_complete_application_form(self) -> None:
        lc = posflow.default_lifecycle()
        t = lc.new_terminal("T", {"merchant": {"name": "Ming", "contact_phone": " "}})
        reasons = lc.check(t, "review").reasons
        missing = [r for r in reasons if r.code == "documents.application_field_missing"]
        assert missing
        assert missing[0].params["fields"] == ["contact_phone", "shop_address"]
