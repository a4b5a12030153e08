"""Stock guards (库存/机具): certified, compatible devices, really there, really this one.

"Why is my terminal not in stock?" is answered here: an uncertified or
incompatible model, old firmware, a warehouse shortage, an SN the inventory does
not know, a device other than the one shipped, a duplicate SN, a shipment lost
or damaged, or a device of another model than ordered.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow._versions import parse_version
from posflow.errors import InvalidInput, PortUnavailable
from posflow.guards._framework import Guard, guard
from posflow.guards._read import (
    given_text,
    merchant_of,
    optional_text,
    policy_of,
    port_answer,
    text_list,
)
from posflow.ports import Capability, Device, DeviceLocation, DeviceModel

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal


def _spec(code: str, retryable: bool, en: str, zh: str, fix_en: str, fix_zh: str) -> ReasonSpec:
    return reason_spec(
        code, retryable=retryable, en=en, zh_cn=zh, remedy_en=fix_en, remedy_zh_cn=fix_zh
    )


MODEL_UNKNOWN: Final = _spec(
    "stock.model_unknown",
    False,
    "Model {model} is not one the acquirer stocks.",
    "型号 {model} 不在收单机构的机具目录中。",
    "Order one of the acquirer's approved models.",
    "请改订收单机构认可的机具型号。",
)
MODEL_UNCERTIFIED: Final = _spec(
    "stock.model_uncertified",
    False,
    "Model {model} lacks the {certification} certification; it cannot be shipped or activated.",
    "型号 {model} 未获得 {certification} 认证，不能发货或激活。",
    "Replace the device with a certified model.",
    "请更换为已认证的机具型号。",
)
MODEL_INCOMPATIBLE: Final = _spec(
    "stock.model_incompatible",
    False,
    "Model {model} does not work with the acquirer's host system.",
    "型号 {model} 与收单机构的主机系统不兼容。",
    "Choose a model the acquirer's host supports.",
    "请选择收单主机支持的机具型号。",
)
MODEL_LACKS_CAPABILITY: Final = _spec(
    "stock.model_lacks_capability",
    False,
    "Model {model} cannot accept what the merchant needs: {missing}.",
    "型号 {model} 不支持商户所需的受理方式：{missing}。",
    "Choose a model that accepts {missing}, or change the merchant's stated needs.",
    "请选择支持 {missing} 的型号，或修改商户的受理需求。",
)
FIRMWARE_OUTDATED: Final = _spec(
    "stock.firmware_outdated",
    False,
    "The device runs firmware {firmware}; at least {minimum} is required.",
    "机具固件版本为 {firmware}，要求不低于 {minimum}。",
    "Upgrade the device's firmware to {minimum} or later (or swap the device), then retry.",
    "请将机具固件升级至 {minimum} 或更高版本（或更换机具）后重试。",
)
OUT_OF_STOCK: Final = _spec(
    "stock.out_of_stock",
    True,
    "No device of model {model} is available in the warehouse; the shipment waits.",
    "仓库中暂无型号 {model} 的可用机具，发货需等待。",
    "Retry when the warehouse is restocked, or ship another approved model.",
    "请待仓库补货后重试，或改发其他认可型号。",
)
DEVICE_NOT_IN_WAREHOUSE: Final = _spec(
    "stock.device_not_in_warehouse",
    False,
    "Device {sn} cannot be shipped: it is {location}, not in the warehouse.",
    "机具 {sn} 当前{location_zh}，不在仓库中，不能发货。",
    "Ship a device that is in the warehouse and not allocated.",
    "请发出在库且未分配的机具。",
)
SN_NOT_REGISTERED: Final = _spec(
    "stock.sn_not_registered",
    False,
    "SN {sn} is not registered in the acquirer's inventory (终端未入库).",
    "序列号 {sn} 未在收单机构库存中登记（终端未入库）。",
    "Register the device in the inventory (入库) or check the SN for typos.",
    "请先将机具入库登记，或核对序列号是否有误。",
)
SN_NOT_SHIPPED: Final = _spec(
    "stock.sn_not_shipped",
    False,
    "SN {sn} is not the device that was shipped ({shipped_sn}).",
    "序列号 {sn} 与发货的机具（{shipped_sn}）不一致。",
    "Receive the device that was shipped, or report the order error for a new shipment.",
    "请接收实际发出的机具，或登记订单差错后重新发货。",
)
DUPLICATE_SN: Final = _spec(
    "stock.duplicate_sn",
    False,
    "SN {sn} is already allocated to terminal {other_terminal}.",
    "序列号 {sn} 已分配给终端 {other_terminal}。",
    "Check the SN; a device belongs to one terminal record only.",
    "请核对序列号；一台机具只能对应一个终端记录。",
)
SHIPMENT_FAULT: Final = _spec(
    "stock.shipment_fault",
    False,
    "Device {sn} cannot be received: it is {fault}.",
    "机具 {sn} 无法入库：{fault_zh}。",
    "Report the shipment lost or damaged (report_lost) so that a new device is shipped.",
    "请登记物流异常（report_lost），以便重新发货。",
)
ORDER_MISMATCH: Final = _spec(
    "stock.order_mismatch",
    False,
    "Device {sn} is of model {model}, but the order was for model {ordered}.",
    "机具 {sn} 的型号为 {model}，而订单型号为 {ordered}。",
    "Report the order error (report_lost) so that the right model is shipped.",
    "请登记订单差错（report_lost），以便重新发出正确型号。",
)

_FAULTS: Final = {DeviceLocation.LOST: "lost", DeviceLocation.DAMAGED: "damaged"}
_PLACES_ZH: Final = {
    DeviceLocation.WAREHOUSE: "在库",
    DeviceLocation.IN_TRANSIT: "运输中",
    DeviceLocation.DEPLOYED: "已布放在商户",
    DeviceLocation.RETURNED: "已退回",
    DeviceLocation.LOST: "已丢失",
    DeviceLocation.DAMAGED: "已损坏",
}
_CONDITIONS: Final = ("good", "damaged")
_CAPABILITIES: Final[Mapping[str, Capability]] = MappingProxyType({c.value: c for c in Capability})


def sn_under_check(terminal: Terminal, ctx: Context) -> str | None:
    """The SN a step is about: the payload's (ship, receive), else the terminal's."""
    return given_text(ctx, terminal, "sn")


def device_of(ctx: Context, sn: str) -> Device | None:
    """The inventory's record of ``sn``."""
    return port_answer("inventory", ctx.ports.inventory.device(sn), Device)


