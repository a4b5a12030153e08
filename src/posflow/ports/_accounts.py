"""The settlement account port: the merchant's account, what it holds and what is owed."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import attrs

from posflow._mask import mask_value
from posflow.errors import InvalidInput
from posflow.ports._checks import as_count, as_enum, as_minor_units, as_text

__all__ = ["AccountStatus", "InMemorySettlementAccounts", "SettlementAccount", "SettlementAccounts"]


class AccountStatus(enum.StrEnum):
    """Whether money can move through a settlement account."""

    ACTIVE = "active"
    """Payouts go through."""
    FROZEN = "frozen"
    """Frozen by the bank or a court (账户冻结); nothing is paid out."""
    CLOSED = "closed"
    """Closed (账户已销户); a new account must be registered."""


def _merchant(value: object) -> str:
    return as_text(value, "account.merchant_id")


def _number(value: object) -> str:
    return as_text(value, "account.account_number")


def _status(value: object) -> AccountStatus:
    return as_enum(AccountStatus, value, "account.status")


def _balance(value: object) -> int:
    return as_minor_units(value, "account.balance", signed=True)


def _fees(value: object) -> int:
    return as_minor_units(value, "account.unpaid_fees")


def _complaints(value: object) -> int:
    return as_count(value, "account.open_complaints")


def _masked_number(value: str) -> str:
    return repr(mask_value("account_number", value))


@attrs.frozen(slots=True)
class SettlementAccount:
    """A merchant's settlement account as the settlement system sees it.

    Money is in integer minor units (fen).

    Attributes:
        merchant_id: the merchant it pays out to.
        account_number: the bank account number; masked in reprs and reasons.
        status: active, frozen or closed.
        balance: settled funds held for the merchant and not yet paid out; negative
            when the merchant owes the acquirer (refunds, chargebacks).
        open_complaints: complaints or disputes still open against the merchant.
        unpaid_fees: fees still owed (device recovery, penalties, service fees).
    """

    merchant_id: str = attrs.field(converter=_merchant)
    account_number: str = attrs.field(converter=_number, repr=_masked_number)
    status: AccountStatus = attrs.field(default=AccountStatus.ACTIVE, converter=_status)
    balance: int = attrs.field(default=0, converter=_balance)
    open_complaints: int = attrs.field(default=0, converter=_complaints)
    unpaid_fees: int = attrs.field(default=0, converter=_fees)


@runtime_checkable
class SettlementAccounts(Protocol):
    """The settlement system's view of merchants' accounts."""

    def account(self, merchant_id: str) -> SettlementAccount | None:
        """The settlement account of ``merchant_id``, or ``None`` when it has none."""
        ...


class InMemorySettlementAccounts:
    """Settlement accounts in a dict, for tests, simulations and small deployments.

    Args:
        accounts: the initial accounts.
    """

    __slots__ = ("_accounts",)

    def __init__(self, accounts: Iterable[SettlementAccount] = ()) -> None:
        self._accounts: dict[str, SettlementAccount] = {}
        self.add(*accounts)

    def account(self, merchant_id: str) -> SettlementAccount | None:
        """The settlement account of ``merchant_id``, if any."""
        return self._accounts.get(merchant_id)

    def add(self, *accounts: SettlementAccount) -> None:
        """Register ``accounts`` (one per merchant; a later one replaces an earlier one)."""
        for i, a in enumerate(accounts):
            if not isinstance(a, SettlementAccount):
                raise InvalidInput(
                    f"expected a SettlementAccount, got {type(a).__name__}", field=f"[{i}]"
                )
            self._accounts[a.merchant_id] = a

    def update(self, merchant_id: str, **changes: Any) -> SettlementAccount:
        """Change a merchant's account (status, balance, complaints, fees) and return it."""
        try:
            current = self._accounts[merchant_id]
        except KeyError:
            raise InvalidInput(
                f"merchant {merchant_id!r} has no account", field="merchant_id"
            ) from None
        try:
            updated = attrs.evolve(current, **changes)
        except TypeError as exc:
            raise InvalidInput(str(exc), field="account") from None
        self._accounts[merchant_id] = updated
        return updated

    def __repr__(self) -> str:
        return f"InMemorySettlementAccounts({len(self._accounts)} accounts)"
