"""The simulated world: merchants, warehouse, banks, host and operators, all from one seed.

Every port answer is a pure function of the run's parameters (seed, fleet size,
days), the terminal or merchant asked about, and the simulated clock. Nothing in
the world changes as the simulation runs, so ``posflow explain`` can rebuild the
very same world later from the parameters stored with the run and evaluate the
guards exactly as the simulation did.

Each terminal ``i`` has its own merchant ``i`` and a :class:`Plan`: the faults
its life will meet (documents that arrive late, a blacklisted representative, an
uncertified model, a lost parcel, a frozen account, ...), drawn from a random
generator seeded with the run's seed and ``i`` alone. Fleet-wide faults (stock
shortages, host maintenance) are drawn per day from the seed alone.
"""

from __future__ import annotations

import datetime as dt
import hmac
import random
from collections.abc import Mapping
from typing import Any, Final

import attrs

import posflow
from posflow.ports import (
    AccountStatus,
    BlacklistEntry,
    Device,
    DeviceLocation,
    DeviceModel,
    Document,
    DocumentKind,
    FrozenClock,
    HostWindow,
    Ports,
    RegionRule,
    SettlementAccount,
    Subject,
    Suspension,
    WindowKind,
)

__all__ = [
    "START",
    "Params",
    "Plan",
    "World",
    "merchant_id",
    "natural_payload",
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


def _credit_code(index: int) -> str:
    return f"91310000MA{index:07d}X"


def _id_number(index: int) -> str:
    return f"1101011990{index:07d}X"


def _account(index: int) -> str:
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
        merchant_type = r.choices(("enterprise", "individual", "micro"), (3, 4, 3))[0]
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
        model = r.choices(("P300", "A8", "X9"), (80, 16, 4))[0]
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
        suspend_cause = r.choices(
            ("relocation", "data_leakage", "cash_out", "fraud"), (5, 2, 2, 1)
        )[0]
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
    def merchant(self) -> dict[str, Any]:
        """The application the merchant submits (the form may lack the phone)."""
        i = self.index
        m: dict[str, Any] = {
            "id": merchant_id(i),
            "name": f"Merchant {i}",
            "contact_phone": f"138{i:08d}",
            "shop_address": f"{i} Nanjing Road",
            "type": self.merchant_type,
            "legal_rep_id_number": _id_number(i),
            "acquirer_code": "48020000",
            "merchant_code": f"8983100{i:08d}",
            "settlement_account": _account(i),
            "region": self.region,
            "needs": ["card", "qr"],
        }
        if self.merchant_type != "micro":
            m["credit_code"] = _credit_code(i)
        if self.form_incomplete:
            del m["contact_phone"]
        return m


def day_of(at: dt.datetime) -> int:
    """The simulated day ``at`` falls on."""
    return (at - START).days


def _draw_days(seed: int, what: str, days: int, rate: float) -> frozenset[int]:
    r = random.Random(f"{seed}:{what}")  # noqa: S311 - simulation, not secrets
    return frozenset(d for d in range(days) if r.random() < rate)


class World:
    """The ports of one run, answering from the plans and the clock.

    Args:
        params: the run.
        clock: the simulated clock the ports and the contexts share.
    """

    def __init__(self, params: Params, clock: FrozenClock | None = None) -> None:
        self.params = params
        self.clock = clock or FrozenClock(START)
        self.policy = posflow.Policy.from_dict(SIMULATION_POLICY)
        days = max(params.days, 1)
        self._shortage = {
            name: _draw_days(params.seed, f"shortage:{name}", days, SHORTAGE_RATE)
            for name in MODELS
        }
        self._maintenance = _draw_days(params.seed, "maintenance", days, MAINTENANCE_RATE)
        self._plans: dict[int, Plan] = {}
        self._by_id: dict[str, Plan] = {}
        self.ports = Ports(
            documents=_Documents(self),
            inventory=_Inventory(self),
            risk=_Risk(self),
            accounts=_Accounts(self),
            host=_Host(self),
            operators=_Operators(self),
        )

    def plan(self, index: int) -> Plan:
        """Terminal ``index``'s plan (drawn once, then kept)."""
        found = self._plans.get(index)
        if found is None:
            found = self._plans[index] = Plan.draw(self.params, index)
            self._by_id[terminal_id(index)] = self._by_id[merchant_id(index)] = found
        return found

    def plan_of(self, identifier: str) -> Plan | None:
        """The plan behind a terminal, merchant or SN id, or ``None`` for a stranger."""
        found = self._by_id.get(identifier)
        if found is not None:
            return found
        index = terminal_index(identifier)
        if index is None or not 0 <= index < self.params.terminals:
            return None
        return self.plan(index)

    def today(self) -> int:
        """The simulated day the clock shows."""
        return day_of(self.clock.now())

    def context(self, payload: Mapping[str, Any] | None = None) -> posflow.Context:
        """A context in this world, at the clock's time."""
        return posflow.Context(
            payload or {}, actor="simulator", clock=self.clock, ports=self.ports, policy=self.policy
        )

    def in_shortage(self, model: str, day: int) -> bool:
        """Whether the warehouse has no ``model`` on ``day``."""
        return day in self._shortage.get(model, frozenset())

    def in_maintenance(self, day: int) -> bool:
        """Whether the host has a maintenance window on ``day``."""
        return day in self._maintenance


class _Documents:
    """Each merchant's file: current documents, some arriving on a later day, some expired.

    Documents are immutable values, so the few distinct ones are made once and shared.
    """

    __slots__ = ("_made", "_world")

    def __init__(self, world: World) -> None:
        self._world = world
        self._made: dict[tuple[DocumentKind, int, int | None], Document] = {}

    def _doc(self, kind: DocumentKind, issued: int, expires: int | None = 3650) -> Document:
        key = (kind, issued, expires)
        found = self._made.get(key)
        if found is None:
            start = START.date()
            months = 3 if kind is DocumentKind.UTILITY_BILLS else None
            found = self._made[key] = Document(
                kind,
                issued=start + dt.timedelta(days=issued),
                expires=None if expires is None else start + dt.timedelta(days=expires),
                months=months,
            )
        return found

    def documents(self, merchant: str) -> tuple[Document, ...]:
        plan = self._world.plan_of(merchant)
        if plan is None:
            return ()
        doc = self._doc
        long_ago = -400
        docs = [
            doc(DocumentKind.CLOSE_REQUEST, plan.closing_papers_day),
            doc(DocumentKind.SERVICE_CONTRACT, long_ago),
        ]
        kinds = [DocumentKind.ID_CARD_BACK, DocumentKind.SETTLEMENT_ACCOUNT]
        if plan.merchant_type != "micro":
            kinds.append(DocumentKind.BUSINESS_LICENCE)
        for kind in kinds:
            late = kind is plan.late_document
            docs.append(doc(kind, plan.document_day if late else long_ago))
        if plan.expired_id:
            docs.append(doc(DocumentKind.ID_CARD_FRONT, long_ago, -30))
            docs.append(doc(DocumentKind.ID_CARD_FRONT, plan.document_day))
        else:
            docs.append(doc(DocumentKind.ID_CARD_FRONT, long_ago))
        if plan.storefront == "photo":
            docs.append(doc(DocumentKind.STOREFRONT_PHOTO, long_ago, None))
        elif plan.storefront == "lease":
            docs.append(doc(DocumentKind.LEASE_CONTRACT, long_ago))
        elif plan.storefront == "bills":
            docs.append(doc(DocumentKind.UTILITY_BILLS, 0))
        else:
            docs.append(doc(DocumentKind.LEASE_CONTRACT, plan.proof_day))
        return tuple(docs)


class _Inventory:
    __slots__ = ("_recent", "_world")

    def __init__(self, world: World) -> None:
        self._world = world
        self._recent: dict[str, Device | None] = {}

    def model(self, name: str) -> DeviceModel | None:
        return MODELS.get(name)

    def device(self, sn: str) -> Device | None:
        try:
            return self._recent[sn]
        except KeyError:
            pass
        if len(self._recent) > 4096:
            self._recent.clear()  # devices are asked about a few times in a day, then rarely
        found = self._recent[sn] = self._device(sn)
        return found

    def _device(self, sn: str) -> Device | None:
        plan = self._world.plan_of(sn) if sn.startswith("SN") and len(sn) == 11 else None
        if plan is None:
            return None
        attempt = int(sn[9:])
        model = plan.model if plan.model in {"P300", "A8"} else "P300"
        location = DeviceLocation.IN_TRANSIT
        if attempt == 0 and plan.shipment_fault == "lost":
            location = DeviceLocation.LOST
        elif attempt == 0 and plan.shipment_fault == "damaged":
            location = DeviceLocation.DAMAGED
        elif attempt == 0 and plan.shipment_fault == "order_error":
            model = "A8" if model == "P300" else "P300"
        return Device(sn, model, location=location, terminal_id=terminal_id(plan.index))

    def available(self, model: str) -> int:
        if model not in MODELS or self._world.in_shortage(model, self._world.today()):
            return 0
        return 100


class _Risk:
    __slots__ = ("_world",)

    def __init__(self, world: World) -> None:
        self._world = world

    def blacklist_entry(self, subject: Subject, key: str) -> BlacklistEntry | None:
        index = None
        if subject is Subject.MERCHANT and key.startswith("M"):
            index = terminal_index(key)
        elif len(key) == 18:
            index = int(key[10:17]) if key[10:17].isdigit() else None
        if index is None or not 0 <= index < self._world.params.terminals:
            return None
        plan = self._world.plan(index)
        if plan.blacklisted == subject.value:
            return BlacklistEntry(subject, key, reason="suspected card fraud")
        return None

    def suspensions(self, merchant: str) -> tuple[Suspension, ...]:
        return ()

    def score(self, merchant: str) -> int | None:
        plan = self._world.plan_of(merchant)
        return None if plan is None else plan.score

    def region_rule(self, region: str) -> RegionRule | None:
        if region == UNSERVED_REGION:
            return RegionRule(region, served=False)
        if region == STRICT_REGION:
            return RegionRule(region, required_certifications={"nfc_l2"})
        return None

    def merchant_codes_held(self, id_number: str) -> int:
        index = int(id_number[10:17]) if id_number[10:17].isdigit() else None
        if index is None or not 0 <= index < self._world.params.terminals:
            return 0
        return 1 if self._world.plan(index).quota_full else 0


class _Accounts:
    __slots__ = ("_world",)

    def __init__(self, world: World) -> None:
        self._world = world

    def account(self, merchant: str) -> SettlementAccount | None:
        plan = self._world.plan_of(merchant)
        if plan is None:
            return None
        today = self._world.today()
        status = AccountStatus.ACTIVE
        if plan.frozen_from is not None and plan.frozen_from <= today < plan.frozen_until:
            status = AccountStatus.FROZEN
        complaints = 1 if plan.close_day is not None and today < plan.complaints_until else 0
        return SettlementAccount(
            merchant, _account(plan.index), status=status, open_complaints=complaints
        )


class _Host:
    __slots__ = ("_world",)

    def __init__(self, world: World) -> None:
        self._world = world

    def reachable(self, terminal: str) -> bool:
        plan = self._world.plan_of(terminal)
        return plan is None or self._world.today() not in plan.outage_days

    def window_at(self, at: dt.datetime) -> HostWindow | None:
        day = day_of(at)
        if not self._world.in_maintenance(day):
            return None
        begins = START + dt.timedelta(days=day, hours=MAINTENANCE_HOURS[0])
        ends = START + dt.timedelta(days=day, hours=MAINTENANCE_HOURS[1])
        return HostWindow(WindowKind.MAINTENANCE, begins, ends) if begins <= at < ends else None


class _Operators:
    """Operator ``01`` of each terminal, with the password its plan holds (never stored)."""

    __slots__ = ("_world",)

    def __init__(self, world: World) -> None:
        self._world = world

    def verify(self, terminal: str, operator: str, password: str) -> posflow.ports.OperatorCheck:
        plan = self._world.plan_of(terminal)
        if plan is None or operator != "01":
            return posflow.ports.OperatorCheck.UNKNOWN_OPERATOR
        if hmac.compare_digest(str(password).encode(), plan.password.encode()):
            return posflow.ports.OperatorCheck.OK
        return posflow.ports.OperatorCheck.WRONG_PASSWORD


def natural_payload(world: World, terminal: posflow.Terminal, event: str) -> dict[str, Any]:
    """What the terminal's people would send with ``event`` now, with no mistake in it.

    ``posflow explain`` checks each event with this payload, so that a refusal it
    shows comes from the world (a missing document, a frozen account), not from a
    payload left empty.
    """
    plan = world.plan_of(terminal.id)
    if plan is None:
        return {}
    data = terminal.data
    payloads: dict[str, dict[str, Any]] = {
        "ship": {"model": data.get("model") or plan.model},
        "receive": {"sn": sn_for(plan.index, shipment_attempt(data))},
        "activate": {"install_address": f"{plan.index} Nanjing Road"},
        "sign_in": {"operator": "01", "password": plan.password, "software_version": "2.3.0"},
        "record_sale": {"amount": 1200},
        "sign_out": {"password": plan.password},
        "suspend": {"cause": plan.suspend_cause},
        "close": {
            "device_returned": plan.device_returned,
            "recovery_fee_charged": not plan.device_returned,
        },
    }
    return payloads.get(event, {})
