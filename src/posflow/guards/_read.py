"""Reading terminal data, payloads and port answers for guards, strictly.

Guards see data that came from outside: an event payload, a terminal record a
service stored, the answer of a port someone else wrote. These helpers read it
with one rule: a value of the wrong shape raises
:class:`~posflow.errors.InvalidInput` naming the field (the engine turns it into
a ``guard.invalid_input`` reason), and a port answering with something that is
not what its protocol promises raises :class:`~posflow.errors.PortUnavailable`
naming the port. Nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from posflow.errors import InvalidInput, PortUnavailable
from posflow.policy import MerchantType, Policy
from posflow.ports import Document
from posflow.ports._checks import as_utc

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal

__all__ = [
    "documents_on_file",
    "given_text",
    "merchant_id",
    "merchant_of",
    "merchant_type",
    "optional_text",
    "payload_amount",
    "policy_of",
    "port_answer",
    "text_list",
    "timestamp",
    "whole",
    "yuan",
]

T = TypeVar("T")
_EMPTY: Final[Mapping[str, Any]] = {}
_MERCHANT_TYPES: Final[Mapping[str, MerchantType]] = MappingProxyType(
    {m.value: m for m in MerchantType}
)
_PLAIN_MAPPINGS: Final = frozenset({dict, MappingProxyType})
"""Mapping types read without the ``isinstance`` check against the ABC (the common case)."""


def policy_of(ctx: Context) -> Policy:
    """The context's policy (a context always carries a validated one)."""
    policy = ctx.policy
    if not isinstance(policy, Policy):
        raise InvalidInput(f"must be a posflow Policy, got {type(policy).__name__}", field="policy")
    return policy


def mapping(value: object, field: str) -> Mapping[str, Any]:
    """``value`` as a mapping (``None`` reads as empty)."""
    if value.__class__ in _PLAIN_MAPPINGS:  # most values: skip the ABC check
        return value
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise InvalidInput(f"must be a mapping, got {type(value).__name__}", field=field)
    return value


def mapping_answer(port: str, value: object) -> Mapping[str, Any]:
    """A port's answer that must be a mapping."""
    if value.__class__ in _PLAIN_MAPPINGS or isinstance(value, Mapping):
        return value
    raise PortUnavailable(port, f"answered with {type(value).__name__}, not a mapping")


def merchant_of(terminal: Terminal, ctx: Context) -> Mapping[str, Any]:
    """The merchant record for a decision.

    The payload's ``merchant`` over the terminal's ``data["merchant"]``, over the record
    on file (``ctx.ports.merchants``) under the terminal's merchant id.
    """
    # most guards read the merchant, some twice: mapping() and mapping_answer() are
    # inlined for plain dicts (the usual values), and called for anything else
    stored = terminal.data.get("merchant")
    if stored.__class__ not in _PLAIN_MAPPINGS:
        stored = mapping(stored, "data.merchant")
    key = stored.get("id")
    if key.__class__ is str:
        on_file = ctx.ports.merchants.merchant(key)
        if on_file is not None:
            # no memo across calls: posflow keeps no global mutable state (docs/design.md)
            if on_file.__class__ not in _PLAIN_MAPPINGS:
                on_file = mapping_answer("merchants", on_file)
            if len(stored) == 1 and on_file.get("id") == key:
                stored = on_file  # the terminal keeps only the id the record has: nothing to merge
            else:
                stored = {**on_file, **stored}
    given = ctx.payload.get("merchant")
    if given is None:  # most decisions: the payload does not touch the merchant
        return stored
    given = mapping(given, "payload.merchant")
    return {**stored, **given} if given else stored


def optional_text(source: Mapping[str, Any], key: str, field: str) -> str | None:
    """A string value that may be absent (``None`` or blank read as absent)."""
    value = source.get(key)
    if value is None:
        return None
    if value.__class__ is str:  # most values: one strip, no ABC checks
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"must be a string, got {type(value).__name__}", field=field)
    text = str(value).strip()
    return text or None


