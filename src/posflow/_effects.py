"""The default lifecycle's effects: the operating data each accepted event changes.

An effect returns only the keys it changes; the engine merges them into a new
terminal record. Effects run after every guard passed, so they may rely on what
the guards checked (a positive amount, a known SN). Money is integer fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from posflow.errors import InvalidInput
from posflow.guards._read import mapping, text_list, whole

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal

__all__ = [
    "add_sale",
    "bind_terminal",
    "clear_reversal",
    "close_session",
    "keep_application",
    "lift_suspension",
    "open_session",
    "record_closure",
    "record_receipt",
    "record_shipment",
    "record_shipment_fault",
    "record_suspension",
    "settle_batch",
    "start_reapplication",
]

_EMPTY_BATCH: Mapping[str, int] = {"no": 0, "count": 0, "total": 0, "max": 0}
_CLOSURE_FLAGS = ("penalty_paid", "device_returned", "recovery_fee_charged")


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


def _batch(terminal: Terminal) -> dict[str, int]:
    batch = mapping(terminal.data.get("batch"), "data.batch") or _EMPTY_BATCH
    return {
        "no": whole(batch.get("no"), "data.batch.no"),
        "count": whole(batch.get("count"), "data.batch.count"),
        "total": whole(batch.get("total"), "data.batch.total", signed=True),
        "max": whole(batch.get("max"), "data.batch.max"),
    }


def _merchant(terminal: Terminal) -> Mapping[str, Any]:
    return mapping(terminal.data.get("merchant"), "data.merchant")


def _history(terminal: Terminal, key: str) -> list[Any]:
    value = terminal.data.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"must be a list, got {type(value).__name__}", field=f"data.{key}")
    return list(value)


def _given(ctx: Context, key: str, terminal: Terminal | None = None) -> Any:
    value = ctx.payload.get(key)
    if value is None and terminal is not None:
        value = terminal.data.get(key)
    return value


def keep_application(terminal: Terminal, ctx: Context) -> dict[str, Any] | None:
    """Review and resubmission: merchant details sent with the event join the record."""
    given = mapping(ctx.payload.get("merchant"), "payload.merchant")
    if not given:
        return None
    return {"merchant": {**_merchant(terminal), **given}}


def record_shipment(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Shipment: the model ordered, the SN shipped (when one was named) and when."""
    return {
        "model": _given(ctx, "model", terminal),
        "shipped_sn": ctx.payload.get("sn"),
        "shipped_at": ctx.now().isoformat(),
    }


def record_shipment_fault(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """A lost, damaged or delayed shipment, or an order error: back for a new shipment."""
    cause = str(ctx.payload.get("cause") or "lost")
    past = _history(terminal, "shipment_faults")
    fault = {"cause": cause, "sn": terminal.data.get("shipped_sn"), "at": ctx.now().isoformat()}
    return {"shipped_sn": None, "shipment_faults": [*past, fault]}


def record_receipt(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Receipt: the SN now held for this merchant (入库)."""
    return {"sn": _given(ctx, "sn", terminal), "received_at": ctx.now().isoformat()}


def bind_terminal(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Activation: the SN bound to the merchant at the install address; keys injected."""
    merchant = _merchant(terminal)
    address = _given(ctx, "install_address", terminal)
    return {
        "binding": {
            "sn": terminal.data.get("sn"),
            "merchant_id": merchant.get("id"),
            "install_address": address,
        },
        "install_address": address,
        "master_key_injected": True,
        "activated_at": ctx.now().isoformat(),
    }


def open_session(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Sign-in: a new batch number, who signed in when, and the software reported."""
    batch = _batch(terminal)
    if batch["count"]:
        new_batch = batch  # an unsettled batch carries over into the new session
    else:
        new_batch = {"no": batch["no"] + 1, "count": 0, "total": 0, "max": 0}
    changes = {
        "batch": new_batch,
        "last_sign_in": ctx.now().isoformat(),
        "operator": ctx.payload.get("operator"),
    }
    version = ctx.payload.get("software_version")
    if version is not None:
        changes["software_version"] = version
    return changes


def add_sale(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """A sale: the batch's count, total and largest sale grow, as does the day's total.

    A sale whose answer never came back (``timed_out``) is not counted: it leaves a
    pending reversal (冲正) that must be sent before the batch can be settled.
    """
    amount = _int_field(ctx, "amount")
    if ctx.payload.get("timed_out") is True:
        return {"pending_reversal": {"amount": amount, "at": ctx.now().isoformat()}}
    batch = _batch(terminal)
    day = ctx.now().date().isoformat()
    daily = mapping(terminal.data.get("daily"), "data.daily")
    daily_total = whole(daily.get("total"), "data.daily.total") if daily.get("day") == day else 0
    return {
        "batch": {
            "no": batch["no"],
            "count": batch["count"] + 1,
            "total": batch["total"] + amount,
            "max": max(batch["max"], amount),
        },
        "daily": {"day": day, "total": daily_total + amount},
    }


def clear_reversal(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """The pending reversal was sent to the host."""
    return {"pending_reversal": None, "last_reversal": ctx.now().isoformat()}


def settle_batch(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Settlement: the batch's total joins the settled total; the batch empties."""
    batch = _batch(terminal)
    settled = whole(terminal.data.get("balance"), "data.balance", signed=True)
    return {
        "batch": {"no": batch["no"], "count": 0, "total": 0, "max": 0},
        "balance": settled + batch["total"],
        "last_settlement": ctx.now().isoformat(),
    }


def close_session(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Sign-out: when the session closed."""
    return {"last_sign_out": ctx.now().isoformat()}


def record_suspension(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Suspension: its cause joins the terminal's suspension history."""
    cause = str(ctx.payload.get("cause") or "unspecified")
    past = text_list(terminal.data.get("suspensions"), "data.suspensions")
    return {"suspension": cause, "suspensions": [*past, cause]}


def lift_suspension(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Reinstatement: the current suspension is lifted (its history stays)."""
    return {"suspension": None}


def record_closure(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Closure: when, how the device and penalty were settled; the binding is released."""
    settled = {k: bool(_given(ctx, k, terminal)) for k in _CLOSURE_FLAGS}
    return {
        "closed_at": ctx.now().isoformat(),
        "closures": whole(terminal.data.get("closures"), "data.closures") + 1,
        "last_closure": settled,
        "binding": None,
        "master_key_injected": False,
        **dict.fromkeys(_CLOSURE_FLAGS),
    }


def start_reapplication(terminal: Terminal, ctx: Context) -> dict[str, Any]:
    """Reapplication: a new application for the same merchant; device data starts afresh."""
    changes: dict[str, Any] = {
        "reapplied_at": ctx.now().isoformat(),
        "sn": None,
        "shipped_sn": None,
        "model": None,
        "activated_at": None,
        "contract_start": None,
        "batch": None,
        "pending_reversal": None,
    }
    given = mapping(ctx.payload.get("merchant"), "payload.merchant")
    if given:
        changes["merchant"] = {**_merchant(terminal), **given}
    return changes
