"""One terminal's behaviour in a simulation: what it asks for next, and how it reacts.

An :class:`Agent` plays the merchant, the operator and the back office of one
terminal. Each round of a simulated day it proposes at most one event; after the
event is decided it reads the outcome (the state, and the reason codes of a
refusal) and chooses what to do next, the way people do: upload the missing
document and try again tomorrow, order a certified model, report the parcel
lost, retype the password, pay the penalty.

Its only randomness is its own generator, seeded with the run's seed and the
terminal's index, so the choices do not depend on how the fleet is split
between workers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any, Final

from posflow._outcome import Outcome
from posflow.cli._plan import MODELS, Plan, sn_for, terminal_id
from posflow.cli._world import World

__all__ = ["ROUNDS", "Agent"]

ROUNDS: Final = (
    dt.timedelta(hours=8),
    dt.timedelta(hours=9, minutes=30),
    dt.timedelta(hours=11),
    dt.timedelta(hours=14),
    dt.timedelta(hours=17),
    dt.timedelta(hours=21),
    dt.timedelta(hours=22, minutes=15),
    dt.timedelta(hours=22, minutes=45),
)
"""The times of day (UTC) at which terminals act: office hours, trading, settlement, sign-out."""

MORNING, LATE_MORNING, SALE_1, SALE_2, SALE_3, SETTLE, SETTLE_AGAIN, SIGN_OUT = range(8)
_SALES: Final = frozenset({SALE_1, SALE_2, SALE_3})
_OFFICE: Final = frozenset({MORNING, LATE_MORNING, SALE_1, SALE_2, SALE_3})
"""Rounds in office hours: an application moves one step per round, same-day courier."""
_SALE_ODDS: Final = {SALE_1: 0.75, SALE_2: 0.35, SALE_3: 0.0}
"""The chance of a sale in each trading round (a sample of the day's sales)."""

_GIVE_UP: Final = frozenset(
    {
        "compliance.merchant_blacklisted",
        "compliance.legal_rep_blacklisted",
        "compliance.region_not_served",
        "compliance.micro_merchant_quota_exceeded",
        "documents.application_field_missing",
    }
)
"""Review refusals that no waiting cures: the application is rejected."""

_HOPELESS_REAPPLY: Final = frozenset(
    {
        "compliance.fraud_suspension_on_record",
        "compliance.credit_score_below_threshold",
        "compliance.merchant_blacklisted",
        "compliance.legal_rep_blacklisted",
    }
)
_OPERATING: Final = frozenset({"activated", "signed_out"})
_CLOSABLE: Final = frozenset({"activated", "signed_out", "settled", "suspended"})
_PATIENCE: Final = 6
"""How many refused attempts at one step before the merchant gives up on it."""

Proposal = tuple[str, Mapping[str, Any] | None]


class Agent:
    """The behaviour of terminal ``plan.index`` in a run seeded with ``seed``."""

    __slots__ = (
        "attempt",
        "blocked_day",
        "closed_day",
        "closing",
        "done",
        "forced",
        "id",
        "model",
        "pays_penalty",
        "pending_reversal",
        "plan",
        "reapplied",
        "refusals",
        "relocated",
        "resubmitted",
        "rng",
        "state",
        "suspended_day",
        "wrong_password",
    )

    def __init__(self, seed: int, plan: Plan) -> None:
        self.plan = plan
        self.id = terminal_id(plan.index)
        self.rng = random.Random(f"{seed}:{plan.index}:agent")  # noqa: S311 - a simulation
        self.state = "applied"
        self.done = False
        self.model = plan.model
        self.attempt = 0
        self.refusals = 0
        self.blocked_day = -1
        self.pending_reversal = False
        self.wrong_password = False
        self.relocated = False
        self.closing = False
        self.pays_penalty = not plan.pays_penalty_late
        self.suspended_day = -1
        self.closed_day = -1
        self.reapplied = False
        self.resubmitted = False
        self.forced: Proposal | None = None

    # -- proposing ---------------------------------------------------------------------

    def propose(self, world: World, day: int, slot: int) -> Proposal | None:
        """The event this terminal asks for in round ``slot`` of ``day``, if any."""
        if self.forced is not None and slot in _OFFICE:
            forced, self.forced = self.forced, None
            return forced
        state = self.state
        if state == "signed_in":
            return self._trading(day, slot)
        if state in _OPERATING or state == "settled":
            return self._operating(day, slot)
        if slot not in _OFFICE or day <= self.blocked_day:
            return None  # offices are closed, or the last refusal waits for tomorrow
        return self._office(world, day, slot)

    def _office(self, world: World, day: int, slot: int) -> Proposal | None:  # noqa: PLR0911 - one branch per state
        plan = self.plan
        state = self.state
        if state in {"applied", "reapplied"}:
            return ("review", None)
        if state == "reviewed":
            return ("ship", {"model": self.model})
        if state == "shipped":
            return ("receive", {"sn": sn_for(plan.index, self.attempt)})
        if state == "in_stock":
            return ("activate", {"install_address": f"{plan.index} Nanjing Road"})
        if slot != LATE_MORNING:
            return None  # the back office decides on the rest once a day
        if state == "rejected":
            if plan.form_incomplete and not self.resubmitted:
                self.resubmitted = True
                return ("resubmit", {"merchant": {"contact_phone": f"138{plan.index:08d}"}})
            self.done = True
            return None
        if state == "suspended":
            if self.closing or plan.suspend_cause in world.policy.fraud_causes:
                self.closing = True
                return ("request_close", None)
            return ("reinstate", None) if day >= self.suspended_day + 2 else None
        if state == "closing":
            return ("close", self._closing_payload())
        if state == "closed":
            return self._reapply(day)
        return None

    def _operating(self, day: int, slot: int) -> Proposal | None:
        plan = self.plan
        if slot == MORNING and not self.closing:
            closes = plan.close_day is not None and self.closed_day < 0
            if closes and day >= (plan.close_day or 0):
                self.closing = True
                return ("request_close", None)
            if day == plan.suspend_day and plan.suspend_cause != "relocation":
                return ("suspend", {"cause": plan.suspend_cause})
        if self.closing:
            ready = slot == LATE_MORNING and day > self.blocked_day
            return ("request_close", None) if ready else None
        if self.state == "settled":
            return self._sign_out() if slot in {MORNING, SIGN_OUT} else None
        retry = slot == LATE_MORNING and (self.wrong_password or self.blocked_day == day)
        return self._sign_in() if slot == MORNING or retry else None

    def _password(self, typo_odds: float) -> str:
        """The operator's password as typed: now and then with the last digit wrong."""
        right = self.plan.password
        if self.rng.random() >= typo_odds:
            return right
        return right[:-1] + str((int(right[-1]) + 1) % 10)

    def _sign_in(self) -> Proposal:
        payload = {"operator": "01", "password": self._password(0.02), "software_version": "2.3.0"}
        return ("sign_in", payload)

    def _sign_out(self) -> Proposal:
        return ("sign_out", {"password": self._password(0.01)})

    def _trading(self, day: int, slot: int) -> Proposal | None:  # noqa: PLR0911 - one per round
        plan = self.plan
        if slot in _SALES:
            if plan.suspend_day == day and plan.suspend_cause == "relocation":
                if self.relocated:
                    return ("suspend", {"cause": "relocation"})
                self.relocated = True
                return ("record_sale", {"amount": 8800, "address": "88 Elsewhere Road"})
            if self.rng.random() >= _SALE_ODDS[slot]:
                return None
            return ("record_sale", self._sale())
        if slot == SETTLE:
            return ("send_reversal", None) if self.pending_reversal else ("settle", None)
        if slot == SETTLE_AGAIN:
            return ("settle", None) if self.refusals or self.pending_reversal else None
        if slot == SIGN_OUT:
            return self._sign_out()
        return None

    def _sale(self) -> dict[str, Any]:
        r = self.rng
        cap = 100_000 if self.plan.merchant_type == "micro" else 2_000_000
        amount = r.randint(500, cap // 4)
        if r.random() < 0.015:
            amount = cap + r.randint(1, cap)
        payload: dict[str, Any] = {"amount": amount}
        if r.random() < 0.01:
            payload["timed_out"] = True
        return payload

    def _closing_payload(self) -> dict[str, Any]:
        returned = self.plan.device_returned
        return {
            "penalty_paid": self.pays_penalty,
            "device_returned": returned,
            "recovery_fee_charged": not returned,
        }

    def _reapply(self, day: int) -> Proposal | None:
        after = self.plan.reapply_after
        if after is None or self.reapplied or day < self.closed_day + after:
            self.done = after is None or self.reapplied
            return None
        return ("reapply", None)

    # -- reacting ------------------------------------------------------------------------

    def observe(self, outcome: Outcome, day: int) -> None:
        """Take in the decision on the event last proposed."""
        event = outcome.event
        self.state = outcome.terminal.state
        if outcome.ok:
            self._accepted(event, outcome, day)
            return
        self.refusals += 1
        self.blocked_day = day
        codes = outcome.codes
        if event == "review" and (self.refusals >= _PATIENCE or any(c in _GIVE_UP for c in codes)):
            self.forced = ("reject", None)
        elif event == "ship" and (
            "stock.model_uncertified" in codes or "compliance.region_certification_missing" in codes
        ):
            self.model = "P300" if "P300" in MODELS else self.model
            self.blocked_day = -1  # the back office reorders at once
        elif event == "receive" and (
            "stock.shipment_fault" in codes or "stock.order_mismatch" in codes
        ):
            cause = self.plan.shipment_fault if self.attempt == 0 else None
            self.forced = ("report_lost", {"cause": cause or "lost"})
        elif event == "sign_in" and "session.operator_password_wrong" in codes:
            self.wrong_password = True
        elif event == "close" and "settlement.early_termination_penalty_due" in codes:
            self.pays_penalty = True
        elif event == "reapply" and any(c in _HOPELESS_REAPPLY for c in codes):
            self.done = True
        elif event == "record_sale" and "compliance.terminal_relocated" in codes:
            self.relocated = True
        if self.refusals >= 4 * _PATIENCE:
            self.done = True

    def _accepted(self, event: str, outcome: Outcome, day: int) -> None:
        self.refusals = 0
        if event == "record_sale" and outcome.terminal.data.get("pending_reversal"):
            self.pending_reversal = True
        elif event == "send_reversal":
            self.pending_reversal = False
        elif event == "sign_in":
            self.wrong_password = False
        elif event == "suspend":
            self.suspended_day = day
        elif event == "report_lost":
            self.attempt += 1
        elif event == "close":
            self.closed_day = day
            self.closing = False
            self.attempt += 1
        elif event == "reapply":
            self.reapplied = True
            self.model = self.plan.model if self.plan.model != "X9" else "P300"
