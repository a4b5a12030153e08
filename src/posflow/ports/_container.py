"""The :class:`Ports` container, and the shield that names a port when it fails."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from posflow.errors import PortUnavailable
from posflow.ports._accounts import InMemorySettlementAccounts, SettlementAccounts
from posflow.ports._documents import DocumentVault, InMemoryDocumentVault
from posflow.ports._host import HostLink, InMemoryHostLink
from posflow.ports._inventory import InMemoryInventory, Inventory
from posflow.ports._merchants import InMemoryMerchantFile, MerchantFile
from posflow.ports._operators import InMemoryOperatorDirectory, OperatorDirectory
from posflow.ports._risk import InMemoryRiskRegistry, RiskRegistry

__all__ = ["PORT_NAMES", "Ports", "picklable", "shield", "unshielded"]

PORT_NAMES: Final = (
    "documents",
    "inventory",
    "risk",
    "accounts",
    "host",
    "operators",
    "merchants",
)
"""The ports posflow's own guards consult, by the name reasons report."""

_TRUSTED: Final[frozenset[type]] = frozenset(
    {
        InMemoryDocumentVault,
        InMemoryInventory,
        InMemoryRiskRegistry,
        InMemorySettlementAccounts,
        InMemoryHostLink,
        InMemoryOperatorDirectory,
        InMemoryMerchantFile,
    }
)

_TRUST_MARK: Final = "_posflow_trusted"
"""A class attribute by which posflow's own code marks a port class as not needing the shield.

Read from the class's own namespace, so that a subclass (which may override any
method) is shielded again, like a subclass of an in-memory port.
"""


def _trusted(port: object) -> bool:
    """Whether ``port`` is one of posflow's own, whose failures are bugs to surface as they are."""
    kind = type(port)
    return kind in _TRUSTED or kind.__dict__.get(_TRUST_MARK) is True


