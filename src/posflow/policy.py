"""Policy as data: the acquirer's rules, validated by pydantic.

The guards read every threshold from a :class:`Policy`: limits, cooling-off,
accepted substitutes, minimum versions, contract terms and required documents.
Every field has a documented default; an acquirer overrides what differs, in
code or in a YAML, JSON or TOML file::

    >>> from posflow.policy import Policy
    >>> Policy.from_dict({"cooling_off_days": 30}).cooling_off_days
    30

A document that does not validate raises :class:`~posflow.errors.InvalidPolicy`
listing every problem, each naming its field. Money is integer minor units (fen).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import pydantic

from posflow._versions import parse_version
from posflow.errors import DefinitionProblem, InvalidDefinition, InvalidPolicy
from posflow.ports._documents import DocumentKind

__all__ = ["DocumentsByType", "Limits", "LimitsByType", "MerchantType", "Policy"]


class MerchantType(enum.StrEnum):
    """The kinds of merchant the rules tell apart (商户类型)."""

    ENTERPRISE = "enterprise"
    """A company (企业商户), with a business licence."""
    INDIVIDUAL = "individual"
    """An individual business (个体工商户), with a business licence."""
    MICRO = "micro"
    """An individual micro-merchant (小微商户), possibly without a licence; lower caps."""


Money = Annotated[int, pydantic.Field(ge=0, strict=True)]
"""An amount in integer minor units (fen); floats, strings and bools are refused."""
Count = Annotated[int, pydantic.Field(ge=0, strict=True)]
Days = Annotated[int, pydantic.Field(ge=0, le=36_500, strict=True)]
"""A period in whole days, at most a century (a longer one would overflow a date)."""
PositiveDays = Annotated[int, pydantic.Field(ge=1, le=36_500, strict=True)]
Months = Annotated[int, pydantic.Field(ge=1, le=1_200, strict=True)]
Positive = Annotated[int, pydantic.Field(ge=1, strict=True)]
Kinds = tuple[DocumentKind, ...]


def _version(value: str) -> str:
    try:
        parse_version(value, "version")
    except ValueError:
        raise ValueError(f"must be a dotted version such as 2.1.0, got {value!r}") from None
    return value


Version = Annotated[str, pydantic.AfterValidator(_version)]

_FROZEN: Final = pydantic.ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class _Validated(pydantic.BaseModel):
    """A policy model whose constructor raises ``InvalidPolicy``, as ``Policy.from_dict`` does."""

    model_config = _FROZEN

    if not TYPE_CHECKING:  # type checkers keep the fields' own signature

        def __init__(self, /, **data: Any) -> None:
            try:
                super().__init__(**data)
            except pydantic.ValidationError as exc:
                raise InvalidPolicy(_problems(exc)) from None

        # pydantic calls a model's own __init__ when it validates the model inside
        # another (and in model_validate), and would wrap InvalidPolicy, a ValueError,
        # into a problem of the outer field; marked as its base __init__ it does not,
        # so every problem keeps its full location (a test holds pydantic to it)
        __init__.__pydantic_base_init__ = True


class Limits(_Validated):
    """Amount limits for one merchant type (交易限额), in fen."""

    model_config = _FROZEN

    per_transaction: Money
    """The largest single sale."""
    daily: Money
    """The most the terminal may take in one calendar day (UTC)."""

    @pydantic.field_validator("daily")
    @classmethod
    def _daily_covers_one_sale(cls, daily: int, info: pydantic.ValidationInfo) -> int:
        per = info.data.get("per_transaction")
        if isinstance(per, int) and daily < per:
            raise ValueError(f"must be at least per_transaction ({per})")
        return daily


class LimitsByType(_Validated):
    """Limits per merchant type; micro-merchants have lower caps."""

    model_config = _FROZEN

    enterprise: Limits = Limits(per_transaction=5_000_000, daily=50_000_000)
    """50,000 yuan a sale, 500,000 yuan a day."""
    individual: Limits = Limits(per_transaction=2_000_000, daily=10_000_000)
    """20,000 yuan a sale, 100,000 yuan a day."""
    micro: Limits = Limits(per_transaction=100_000, daily=500_000)
    """1,000 yuan a sale, 5,000 yuan a day."""

    def of(self, merchant_type: MerchantType) -> Limits:
        """The limits for ``merchant_type``."""
        result: Limits = getattr(self, merchant_type.value)
        return result


_ID_BOTH_SIDES: Final = (DocumentKind.ID_CARD_FRONT, DocumentKind.ID_CARD_BACK)


class DocumentsByType(_Validated):
    """Which documents each merchant type must have on file for one step.

    The defaults are the review's: a business licence (except from a micro-merchant),
    the legal representative's ID on both sides and the settlement account.
    """

    model_config = _FROZEN

    enterprise: Kinds = (
        DocumentKind.BUSINESS_LICENCE,
        *_ID_BOTH_SIDES,
        DocumentKind.SETTLEMENT_ACCOUNT,
    )
    individual: Kinds = (
        DocumentKind.BUSINESS_LICENCE,
        *_ID_BOTH_SIDES,
        DocumentKind.SETTLEMENT_ACCOUNT,
    )
    micro: Kinds = (*_ID_BOTH_SIDES, DocumentKind.SETTLEMENT_ACCOUNT)

    def of(self, merchant_type: MerchantType) -> Kinds:
        """The documents ``merchant_type`` needs."""
        result: Kinds = getattr(self, merchant_type.value)
        return result


_NONE_BY_TYPE: Final = DocumentsByType(enterprise=(), individual=(), micro=())
_SUBSTITUTES: Final = frozenset(
    {DocumentKind.LEASE_CONTRACT, DocumentKind.UTILITY_BILLS, DocumentKind.BANK_STATEMENT}
)


class Policy(_Validated):
    """The rules an acquirer sets, as data. Immutable; every field has a default.

    Money is integer minor units (fen); periods are whole days.
    """

    model_config = _FROZEN

    limits: LimitsByType = LimitsByType()
    """Per-transaction and daily amount limits by merchant type."""
    review_documents: DocumentsByType = DocumentsByType()
    """Documents needed at review, by merchant type."""
    reapply_documents: DocumentsByType = _NONE_BY_TYPE
    """Documents a reapplication needs on top of the review's (for example
    ``tax_registration`` and ``organisation_code``); none by default."""
    activation_documents: Kinds = ()
    """Extra documents needed at activation, such as ``cashier_photo`` or ``interior_photo``."""
    closing_documents: Kinds = (
        DocumentKind.CLOSE_REQUEST,
        *_ID_BOTH_SIDES,
        DocumentKind.SERVICE_CONTRACT,
    )
    """Documents needed to ask for closure: the request form, ID, the service contract."""
    storefront_substitutes: frozenset[DocumentKind] = _SUBSTITUTES
    """Documents accepted in place of the storefront photo (门头照)."""
    substitutes_required: Positive = 1
    """How many different accepted substitutes stand in for the storefront photo."""
    utility_bill_months: Months = 3
    """Consecutive months utility bills (水电费票据) must cover to count."""
    substitute_max_age_days: PositiveDays = 180
    """How recent utility bills and bank statements must be (days since issue)."""
    cooling_off_days: Days = 90
    """Days after closure before the merchant may reapply."""
    min_firmware_version: Version = "1.0.0"
    """The oldest device firmware that may be shipped or activated."""
    min_software_version: Version = "1.0.0"
    """The oldest terminal software that may sign in or out."""
    required_certification: Annotated[str, pydantic.Field(min_length=1)] = "unionpay"
    """The certification that makes a model certified (银联认证)."""
    min_credit_score: int = pydantic.Field(default=600, strict=True)
    """The lowest credit or history score accepted at reapplication."""
    minimum_term_days: Days = 365
    """The contract's minimum term, counted from activation."""
    early_termination_penalty: Money = 50_000
    """The penalty (违约金) for closing within the minimum term (500 yuan)."""
    device_recovery_fee: Money = 30_000
    """The fee (设备回收费) charged when the device is not returned (300 yuan)."""
    suspension_causes: frozenset[str] = frozenset(
        {"cash_out", "fraud", "money_laundering", "relocation", "data_leakage"}
    )
    """The causes a suspension may give."""
    fraud_causes: frozenset[str] = frozenset({"cash_out", "fraud", "money_laundering"})
    """Suspension causes that bar reapplication."""
    served_regions: frozenset[str] | None = None
    """Regions the acquirer acquires in; ``None`` means every region."""
    micro_merchant_code_limit: Positive = 1
    """How many merchant codes one ID number may hold as a micro-merchant."""

    @pydantic.field_validator("storefront_substitutes")
    @classmethod
    def _photo_is_not_its_own_substitute(cls, kinds: frozenset[DocumentKind]) -> Any:
        if DocumentKind.STOREFRONT_PHOTO in kinds:
            raise ValueError("the storefront photo cannot be a substitute for itself")
        return kinds

    @pydantic.field_validator("substitutes_required")
    @classmethod
    def _enough_substitutes_exist(cls, needed: int, info: pydantic.ValidationInfo) -> int:
        kinds = info.data.get("storefront_substitutes")
        if kinds is not None and needed > len(kinds):
            raise ValueError(f"asks for {needed} substitutes but only {len(kinds)} are accepted")
        return needed

    @pydantic.field_validator("fraud_causes")
    @classmethod
    def _fraud_causes_are_causes(cls, causes: frozenset[str], info: pydantic.ValidationInfo) -> Any:
        known = info.data.get("suspension_causes")
        unknown = causes - known if known is not None else frozenset()
        if unknown:
            raise ValueError(f"not in suspension_causes: {', '.join(sorted(unknown))}")
        return causes

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, source: str | None = None) -> Policy:
        """Validate ``document`` into a policy.

        Raises:
            InvalidPolicy: listing every problem, each naming its field.
        """
        if not isinstance(document, Mapping):
            problem = DefinitionProblem(
                "policy", f"expected a mapping, got {type(document).__name__}", "malformed"
            )
            raise InvalidPolicy([problem], source=source)
        try:
            return cls.model_validate(dict(document))
        except pydantic.ValidationError as exc:
            raise InvalidPolicy(_problems(exc), source=source) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Load a policy from a YAML, JSON or TOML file (chosen by extension).

        Raises:
            InvalidPolicy: for a file that cannot be read or parsed, or does not validate.
        """
        from posflow._reading import read_document  # noqa: PLC0415 - shares the file reader

        try:
            document = read_document(Path(path))
        except InvalidDefinition as exc:
            raise InvalidPolicy(exc.problems, source=str(path)) from None
        return cls.from_dict(document, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """The policy as a JSON-ready document that :meth:`from_dict` reads back."""
        return self.model_dump(mode="json")


def _problems(exc: pydantic.ValidationError) -> list[DefinitionProblem]:
    found: dict[DefinitionProblem, None] = {}
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-")) or "policy"
        found[DefinitionProblem(where, e["msg"], e["type"])] = None
    return list(found)


@functools.cache
def default_policy() -> Policy:
    """The default policy, built once and shared (a policy is immutable)."""
    return Policy()
