"""Document guards (资料): what must be on file, and what may stand in for it.

An expired document, or one whose issue date is still to come, counts as not on
file. Which documents each step needs is policy
(:class:`~posflow.policy.Policy`), by merchant type where it differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.guards._framework import Guard, guard
from posflow.guards._read import (
    documents_on_file,
    merchant_id,
    merchant_of,
    merchant_type,
    policy_of,
)
from posflow.ports import Document, DocumentKind

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal

APPLICATION_FIELD_MISSING: Final = reason_spec(
    "documents.application_field_missing",
    retryable=False,
    en="The application form is missing: {fields}.",
    zh_cn="申请表缺少以下信息：{fields}。",
    remedy_en="Complete the application form ({fields}) and submit it again.",
    remedy_zh_cn="请补全申请表（{fields}）后重新提交。",
)
REQUIRED_DOCUMENT_MISSING: Final = reason_spec(
    "documents.required_document_missing",
    retryable=False,
    en="The {step} needs documents that are not on file: {documents}.",
    zh_cn="{step_zh}所需的以下资料尚未提交：{documents_zh}。",
    remedy_en="Upload {documents} for the merchant, then try the {step} again.",
    remedy_zh_cn="请为商户上传{documents_zh}，然后重新进行{step_zh}。",
)
DOCUMENT_EXPIRED: Final = reason_spec(
    "documents.document_expired",
    retryable=False,
    en="Documents needed for the {step} have expired and count as missing: {documents}.",
    zh_cn="{step_zh}所需的以下资料已过期，视为未提交：{documents_zh}。",
    remedy_en="Upload a current copy of {documents}, then try the {step} again.",
    remedy_zh_cn="请上传{documents_zh}的有效版本，然后重新进行{step_zh}。",
)
STOREFRONT_PROOF_MISSING: Final = reason_spec(
    "documents.storefront_proof_missing",
    retryable=False,
    en=(
        "No proof of the business premises is on file. Any one of these would do: a "
        "storefront photo; or {still_needed} more of the accepted substitutes ({options})."
    ),
    zh_cn=(
        "缺少经营场所证明。满足以下任一项即可：门头照；或再提供 {still_needed} 份认可的"
        "替代材料（{options_zh}）。"
    ),
    remedy_en=(
        "Upload a storefront photo, or {still_needed} of: {options}. Utility bills must cover "
        "{months} consecutive months; bills and bank statements must be under {max_age_days} "
        "days old."
    ),
    remedy_zh_cn=(
        "请上传门头照，或以下材料中的 {still_needed} 份：{options_zh}。水电费票据须覆盖连续 "
        "{months} 个月；票据和银行流水须在 {max_age_days} 天以内。"
    ),
)

APPLICATION_FIELDS: Final = ("name", "contact_phone", "shop_address")

DOCUMENT_NAMES_ZH: Final = {
    DocumentKind.BUSINESS_LICENCE: "营业执照",
    DocumentKind.ID_CARD_FRONT: "法人身份证人像面",
    DocumentKind.ID_CARD_BACK: "法人身份证国徽面",
    DocumentKind.SETTLEMENT_ACCOUNT: "结算账户证明",
    DocumentKind.TAX_REGISTRATION: "税务登记证",
    DocumentKind.ORGANISATION_CODE: "组织机构代码证",
    DocumentKind.STOREFRONT_PHOTO: "门头照",
    DocumentKind.LEASE_CONTRACT: "租赁合同",
    DocumentKind.UTILITY_BILLS: "水电费票据",
    DocumentKind.BANK_STATEMENT: "银行流水",
    DocumentKind.CASHIER_PHOTO: "收银台照",
    DocumentKind.INTERIOR_PHOTO: "内景照",
    DocumentKind.CLOSE_REQUEST: "注销申请表",
    DocumentKind.SERVICE_CONTRACT: "服务协议",
}
"""The Chinese name of each document kind, for zh-CN messages."""
STEP_NAMES_ZH: Final = {
    "review": "审核",
    "reapplication": "重新申请",
    "activation": "激活",
    "close request": "注销申请",
}


def _zh(kind: DocumentKind) -> str:
    return DOCUMENT_NAMES_ZH.get(kind) or kind.value  # .value (slow) only for an unnamed kind


def _missing_and_expired(
    needed: Iterable[DocumentKind], docs: Sequence[Document], today: dt.date
) -> tuple[list[DocumentKind], list[tuple[DocumentKind, dt.date]]]:
    missing: list[DocumentKind] = []
    expired: list[tuple[DocumentKind, dt.date]] = []
    # the file sorted by kind in one pass, instead of one pass over it per needed kind
    # (kinds are enum members: grouped by identity, as ``d.kind is kind`` compares them)
    by_kind: dict[int, list[Document]] = {}
    for d in docs:
        found = by_kind.get(id(d.kind))
        if found is None:
            by_kind[id(d.kind)] = [d]
        else:
            found.append(d)
    for kind in needed:
        same = by_kind.get(id(kind), ())
        for d in same:  # a loop rather than any() over a generator: no generator to make
            if d.valid_on(today):
                break
        else:
            lapsed = [d.expires for d in same if d.expired_on(today) and d.expires is not None]
            if lapsed:
                expired.append((kind, max(lapsed)))
            else:
                missing.append(kind)
    return missing, expired


def _require(
    terminal: Terminal,
    ctx: Context,
    needed: Sequence[DocumentKind],
    step: str,
    guard_name: str,
    merchant: Mapping[str, Any] | None = None,
) -> tuple[Reason, ...]:
    """Refuse unless ``needed`` are on file and current (``merchant`` when already read)."""
    if not needed:
        return ()
    if merchant is None:
        merchant = merchant_of(terminal, ctx)
    docs = documents_on_file(ctx, merchant_id(merchant))
    missing, expired = _missing_and_expired(dict.fromkeys(needed), docs, ctx.now().date())
    out: list[Reason] = []
    step_zh = STEP_NAMES_ZH[step]
    if missing:
        out.append(
            REQUIRED_DOCUMENT_MISSING.reason(
                guard=guard_name,
                step=step,
                step_zh=step_zh,
                documents=[k.value for k in missing],
                documents_zh=[_zh(k) for k in missing],
            )
        )
    if expired:
        out.append(
            DOCUMENT_EXPIRED.reason(
                guard=guard_name,
                step=step,
                step_zh=step_zh,
                documents=[f"{k.value} (expired {day.isoformat()})" for k, day in expired],
                documents_zh=[f"{_zh(k)}（{day.isoformat()} 到期）" for k, day in expired],
            )
        )
    return tuple(out)


@guard("documents.application_form_complete")
def application_form_complete(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The application names the applicant, a contact phone and the shop address."""
    merchant = merchant_of(terminal, ctx)
    missing = [f for f in APPLICATION_FIELDS if not str(merchant.get(f) or "").strip()]
    if missing:
        return (
            APPLICATION_FIELD_MISSING.reason(
                guard="documents.application_form_complete", fields=missing
            ),
        )
    return ()


