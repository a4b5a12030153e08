"""The inventory port: device models, serial numbers and what the warehouse holds."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import attrs

from posflow._versions import parse_version
from posflow.errors import InvalidInput
from posflow.ports._checks import as_enum, as_text, as_texts

__all__ = [
    "Capability",
    "Device",
    "DeviceLocation",
    "DeviceModel",
    "InMemoryInventory",
    "Inventory",
]


class Capability(enum.StrEnum):
    """What a device model can accept; merchants state which they need."""

    CARD = "card"
    """Magnetic-stripe and chip cards."""
    QR = "qr"
    """QR-code payments, scanned or shown."""
    NFC = "nfc"
    """Contactless cards and phones."""


class DeviceLocation(enum.StrEnum):
    """Where a device is (机具位置)."""

    WAREHOUSE = "warehouse"
    """In the acquirer's warehouse, available when not allocated."""
    IN_TRANSIT = "in_transit"
    """Shipped, not yet received."""
    DEPLOYED = "deployed"
    """At the merchant's premises."""
    RETURNED = "returned"
    """Back from a closed merchant."""
    LOST = "lost"
    """Lost in transit or at the merchant."""
    DAMAGED = "damaged"
    """Arrived or found damaged; needs repair or replacement."""


def _capabilities(values: Iterable[object] | None) -> frozenset[Capability]:
    if values is None:
        return frozenset(Capability)
    names = as_texts(values, "model.capabilities")
    return frozenset(as_enum(Capability, n, "model.capabilities[]") for n in names)


def _certifications(values: Iterable[object] | None) -> frozenset[str]:
    return as_texts(values, "model.certifications")


def _version(value: object) -> str:
    text = as_text(value, "version")
    parse_version(text, "version")
    return text


def _model_name(value: object) -> str:
    return as_text(value, "model.name")


def _sn(value: object) -> str:
    return as_text(value, "device.sn")


def _device_model(value: object) -> str:
    return as_text(value, "device.model")


def _location(value: object) -> DeviceLocation:
    return as_enum(DeviceLocation, value, "device.location")


def _optional_text(value: object) -> str | None:
    return None if value is None else as_text(value, "device")


def _optional_version(value: object) -> str | None:
    return None if value is None else _version(value)


@attrs.frozen(slots=True)
class DeviceModel:
    """A terminal model the acquirer stocks.

    Attributes:
        name: the model name, as orders and devices refer to it.
        certifications: the approvals it holds, such as ``"unionpay"`` (银联认证);
            the policy says which one makes a model certified, and regional rules
            may ask for more.
        capabilities: what it accepts (card, QR, NFC); all three unless given.
        firmware: the firmware version devices of this model ship with.
        host_compatible: whether it works with the acquirer's host system at all.
    """

    name: str = attrs.field(converter=_model_name)
    certifications: frozenset[str] = attrs.field(
        default=frozenset({"unionpay"}), converter=_certifications
    )
    capabilities: frozenset[Capability] = attrs.field(default=None, converter=_capabilities)
    firmware: str = attrs.field(default="1.0.0", converter=_version)
    host_compatible: bool = True


@attrs.frozen(slots=True)
class Device:
    """One physical device, known by its serial number (SN).

    Attributes:
        sn: the serial number printed on the device.
        model: its model name.
        location: where it is.
        terminal_id: the terminal record it is allocated to, if any.
        merchant_id: the merchant it is bound to, if any (一机一户).
        firmware: its installed firmware when known; else the model's.
    """

    sn: str = attrs.field(converter=_sn)
    model: str = attrs.field(converter=_device_model)
    location: DeviceLocation = attrs.field(default=DeviceLocation.WAREHOUSE, converter=_location)
    terminal_id: str | None = attrs.field(default=None, converter=_optional_text)
    merchant_id: str | None = attrs.field(default=None, converter=_optional_text)
    firmware: str | None = attrs.field(default=None, converter=_optional_version)

    @property
    def free(self) -> bool:
        """Whether it is in the warehouse and not allocated to any terminal."""
        return self.location is DeviceLocation.WAREHOUSE and self.terminal_id is None


@runtime_checkable
class Inventory(Protocol):
    """The acquirer's terminal inventory (机具库存): models, serials, warehouse."""

    def model(self, name: str) -> DeviceModel | None:
        """The model called ``name``, or ``None`` when the acquirer does not stock it."""
        ...

    def device(self, sn: str) -> Device | None:
        """The device with serial number ``sn``, or ``None`` when it is not registered."""
        ...

    def available(self, model: str) -> int:
        """How many devices of ``model`` the warehouse can ship now."""
        ...


class InMemoryInventory:
    """An inventory in dicts, for tests, simulations and small deployments.

    Args:
        models: the models stocked.
        devices: the devices registered.
    """

    __slots__ = ("_devices", "_models")

    def __init__(self, models: Iterable[DeviceModel] = (), devices: Iterable[Device] = ()) -> None:
        self._models: dict[str, DeviceModel] = {}
        self._devices: dict[str, Device] = {}
        if models or devices:
            self.add_model(*models)
            self.add_device(*devices)

    def model(self, name: str) -> DeviceModel | None:
        """The model called ``name``, if stocked."""
        return self._models.get(name)

    def device(self, sn: str) -> Device | None:
        """The device with serial number ``sn``, if registered."""
        return self._devices.get(sn)

    def available(self, model: str) -> int:
        """How many free devices of ``model`` are in the warehouse."""
        return sum(1 for d in self._devices.values() if d.model == model and d.free)

    def add_model(self, *models: DeviceModel) -> None:
        """Stock ``models`` (a model with the same name is replaced)."""
        for i, m in enumerate(models):
            if not isinstance(m, DeviceModel):
                raise InvalidInput(
                    f"expected a DeviceModel, got {type(m).__name__}", field=f"[{i}]"
                )
            self._models[m.name] = m

    def add_device(self, *devices: Device) -> None:
        """Register ``devices`` (入库); a serial number already registered is refused.

        Raises:
            InvalidInput: for an item that is not a :class:`Device` or a duplicate SN.
        """
        for i, d in enumerate(devices):
            if not isinstance(d, Device):
                raise InvalidInput(f"expected a Device, got {type(d).__name__}", field=f"[{i}]")
            if d.sn in self._devices:
                raise InvalidInput(f"SN {d.sn!r} is already registered", field="device.sn")
            self._devices[d.sn] = d

    def update_device(self, sn: str, **changes: Any) -> Device:
        """Change a registered device (location, allocation, binding, firmware) and return it."""
        try:
            current = self._devices[sn]
        except KeyError:
            raise InvalidInput(f"SN {sn!r} is not registered", field="device.sn") from None
        try:
            updated = attrs.evolve(current, **changes)
        except TypeError as exc:
            raise InvalidInput(str(exc), field="device") from None
        self._devices[sn] = updated
        return updated

    def remove_device(self, sn: str) -> None:
        """Deregister the device ``sn`` (it is no longer in the inventory)."""
        self._devices.pop(sn, None)

    def __repr__(self) -> str:
        return f"InMemoryInventory({len(self._models)} models, {len(self._devices)} devices)"
