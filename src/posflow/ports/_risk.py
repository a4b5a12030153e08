"""The risk registry port: blacklists, suspension history, scores, regions and quotas."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from posflow.errors import InvalidInput
from posflow.ports._checks import as_count, as_date, as_enum, as_text, as_texts

__all__ = [
    "BlacklistEntry",
    "InMemoryRiskRegistry",
    "RegionRule",
    "RiskRegistry",
    "Subject",
    "Suspension",
]


class Subject(enum.StrEnum):
    """Who a blacklist entry is about."""

    MERCHANT = "merchant"
    """A merchant, keyed by merchant id or unified social credit code."""
    LEGAL_REP = "legal_rep"
    """A legal representative, keyed by ID number."""


def _subject(value: object) -> Subject:
    return as_enum(Subject, value, "entry.subject")


def _key(value: object) -> str:
    return as_text(value, "entry.key")


def _listed_on(value: object) -> dt.date | None:
    return as_date(value, "entry.listed_on")


def _merchant(value: object) -> str:
    return as_text(value, "suspension.merchant_id")


def _cause(value: object) -> str:
    return as_text(value, "suspension.cause")


def _on(value: object) -> dt.date | None:
    return as_date(value, "suspension.on")


def _region(value: object) -> str:
    return as_text(value, "region")


def _models(values: Iterable[object] | None) -> frozenset[str]:
    return as_texts(values, "region.forbidden_models")


def _certs(values: Iterable[object] | None) -> frozenset[str]:
    return as_texts(values, "region.required_certifications")


@attrs.frozen(slots=True)
class BlacklistEntry:
    """An entry on the risk blacklist (风险信息/黑名单).

    Attributes:
        subject: a merchant or a legal representative.
        key: the merchant id or credit code, or the representative's ID number
            (never shown in clear: reasons mask it).
        reason: why it was listed, in the risk team's words.
        listed_on: when it was listed.
    """

    subject: Subject = attrs.field(converter=_subject)
    key: str = attrs.field(converter=_key, repr=False)
    reason: str = ""
    listed_on: dt.date | None = attrs.field(default=None, converter=_listed_on)


@attrs.frozen(slots=True)
class Suspension:
    """One past suspension of a merchant, with its cause.

    Attributes:
        merchant_id: the merchant suspended.
        cause: ``cash_out``, ``fraud``, ``money_laundering``, ``relocation``,
            ``data_leakage`` or the service's own cause name.
        on: when it happened.
    """

    merchant_id: str = attrs.field(converter=_merchant)
    cause: str = attrs.field(converter=_cause)
    on: dt.date | None = attrs.field(default=None, converter=_on)


@attrs.frozen(slots=True)
class RegionRule:
    """What a region allows; acquiring is local, and some regions are stricter.

    Attributes:
        region: the region code (for example an administrative division code).
        served: whether the acquirer may acquire there at all.
        forbidden_models: models that may not be used there.
        required_certifications: certifications a model needs there, beyond the usual one.
    """

    region: str = attrs.field(converter=_region)
    served: bool = True
    forbidden_models: frozenset[str] = attrs.field(default=frozenset(), converter=_models)
    required_certifications: frozenset[str] = attrs.field(default=frozenset(), converter=_certs)


@runtime_checkable
class RiskRegistry(Protocol):
    """The risk team's records: who is listed, what happened, how they score."""

    def blacklist_entry(self, subject: Subject, key: str) -> BlacklistEntry | None:
        """The entry listing ``key`` as ``subject``, or ``None`` when it is not listed."""
        ...

    def suspensions(self, merchant_id: str) -> Sequence[Suspension]:
        """Every past suspension of ``merchant_id``, oldest first."""
        ...

    def score(self, merchant_id: str) -> int | None:
        """The merchant's credit or history score, or ``None`` when it has none."""
        ...

    def region_rule(self, region: str) -> RegionRule | None:
        """The rule for ``region``, or ``None`` when the region has no special rule."""
        ...

    def merchant_codes_held(self, id_number: str) -> int:
        """How many merchant codes the holder of ``id_number`` already has (小微商户限额)."""
        ...


