"""The document vault port: which documents a merchant has on file, and until when."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

import attrs

from posflow.errors import InvalidInput
from posflow.ports._checks import as_count, as_date, as_enum, as_text

__all__ = ["Document", "DocumentKind", "DocumentVault", "InMemoryDocumentVault"]


class DocumentKind(enum.StrEnum):
    """The kinds of document posflow's rules know about (资料种类)."""

    BUSINESS_LICENCE = "business_licence"
    """营业执照; not needed from a micro-merchant (小微商户) who has none."""
    ID_CARD_FRONT = "id_card_front"
    """The legal representative's ID card, portrait side (法人身份证人像面)."""
    ID_CARD_BACK = "id_card_back"
    """The legal representative's ID card, emblem side (法人身份证国徽面)."""
    SETTLEMENT_ACCOUNT = "settlement_account"
    """Proof of the settlement bank account (结算账户证明), such as a bank card copy."""
    TAX_REGISTRATION = "tax_registration"
    """税务登记证; a reapplication may ask for it."""
    ORGANISATION_CODE = "organisation_code"
    """组织机构代码证; a reapplication may ask for it."""
    STOREFRONT_PHOTO = "storefront_photo"
    """门头照, the usual proof of the business premises."""
    LEASE_CONTRACT = "lease_contract"
    """租赁合同, a substitute for the storefront photo."""
    UTILITY_BILLS = "utility_bills"
    """水电费票据 for a recent consecutive period, a substitute for the storefront photo."""
    BANK_STATEMENT = "bank_statement"
    """银行流水 showing trade at the address, a substitute for the storefront photo."""
    CASHIER_PHOTO = "cashier_photo"
    """收银台照, a common extra requirement at activation."""
    INTERIOR_PHOTO = "interior_photo"
    """内景照, a common extra requirement at activation."""
    CLOSE_REQUEST = "close_request"
    """注销申请表, the merchant's request to close."""
    SERVICE_CONTRACT = "service_contract"
    """The acquiring service contract (服务协议), needed to close."""


def _kind(value: object) -> DocumentKind:
    return as_enum(DocumentKind, value, "document.kind")


def _issued(value: object) -> dt.date | None:
    return as_date(value, "document.issued")


def _expires(value: object) -> dt.date | None:
    return as_date(value, "document.expires")


def _months(value: object) -> int | None:
    return None if value is None else as_count(value, "document.months")


@attrs.frozen(slots=True)
class Document:
    """One document on file for a merchant.

    Dates are what make a document count: one that has expired, or whose issue
    date is still to come, is treated by the guards as not on file.

    Attributes:
        kind: what the document is.
        issued: the issue date (for bills and statements, the end of the period covered).
        expires: the last day the document is valid; ``None`` when it does not expire.
        months: for utility bills and bank statements, how many consecutive months they cover.

    Raises:
        InvalidInput: naming the field, for an unknown kind, a value that is not a
            date, or an expiry before the issue date.
    """

    kind: DocumentKind = attrs.field(converter=_kind)
    issued: dt.date | None = attrs.field(default=None, converter=_issued)
    expires: dt.date | None = attrs.field(default=None, converter=_expires)
    months: int | None = attrs.field(default=None, converter=_months)

    def __attrs_post_init__(self) -> None:
        if self.issued and self.expires and self.expires < self.issued:
            raise InvalidInput("must not be before the issue date", field="document.expires")

    def valid_on(self, day: dt.date) -> bool:
        """Whether the document counts on ``day``: already issued and not yet expired."""
        if self.issued is not None and self.issued > day:
            return False
        return self.expires is None or day <= self.expires

    def expired_on(self, day: dt.date) -> bool:
        """Whether the document's validity ended before ``day``."""
        return self.expires is not None and self.expires < day


@runtime_checkable
class DocumentVault(Protocol):
    """Where a merchant's documents are kept: the onboarding system's document store."""

    def documents(self, merchant_id: str) -> Iterable[Document]:
        """Every document on file for ``merchant_id``, valid or not (empty when none)."""
        ...


class InMemoryDocumentVault:
    """A document vault in a dict, for tests, simulations and small deployments.

    Args:
        documents: initial documents per merchant id.
    """

    __slots__ = ("_docs",)

    def __init__(self, documents: Mapping[str, Iterable[Document]] | None = None) -> None:
        self._docs: dict[str, list[Document]] = {}
        for merchant_id, docs in (documents or {}).items():
            self.add(merchant_id, *docs)

    def documents(self, merchant_id: str) -> tuple[Document, ...]:
        """Every document on file for ``merchant_id``."""
        return tuple(self._docs.get(merchant_id, ()))

    def add(self, merchant_id: str, *documents: Document) -> None:
        """File ``documents`` for ``merchant_id``; earlier documents of the same kind stay.

        Raises:
            InvalidInput: when an item is not a :class:`Document`.
        """
        key = as_text(merchant_id, "merchant_id")
        for i, doc in enumerate(documents):
            if not isinstance(doc, Document):
                raise InvalidInput(f"expected a Document, got {type(doc).__name__}", field=f"[{i}]")
        self._docs.setdefault(key, []).extend(documents)

    def remove(self, merchant_id: str, kind: DocumentKind | str) -> int:
        """Withdraw every document of ``kind`` for ``merchant_id``; return how many went."""
        wanted = _kind(kind)
        docs = self._docs.get(merchant_id, [])
        kept = [d for d in docs if d.kind is not wanted]
        self._docs[merchant_id] = kept
        return len(docs) - len(kept)

    def __repr__(self) -> str:
        return f"InMemoryDocumentVault({sum(map(len, self._docs.values()))} documents)"
