"""What a run is, and what each terminal's life will meet: parameters, ids and plans.

Each terminal ``i`` has its own merchant ``i`` and a :class:`Plan`: the faults
its life will meet (documents that arrive late, a blacklisted representative, an
uncertified model, a lost parcel, a frozen account, ...), drawn from a random
generator seeded with the run's seed and ``i`` alone, so that a plan does not
depend on the fleet's size or on how the fleet is split between workers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from posflow.ports import DeviceModel, DocumentKind

__all__ = [
    "MODELS",
    "SIMULATION_POLICY",
    "START",
    "Params",
    "Plan",
    "account_number",
    "credit_code",
    "id_number",
    "merchant_id",
    "shipment_attempt",
    "sn_for",
    "terminal_id",
    "terminal_index",
]

START: Final = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)
"""Day 0 of every run, midnight UTC: the clock never reads wall time."""

SIMULATION_POLICY: Final[Mapping[str, Any]] = {"cooling_off_days": 2}
"""How the simulated acquirer's rules differ from :class:`posflow.Policy`'s defaults.

A two-day cooling-off lets closures and reapplications both show within a short run.
"""

SERVED_REGION: Final = "310000"
UNSERVED_REGION: Final = "540000"
STRICT_REGION: Final = "440300"
"""A region that requires the ``nfc_l2`` certification, which model ``A8`` lacks."""

MODELS: Final[Mapping[str, DeviceModel]] = {
    "P300": DeviceModel("P300", certifications={"unionpay", "nfc_l2"}, firmware="2.1.0"),
    "A8": DeviceModel("A8", certifications={"unionpay"}, firmware="2.0.0"),
    "X9": DeviceModel("X9", certifications=(), firmware="1.2.0"),
}
"""The models the acquirer stocks; ``X9`` is not certified (银联认证)."""

SHORTAGE_RATE: Final = 0.05
MAINTENANCE_RATE: Final = 0.1
MAINTENANCE_HOURS: Final = (20, 22)
"""Maintenance, when planned for a day, runs from 20:00 to 22:00 UTC (settlement is at 21:00)."""


def day_of(at: dt.datetime) -> int:
    """The simulated day ``at`` falls on."""
    return (at - START).days


def terminal_id(index: int) -> str:
    """The id of the ``index``-th terminal of a run."""
    return f"T{index:07d}"


def merchant_id(index: int) -> str:
    """The id of the merchant of the ``index``-th terminal."""
    return f"M{index:07d}"


def terminal_index(identifier: str) -> int | None:
    """The index behind a terminal, merchant or SN id of this world, or ``None``."""
    core = identifier[1:8] if identifier[:1] in {"T", "M"} else identifier[2:9]
    return int(core) if len(core) == 7 and core.isdigit() else None


def credit_code(index: int) -> str:
    """The unified social credit code of merchant ``index``."""
    return f"91310000MA{index:07d}X"


def id_number(index: int) -> str:
    """The legal representative's ID number of merchant ``index`` (18 characters)."""
    return f"1101011990{index:07d}X"


def account_number(index: int) -> str:
    """The settlement account number of merchant ``index``."""
    return f"62220202{index:011d}"


def shipment_attempt(data: Mapping[str, Any]) -> int:
    """How many devices were sent to a terminal before the current one.

    Each shipment fault and each closure means a new device for the next shipment.
    """
    faults = data.get("shipment_faults") or ()
    closures = data.get("closures") or 0
    return len(faults) + (closures if isinstance(closures, int) else 0)


def sn_for(index: int, attempt: int) -> str:
    """The serial number of the device sent in the ``attempt``-th shipment to terminal ``index``."""
    return f"SN{index:07d}{attempt:02d}"


def _weighted(u: Callable[[], float], population: tuple[str, ...], cum: tuple[int, ...]) -> str:
    """One draw of ``Random.choices(population, weights)[0]``, made the way it makes it.

    ``choices`` checks its arguments and builds the running totals of the weights on
    every call; a plan makes three such draws, so the totals (``cum``) are written
    out once here and the one ``random()`` is read just as ``choices`` reads it.
    """
    return population[bisect.bisect(cum, u() * cum[-1], 0, len(cum) - 1)]


_MERCHANT_TYPES: Final = (("enterprise", "individual", "micro"), (3, 7, 10))
_MODELS_DRAWN: Final = (("P300", "A8", "X9"), (80, 96, 100))
_SUSPEND_CAUSES: Final = (("relocation", "data_leakage", "cash_out", "fraud"), (5, 7, 9, 10))


