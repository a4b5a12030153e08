"""Settlement guards (结算): limits, the account, the host's windows, reversals.

"Why can't I settle?" is answered here: over a limit, the account frozen,
closed, wrong or short, the host in maintenance or the day cut-over (both
retryable), or a reversal still to send. Money is integer minor units (fen);
messages show it in yuan.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.guards._framework import Guard, guard
from posflow.guards._read import (
    mapping,
    merchant_id,
    merchant_of,
    merchant_type,
    optional_text,
    payload_amount,
    policy_of,
    port_answer,
    whole,
    yuan,
)
from posflow.guards._session import batch_of
from posflow.policy import MerchantType
from posflow.ports import AccountStatus, HostWindow, SettlementAccount, WindowKind

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal


def _spec(code: str, retryable: bool, en: str, zh: str, fix_en: str, fix_zh: str) -> ReasonSpec:
    return reason_spec(
        code, retryable=retryable, en=en, zh_cn=zh, remedy_en=fix_en, remedy_zh_cn=fix_zh
    )


TRANSACTION_LIMIT_EXCEEDED: Final = _spec(
    "settlement.transaction_limit_exceeded",
    False,
    "A sale of {amount_yuan} yuan exceeds the per-transaction limit of {limit_yuan} yuan "
    "for a {merchant_type} merchant.",
    "单笔 {amount_yuan} 元超过{merchant_type_zh}的单笔限额 {limit_yuan} 元（交易金额超限）。",
    "Split the amount or use another payment channel; the acquirer can review the limit.",
    "请拆分金额或改用其他支付渠道；如需调整限额请联系收单机构。",
)
DAILY_LIMIT_EXCEEDED: Final = _spec(
    "settlement.daily_limit_exceeded",
    False,
    "The day's sales would reach {total_yuan} yuan, over the daily limit of {limit_yuan} yuan "
    "for a {merchant_type} merchant.",
    "当日交易额将达 {total_yuan} 元，超过{merchant_type_zh}的日限额 {limit_yuan} 元"
    "（交易金额超限）。",
    "Wait for the next day or ask the acquirer to review the daily limit.",
    "请次日再试，或联系收单机构调整日限额。",
)
ACCOUNT_MISSING: Final = _spec(
    "settlement.account_missing",
    False,
    "The merchant has no settlement account on record.",
    "商户没有登记结算账户。",
    "Register the merchant's settlement account with the acquirer.",
    "请向收单机构登记商户的结算账户。",
)
ACCOUNT_FROZEN: Final = _spec(
    "settlement.account_frozen",
    False,
    "The settlement account {account_number} is frozen (账户冻结); nothing can be paid out.",
    "结算账户 {account_number} 已被冻结，无法出款。",
    "Have the bank lift the freeze, or register another settlement account.",
    "请联系开户行解除冻结，或更换结算账户。",
)
ACCOUNT_CLOSED: Final = _spec(
    "settlement.account_closed",
    False,
    "The settlement account {account_number} is closed.",
    "结算账户 {account_number} 已销户。",
    "Register a new settlement account for the merchant.",
    "请为商户登记新的结算账户。",
)
ACCOUNT_MISMATCH: Final = _spec(
    "settlement.account_mismatch",
    False,
    "The terminal is bound to account {bound_account_number}, but the merchant's settlement "
    "account is {account_number}; the payout would go to the wrong account.",
    "终端绑定的账户为 {bound_account_number}，而商户结算账户为 {account_number}，出款账户不一致。",
    "Correct the terminal's settlement account (rebind), then settle again.",
    "请更正终端绑定的结算账户后重新结算。",
)
INSUFFICIENT_BALANCE: Final = _spec(
    "settlement.insufficient_balance",
    False,
    "The account holds {balance_yuan} yuan and this batch brings {batch_yuan} yuan: "
    "not enough to cover what the merchant owes.",
    "账户余额 {balance_yuan} 元，本批次 {batch_yuan} 元，不足以抵扣商户欠款。",
    "Top up the settlement account or clear the refunds and chargebacks owed, then settle.",
    "请为结算账户补足资金或结清退款与拒付欠款后再结算。",
)
HOST_MAINTENANCE: Final = _spec(
    "settlement.host_maintenance",
    True,
    "The host is in system maintenance until {until}; settlement is not possible now.",
    "主机系统维护中，预计 {until} 结束，暂不能结算。",
    "Retry after {until}.",
    "请于 {until} 之后重试。",
)
DAY_CUTOVER: Final = _spec(
    "settlement.day_cutover",
    True,
    "The host is in its day cut-over (日切) until {until}; settlement is not possible now.",
    "主机正在日切，预计 {until} 结束，暂不能结算。",
    "Retry after {until}.",
    "请于 {until} 之后重试。",
)
PENDING_REVERSAL: Final = _spec(
    "settlement.pending_reversal",
    False,
    "A reversal of {amount_yuan} yuan has not been sent to the host yet.",
    "尚有一笔 {amount_yuan} 元的冲正未发送至主机。",
    "Send the pending reversal (send_reversal), then settle.",
    "请先发送冲正（send_reversal），再结算。",
)

TYPE_NAMES_ZH: Final = {"enterprise": "企业商户", "individual": "个体工商户", "micro": "小微商户"}


_LIMIT_NAMES: Final[Mapping[MerchantType, Mapping[str, Any]]] = MappingProxyType(
    {
        kind: MappingProxyType(
            {"merchant_type": kind.value, "merchant_type_zh": TYPE_NAMES_ZH[kind.value]}
        )
        for kind in MerchantType
    }
)
"""The merchant type as limit reasons name it, made once per type (read on every sale)."""


def _limit_params(terminal: Terminal, ctx: Context) -> tuple[int, int, Mapping[str, Any]]:
    kind = merchant_type(merchant_of(terminal, ctx))
    limits = policy_of(ctx).limits.of(kind)
    return limits.per_transaction, limits.daily, _LIMIT_NAMES[kind]


def _day_total(terminal: Terminal, ctx: Context, *, today_only: bool) -> int:
    daily = mapping(terminal.data.get("daily"), "data.daily")
    if today_only and daily.get("day") != ctx.now().date().isoformat():
        return 0
    return whole(daily.get("total"), "data.daily.total")


@guard("settlement.sale_within_limits")
def sale_within_limits(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The sale keeps within the per-transaction and daily limits for the merchant type."""
    g = "settlement.sale_within_limits"
    amount = payload_amount(ctx)
    per, daily, names = _limit_params(terminal, ctx)
    out: list[Reason] = []
    if amount > per:
        out.append(
            TRANSACTION_LIMIT_EXCEEDED.reason(
                guard=g, amount_yuan=yuan(amount), limit_yuan=yuan(per), **names
            )
        )
    total = _day_total(terminal, ctx, today_only=True) + amount
    if total > daily:
        out.append(
            DAILY_LIMIT_EXCEEDED.reason(
                guard=g, total_yuan=yuan(total), limit_yuan=yuan(daily), **names
            )
        )
    return tuple(out)


