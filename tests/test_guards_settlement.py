"""Settlement guards: limits, the account, host windows and pending reversals."""

from __future__ import annotations

import datetime as dt

import pytest

import posflow
from guard_world import MERCHANT_ID, World, codes, run
from posflow.errors import InvalidInput
from posflow.policy import Limits, LimitsByType


def _signed_in(world: World, *amounts: int) -> posflow.Terminal:
    t = world.terminal("signed_in")
    for amount in amounts:
        t = world.fire(t, "record_sale", amount=amount).raise_for_blocked().terminal
    return t


class TestSaleWithinLimits:
    def test_a_sale_within_both_limits_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.sale_within_limits", _signed_in(world), amount=1200) == ()

    def test_a_sale_over_the_per_transaction_limit_is_refused_in_yuan(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        (reason,) = run(world, "settlement.sale_within_limits", _signed_in(world), amount=150_000)
        assert reason.code == "settlement.transaction_limit_exceeded"
        assert (reason.params["amount_yuan"], reason.params["limit_yuan"]) == (
            "1,500.00",
            "1,000.00",
        )
        assert "小微商户" in reason.message("zh-CN")

    def test_sales_adding_up_over_the_daily_limit_are_refused(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        t = _signed_in(world, 100_000, 100_000, 100_000, 100_000)
        assert codes(world, "settlement.sale_within_limits", t, amount=100_000) == ()
        t = world.fire(t, "record_sale", amount=99_999).raise_for_blocked().terminal
        (reason,) = run(world, "settlement.sale_within_limits", t, amount=2)
        assert reason.code == "settlement.daily_limit_exceeded"
        assert reason.params["total_yuan"] == "5,000.01"

    def test_yesterday_s_sales_do_not_count_today(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        t = _signed_in(world, 100_000, 100_000, 100_000, 100_000, 100_000)
        world.clock.advance(days=1)
        assert codes(world, "settlement.sale_within_limits", t, amount=100_000) == ()

    @pytest.mark.parametrize("amount", [None, 12.5, "1200", True, 0, -5])
    def test_an_amount_that_is_not_positive_integer_fen_is_invalid_input(
        self, amount: object
    ) -> None:
        world = World()
        (reason,) = run(world, "settlement.sale_within_limits", _signed_in(world), amount=amount)
        assert (reason.code, reason.params["field"]) == ("guard.invalid_input", "payload.amount")
        assert isinstance(reason.error, InvalidInput)
        assert reason.error.field == "payload.amount"
        assert not reason.retryable

    def test_a_malformed_amount_refuses_the_sale_and_changes_nothing(self) -> None:
        world = World()
        t = _signed_in(world)
        outcome = world.fire(t, "record_sale", amount=12.5)
        assert outcome.codes == ("guard.invalid_input",)
        assert outcome.terminal is t
        assert "payload.amount" in outcome.reasons[0].message("zh-CN")


@pytest.mark.parametrize(
    ("kind", "zh"),
    [("enterprise", "企业商户"), ("individual", "个体工商户"), ("micro", "小微商户")],
)
def test_limit_reasons_name_the_merchant_type_in_both_languages(kind: str, zh: str) -> None:
    world = World()
    world.merchant["type"] = kind
    t = _signed_in(world, 100)
    world.policy = posflow.Policy(limits=LimitsByType(**{kind: Limits(per_transaction=1, daily=1)}))
    sale = run(world, "settlement.sale_within_limits", t, amount=100)
    batch = run(world, "settlement.batch_within_limits", t)
    for reasons in (sale, batch):
        assert [r.code for r in reasons] == [
            "settlement.transaction_limit_exceeded",
            "settlement.daily_limit_exceeded",
        ]
        for r in reasons:
            assert (r.params["merchant_type"], r.params["merchant_type_zh"]) == (kind, zh)
            assert zh in r.message("zh-CN")


class TestBatchWithinLimits:
    def test_a_batch_within_the_limits_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.batch_within_limits", _signed_in(world, 1200)) == ()

    def test_a_batch_taken_under_a_looser_policy_is_refused_at_settlement(self) -> None:
        world = World()
        t = _signed_in(world, 300_000, 300_000)
        world.policy = posflow.Policy(
            limits=LimitsByType(enterprise=Limits(per_transaction=200_000, daily=500_000))
        )
        assert codes(world, "settlement.batch_within_limits", t) == (
            "settlement.transaction_limit_exceeded",
            "settlement.daily_limit_exceeded",
        )


class TestAccountActive:
    def test_an_active_account_matching_the_binding_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.account_active", _signed_in(world)) == ()

    @pytest.mark.parametrize(
        ("status", "code"),
        [("frozen", "settlement.account_frozen"), ("closed", "settlement.account_closed")],
    )
    def test_a_frozen_or_closed_account_is_refused(self, status: str, code: str) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, status=status)
        (reason,) = run(world, "settlement.account_active", _signed_in(world))
        assert reason.code == code
        assert not reason.retryable
        assert reason.params["account_number"].endswith("3445")
        assert "6222020200112233445" not in reason.message("en")

    def test_a_merchant_without_an_account_is_refused(self) -> None:
        world = World()
        world.accounts = posflow.ports.InMemorySettlementAccounts()
        assert codes(world, "settlement.account_active", _signed_in(world)) == (
            "settlement.account_missing",
        )

    def test_a_payout_to_another_account_than_bound_is_refused(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, account_number="6222000011112222")
        (reason,) = run(world, "settlement.account_active", _signed_in(world))
        assert reason.code == "settlement.account_mismatch"
        assert "6222000011112222" not in repr(reason)


class TestAccountCoversPayout:
    def test_a_positive_balance_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.account_covers_payout", _signed_in(world, 100)) == ()

    def test_a_debt_larger_than_the_batch_is_short(self) -> None:
        world = World()
        world.accounts.update(MERCHANT_ID, balance=-5_000)
        t = _signed_in(world, 1_000)
        (reason,) = run(world, "settlement.account_covers_payout", t)
        assert reason.code == "settlement.insufficient_balance"
        assert (reason.params["balance_yuan"], reason.params["batch_yuan"]) == ("-50.00", "10.00")
        assert codes(world, "settlement.account_covers_payout", _signed_in(world, 5_000)) == ()

    def test_without_an_account_account_active_explains_instead(self) -> None:
        world = World()
        world.accounts = posflow.ports.InMemorySettlementAccounts()
        assert codes(world, "settlement.account_covers_payout", _signed_in(world)) == ()


class TestHostWindowOpen:
    def test_outside_any_window_settlement_is_open(self) -> None:
        world = World()
        world.host.set_cutover("23:50", "00:10")
        assert codes(world, "settlement.host_window_open", _signed_in(world)) == ()

    def test_maintenance_is_retryable_and_says_until_when(self) -> None:
        world = World()
        now = world.clock.now()
        world.host.add_maintenance(now - dt.timedelta(minutes=5), now + dt.timedelta(hours=1))
        (reason,) = run(world, "settlement.host_window_open", _signed_in(world))
        assert reason.code == "settlement.host_maintenance"
        assert reason.retryable
        assert reason.params["until"] == "2026-03-02T10:00+00:00"

    def test_the_day_cutover_is_retryable(self) -> None:
        world = World()
        t = _signed_in(world)
        world.host.set_cutover("08:55", "09:05")
        (reason,) = run(world, "settlement.host_window_open", t)
        assert (reason.code, reason.retryable) == ("settlement.day_cutover", True)

    def test_a_host_link_answering_something_else_is_unavailable(self) -> None:
        class Odd(posflow.ports.InMemoryHostLink):
            def window_at(self, at: dt.datetime) -> posflow.ports.HostWindow | None:
                return "maintenance"  # type: ignore[return-value]

        world = World(host=Odd())
        (reason,) = run(world, "settlement.host_window_open", _signed_in(world))
        assert (reason.code, reason.params["port"]) == ("port.unavailable", "host")


class TestNoPendingReversal:
    def test_no_pending_reversal_passes(self) -> None:
        world = World()
        assert codes(world, "settlement.no_pending_reversal", _signed_in(world)) == ()

    def test_a_sale_that_timed_out_leaves_a_reversal_to_send(self) -> None:
        world = World()
        t = world.fire(_signed_in(world), "record_sale", amount=880, timed_out=True).terminal
        assert t.data["pending_reversal"]["amount"] == 880
        (reason,) = run(world, "settlement.no_pending_reversal", t)
        assert (reason.code, reason.params["amount_yuan"]) == (
            "settlement.pending_reversal",
            "8.80",
        )
        sent = world.fire(t, "send_reversal").raise_for_blocked().terminal
        assert codes(world, "settlement.no_pending_reversal", sent) == ()

    def test_a_malformed_reversal_record_is_invalid_input(self) -> None:
        world = World()
        t = _signed_in(world).with_data(pending_reversal={"amount": "8.80"})
        (reason,) = run(world, "settlement.no_pending_reversal", t)
        assert reason.params["field"] == "data.pending_reversal.amount"