@attrs.frozen(slots=True)
class Params:
    """What a run is: everything needed to rebuild its world and replay its choices.

    Attributes:
        seed: the seed every random draw derives from.
        terminals: fleet size.
        days: how many simulated days the run covers.
    """

    seed: int
    terminals: int
    days: int

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form, as stored with the run."""
        return {"seed": self.seed, "terminals": self.terminals, "days": self.days}


@attrs.frozen(slots=True)
class Plan:
    """The faults one terminal's life meets, drawn from the seed and its index.

    Days are counted from :data:`START`; ``None`` means the fault does not happen.
    """

    index: int
    merchant_type: str
    region: str
    apply_day: int
    form_incomplete: bool
    late_document: DocumentKind | None
    document_day: int
    expired_id: bool
    blacklisted: str | None
    quota_full: bool
    model: str
    shipment_fault: str | None
    storefront: str
    proof_day: int
    outage_days: frozenset[int]
    frozen_from: int | None
    frozen_until: int
    suspend_day: int | None
    suspend_cause: str
    close_day: int | None
    closing_papers_day: int
    complaints_until: int
    pays_penalty_late: bool
    device_returned: bool
    reapply_after: int | None
    score: int
    password: str = attrs.field(repr=False)

    @classmethod
    def draw(cls, params: Params, index: int) -> Plan:
        """The plan of terminal ``index``; the same for the same seed, whatever the fleet size."""
        r = random.Random(f"{params.seed}:{index}:plan")  # noqa: S311 - simulation, not secrets
        days = max(params.days, 1)
        u = r.random
        merchant_type = _weighted(u, *_MERCHANT_TYPES)
        region = SERVED_REGION
        x = u()
        if x < 0.005:
            region = UNSERVED_REGION
        elif x < 0.04:
            region = STRICT_REGION
        apply_day = r.randrange(max(1, days // 3))
        late_document = None
        if u() < 0.08:
            late_document = r.choice(
                (DocumentKind.ID_CARD_BACK, DocumentKind.SETTLEMENT_ACCOUNT)
                if merchant_type == "micro"
                else (DocumentKind.BUSINESS_LICENCE, DocumentKind.SETTLEMENT_ACCOUNT)
            )
        document_day = apply_day + r.randint(1, 3)
        x = u()
        blacklisted = "merchant" if x < 0.01 else "legal_rep" if x < 0.015 else None
        model = _weighted(u, *_MODELS_DRAWN)
        x = u()
        shipment_fault = (
            "lost" if x < 0.03 else "damaged" if x < 0.045 else "order_error" if x < 0.055 else None
        )
        x = u()
        storefront = (
            "photo" if x < 0.82 else "lease" if x < 0.88 else "bills" if x < 0.94 else "late"
        )
        proof_day = apply_day + r.randint(2, 6)
        outage_days = frozenset(d for d in range(days) if u() < 0.02)
        frozen_from = r.randrange(days) if u() < 0.02 else None
        frozen_until = (frozen_from or 0) + r.randint(1, 4)
        suspend_day = r.randrange(days) if u() < 0.03 else None
        suspend_cause = _weighted(u, *_SUSPEND_CAUSES)
        close_day = r.randrange(days) if u() < 0.06 else None
        reapply_after = r.randint(1, 4) if u() < 0.6 else None
        return cls(
            index=index,
            merchant_type=merchant_type,
            region=region,
            apply_day=apply_day,
            form_incomplete=u() < 0.02,
            late_document=late_document,
            document_day=document_day,
            expired_id=u() < 0.02,
            blacklisted=blacklisted,
            quota_full=merchant_type == "micro" and u() < 0.03,
            model=model,
            shipment_fault=shipment_fault,
            storefront=storefront,
            proof_day=proof_day,
            outage_days=outage_days,
            frozen_from=frozen_from,
            frozen_until=frozen_until,
            suspend_day=suspend_day,
            suspend_cause=suspend_cause,
            close_day=close_day,
            closing_papers_day=(close_day or 0) + (r.randint(1, 2) if u() < 0.2 else 0),
            complaints_until=(close_day or 0) + (r.randint(1, 3) if u() < 0.1 else 0),
            pays_penalty_late=u() < 0.3,
            device_returned=u() < 0.85,
            reapply_after=reapply_after,
            score=550 if u() < 0.08 else 700 + r.randrange(100),
            password=f"{r.randrange(10**6):06d}",
        )

    @property
    def merchant_id(self) -> str:
        """The id of the terminal's merchant, under which the world files its record."""
        return merchant_id(self.index)

    @property
    def merchant(self) -> dict[str, Any]:
        """The application the merchant submits (the form may lack the phone)."""
        i = self.index
        m: dict[str, Any] = {
            "id": merchant_id(i),
            "name": f"Merchant {i}",
            "contact_phone": f"138{i:08d}",
            "shop_address": f"{i} Nanjing Road",
            "type": self.merchant_type,
            "legal_rep_id_number": id_number(i),
            "acquirer_code": "48020000",
            "merchant_code": f"8983100{i:08d}",
            "settlement_account": account_number(i),
            "region": self.region,
            "needs": ["card", "qr"],
        }
        if self.merchant_type != "micro":
            m["credit_code"] = credit_code(i)
        if self.form_incomplete:
            del m["contact_phone"]
        return m
