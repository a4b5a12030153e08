"""Closing guards (注销): nothing owed either way before a terminal is deregistered.

Closing needs the batch settled (``session.batch_settled``), the balance paid
out, no open complaint, the early-termination penalty paid within the minimum
term, and the device returned or its recovery fee charged. The close request's
documents are a document guard (``documents.closing_documents_on_file``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.errors import InvalidInput
from posflow.guards._framework import Guard, guard
from posflow.guards._read import policy_of, timestamp, yuan
from posflow.guards._settlement import account_of

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal


def _spec(code: str, en: str, zh: str, fix_en: str, fix_zh: str) -> ReasonSpec:
    return reason_spec(
        code, retryable=False, en=en, zh_cn=zh, remedy_en=fix_en, remedy_zh_cn=fix_zh
    )


BALANCE_NOT_PAID_OUT: Final = _spec(
    "settlement.balance_not_paid_out",
    "{balance_yuan} yuan of settled funds have not been paid out to the merchant yet.",
    "尚有 {balance_yuan} 元已结算资金未划付给商户。",
    "Pay out the remaining balance to the merchant's settlement account, then close.",
    "请将剩余资金划付至商户结算账户后再注销。",
)
OPEN_COMPLAINTS: Final = _spec(
    "settlement.open_complaints",
    "{count} complaint(s) or dispute(s) against the merchant are still open.",
    "商户尚有 {count} 笔投诉或争议未处理完毕。",
    "Resolve the open complaints and disputes, then close.",
    "请处理完所有投诉和争议后再注销。",
)
PENALTY_DUE: Final = _spec(
    "settlement.early_termination_penalty_due",
    "The contract's minimum term runs until {term_ends}; closing earlier costs a penalty "
    "of {penalty_yuan} yuan, not yet paid.",
    "合同最短期限至 {term_ends}，提前注销须支付违约金 {penalty_yuan} 元，尚未支付。",
    "Pay the early-termination penalty (penalty_paid), or wait until {term_ends}.",
    "请支付违约金（penalty_paid），或待 {term_ends} 之后再注销。",
)
DEVICE_NOT_RETURNED: Final = _spec(
    "stock.device_not_returned",
    "The device has not been returned and no recovery fee ({fee_yuan} yuan) has been charged.",
    "机具尚未退回，也未收取设备回收费（{fee_yuan} 元）。",
    "Return the device (device_returned), or charge the device recovery fee "
    "(recovery_fee_charged).",
    "请退回机具（device_returned），或收取设备回收费（recovery_fee_charged）。",
)


def _flag(ctx: Context, terminal: Terminal, key: str) -> bool:
    """A yes/no fact given now in the payload, or recorded earlier on the terminal."""
    for source, where in ((ctx.payload, "payload"), (terminal.data, "data")):
        value: Any = source.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise InvalidInput(f"must be true or false, got {value!r}", field=f"{where}.{key}")
        if value:
            return True
    return False


@guard("settlement.balance_paid_out")
def balance_paid_out(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """No settled funds are still held for the merchant."""
    account = account_of(terminal, ctx)
    if account is not None and account.balance > 0:
        return (
            BALANCE_NOT_PAID_OUT.reason(
                guard="settlement.balance_paid_out", balance_yuan=yuan(account.balance)
            ),
        )
    return ()


@guard("settlement.no_open_complaints")
def no_open_complaints(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """No complaint or dispute against the merchant is open."""
    account = account_of(terminal, ctx)
    if account is not None and account.open_complaints:
        return (
            OPEN_COMPLAINTS.reason(
                guard="settlement.no_open_complaints", count=account.open_complaints
            ),
        )
    return ()


def _term_start(terminal: Terminal) -> dt.datetime | None:
    start = timestamp(terminal.data.get("contract_start"), "data.contract_start")
    return start or timestamp(terminal.data.get("activated_at"), "data.activated_at")


@guard("settlement.early_termination_settled")
def early_termination_settled(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """Within the contract's minimum term, the early-termination penalty is paid."""
    start = _term_start(terminal)
    if start is None or _flag(ctx, terminal, "penalty_paid"):
        return ()
    policy = policy_of(ctx)
    ends = start + dt.timedelta(days=policy.minimum_term_days)
    if ctx.now() < ends and policy.early_termination_penalty > 0:
        return (
            PENALTY_DUE.reason(
                guard="settlement.early_termination_settled",
                term_ends=ends.date().isoformat(),
                penalty_yuan=yuan(policy.early_termination_penalty),
            ),
        )
    return ()


@guard("stock.device_returned_or_fee_charged")
def device_returned_or_fee_charged(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device came back, or the device recovery fee (设备回收费) was charged."""
    if _flag(ctx, terminal, "device_returned") or _flag(ctx, terminal, "recovery_fee_charged"):
        return ()
    return (
        DEVICE_NOT_RETURNED.reason(
            guard="stock.device_returned_or_fee_charged",
            fee_yuan=yuan(policy_of(ctx).device_recovery_fee),
        ),
    )


GUARDS: Final[dict[str, Guard]] = {
    "settlement.balance_paid_out": balance_paid_out,
    "settlement.no_open_complaints": no_open_complaints,
    "settlement.early_termination_settled": early_termination_settled,
    "stock.device_returned_or_fee_charged": device_returned_or_fee_charged,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    BALANCE_NOT_PAID_OUT,
    OPEN_COMPLAINTS,
    PENALTY_DUE,
    DEVICE_NOT_RETURNED,
)
