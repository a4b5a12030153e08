"""The default POS terminal lifecycle, as DOMAIN.md describes it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from posflow import _effects
from posflow._effects import (
    add_sale,
    bind_terminal,
    clear_reversal,
    close_session,
    keep_application,
    lift_suspension,
    open_session,
    record_closure,
    record_receipt,
    record_shipment,
    record_shipment_fault,
    record_suspension,
    settle_batch,
    start_reapplication,
)
from posflow._lifecycle import Lifecycle
from posflow._spec import State, Transition

__all__ = ["DEFAULT_STATES", "default_effects", "default_lifecycle", "default_transitions"]

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


REVIEW: Final = (
    "documents.application_form_complete",
    "documents.review_documents_on_file",
    "compliance.not_blacklisted",
    "compliance.region_served",
    "compliance.micro_merchant_quota_available",
)
"""What a review checks: the form, the documents, risk records, region and quota."""
SHIP: Final = (
    "stock.model_certified",
    "stock.model_compatible",
    "stock.firmware_current",
    "compliance.model_allowed_in_region",
    "stock.device_available",
)
RECEIVE: Final = (
    "stock.sn_registered",
    "stock.sn_matches_shipment",
    "stock.sn_unique",
    "stock.device_intact",
    "stock.device_matches_order",
)
ACTIVATE: Final = (
    "documents.storefront_proof_on_file",
    "documents.activation_documents_on_file",
    "compliance.binding_complete",
    "stock.sn_registered",
    "compliance.sn_not_bound_elsewhere",
    "stock.model_certified",
    "stock.firmware_current",
    "compliance.model_allowed_in_region",
)
SIGN_IN: Final = (
    "session.master_key_injected",
    "session.host_reachable",
    "session.software_current",
    "session.hardware_ok",
    "session.operator_valid",
    "compliance.at_bound_address",
)
SETTLE: Final = (
    "settlement.batch_within_limits",
    "settlement.account_active",
    "settlement.account_covers_payout",
    "session.host_reachable",
    "settlement.host_window_open",
    "settlement.no_pending_reversal",
)
SIGN_OUT: Final = (
    "session.batch_settled",
    "session.host_reachable",
    "session.software_current",
    "session.hardware_ok",
    "session.operator_valid",
)
CLOSE: Final = (
    "session.batch_settled",
    "settlement.balance_paid_out",
    "settlement.no_open_complaints",
    "settlement.early_termination_settled",
    "stock.device_returned_or_fee_charged",
)
REAPPLY: Final = (
    "compliance.cooling_off_elapsed",
    "compliance.not_blacklisted",
    "compliance.no_fraud_suspension",
    "compliance.credit_score_sufficient",
    "settlement.fees_paid",
)


def default_transitions() -> tuple[Transition, ...]:
    """The transitions of the default lifecycle, guards given by registered name."""
    t = Transition
    application = "documents.application_form_complete"
    return (
        t("review", "applied", "reviewed", conditions=REVIEW, effect=keep_application),
        t(
            "review",
            "reapplied",
            "reviewed",
            conditions=(*REVIEW, "documents.reapply_documents_on_file"),
            effect=keep_application,
        ),
        t("reject", ["applied", "reapplied"], "rejected"),
        t("resubmit", "rejected", "applied", conditions=application, effect=keep_application),
        t("ship", "reviewed", "shipped", conditions=SHIP, effect=record_shipment),
        t(
            "report_lost",
            "shipped",
            "reviewed",
            conditions="stock.shipment_fault_known",
            effect=record_shipment_fault,
        ),
        t("receive", "shipped", "in_stock", conditions=RECEIVE, effect=record_receipt),
        t("activate", "in_stock", "activated", conditions=ACTIVATE, effect=bind_terminal),
        t(
            "sign_in",
            ["activated", "signed_out"],
            "signed_in",
            conditions=SIGN_IN,
            effect=open_session,
        ),
        t(
            "record_sale",
            "signed_in",
            "=",
            conditions=("settlement.sale_within_limits", "compliance.at_bound_address"),
            effect=add_sale,
        ),
        t(
            "send_reversal",
            "signed_in",
            "=",
            conditions="session.host_reachable",
            effect=clear_reversal,
        ),
        t("settle", "signed_in", "settled", conditions=SETTLE, effect=settle_batch),
        t(
            "sign_out",
            ["signed_in", "settled"],
            "signed_out",
            conditions=SIGN_OUT,
            effect=close_session,
        ),
        t(
            "suspend",
            ["activated", "signed_in", "settled", "signed_out"],
            "suspended",
            conditions="compliance.suspension_cause_known",
            effect=record_suspension,
        ),
        t("reinstate", "suspended", "activated", effect=lift_suspension),
        t(
            "request_close",
            ["activated", "signed_out", "settled", "suspended"],
            "closing",
            conditions="documents.closing_documents_on_file",
        ),
        t("cancel_close", "closing", "activated"),
        t("close", "closing", "closed", conditions=CLOSE, effect=record_closure),
        t("reapply", "closed", "reapplied", conditions=REAPPLY, effect=start_reapplication),
    )


@functools.cache
def default_lifecycle() -> Lifecycle:
    """The POS terminal lifecycle, with every built-in guard wired in.

    Which guard protects which step is listed in ``docs/guards.md``; the data
    keys and payloads the guards read are in ``docs/terminal-data.md``.

    The result is immutable and shared: building it once per process is enough.
    """
    return Lifecycle(DEFAULT_STATES, default_transitions(), "applied", name="pos-terminal")


def default_effects() -> Mapping[str, Any]:
    """The default lifecycle's effects by name, for definitions loaded from files.

    A definition file names effects the way :meth:`Lifecycle.to_dict` writes them,
    by function name; pass this mapping (merged with your own effects, if any) as
    ``effects=`` to :meth:`Lifecycle.from_dict` or :meth:`Lifecycle.from_file` so a
    file may reuse ``bind_terminal``, ``settle_batch`` and the rest: a file's names
    are looked up in that mapping only, and a name that is not in it is an
    ``unknown_effect`` problem. A :class:`Transition` built in Python may name one
    of these too (``effect="settle_batch"``); the :class:`Lifecycle` looks it up here.

    >>> sorted(default_effects())[:3]
    ['add_sale', 'bind_terminal', 'clear_reversal']
    """
    return MappingProxyType({name: getattr(_effects, name) for name in _effects.__all__})
