"""Compliance guards (合规): risk records, regions, quotas, binding and relocation.

None of these can be fixed by retrying: each needs the merchant, the risk team
or the operations team to change something first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.errors import InvalidInput, PortUnavailable
from posflow.guards._framework import Guard, guard
from posflow.guards._read import (
    given_text,
    mapping,
    merchant_id,
    merchant_of,
    merchant_type,
    optional_text,
    policy_of,
    port_answer,
)
from posflow.guards._stock import device_of, model_of, sn_under_check
from posflow.policy import MerchantType
from posflow.ports import BlacklistEntry, RegionRule, Subject

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal


def _spec(code: str, en: str, zh: str, fix_en: str, fix_zh: str) -> ReasonSpec:
    return reason_spec(
        code, retryable=False, en=en, zh_cn=zh, remedy_en=fix_en, remedy_zh_cn=fix_zh
    )


MERCHANT_BLACKLISTED: Final = _spec(
    "compliance.merchant_blacklisted",
    "The merchant is on the risk blacklist ({listed_reason}).",
    "该商户在风险黑名单中（{listed_reason}）。",
    "The application cannot proceed; the merchant may appeal to the acquirer's risk team.",
    "申请无法继续；商户可向收单机构风控部门申诉。",
)
LEGAL_REP_BLACKLISTED: Final = _spec(
    "compliance.legal_rep_blacklisted",
    "The legal representative ({legal_rep_id_number}) is on the risk blacklist ({listed_reason}).",
    "法定代表人（{legal_rep_id_number}）在风险黑名单中（{listed_reason}）。",
    "The application cannot proceed under this legal representative; appeal to the risk team.",
    "该法定代表人名下的申请无法继续；可向风控部门申诉。",
)
REGION_NOT_SERVED: Final = _spec(
    "compliance.region_not_served",
    "The acquirer does not acquire in region {region}; acquiring is local.",
    "收单机构不在地区 {region} 开展收单业务（收单须属地化）。",
    "Apply through an acquirer licensed for region {region}.",
    "请通过在地区 {region} 有收单资质的机构申请。",
)
MODEL_FORBIDDEN_IN_REGION: Final = _spec(
    "compliance.model_forbidden_in_region",
    "Model {model} may not be used in region {region}.",
    "型号 {model} 不允许在地区 {region} 使用。",
    "Ship a model that region {region} allows.",
    "请改发地区 {region} 允许使用的型号。",
)
REGION_CERTIFICATION_MISSING: Final = _spec(
    "compliance.region_certification_missing",
    "Region {region} requires certifications model {model} lacks: {certifications}.",
    "地区 {region} 要求的认证型号 {model} 尚未取得：{certifications}。",
    "Ship a model holding {certifications}.",
    "请改发已取得 {certifications} 认证的型号。",
)
MICRO_QUOTA_EXCEEDED: Final = _spec(
    "compliance.micro_merchant_quota_exceeded",
    "This ID already holds {held} micro-merchant code(s); the limit is {limit}.",
    "该身份证件已持有 {held} 个小微商户编号，上限为 {limit} 个。",
    "Close one of the existing micro-merchant codes, or apply as an individual business.",
    "请先注销已有的小微商户编号，或以个体工商户身份申请。",
)
BINDING_INCOMPLETE: Final = _spec(
    "compliance.binding_incomplete",
    "The terminal cannot be bound (一机一码一户): missing {missing}.",
    "终端无法完成绑定（一机一码一户）：缺少 {missing_zh}。",
    "Record {missing} on the terminal, then activate again.",
    "请在终端记录中补充 {missing_zh} 后重新激活。",
)
SN_BOUND_ELSEWHERE: Final = _spec(
    "compliance.sn_bound_to_other_merchant",
    "SN {sn} is bound to another merchant.",
    "序列号 {sn} 已绑定其他商户。",
    "Use a device not bound to another merchant, or have the other binding released first.",
    "请使用未绑定其他商户的机具，或先解除原有绑定。",
)
TERMINAL_RELOCATED: Final = _spec(
    "compliance.terminal_relocated",
    "The terminal is being used at {reported}, away from its bound address (移机).",
    "终端在 {reported} 使用，偏离了绑定的装机地址（移机）。",
    "Return the terminal to its bound address or file a relocation request; "
    "unreported relocation leads to suspension.",
    "请将终端移回绑定地址或提交移机申请；未报备的移机将导致终端被冻结。",
)
SUSPENSION_CAUSE_UNKNOWN: Final = _spec(
    "compliance.suspension_cause_unknown",
    "A suspension needs a known cause; '{cause}' is not one of: {known}.",
    "冻结须注明已知原因；“{cause}”不在以下原因中：{known}。",
    "Give one of the causes: {known}.",
    "请注明以下原因之一：{known}。",
)

_BINDING_ZH: Final = {
    "sn": "机具序列号",
    "acquirer_code": "收单机构代码",
    "merchant_code": "商户编号",
    "credit_code": "统一社会信用代码",
    "legal_rep_id_number": "身份证号",
    "settlement_account": "结算账户",
    "install_address": "装机地址",
}


def _entry(ctx: Context, subject: Subject, key: str) -> BlacklistEntry | None:
    return port_answer("risk", ctx.ports.risk.blacklist_entry(subject, key), BlacklistEntry)


@guard("compliance.not_blacklisted")
def not_blacklisted(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """Neither the merchant (by id or credit code) nor its legal representative is blacklisted."""
    g = "compliance.not_blacklisted"
    merchant = merchant_of(terminal, ctx)
    out: list[Reason] = []
    keys = [
        merchant_id(merchant),
        optional_text(merchant, "credit_code", "data.merchant.credit_code"),
    ]
    for key in dict.fromkeys(k for k in keys if k):
        found = _entry(ctx, Subject.MERCHANT, key)
        if found is not None:
            out.append(MERCHANT_BLACKLISTED.reason(guard=g, listed_reason=found.reason or "-"))
            break
    rep = optional_text(merchant, "legal_rep_id_number", "data.merchant.legal_rep_id_number")
    if rep:
        found = _entry(ctx, Subject.LEGAL_REP, rep)
        if found is not None:
            out.append(
                LEGAL_REP_BLACKLISTED.reason(
                    guard=g, legal_rep_id_number=rep, listed_reason=found.reason or "-"
                )
            )
    return tuple(out)


def _region_rule(terminal: Terminal, ctx: Context) -> tuple[str | None, RegionRule | None]:
    region = optional_text(merchant_of(terminal, ctx), "region", "data.merchant.region")
    if region is None:
        return None, None
    return region, port_answer("risk", ctx.ports.risk.region_rule(region), RegionRule)


@guard("compliance.region_served")
def region_served(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The merchant's region is one the acquirer serves (acquiring is local)."""
    region, rule = _region_rule(terminal, ctx)
    served = policy_of(ctx).served_regions
    if (served is not None and region not in served) or (rule is not None and not rule.served):
        return (REGION_NOT_SERVED.reason(guard="compliance.region_served", region=region or "-"),)
    return ()