def _calling(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except PortUnavailable:
            raise
        except Exception as exc:
            raise PortUnavailable(name, type(exc).__name__) from exc

    return call


class _Shielded:
    """Stands in for a user's port: any exception its methods raise becomes ``PortUnavailable``.

    Methods are wrapped on first use and the wrapper kept, so a call costs one
    extra Python frame. Attribute writes go through to the port.
    """

    def __init__(self, name: str, port: object) -> None:
        object.__setattr__(self, "_posflow_name", name)
        object.__setattr__(self, "_posflow_port", port)

    def __getattr__(self, attr: str) -> Any:
        name: str = object.__getattribute__(self, "_posflow_name")
        port = object.__getattribute__(self, "_posflow_port")
        try:
            value = getattr(port, attr)
        except AttributeError:
            raise
        except Exception as exc:
            raise PortUnavailable(name, type(exc).__name__) from exc
        if callable(value) and not attr.startswith("__"):
            wrapped = _calling(name, value)
            object.__setattr__(self, attr, wrapped)
            return wrapped
        return value

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_posflow_port"), attr, value)
        self.__dict__.pop(attr, None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        port = object.__getattribute__(self, "_posflow_port")
        return _calling(object.__getattribute__(self, "_posflow_name"), port)(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_posflow_port"))


def shield(name: str, port: Any) -> Any:
    """Wrap ``port`` so that a failure in it is reported as ``PortUnavailable(name)``.

    posflow's own ports are trusted and returned as they are: the in-memory ones
    and the simulated world's (their subclasses are wrapped), as are values that
    are not objects with methods.
    """
    if _trusted(port) or isinstance(port, _Shielded):
        return port
    if port is None or isinstance(port, str | bytes | int | float | bool | Mapping):
        return port
    return _Shielded(name, port)


def unshielded(port: Any) -> Any:
    """The object a shielded port stands in for (``port`` itself when it is not shielded)."""
    if isinstance(port, _Shielded):
        return object.__getattribute__(port, "_posflow_port")
    return port


def picklable(label: str, value: Any) -> Any:
    """``value`` itself, once it proved it pickles; else a ``PicklingError`` naming ``label``.

    For the caller's own ports and clock, about to be pickled with a context:
    pickle's own error names only the innermost object that refused (``cannot
    pickle '_thread.lock' object``), not the port holding it. The value is
    pickled once here to find out, and then again as part of the whole, which
    keeps the objects it shares with the rest of the context shared in the copy.
    posflow's own ports and clocks always pickle and are not checked.
    """
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise pickle.PicklingError(
            f"{label} ({type(value).__qualname__}) cannot be pickled: "
            f"{type(exc).__name__}: {exc}. Pickle a context only with ports and a clock "
            "that pickle, or give the other process ports of its own"
        ) from exc
    return value


_NO_EXTRA: Final[Mapping[str, Any]] = MappingProxyType({})


def _extra(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not value:
        return _NO_EXTRA
    return MappingProxyType({str(k): shield(str(k), v) for k, v in (value or {}).items()})


@attrs.frozen(slots=True, kw_only=True)
class Ports:
    """The outside systems a context lets guards consult.

    Each port defaults to an empty in-memory implementation; a service passes its
    own (anything with the methods of the port's ``Protocol``). Ports other than
    posflow's in-memory ones are shielded: if one raises, whatever the exception,
    the guard that called it refuses with a retryable ``port.unavailable`` reason
    that names the port, and nothing is changed.

    Ports pickle (with a context, say) when each port does; posflow's in-memory
    ones always do. One that cannot raises :class:`pickle.PicklingError` naming
    it; the copy shields the caller's ports again.

    Attributes:
        documents: the document vault (:class:`DocumentVault`).
        inventory: models, serial numbers and the warehouse (:class:`Inventory`).
        risk: blacklists, suspensions, scores, regions, quotas (:class:`RiskRegistry`).
        accounts: settlement accounts (:class:`SettlementAccounts`).
        host: the acquirer's host (:class:`HostLink`).
        operators: operators and their credentials (:class:`OperatorDirectory`).
        merchants: the merchant records on file (:class:`MerchantFile`), read under the
            terminal's ``data["merchant"]``; empty by default.
        extra: the service's own ports, by name, for its own guards.
    """

    documents: DocumentVault = attrs.field(factory=InMemoryDocumentVault)
    inventory: Inventory = attrs.field(factory=InMemoryInventory)
    risk: RiskRegistry = attrs.field(factory=InMemoryRiskRegistry)
    accounts: SettlementAccounts = attrs.field(factory=InMemorySettlementAccounts)
    host: HostLink = attrs.field(factory=InMemoryHostLink)
    operators: OperatorDirectory = attrs.field(factory=InMemoryOperatorDirectory)
    merchants: MerchantFile = attrs.field(factory=InMemoryMerchantFile)
    extra: Mapping[str, Any] = attrs.field(default=_NO_EXTRA, converter=_extra)

    def __attrs_post_init__(self) -> None:
        # the common case, posflow's in-memory ports, as set lookups: a Context made
        # without ports makes a Ports, so this runs once per such event
        trusted = _TRUSTED
        if (
            type(self.documents) in trusted
            and type(self.inventory) in trusted
            and type(self.risk) in trusted
            and type(self.accounts) in trusted
            and type(self.host) in trusted
            and type(self.operators) in trusted
            and type(self.merchants) in trusted
        ):
            return
        # shield() leaves a trusted port (a marked class, say) as it is
        for name in PORT_NAMES:
            object.__setattr__(self, name, shield(name, getattr(self, name)))

    def replace(self, **ports: Any) -> Ports:
        """Return a copy with some ports replaced (the others are shared)."""
        return attrs.evolve(self, **ports)

    def __reduce__(self) -> tuple[Any, ...]:
        # the extra ports' read-only view cannot be pickled: a plain dict of them goes
        # instead. The caller's ports go without their shields (the copy is shielded
        # again) and must prove they pickle, so that a failure names the port
        fields: dict[str, Any] = {}
        for f in attrs.fields(type(self)):
            value = getattr(self, f.name)
            if f.name == "extra":
                value = {
                    key: picklable(f"ports.extra[{key!r}]", unshielded(port))
                    for key, port in value.items()
                }
            elif f.name in PORT_NAMES and not _trusted(value):
                value = picklable(f"ports.{f.name}", unshielded(value))
            fields[f.alias] = value
        return (_ports_of, (type(self), fields))

    def __copy__(self) -> Ports:
        # without this, copy.copy would take the pickling path above and its checks
        return attrs.evolve(self)


def _ports_of(cls: type[Ports], fields: dict[str, Any]) -> Ports:
    """A pickled :class:`Ports` made again by its constructor, which shields the caller's ports."""
    return cls(**fields)
