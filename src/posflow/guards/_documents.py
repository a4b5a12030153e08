"""Document guards (资料): what must be on file, and what may stand in for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.guards._framework import Guard, guard

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

APPLICATION_FIELDS: Final = ("name", "contact_phone", "shop_address")


def merchant_of(terminal: Terminal, ctx: Context) -> Mapping[str, Any]:
    """The merchant record for a decision: the payload's ``merchant`` over the terminal's."""
    stored = terminal.data.get("merchant") or {}
    given = ctx.payload.get("merchant") or {}
    return {**stored, **given} if given else stored


@guard("documents.application_form_complete")
def application_form_complete(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The application names the applicant, a contact phone and the shop address."""
    merchant = merchant_of(terminal, ctx)
    missing = [f for f in APPLICATION_FIELDS if not str(merchant.get(f) or "").strip()]
    if missing:
        return (APPLICATION_FIELD_MISSING.reason(fields=missing),)
    return ()


GUARDS: Final[dict[str, Guard]] = {
    "documents.application_form_complete": application_form_complete,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (APPLICATION_FIELD_MISSING,)