@guard("documents.review_documents_on_file")
def review_documents_on_file(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The review's documents are on file and current: licence (not for micro), ID, account."""
    merchant = merchant_of(terminal, ctx)  # read once: for the type and for the file
    kind = merchant_type(merchant)
    needed = policy_of(ctx).review_documents.of(kind)
    return _require(terminal, ctx, needed, "review", "documents.review_documents_on_file", merchant)


@guard("documents.reapply_documents_on_file")
def reapply_documents_on_file(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A reapplication also has what the policy adds (tax registration, organisation code)."""
    merchant = merchant_of(terminal, ctx)  # read once: for the type and for the file
    kind = merchant_type(merchant)
    needed = policy_of(ctx).reapply_documents.of(kind)
    return _require(
        terminal, ctx, needed, "reapplication", "documents.reapply_documents_on_file", merchant
    )


@guard("documents.activation_documents_on_file")
def activation_documents_on_file(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The extra documents the policy asks for at activation (cashier, interior photos)."""
    needed = policy_of(ctx).activation_documents
    return _require(terminal, ctx, needed, "activation", "documents.activation_documents_on_file")


@guard("documents.closing_documents_on_file")
def closing_documents_on_file(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """A close request comes with the request form, the ID and the service contract."""
    needed = policy_of(ctx).closing_documents
    return _require(terminal, ctx, needed, "close request", "documents.closing_documents_on_file")


def _substitute_counts(doc: Document, ctx: Context, today: dt.date) -> bool:
    policy = policy_of(ctx)
    if not doc.valid_on(today):
        return False
    if doc.kind is DocumentKind.LEASE_CONTRACT:
        return True
    if doc.issued is None or (today - doc.issued).days > policy.substitute_max_age_days:
        return False
    if doc.kind is DocumentKind.UTILITY_BILLS:
        return (doc.months or 0) >= policy.utility_bill_months
    return True


@guard("documents.storefront_proof_on_file")
def storefront_proof_on_file(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The premises are proven: a storefront photo, or enough accepted substitutes.

    When neither holds, the reason says exactly what would: the photo, or how
    many more of which substitutes, with the policy's conditions on them.
    """
    policy = policy_of(ctx)
    docs = documents_on_file(ctx, merchant_id(merchant_of(terminal, ctx)))
    today = ctx.now().date()
    photo = DocumentKind.STOREFRONT_PHOTO
    for d in docs:  # a loop rather than any() over a generator: no generator to make
        if d.kind is photo and d.valid_on(today):
            return ()
    accepted = policy.storefront_substitutes
    have = {d.kind for d in docs if d.kind in accepted and _substitute_counts(d, ctx, today)}
    still_needed = policy.substitutes_required - len(have)
    if still_needed <= 0:
        return ()
    options = sorted(accepted - have)
    return (
        STOREFRONT_PROOF_MISSING.reason(
            guard="documents.storefront_proof_on_file",
            still_needed=still_needed,
            options=[k.value for k in options],
            options_zh=[_zh(k) for k in options],
            have=sorted(k.value for k in have),
            months=policy.utility_bill_months,
            max_age_days=policy.substitute_max_age_days,
        ),
    )


GUARDS: Final[dict[str, Guard]] = {
    "documents.application_form_complete": application_form_complete,
    "documents.review_documents_on_file": review_documents_on_file,
    "documents.reapply_documents_on_file": reapply_documents_on_file,
    "documents.activation_documents_on_file": activation_documents_on_file,
    "documents.closing_documents_on_file": closing_documents_on_file,
    "documents.storefront_proof_on_file": storefront_proof_on_file,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    APPLICATION_FIELD_MISSING,
    REQUIRED_DOCUMENT_MISSING,
    DOCUMENT_EXPIRED,
    STOREFRONT_PROOF_MISSING,
)
