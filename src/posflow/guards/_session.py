"""Session guards (签到/签退): what the daily sign-in and sign-out need.

Failures say where they come from, so the caller knows what helps: the network
(retry), the hardware (repair), the software (upgrade), the operator (the right
password), or the batch (settle first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from posflow._catalogue import reason_spec
from posflow._reasons import Reason, ReasonSpec
from posflow._versions import parse_version
from posflow.errors import PortUnavailable
from posflow.guards._framework import Guard, guard
from posflow.guards._read import given_text, mapping, optional_text, policy_of, text_list, whole
from posflow.ports import OperatorCheck

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal


def _spec(code: str, retryable: bool, en: str, zh: str, fix_en: str, fix_zh: str) -> ReasonSpec:
    return reason_spec(
        code, retryable=retryable, en=en, zh_cn=zh, remedy_en=fix_en, remedy_zh_cn=fix_zh
    )


UNSETTLED_BATCH: Final = _spec(
    "session.unsettled_batch",
    False,
    "Batch {batch_no} still holds {count} unsettled sale(s); it must be settled first.",
    "批次 {batch_no} 仍有 {count} 笔未结算交易，须先结算。",
    "Settle the current batch (批结算), then try again.",
    "请先完成批结算，然后重试。",
)
MASTER_KEY_MISSING: Final = _spec(
    "session.master_key_missing",
    False,
    "No master key is injected in the terminal, so working keys cannot be downloaded.",
    "终端未灌装主密钥，无法下载工作密钥。",
    "Have the terminal's master key injected (at activation or by the key centre), then sign in.",
    "请为终端灌装主密钥（激活时或由密钥中心操作）后再签到。",
)
HOST_UNREACHABLE: Final = _spec(
    "session.host_unreachable",
    True,
    "The acquirer's host cannot be reached from terminal {terminal_id} (network).",
    "终端 {terminal_id} 无法连接收单主机（网络故障）。",
    "Check the terminal's network connection and retry in a few minutes.",
    "请检查终端网络连接，几分钟后重试。",
)
SOFTWARE_OUTDATED: Final = _spec(
    "session.software_outdated",
    False,
    "The terminal software is version {version}; at least {minimum} is required.",
    "终端软件版本为 {version}，要求不低于 {minimum}。",
    "Upgrade the terminal software to {minimum} or later, then try again.",
    "请将终端软件升级至 {minimum} 或更高版本后重试。",
)
SOFTWARE_VERSION_UNKNOWN: Final = _spec(
    "session.software_version_unknown",
    False,
    "The terminal did not report its software version, so it cannot be checked "
    "(minimum {minimum}).",
    "终端未上报软件版本，无法校验（最低要求 {minimum}）。",
    "Send the terminal's software version (software_version) with the request.",
    "请在请求中上送终端软件版本（software_version）。",
)
HARDWARE_FAULT: Final = _spec(
    "session.hardware_fault",
    False,
    "The terminal reports hardware faults: {faults}.",
    "终端报告硬件故障：{faults}。",
    "Have the terminal repaired or replaced; retrying will not help.",
    "请维修或更换终端；重试无法解决。",
)
OPERATOR_CREDENTIALS_MISSING: Final = _spec(
    "session.operator_credentials_missing",
    False,
    "The request does not carry the operator's {missing}.",
    "请求中缺少操作员的{missing_zh}。",
    "Enter the operator number and password on the terminal.",
    "请在终端上输入操作员号和密码。",
)
OPERATOR_UNKNOWN: Final = _spec(
    "session.operator_unknown",
    False,
    "Operator {operator} is not registered for this terminal.",
    "操作员 {operator} 未在该终端登记。",
    "Use an operator registered for this terminal, or have the operator added.",
    "请使用该终端已登记的操作员，或先添加该操作员。",
)
OPERATOR_PASSWORD_WRONG: Final = _spec(
    "session.operator_password_wrong",
    False,
    "The password of operator {operator} is wrong.",
    "操作员 {operator} 的密码错误。",
    "Enter the operator's correct password; the supervisor can reset it.",
    "请输入正确的操作员密码；主管可以重置密码。",
)


def batch_of(terminal: Terminal) -> tuple[object, int, int]:
    """The current batch's number, sale count and total (fen)."""
    batch = mapping(terminal.data.get("batch"), "data.batch")
    return (
        batch.get("no", 0),
        whole(batch.get("count"), "data.batch.count"),
        whole(batch.get("total"), "data.batch.total", signed=True),
    )


