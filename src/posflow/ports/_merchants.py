"""The merchant file port: the acquirer's master record of each merchant (商户主档).

A terminal's ``data["merchant"]`` may hold the whole merchant record, or only the
merchant's ``id`` (and whatever the terminal's own history changed): the guards
read the record on file under that id, with the terminal's own keys over it. A
fleet of terminals then does not carry (and a store does not encode and decode)
a copy of each merchant's application with every event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from posflow.errors import InvalidInput
from posflow.ports._checks import as_text

__all__ = ["InMemoryMerchantFile", "MerchantFile"]


@runtime_checkable
class MerchantFile(Protocol):
    """The merchant records on file, by merchant id."""

    def merchant(self, merchant_id: str) -> Mapping[str, Any] | None:
        """The record of ``merchant_id`` (the keys of ``data["merchant"]``), or ``None``."""
        ...


class InMemoryMerchantFile:
    """Merchant records in a dict (empty by default: terminals then carry the whole record).

    Args:
        records: merchant records, each with its ``id``.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()) -> None:
        self._records: dict[str, Mapping[str, Any]] = {}
        for record in records:
            self.add(record)

    def add(self, record: Mapping[str, Any]) -> None:
        """File ``record`` (a copy) under its ``id``, replacing any record filed there."""
        if not isinstance(record, Mapping):
            raise InvalidInput(f"must be a mapping, got {type(record).__name__}", field="merchant")
        key = as_text(record.get("id"), "merchant.id")
        self._records[key] = MappingProxyType(dict(record))

    def merchant(self, merchant_id: str) -> Mapping[str, Any] | None:
        """The record filed under ``merchant_id``, or ``None``."""
        return self._records.get(merchant_id)

    def __len__(self) -> int:
        return len(self._records)

    def __getstate__(self) -> dict[str, Any]:
        # the records' read-only views cannot be pickled: plain copies go, filed again on load
        state = dict(self.__dict__)
        state["_records"] = {key: dict(record) for key, record in self._records.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        records = state["_records"]
        self.__dict__.update(state)
        self._records = {key: MappingProxyType(record) for key, record in records.items()}

    def __repr__(self) -> str:
        return f"InMemoryMerchantFile({len(self._records)} records)"