def given_text(ctx: Context, terminal: Terminal, key: str) -> str | None:
    """``payload[key]`` as :func:`optional_text` reads it, else ``data[key]``; ``None`` if neither.

    One call for what a guard asks of many events (the SN, the operator, the install
    address), with optional_text's common case (a plain ``str``) inlined for each.
    """
    value = ctx.payload.get(key)
    if value.__class__ is str:
        value = value.strip()
        if value:
            return value
    elif value is not None:
        value = optional_text(ctx.payload, key, f"payload.{key}")  # other types, or refused
        if value:
            return value
    value = terminal.data.get(key)
    if value.__class__ is str:
        return value.strip() or None
    return optional_text(terminal.data, key, f"data.{key}")


def merchant_id(merchant: Mapping[str, Any]) -> str:
    """The merchant's id, which every port lookup is keyed by."""
    found = merchant.get("id")
    if found.__class__ is str:  # optional_text's common case, inlined
        found = found.strip()
        if found:
            return found
        found = None
    else:
        found = optional_text(merchant, "id", "data.merchant.id")
    if found is None:
        raise InvalidInput(
            "is missing; ports are looked up by merchant id", field="data.merchant.id"
        )
    return found


def merchant_type(merchant: Mapping[str, Any]) -> MerchantType:
    """The merchant's type; ``enterprise`` (the strictest) when not given."""
    value = merchant.get("type")
    if value is None:
        return MerchantType.ENTERPRISE
    if value.__class__ is str:  # the usual case: a plain lookup, no enum call
        found = _MERCHANT_TYPES.get(value)
        if found is not None:
            return found
    try:
        return MerchantType(value)
    except ValueError:
        allowed = ", ".join(m.value for m in MerchantType)
        raise InvalidInput(
            f"{value!r} is not one of: {allowed}", field="data.merchant.type"
        ) from None


def text_list(value: object, field: str) -> tuple[str, ...]:
    """A list of names (a single string counts as one name)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InvalidInput(f"must be a list of names, got {type(value).__name__}", field=field)
    out = []
    for item in value:
        if not isinstance(item, str):
            raise InvalidInput(f"must hold names, got {type(item).__name__}", field=field)
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def payload_amount(ctx: Context, key: str = "amount") -> int:
    """A positive amount of money from the payload, in integer minor units (fen)."""
    value = ctx.payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"must be an integer amount in minor units (fen), got {type(value).__name__}",
            field=f"payload.{key}",
        )
    if value <= 0:
        raise InvalidInput("must be positive", field=f"payload.{key}")
    return value


def whole(value: object, field: str, *, signed: bool = False) -> int:
    """An integer (a count or an amount in fen); ``None`` reads as 0."""
    if value is None:
        return 0
    if value.__class__ is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(f"must be an integer, got {type(value).__name__}", field=field)
    if value < 0 and not signed:
        raise InvalidInput("must not be negative", field=field)
    return value


def yuan(fen: int) -> str:
    """An amount in fen written in yuan for messages: ``123456`` -> ``"1,234.56"``."""
    return f"{decimal.Decimal(fen).scaleb(-2):,.2f}"


def timestamp(value: object, field: str) -> dt.datetime | None:
    """A stored ISO 8601 time (or datetime) as an aware datetime; ``None`` when absent."""
    if value is None:
        return None
    return as_utc(value, field)


def port_answer(port: str, value: object, kind: type[T], *, optional: bool = True) -> T | None:
    """Check that a port answered with a ``kind`` (or ``None`` when allowed)."""
    if value.__class__ is kind:  # the usual answer: no subclass check needed
        return value
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise PortUnavailable(port, f"answered with {type(value).__name__}, not {kind.__name__}")
    return value


def documents_on_file(ctx: Context, merchant: str) -> tuple[Document, ...]:
    """The merchant's documents from the vault, each checked to be a :class:`Document`."""
    docs = ctx.ports.documents.documents(merchant)
    try:
        found = tuple(docs)
    except Exception as exc:
        raise PortUnavailable(
            "documents", f"answer could not be read: {type(exc).__name__}"
        ) from exc
    for d in found:
        if d.__class__ is not Document:  # port_answer's common case, without the call
            port_answer("documents", d, Document, optional=False)
    return found