@guard("session.batch_settled")
def batch_settled(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The current batch has no sales waiting for settlement."""
    no, count, _ = batch_of(terminal)
    if count:
        return (UNSETTLED_BATCH.reason(guard="session.batch_settled", batch_no=no, count=count),)
    return ()


@guard("session.master_key_injected")
def master_key_injected(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The terminal holds a master key (injected at activation)."""
    if terminal.data.get("master_key_injected") is not True:
        return (MASTER_KEY_MISSING.reason(guard="session.master_key_injected"),)
    return ()


@guard("session.host_reachable")
def host_reachable(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The acquirer's host answers for this terminal."""
    up = ctx.ports.host.reachable(terminal.id)
    if not isinstance(up, bool):
        raise PortUnavailable("host", f"answered with {type(up).__name__}, not bool")
    if not up:
        return (HOST_UNREACHABLE.reason(guard="session.host_reachable", terminal_id=terminal.id),)
    return ()


@guard("session.software_current")
def software_current(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The terminal software (reported now, else last reported) is at least the minimum."""
    g = "session.software_current"
    minimum = policy_of(ctx).min_software_version
    version = optional_text(ctx.payload, "software_version", "payload.software_version")
    field = "payload.software_version"
    if version is None:
        version = optional_text(terminal.data, "software_version", "data.software_version")
        field = "data.software_version"
    if version is None:
        return (SOFTWARE_VERSION_UNKNOWN.reason(guard=g, minimum=minimum),)
    if parse_version(version, field) < parse_version(minimum, "policy.min_software_version"):
        return (SOFTWARE_OUTDATED.reason(guard=g, version=version, minimum=minimum),)
    return ()


@guard("session.hardware_ok")
def hardware_ok(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """Neither the request nor the record reports a hardware fault (keyboard, screen, ...)."""
    faults = text_list(ctx.payload.get("hardware_faults"), "payload.hardware_faults")
    faults += text_list(terminal.data.get("hardware_faults"), "data.hardware_faults")
    if faults:
        return (HARDWARE_FAULT.reason(guard="session.hardware_ok", faults=sorted(set(faults))),)
    return ()


@guard("session.operator_valid")
def operator_valid(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """The operator (teller number) is registered for the terminal and gave the right password.

    At sign-out the operator defaults to the one who signed in.
    """
    g = "session.operator_valid"
    operator = given_text(ctx, terminal, "operator")
    password = ctx.payload.get("password")
    missing = []
    if operator is None:
        missing.append("operator")
    if not isinstance(password, str) or not password:
        missing.append("password")
    if operator is None or not isinstance(password, str) or not password:
        zh = {"operator": "操作员号", "password": "密码"}
        return (
            OPERATOR_CREDENTIALS_MISSING.reason(
                guard=g, missing=missing, missing_zh=[zh[m] for m in missing]
            ),
        )
    answer = ctx.ports.operators.verify(terminal.id, operator, password)
    if answer.__class__ is OperatorCheck:  # the usual answer: no enum lookup (it is slow)
        check = answer
    else:
        try:
            check = OperatorCheck(answer)
        except ValueError:
            raise PortUnavailable("operators", f"answered {answer!r}") from None
    if check is OperatorCheck.UNKNOWN_OPERATOR:
        return (OPERATOR_UNKNOWN.reason(guard=g, operator=operator),)
    if check is OperatorCheck.WRONG_PASSWORD:
        return (OPERATOR_PASSWORD_WRONG.reason(guard=g, operator=operator),)
    return ()


GUARDS: Final[dict[str, Guard]] = {
    "session.batch_settled": batch_settled,
    "session.master_key_injected": master_key_injected,
    "session.host_reachable": host_reachable,
    "session.software_current": software_current,
    "session.hardware_ok": hardware_ok,
    "session.operator_valid": operator_valid,
}
SPECS: Final[tuple[ReasonSpec, ...]] = (
    UNSETTLED_BATCH,
    MASTER_KEY_MISSING,
    HOST_UNREACHABLE,
    SOFTWARE_OUTDATED,
    SOFTWARE_VERSION_UNKNOWN,
    HARDWARE_FAULT,
    OPERATOR_CREDENTIALS_MISSING,
    OPERATOR_UNKNOWN,
    OPERATOR_PASSWORD_WRONG,
)
