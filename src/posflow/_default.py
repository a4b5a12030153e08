"""The default POS terminal lifecycle, as DOMAIN.md describes it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from posflow._context import Context
from posflow._lifecycle import Lifecycle
from posflow._spec import State, Transition
from posflow._terminal import Terminal
from posflow.errors import InvalidInput

__all__ = ["DEFAULT_STATES", "default_lifecycle", "default_transitions"]

DEFAULT_STATES: tuple[State, ...] = (
    State("applied", description="Application submitted through a channel (已申请)."),
    State("reviewed", description="Documents and risk review passed (已审核)."),
    State("rejected", description="Review refused; the merchant may resubmit (已驳回)."),
    State("shipped", description="A certified device left the warehouse (已发货)."),
    State("in_stock", description="The SN is registered and bound to this merchant (已入库)."),
    State("activated", description="Bound, keys injected, merchant verified (已激活)."),
    State("signed_in", description="The day's session is open (已签到)."),
    State("settled", description="The current batch was settled (已结算)."),
    State("signed_out", description="The session is closed (已签退)."),
    State("suspended", description="Risk or compliance stopped the terminal (已冻结/暂停)."),
    State("closing", description="A close request is under review (注销中)."),
    State("closed", description="Unbound and deregistered (已注销)."),
    State("reapplied", description="The merchant applies again after a closure (重新申请)."),
)


def _int_field(ctx: Context, name: str) -> int:
    value = ctx.payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"must be an integer amount in minor units (fen), got {type(value).__name__}",
            field=f"payload.{name}",
        )
    if value <= 0:
        raise InvalidInput("must be positive", field=f"payload.{name}")
    return value


def _batch(terminal: Terminal) -> Mapping[str, Any]:
    return terminal.data.get("batch") or {"no": 0, "count": 0, "total": 0}


def open_session(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Sign-in: a new batch number, and who signed in when."""
    batch = _batch(terminal)
    if batch.get("count"):
        new_batch = dict(batch)  # an unsettled batch carries over into the new session
    else:
        new_batch = {"no": int(batch.get("no", 0)) + 1, "count": 0, "total": 0}
    return {
        "batch": new_batch,
        "last_sign_in": ctx.now().isoformat(),
        "operator": ctx.payload.get("operator"),
    }


def add_sale(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """A sale: the batch's count and total (integer minor units) grow."""
    amount = _int_field(ctx, "amount")
    batch = _batch(terminal)
    day = ctx.now().date().isoformat()
    daily = terminal.data.get("daily") or {}
    daily_total = int(daily.get("total", 0)) if daily.get("day") == day else 0
    return {
        "batch": {
            "no": batch.get("no", 0),
            "count": int(batch.get("count", 0)) + 1,
            "total": int(batch.get("total", 0)) + amount,
        },
        "daily": {"day": day, "total": daily_total + amount},
    }


def settle_batch(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Settlement: the batch's total moves to the settled balance; the batch empties."""
    batch = _batch(terminal)
    return {
        "batch": {"no": batch.get("no", 0), "count": 0, "total": 0},
        "balance": int(terminal.data.get("balance", 0)) + int(batch.get("total", 0)),
        "last_settlement": ctx.now().isoformat(),
    }


def close_session(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Sign-out: when the session closed."""
    return {"last_sign_out": ctx.now().isoformat()}


def record_suspension(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Suspension: its cause joins the terminal's suspension history."""
    cause = str(ctx.payload.get("cause") or "unspecified")
    past = list(terminal.data.get("suspensions") or ())
    return {"suspension": cause, "suspensions": [*past, cause]}


def lift_suspension(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Reinstatement: the current suspension is lifted (its history stays)."""
    return {"suspension": None}


def record_closure(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Closure: when it happened, so that cooling-off can be measured."""
    return {
        "closed_at": ctx.now().isoformat(),
        "closures": int(terminal.data.get("closures", 0)) + 1,
    }


def default_transitions() -> tuple[Transition, ...]:
    """The transitions of the default lifecycle, guards given by registered name."""
    t = Transition
    return (
        t("review", "applied", "reviewed", conditions="documents.application_form_complete"),
        t("review", "reapplied", "reviewed", conditions="documents.application_form_complete"),
        t("reject", ["applied", "reapplied"], "rejected"),
        t("resubmit", "rejected", "applied", conditions="documents.application_form_complete"),
        t("ship", "reviewed", "shipped"),
        t("report_lost", "shipped", "reviewed"),
        t("receive", "shipped", "in_stock"),
        t("activate", "in_stock", "activated"),
        t("sign_in", ["activated", "signed_out"], "signed_in", effect=open_session),
        t("record_sale", "signed_in", "=", effect=add_sale),
        t("settle", "signed_in", "settled", effect=settle_batch),
        t(
            "sign_out",
            ["signed_in", "settled"],
            "signed_out",
            conditions="session.batch_settled",
            effect=close_session,
        ),
        t(
            "suspend",
            ["activated", "signed_in", "settled", "signed_out"],
            "suspended",
            effect=record_suspension,
        ),
        t("reinstate", "suspended", "activated", effect=lift_suspension),
        t("request_close", ["activated", "signed_out", "settled", "suspended"], "closing"),
        t("cancel_close", "closing", "activated"),
        t("close", "closing", "closed", conditions="session.batch_settled", effect=record_closure),
        t("reapply", "closed", "reapplied"),
    )


@functools.cache
def default_lifecycle() -> Lifecycle:
    """The POS terminal lifecycle of DOMAIN.md, with the built-in guards wired in.

    The result is immutable and shared: building it once per process is enough.
    """
    return Lifecycle(DEFAULT_STATES, default_transitions(), "applied", name="pos-terminal")