@guard("settlement.batch_within_limits")
def batch_within_limits(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The batch holds no sale over the per-transaction limit and its day stays under the cap.

    Sales are checked when recorded; this catches batches taken offline or under a
    policy that has since been tightened (for example a downgrade to micro-merchant).
    """
    g = "settlement.batch_within_limits"
    per, daily, names = _limit_params(terminal, ctx)
    batch = mapping(terminal.data.get("batch"), "data.batch")
    largest = whole(batch.get("max"), "data.batch.max")
    out: list[Reason] = []
    if largest > per:
        out.append(
            TRANSACTION_LIMIT_EXCEEDED.reason(
                guard=g, amount_yuan=yuan(largest), limit_yuan=yuan(per), **names
            )
        )
    total = _day_total(terminal, ctx, today_only=False)
    if total > daily:
        out.append(
            DAILY_LIMIT_EXCEEDED.reason(
                guard=g, total_yuan=yuan(total), limit_yuan=yuan(daily), **names
            )
        )
    return tuple(out)


def account_of(terminal: Terminal, ctx: Context) -> SettlementAccount | None:
    """The merchant's settlement account as the settlement system reports it."""
    return _account(merchant_of(terminal, ctx), ctx)


def _account(merchant: Mapping[str, Any], ctx: Context) -> SettlementAccount | None:
    owner = merchant_id(merchant)
    return port_answer("accounts", ctx.ports.accounts.account(owner), SettlementAccount)


@guard("settlement.account_active")
def account_active(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The merchant's settlement account exists, is active and is the one bound."""
    g = "settlement.account_active"
    merchant = merchant_of(terminal, ctx)
    account = _account(merchant, ctx)
    if account is None:
        return (ACCOUNT_MISSING.reason(guard=g),)
    number = account.account_number
    if account.status is AccountStatus.FROZEN:
        return (ACCOUNT_FROZEN.reason(guard=g, account_number=number),)
    if account.status is AccountStatus.CLOSED:
        return (ACCOUNT_CLOSED.reason(guard=g, account_number=number),)
    bound = optional_text(merchant, "settlement_account", "data.merchant.settlement_account")
    if bound is not None and bound != number:
        return (
            ACCOUNT_MISMATCH.reason(guard=g, account_number=number, bound_account_number=bound),
        )
    return ()


@guard("settlement.account_covers_payout")
def account_covers_payout(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The account's balance plus this batch is not negative (debts are covered)."""
    account = account_of(terminal, ctx)
    if account is None:
        return ()  # account_active explains a missing account
    _, _, total = batch_of(terminal)
    if account.balance + total < 0:
        return (
            INSUFFICIENT_BALANCE.reason(
                guard="settlement.account_covers_payout",
                balance_yuan=yuan(account.balance),
                batch_yuan=yuan(total),
            ),
        )
    return ()


@guard("settlement.host_window_open")
def host_window_open(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The host is neither in maintenance nor in its day cut-over now."""
    window = port_answer("host", ctx.ports.host.window_at(ctx.now()), HostWindow)
    if window is None:
        return ()
    spec = HOST_MAINTENANCE if window.kind is WindowKind.MAINTENANCE else DAY_CUTOVER
    until = window.end.isoformat(timespec="minutes")
    return (spec.reason(guard="settlement.host_window_open", until=until),)


@guard("settlement.no_pending_reversal")
def no_pending_reversal(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """No reversal (冲正) is waiting to be sent."""
    pending = mapping(terminal.data.get("pending_reversal"), "data.pending_reversal")
    if pending:
        amount = whole(pending.get("amount"), "data.pending_reversal.amount")
        return (
            PENDING_REVERSAL.reason(
                guard="settlement.no_pending_reversal", amount_yuan=yuan(amount)
            ),
        )
    return ()


GUARDS: Final[dict[str, Guard]] = {
    "settlement.sale_within_limits": sale_within_limits,
    "settlement.batch_within_limits": batch_within_limits,
    "settlement.account_active": account_active,
    "settlement.account_covers_payout": account_covers_payout,
    "settlement.host_window_open": host_window_open,
    "settlement.no_pending_reversal": no_pending_reversal,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    TRANSACTION_LIMIT_EXCEEDED,
    DAILY_LIMIT_EXCEEDED,
    ACCOUNT_MISSING,
    ACCOUNT_FROZEN,
    ACCOUNT_CLOSED,
    ACCOUNT_MISMATCH,
    INSUFFICIENT_BALANCE,
    HOST_MAINTENANCE,
    DAY_CUTOVER,
    PENDING_REVERSAL,
)
