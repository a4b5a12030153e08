"""Session guards (签到/签退): what the daily sign-in and sign-out need."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow.guards._framework import Guard, guard

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal

UNSETTLED_BATCH: Final = reason_spec(
    "session.unsettled_batch",
    retryable=False,
    en="Batch {batch_no} still holds {count} unsettled sale(s); it must be settled first.",
    zh_cn="批次 {batch_no} 仍有 {count} 笔未结算交易，须先结算。",
    remedy_en="Settle the current batch (批结算), then sign out.",
    remedy_zh_cn="请先完成批结算，再签退。",
)


@guard("session.batch_settled")
def batch_settled(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The current batch has no sales waiting for settlement."""
    batch = terminal.data.get("batch") or {}
    count = int(batch.get("count", 0))
    if count:
        return (UNSETTLED_BATCH.reason(batch_no=batch.get("no", 0), count=count),)
    return ()


GUARDS: Final[dict[str, Guard]] = {"session.batch_settled": batch_settled}
SPECS: Final[tuple[ReasonSpec, ...]] = (UNSETTLED_BATCH,)