class InMemoryRiskRegistry:
    """A risk registry in dicts, for tests, simulations and small deployments.

    Args:
        entries: blacklist entries.
        suspensions: past suspensions.
        scores: scores by merchant id.
        regions: regional rules.
        merchant_codes: merchant codes held, by ID number.
    """

    __slots__ = ("_codes", "_entries", "_regions", "_scores", "_suspensions")

    def __init__(
        self,
        *,
        entries: Iterable[BlacklistEntry] = (),
        suspensions: Iterable[Suspension] = (),
        scores: dict[str, int] | None = None,
        regions: Iterable[RegionRule] = (),
        merchant_codes: dict[str, int] | None = None,
    ) -> None:
        self._entries: dict[tuple[Subject, str], BlacklistEntry] = {}
        self._suspensions: dict[str, list[Suspension]] = {}
        self._scores: dict[str, int] = {}
        self._regions: dict[str, RegionRule] = {}
        self._codes: dict[str, int] = {}
        if entries or suspensions or scores or regions or merchant_codes:
            self.blacklist(*entries)
            self.record_suspension(*suspensions)
            for merchant_id, value in (scores or {}).items():
                self.set_score(merchant_id, value)
            self.set_region(*regions)
            for id_number, held in (merchant_codes or {}).items():
                self.set_merchant_codes(id_number, held)

    # -- the port ---------------------------------------------------------------

    def blacklist_entry(self, subject: Subject, key: str) -> BlacklistEntry | None:
        """The entry listing ``key`` as ``subject``, if any."""
        return self._entries.get((Subject(subject), key))

    def suspensions(self, merchant_id: str) -> tuple[Suspension, ...]:
        """Every past suspension of ``merchant_id``."""
        return tuple(self._suspensions.get(merchant_id, ()))

    def score(self, merchant_id: str) -> int | None:
        """The merchant's score, if it has one."""
        return self._scores.get(merchant_id)

    def region_rule(self, region: str) -> RegionRule | None:
        """The rule for ``region``, if it has one."""
        return self._regions.get(region)

    def merchant_codes_held(self, id_number: str) -> int:
        """How many merchant codes ``id_number`` holds (0 when unknown)."""
        return self._codes.get(id_number, 0)

    # -- setting it up ----------------------------------------------------------

    def blacklist(self, *entries: BlacklistEntry) -> None:
        """List ``entries`` (an entry for the same subject and key is replaced)."""
        for i, e in enumerate(entries):
            if not isinstance(e, BlacklistEntry):
                raise InvalidInput(
                    f"expected a BlacklistEntry, got {type(e).__name__}", field=f"[{i}]"
                )
            self._entries[e.subject, e.key] = e

    def delist(self, subject: Subject | str, key: str) -> None:
        """Remove the entry for ``key`` as ``subject``, if there is one."""
        self._entries.pop((_subject(subject), key), None)

    def record_suspension(self, *suspensions: Suspension) -> None:
        """Add ``suspensions`` to the merchants' histories."""
        for i, s in enumerate(suspensions):
            if not isinstance(s, Suspension):
                raise InvalidInput(f"expected a Suspension, got {type(s).__name__}", field=f"[{i}]")
            self._suspensions.setdefault(s.merchant_id, []).append(s)

    def set_score(self, merchant_id: str, score: int | None) -> None:
        """Set (or with ``None`` clear) a merchant's score."""
        key = as_text(merchant_id, "merchant_id")
        if score is None:
            self._scores.pop(key, None)
        else:
            if isinstance(score, bool) or not isinstance(score, int):
                raise InvalidInput("must be an integer", field="score")
            self._scores[key] = score

    def set_region(self, *rules: RegionRule) -> None:
        """Add or replace regional rules."""
        for i, r in enumerate(rules):
            if not isinstance(r, RegionRule):
                raise InvalidInput(f"expected a RegionRule, got {type(r).__name__}", field=f"[{i}]")
            self._regions[r.region] = r

    def set_merchant_codes(self, id_number: str, held: int) -> None:
        """Record how many merchant codes the holder of ``id_number`` has."""
        self._codes[as_text(id_number, "id_number")] = as_count(held, "merchant_codes")

    def __repr__(self) -> str:
        return (
            f"InMemoryRiskRegistry({len(self._entries)} listed, "
            f"{sum(map(len, self._suspensions.values()))} suspensions)"
        )