@guard("compliance.model_allowed_in_region")
def model_allowed_in_region(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The region allows the model, and the model holds the region's extra certifications."""
    region, rule = _region_rule(terminal, ctx)
    if rule is None:
        return ()
    g = "compliance.model_allowed_in_region"
    name, model, _ = model_of(terminal, ctx)
    out: list[Reason] = []
    if name in rule.forbidden_models:
        out.append(MODEL_FORBIDDEN_IN_REGION.reason(guard=g, model=name, region=region))
    held = model.certifications if model is not None else frozenset()
    lacking = sorted(rule.required_certifications - held)
    if lacking:
        out.append(
            REGION_CERTIFICATION_MISSING.reason(
                guard=g, model=name, region=region, certifications=lacking
            )
        )
    return tuple(out)


@guard("compliance.micro_merchant_quota_available")
def micro_merchant_quota_available(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A micro-merchant's ID holds fewer merchant codes than the policy allows."""
    merchant = merchant_of(terminal, ctx)
    if merchant_type(merchant) is not MerchantType.MICRO:
        return ()
    id_number = optional_text(merchant, "legal_rep_id_number", "data.merchant.legal_rep_id_number")
    if id_number is None:
        raise InvalidInput(
            "is missing; a micro-merchant is identified by ID number",
            field="data.merchant.legal_rep_id_number",
        )
    held = ctx.ports.risk.merchant_codes_held(id_number)
    if isinstance(held, bool) or not isinstance(held, int):
        raise PortUnavailable("risk", f"answered with {type(held).__name__}, not int")
    limit = policy_of(ctx).micro_merchant_code_limit
    if held >= limit:
        return (
            MICRO_QUOTA_EXCEEDED.reason(
                guard="compliance.micro_merchant_quota_available", held=held, limit=limit
            ),
        )
    return ()


def install_address(terminal: Terminal, ctx: Context) -> str | None:
    """The address the terminal is (to be) installed at: the payload's, else the record's."""
    return given_text(ctx, terminal, "install_address")


@guard("compliance.binding_complete")
def binding_complete(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """Everything one SN is bound to is on record (一机一码一户).

    That is the SN, acquirer code, merchant code, credit code (the ID number for a
    micro-merchant), settlement account and install address.
    """
    merchant = merchant_of(terminal, ctx)
    micro = merchant_type(merchant) is MerchantType.MICRO
    identity = "legal_rep_id_number" if micro else "credit_code"
    have = {
        "sn": sn_under_check(terminal, ctx),
        "acquirer_code": optional_text(merchant, "acquirer_code", "data.merchant.acquirer_code"),
        "merchant_code": optional_text(merchant, "merchant_code", "data.merchant.merchant_code"),
        identity: optional_text(merchant, identity, f"data.merchant.{identity}"),
        "settlement_account": optional_text(
            merchant, "settlement_account", "data.merchant.settlement_account"
        ),
        "install_address": install_address(terminal, ctx),
    }
    missing = [k for k, v in have.items() if not v]
    if missing:
        return (
            BINDING_INCOMPLETE.reason(
                guard="compliance.binding_complete",
                missing=missing,
                missing_zh=[_BINDING_ZH[k] for k in missing],
            ),
        )
    return ()


@guard("compliance.sn_not_bound_elsewhere")
def sn_not_bound_elsewhere(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The device is not bound to another merchant (one SN, one merchant)."""
    sn = sn_under_check(terminal, ctx)
    if sn is None:
        return ()  # binding_complete reports the missing SN
    device = device_of(ctx, sn)
    owner = merchant_id(merchant_of(terminal, ctx))
    if device is not None and device.merchant_id not in {None, owner}:
        return (SN_BOUND_ELSEWHERE.reason(guard="compliance.sn_not_bound_elsewhere", sn=sn),)
    return ()


def _normalised(address: str) -> str:
    return " ".join(address.casefold().split())


@guard("compliance.at_bound_address")
def at_bound_address(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A terminal reporting where it is (``payload.address``) is at its bound install address."""
    reported = optional_text(ctx.payload, "address", "payload.address")
    if reported is None:
        return ()
    binding = mapping(terminal.data.get("binding"), "data.binding")
    bound = optional_text(binding, "install_address", "data.binding.install_address")
    if bound is not None and _normalised(bound) != _normalised(reported):
        return (
            TERMINAL_RELOCATED.reason(
                guard="compliance.at_bound_address", reported=reported, bound=bound
            ),
        )
    return ()


@guard("compliance.suspension_cause_known")
def suspension_cause_known(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A suspension names one of the policy's causes (cash-out, fraud, laundering, ...)."""
    cause = optional_text(ctx.payload, "cause", "payload.cause")
    known = policy_of(ctx).suspension_causes
    if cause not in known:
        return (
            SUSPENSION_CAUSE_UNKNOWN.reason(
                guard="compliance.suspension_cause_known", cause=cause or "-", known=sorted(known)
            ),
        )
    return ()


GUARDS: Final[dict[str, Guard]] = {
    "compliance.not_blacklisted": not_blacklisted,
    "compliance.region_served": region_served,
    "compliance.model_allowed_in_region": model_allowed_in_region,
    "compliance.micro_merchant_quota_available": micro_merchant_quota_available,
    "compliance.binding_complete": binding_complete,
    "compliance.sn_not_bound_elsewhere": sn_not_bound_elsewhere,
    "compliance.at_bound_address": at_bound_address,
    "compliance.suspension_cause_known": suspension_cause_known,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    MERCHANT_BLACKLISTED,
    LEGAL_REP_BLACKLISTED,
    REGION_NOT_SERVED,
    MODEL_FORBIDDEN_IN_REGION,
    REGION_CERTIFICATION_MISSING,
    MICRO_QUOTA_EXCEEDED,
    BINDING_INCOMPLETE,
    SN_BOUND_ELSEWHERE,
    TERMINAL_RELOCATED,
    SUSPENSION_CAUSE_UNKNOWN,
)
