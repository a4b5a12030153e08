"""Ports: the outside systems guards consult, as ``typing.Protocol`` classes.

Guards never call a database or a network service directly. They ask a port,
and the embedding service plugs in an implementation backed by its own systems:

============  ==========================  ===============================
port          protocol                    in-memory reference
============  ==========================  ===============================
documents     :class:`DocumentVault`      :class:`InMemoryDocumentVault`
inventory     :class:`Inventory`          :class:`InMemoryInventory`
risk          :class:`RiskRegistry`       :class:`InMemoryRiskRegistry`
accounts      :class:`SettlementAccounts` :class:`InMemorySettlementAccounts`
host          :class:`HostLink`           :class:`InMemoryHostLink`
operators     :class:`OperatorDirectory`  :class:`InMemoryOperatorDirectory`
merchants     :class:`MerchantFile`       :class:`InMemoryMerchantFile`
(time)        :class:`Clock`              :class:`FrozenClock`, :class:`SystemClock`
============  ==========================  ===============================

:class:`Ports` carries them into a :class:`~posflow.Context`. A port that fails
(raises anything, or times out) never crashes a decision: the guard refuses with a
retryable ``port.unavailable`` reason naming the port.
"""

from __future__ import annotations

from posflow.ports._accounts import (
    AccountStatus,
    InMemorySettlementAccounts,
    SettlementAccount,
    SettlementAccounts,
)
from posflow.ports._clock import Clock, FrozenClock, SystemClock
from posflow.ports._container import PORT_NAMES, Ports, unshielded
from posflow.ports._documents import Document, DocumentKind, DocumentVault, InMemoryDocumentVault
from posflow.ports._host import HostLink, HostWindow, InMemoryHostLink, WindowKind
from posflow.ports._inventory import (
    Capability,
    Device,
    DeviceLocation,
    DeviceModel,
    InMemoryInventory,
    Inventory,
)
from posflow.ports._merchants import InMemoryMerchantFile, MerchantFile
from posflow.ports._operators import InMemoryOperatorDirectory, OperatorCheck, OperatorDirectory
from posflow.ports._risk import (
    BlacklistEntry,
    InMemoryRiskRegistry,
    RegionRule,
    RiskRegistry,
    Subject,
    Suspension,
)

__all__ = [
    "PORT_NAMES",
    "AccountStatus",
    "BlacklistEntry",
    "Capability",
    "Clock",
    "Device",
    "DeviceLocation",
    "DeviceModel",
    "Document",
    "DocumentKind",
    "DocumentVault",
    "FrozenClock",
    "HostLink",
    "HostWindow",
    "InMemoryDocumentVault",
    "InMemoryHostLink",
    "InMemoryInventory",
    "InMemoryMerchantFile",
    "InMemoryOperatorDirectory",
    "InMemoryRiskRegistry",
    "InMemorySettlementAccounts",
    "Inventory",
    "MerchantFile",
    "OperatorCheck",
    "OperatorDirectory",
    "Ports",
    "RegionRule",
    "RiskRegistry",
    "SettlementAccount",
    "SettlementAccounts",
    "Subject",
    "Suspension",
    "SystemClock",
    "WindowKind",
    "unshielded",
]
