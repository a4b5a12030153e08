"""The simulated world's ports: merchants' files, warehouse, risk desk, banks, host, operators.

Each class answers one port of :class:`~posflow.ports.Ports` from the run's plans
and the simulated clock (see :mod:`posflow.cli._world`); none of them changes as the
simulation runs. They are posflow's own code, so the engine calls them unshielded
(``_posflow_trusted``).
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import posflow
from posflow.cli._plan import (
    MAINTENANCE_HOURS,
    MODELS,
    START,
    STRICT_REGION,
    UNSERVED_REGION,
    account_number,
    day_of,
    terminal_id,
    terminal_index,
)
from posflow.ports import (
    AccountStatus,
    BlacklistEntry,
    Device,
    DeviceLocation,
    DeviceModel,
    Document,
    DocumentKind,
    HostWindow,
    RegionRule,
    SettlementAccount,
    Subject,
    Suspension,
    WindowKind,
)

if TYPE_CHECKING:
    from posflow.cli._world import World

__all__ = [
    "_Accounts",
    "_Documents",
    "_Host",
    "_Inventory",
    "_Merchants",
    "_Operators",
    "_Risk",
]


class _Documents:
    """Each merchant's file: current documents, some arriving on a later day, some expired.

    Documents are immutable values, so the few distinct ones are made once and shared,
    and each merchant's file (which depends on its plan alone) is put together once.
    """

    __slots__ = ("_files", "_made", "_world")
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

    def __init__(self, world: World) -> None:
        self._world = world
        self._made: dict[tuple[DocumentKind, int, int | None], Document] = {}
        self._files: dict[str, tuple[Document, ...]] = {}

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
        found = self._files.get(merchant)
        if found is None:
            found = self._files[merchant] = self._file(merchant)
        return found

    def _file(self, merchant: str) -> tuple[Document, ...]:
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
    """The warehouse's records of the world's devices.

    A device record depends on its SN (its terminal's plan and the shipment's number)
    alone, so each one is made once, when first asked about, and kept for the run
    (a terminal meets one to three devices in its life).
    """

    __slots__ = ("_made", "_world")
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

    def __init__(self, world: World) -> None:
        self._world = world
        self._made: dict[str, Device] = {}

    def model(self, name: str) -> DeviceModel | None:
        return MODELS.get(name)

    def device(self, sn: str) -> Device | None:
        found = self._made.get(sn)
        if found is None:
            found = self._device(sn)
            if found is not None:  # strangers are not remembered: nothing to save on them
                self._made[sn] = found
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
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

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
        listed = self._world.plan(index).blacklisted
        if listed is not None and listed == subject.value:  # .value (slow) for the listed only
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
    """Each merchant's settlement account; the value made last is kept while it still holds."""

    __slots__ = ("_made", "_world")
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

    def __init__(self, world: World) -> None:
        self._world = world
        self._made: dict[str, SettlementAccount] = {}

    def account(self, merchant: str) -> SettlementAccount | None:
        plan = self._world.plan_of(merchant)
        if plan is None:
            return None
        today = self._world.today()
        status = AccountStatus.ACTIVE
        if plan.frozen_from is not None and plan.frozen_from <= today < plan.frozen_until:
            status = AccountStatus.FROZEN
        complaints = 1 if plan.close_day is not None and today < plan.complaints_until else 0
        found = self._made.get(merchant)
        if found is None or found.status is not status or found.open_complaints != complaints:
            found = self._made[merchant] = SettlementAccount(
                merchant, account_number(plan.index), status=status, open_complaints=complaints
            )
        return found


class _Host:
    __slots__ = ("_world",)
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

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


class _Merchants:
    """The merchant file: each merchant's application, as its plan has it.

    Terminals carry only their merchant's id in ``data["merchant"]`` (and what the
    merchant resubmitted); the guards read the rest from here. A record depends on
    the merchant's plan alone, so each one is made once, when first asked about,
    and kept for the run: guards ask for it several times in most events, and each
    terminal's events come back round by round.
    """

    __slots__ = ("_made", "_world")
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

    def __init__(self, world: World) -> None:
        self._world = world
        self._made: dict[str, Mapping[str, Any]] = {}

    def merchant(self, merchant_id: str) -> Mapping[str, Any] | None:
        found = self._made.get(merchant_id)
        if found is None:
            plan = self._world.plan_of(merchant_id) if merchant_id.startswith("M") else None
            if plan is None:
                return None  # strangers are not remembered: nothing to save on them
            found = self._made[merchant_id] = plan.merchant
        return found


class _Operators:
    """Operator ``01`` of each terminal, with the password its plan holds (never stored)."""

    __slots__ = ("_world",)
    _posflow_trusted: ClassVar[bool] = True  # posflow's own code: no shield around it

    def __init__(self, world: World) -> None:
        self._world = world

    def verify(self, terminal: str, operator: str, password: str) -> posflow.ports.OperatorCheck:
        plan = self._world.plan_of(terminal)
        if plan is None or operator != "01":
            return posflow.ports.OperatorCheck.UNKNOWN_OPERATOR
        if hmac.compare_digest(str(password).encode(), plan.password.encode()):
            return posflow.ports.OperatorCheck.OK
        return posflow.ports.OperatorCheck.WRONG_PASSWORD
