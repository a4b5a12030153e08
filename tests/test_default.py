"""The default lifecycle's effects: batches, balances, suspensions and closures.

The guards of the default lifecycle are tested with the guard catalogue, and the
effects along the normal path in ``test_effects.py``; here the guards are stripped so
that these tests can take the paths guards would block (a sign-out with an
unsettled batch, say) and follow the data step by step.
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


def batch(terminal: posflow.Terminal) -> dict[str, Any]:
    """The batch number, sale count and total (other batch keys are not the point here)."""
    return {k: terminal.data["batch"][k] for k in ("no", "count", "total")}


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
        assert batch(t) == {"no": 1, "count": 0, "total": 0}
        assert t.data["operator"] == "01"
        assert t.data["last_sign_in"] == DAY1.isoformat()

    def test_the_daily_total_starts_again_on_a_new_day(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=1200)
        walk.clock.advance(days=1)
        t = walk.do("record_sale", amount=100)
        assert t.data["daily"] == {"day": "2026-04-02", "total": 100}
        assert t.data["batch"]["total"] == 1300

    def test_the_next_sign_in_after_a_settled_day_opens_the_next_batch(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=1200)
        walk.do("settle", "sign_out")
        assert walk.t.data["last_sign_out"] == DAY1.isoformat()
        t = walk.do("sign_in")
        assert batch(t) == {"no": 2, "count": 0, "total": 0}
        assert t.data["balance"] == 1200

    def test_an_unsettled_batch_carries_over_into_the_next_session(self) -> None:
        walk = Walk()
        walk.to_signed_in()
        walk.do("record_sale", amount=500)
        t = walk.do("sign_out", "sign_in")  # possible here only because guards are stripped
        assert batch(t) == {"no": 1, "count": 1, "total": 500}

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

    def test_a_rejected_application_can_be_resubmitted(self) -> None:
        walk = Walk()
        assert walk.do("reject", "resubmit").state == "applied"


class TestDefaultEffects:
    def test_names_every_effect_the_default_lifecycle_uses(self) -> None:
        used = {t.effect for t in posflow.default_lifecycle().transitions if t.effect is not None}
        effects = posflow.default_effects()
        assert set(effects.values()) == used
        assert all(fn.__name__ == name for name, fn in effects.items())

    def test_a_dumped_default_lifecycle_loads_back_with_them(self) -> None:
        default = posflow.default_lifecycle()
        copy = Lifecycle.from_dict(default.to_dict(), effects=posflow.default_effects())
        assert copy.to_dict() == default.to_dict()
        assert [t.effect for t in copy.transitions] == [t.effect for t in default.transitions]

    def test_without_them_an_effect_name_is_an_unknown_effect(self) -> None:
        with pytest.raises(posflow.errors.InvalidDefinition) as info:
            Lifecycle.from_dict(posflow.default_lifecycle().to_dict())
        assert info.value.kinds == frozenset({"unknown_effect"})

    def test_the_mapping_is_read_only(self) -> None:
        with pytest.raises(TypeError):
            posflow.default_effects()["add_sale"] = print  # type: ignore[index]