def model_of(terminal: Terminal, ctx: Context) -> tuple[str, DeviceModel | None, Device | None]:
    """The model a step is about (the device's own when its SN is known), and the device.

    Raises:
        InvalidInput: when neither an SN nor a model is given.
    """
    sn = sn_under_check(terminal, ctx)
    device = device_of(ctx, sn) if sn else None
    name = device.model if device else None
    name = name or optional_text(ctx.payload, "model", "payload.model")
    name = name or optional_text(terminal.data, "model", "data.model")
    if name is None:
        raise InvalidInput("is missing: say which model to ship", field="payload.model")
    return name, port_answer("inventory", ctx.ports.inventory.model(name), DeviceModel), device


@guard("stock.model_certified")
def model_certified(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The model is one the acquirer stocks and holds the required certification."""
    name, model, _ = model_of(terminal, ctx)
    g = "stock.model_certified"
    if model is None:
        return (MODEL_UNKNOWN.reason(guard=g, model=name),)
    needed = policy_of(ctx).required_certification
    if needed not in model.certifications:
        return (MODEL_UNCERTIFIED.reason(guard=g, model=name, certification=needed),)
    return ()


@guard("stock.model_compatible")
def model_compatible(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The model works with the acquirer's host and accepts what the merchant needs."""
    name, model, _ = model_of(terminal, ctx)
    if model is None:
        return ()  # model_certified explains an unknown model
    g = "stock.model_compatible"
    out: list[Reason] = []
    if not model.host_compatible:
        out.append(MODEL_INCOMPATIBLE.reason(guard=g, model=name))
    needs = text_list(merchant_of(terminal, ctx).get("needs"), "data.merchant.needs")
    wanted = set()
    for need in needs:
        found = _CAPABILITIES.get(need)  # the usual need: a plain lookup, no enum call
        if found is not None:
            wanted.add(found)
            continue
        try:
            wanted.add(Capability(need))
        except ValueError:
            allowed = ", ".join(c.value for c in Capability)
            raise InvalidInput(
                f"{need!r} is not one of: {allowed}", field="data.merchant.needs"
            ) from None
    missing = sorted(c.value for c in wanted - model.capabilities)
    if missing:
        out.append(MODEL_LACKS_CAPABILITY.reason(guard=g, model=name, missing=missing))
    return tuple(out)


@guard("stock.firmware_current")
def firmware_current(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device's firmware (or its model's, before a device is known) is recent enough."""
    _, model, device = model_of(terminal, ctx)
    firmware = (device.firmware if device else None) or (model.firmware if model else None)
    if firmware is None:
        return ()  # nothing known to compare; model_certified explains an unknown model
    minimum = policy_of(ctx).min_firmware_version
    if parse_version(firmware, "firmware") < parse_version(minimum, "policy.min_firmware_version"):
        return (
            FIRMWARE_OUTDATED.reason(
                guard="stock.firmware_current", firmware=firmware, minimum=minimum
            ),
        )
    return ()


@guard("stock.device_available")
def device_available(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A device can leave the warehouse: the named SN is free there, or the model is in stock."""
    g = "stock.device_available"
    sn = optional_text(ctx.payload, "sn", "payload.sn")
    if sn is None:
        name, _, _ = model_of(terminal, ctx)
        count = ctx.ports.inventory.available(name)
        if isinstance(count, bool) or not isinstance(count, int):
            raise PortUnavailable("inventory", f"answered with {type(count).__name__}, not int")
        return () if count > 0 else (OUT_OF_STOCK.reason(guard=g, model=name),)
    device = device_of(ctx, sn)
    if device is None:
        return (SN_NOT_REGISTERED.reason(guard=g, sn=sn),)
    out: list[Reason] = []
    if device.terminal_id not in {None, terminal.id}:
        out.append(DUPLICATE_SN.reason(guard=g, sn=sn, other_terminal=device.terminal_id))
    elif device.location is not DeviceLocation.WAREHOUSE and device.terminal_id is None:
        out.append(
            DEVICE_NOT_IN_WAREHOUSE.reason(
                guard=g,
                sn=sn,
                location=device.location.value,
                location_zh=_PLACES_ZH[device.location],
            )
        )
    ordered = optional_text(ctx.payload, "model", "payload.model") or optional_text(
        terminal.data, "model", "data.model"
    )
    if ordered and ordered != device.model:
        out.append(ORDER_MISMATCH.reason(guard=g, sn=sn, model=device.model, ordered=ordered))
    return tuple(out)


def _required_sn(terminal: Terminal, ctx: Context) -> str:
    sn = sn_under_check(terminal, ctx)
    if sn is None:
        raise InvalidInput("is missing: give the device's serial number", field="payload.sn")
    return sn


@guard("stock.sn_registered")
def sn_registered(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device's SN is registered in the acquirer's inventory (入库)."""
    sn = _required_sn(terminal, ctx)
    if device_of(ctx, sn) is None:
        return (SN_NOT_REGISTERED.reason(guard="stock.sn_registered", sn=sn),)
    return ()


@guard("stock.sn_matches_shipment")
def sn_matches_shipment(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device received is the one shipped (when a specific SN was shipped)."""
    sn = _required_sn(terminal, ctx)
    shipped = optional_text(terminal.data, "shipped_sn", "data.shipped_sn")
    if shipped is not None and sn != shipped:
        return (
            SN_NOT_SHIPPED.reason(guard="stock.sn_matches_shipment", sn=sn, shipped_sn=shipped),
        )
    return ()


@guard("stock.sn_unique")
def sn_unique(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """No other terminal record holds this SN."""
    sn = _required_sn(terminal, ctx)
    device = device_of(ctx, sn)
    if device is not None and device.terminal_id not in {None, terminal.id}:
        return (
            DUPLICATE_SN.reason(guard="stock.sn_unique", sn=sn, other_terminal=device.terminal_id),
        )
    return ()


@guard("stock.device_intact")
def device_intact(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device arrived: it is not recorded lost or damaged, nor reported damaged on receipt."""
    sn = _required_sn(terminal, ctx)
    condition = optional_text(ctx.payload, "condition", "payload.condition") or "good"
    if condition not in _CONDITIONS:
        raise InvalidInput(f"{condition!r} is not one of: good, damaged", field="payload.condition")
    device = device_of(ctx, sn)
    fault = _FAULTS.get(device.location) if device is not None else None
    if fault is None and condition == "damaged":
        fault = "damaged"
    if fault is not None:
        zh = _PLACES_ZH[DeviceLocation(fault)]
        return (
            SHIPMENT_FAULT.reason(guard="stock.device_intact", sn=sn, fault=fault, fault_zh=zh),
        )
    return ()


SHIPMENT_FAULT_UNKNOWN: Final = _spec(
    "stock.shipment_fault_unknown",
    False,
    "A returned shipment needs a known cause; '{cause}' is not one of: {known}.",
    "退回的发货须注明已知原因；“{cause}”不在以下原因中：{known}。",
    "Give one of the causes: {known}.",
    "请注明以下原因之一：{known}。",
)
SHIPMENT_FAULT_CAUSES: Final = ("damaged", "delayed", "lost", "order_error")
"""What ``report_lost`` may give as its ``cause`` (none means ``lost``)."""


@guard("stock.shipment_fault_known")
def shipment_fault_known(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A shipment sent back names one of the faults it may have (or none: lost)."""
    cause = optional_text(ctx.payload, "cause", "payload.cause")
    if cause is not None and cause not in SHIPMENT_FAULT_CAUSES:
        known = list(SHIPMENT_FAULT_CAUSES)
        return (
            SHIPMENT_FAULT_UNKNOWN.reason(
                guard="stock.shipment_fault_known", cause=cause, known=known
            ),
        )
    return ()


@guard("stock.device_matches_order")
def device_matches_order(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device is of the model that was ordered and shipped."""
    sn = _required_sn(terminal, ctx)
    device = device_of(ctx, sn)
    ordered = optional_text(terminal.data, "model", "data.model")
    if device is not None and ordered and device.model != ordered:
        return (
            ORDER_MISMATCH.reason(
                guard="stock.device_matches_order", sn=sn, model=device.model, ordered=ordered
            ),
        )
    return ()


GUARDS: Final[dict[str, Guard]] = {
    "stock.model_certified": model_certified,
    "stock.model_compatible": model_compatible,
    "stock.firmware_current": firmware_current,
    "stock.device_available": device_available,
    "stock.sn_registered": sn_registered,
    "stock.sn_matches_shipment": sn_matches_shipment,
    "stock.sn_unique": sn_unique,
    "stock.device_intact": device_intact,
    "stock.device_matches_order": device_matches_order,
    "stock.shipment_fault_known": shipment_fault_known,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    MODEL_UNKNOWN,
    MODEL_UNCERTIFIED,
    MODEL_INCOMPATIBLE,
    MODEL_LACKS_CAPABILITY,
    FIRMWARE_OUTDATED,
    OUT_OF_STOCK,
    DEVICE_NOT_IN_WAREHOUSE,
    SN_NOT_REGISTERED,
    SN_NOT_SHIPPED,
    DUPLICATE_SN,
    SHIPMENT_FAULT,
    ORDER_MISMATCH,
    SHIPMENT_FAULT_UNKNOWN,
)
