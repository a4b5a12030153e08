"""Reapplication guards (重新申请): may a merchant whose terminal was closed apply again?

Yes, subject to a cooling-off period after the closure, a history without a
fraud-related suspension, a credit or history score at the policy's threshold,
the fees from the last closure paid, and (``compliance.not_blacklisted``) no
blacklisting.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.errors import PortUnavailable
from posflow.guards._framework import Guard, guard
from posflow.guards._read import merchant_id, merchant_of, policy_of, text_list, timestamp, yuan
from posflow.guards._settlement import account_of
from posflow.ports import Suspension

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal

COOLING_OFF_ACTIVE: Final = reason_spec(
    "compliance.cooling_off_active",
    retryable=True,
    en="The terminal was closed on {closed_on}; a new application is possible from {until} "
    "({days}-day cooling-off).",
    zh_cn="终端于 {closed_on} 注销，{until} 起方可重新申请（冷静期 {days} 天）。",
    remedy_en="Reapply on or after {until}.",
    remedy_zh_cn="请于 {until} 当日或之后重新申请。",
)
FRAUD_SUSPENSION_ON_RECORD: Final = reason_spec(
    "compliance.fraud_suspension_on_record",
    retryable=False,
    en="The merchant's history holds fraud-related suspensions ({causes}); it may not reapply.",
    zh_cn="商户历史中有涉及欺诈的冻结记录（{causes}），不能重新申请。",
    remedy_en="The risk team must clear the record before any new application.",
    remedy_zh_cn="须由风控部门核查并解除该记录后，方可重新申请。",
)
SCORE_BELOW_THRESHOLD: Final = reason_spec(
    "compliance.credit_score_below_threshold",
    retryable=False,
    en="The merchant's credit/history score is {score}; at least {threshold} is needed.",
    zh_cn="商户的信用/历史评分为 {score}，要求不低于 {threshold}。",
    remedy_en="The merchant may reapply once its score reaches {threshold}.",
    remedy_zh_cn="待商户评分达到 {threshold} 后可重新申请。",
)
UNPAID_FEES: Final = reason_spec(
    "settlement.unpaid_fees",
    retryable=False,
    en="{amount_yuan} yuan of fees from the last closure are still unpaid.",
    zh_cn="上次注销产生的 {amount_yuan} 元费用尚未结清。",
    remedy_en="Pay the outstanding fees (penalty, device recovery), then reapply.",
    remedy_zh_cn="请结清欠费（违约金、设备回收费等）后再重新申请。",
)


@guard("compliance.cooling_off_elapsed")
def cooling_off_elapsed(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The policy's cooling-off period has passed since the closure."""
    closed = timestamp(terminal.data.get("closed_at"), "data.closed_at")
    if closed is None:
        return ()
    days = policy_of(ctx).cooling_off_days
    until = closed + dt.timedelta(days=days)
    if ctx.now() < until:
        return (
            COOLING_OFF_ACTIVE.reason(
                guard="compliance.cooling_off_elapsed",
                closed_on=closed.date().isoformat(),
                until=until.date().isoformat(),
                days=days,
            ),
        )
    return ()


@guard("compliance.no_fraud_suspension")
def no_fraud_suspension(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """Neither this terminal's nor the merchant's suspension history has a fraud-related cause."""
    causes = set(text_list(terminal.data.get("suspensions"), "data.suspensions"))
    answer = ctx.ports.risk.suspensions(merchant_id(merchant_of(terminal, ctx)))
    try:
        past = tuple(answer)
    except Exception as exc:
        raise PortUnavailable("risk", f"answer could not be read: {type(exc).__name__}") from exc
    for s in past:
        if not isinstance(s, Suspension):
            raise PortUnavailable("risk", f"answered with {type(s).__name__}, not Suspension")
        causes.add(s.cause)
    fraud = sorted(causes & policy_of(ctx).fraud_causes)
    if fraud:
        return (
            FRAUD_SUSPENSION_ON_RECORD.reason(guard="compliance.no_fraud_suspension", causes=fraud),
        )
    return ()


@guard("compliance.credit_score_sufficient")
def credit_score_sufficient(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The merchant's credit or history score is at least the policy's threshold."""
    score = ctx.ports.risk.score(merchant_id(merchant_of(terminal, ctx)))
    if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
        raise PortUnavailable("risk", f"answered with {type(score).__name__}, not int")
    threshold = policy_of(ctx).min_credit_score
    if score is None or score < threshold:
        return (
            SCORE_BELOW_THRESHOLD.reason(
                guard="compliance.credit_score_sufficient",
                score="none" if score is None else score,
                threshold=threshold,
            ),
        )
    return ()


@guard("settlement.fees_paid")
def fees_paid(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """No fee from the last closure is still owed."""
    account = account_of(terminal, ctx)
    if account is not None and account.unpaid_fees > 0:
        return (
            UNPAID_FEES.reason(guard="settlement.fees_paid", amount_yuan=yuan(account.unpaid_fees)),
        )
    return ()


GUARDS: Final[dict[str, Guard]] = {
    "compliance.cooling_off_elapsed": cooling_off_elapsed,
    "compliance.no_fraud_suspension": no_fraud_suspension,
    "compliance.credit_score_sufficient": credit_score_sufficient,
    "settlement.fees_paid": fees_paid,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    COOLING_OFF_ACTIVE,
    FRAUD_SUSPENSION_ON_RECORD,
    SCORE_BELOW_THRESHOLD,
    UNPAID_FEES,
)
