"""The reason catalogue: every reason code posflow knows, in both languages.

Each guard module declares the :class:`~posflow.ReasonSpec` entries it produces
with :func:`spec`; :func:`default_catalogue` gathers them all. A service that
writes its own guards declares its own specs the same way and can merge them into
a :class:`Catalogue` for documentation and checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from posflow._reasons import LANGUAGES, Category, Reason, ReasonSpec
from posflow.errors import InvalidInput, UnknownReasonCode

__all__ = ["Catalogue", "default_catalogue", "reason_spec"]


def reason_spec(
    code: str,
    *,
    retryable: bool,
    en: str,
    zh_cn: str,
    remedy_en: str,
    remedy_zh_cn: str,
) -> ReasonSpec:
    """Declare a catalogue entry; the category is read from the code's prefix."""
    prefix = code.partition(".")[0]
    try:
        category = Category(prefix)
    except ValueError:
        raise InvalidInput(
            f"reason code {code!r} does not start with a known category "
            f"({', '.join(c.value for c in Category)})",
            field="code",
        ) from None
    return ReasonSpec(
        code=code,
        category=category,
        retryable=retryable,
        en=en,
        zh_cn=zh_cn,
        remedy_en=remedy_en,
        remedy_zh_cn=remedy_zh_cn,
    )


class Catalogue(Mapping[str, ReasonSpec]):
    """An immutable set of reason specs, looked up by code.

    Args:
        specs: the entries; two entries with one code are refused.
    """

    __slots__ = ("_specs",)

    def __init__(self, specs: Iterable[ReasonSpec]) -> None:
        table: dict[str, ReasonSpec] = {}
        for s in specs:
            if s.code in table and table[s.code] != s:
                raise InvalidInput(f"reason code {s.code!r} is declared twice", field="code")
            table[s.code] = s
        self._specs = dict(sorted(table.items()))

    def __getitem__(self, code: str) -> ReasonSpec:
        try:
            return self._specs[code]
        except KeyError:
            raise UnknownReasonCode(code) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    # ``in`` and ``get`` answer without raising (Mapping's versions expect a KeyError)
    def __contains__(self, code: object) -> bool:
        return code in self._specs

    def get(self, code: str, default: ReasonSpec | None = None) -> ReasonSpec | None:  # type: ignore[override]
        """The spec for ``code``, or ``default`` when the catalogue has none."""
        return self._specs.get(code, default)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"Catalogue({len(self)} codes)"

    def merged(self, *others: Iterable[ReasonSpec]) -> Catalogue:
        """Return a new catalogue with the entries of ``others`` added."""
        specs = list(self._specs.values())
        for other in others:
            specs.extend(other.values() if isinstance(other, Catalogue) else other)
        return Catalogue(specs)

    def reason(self, code: str, /, **params: Any) -> Reason:
        """Make a reason for ``code`` with the given evidence."""
        return self[code].reason(**params)

    def languages(self) -> tuple[str, ...]:
        """The languages every entry provides."""
        return LANGUAGES


UNKNOWN_EVENT: Final = reason_spec(
    "lifecycle.unknown_event",
    retryable=False,
    en="The event '{event}' is not part of this lifecycle. Events it knows: {known}.",
    zh_cn="事件“{event}”不属于该生命周期。可用的事件：{known}。",
    remedy_en="Check the event name for typos; use one of the events listed.",
    remedy_zh_cn="请检查事件名称是否拼写有误，并使用所列事件之一。",
)
NOT_ALLOWED_FROM_STATE: Final = reason_spec(
    "lifecycle.not_allowed_from_state",
    retryable=False,
    en="'{event}' cannot happen while the terminal is {state}. Allowed now: {allowed}.",
    zh_cn="终端处于“{state}”状态时不能执行“{event}”。当前允许：{allowed}。",
    remedy_en="Bring the terminal to one of these states first: {sources}.",
    remedy_zh_cn="请先使终端进入以下状态之一：{sources}。",
)
UNDECLARED_STATE: Final = reason_spec(
    "lifecycle.undeclared_state",
    retryable=False,
    en="The terminal is in '{state}', which this lifecycle does not declare.",
    zh_cn="终端处于“{state}”状态，但该生命周期未声明此状态。",
    remedy_en="Repair the terminal record or load it with the lifecycle that produced it.",
    remedy_zh_cn="请修复终端记录，或使用生成该记录的生命周期加载它。",
)
CONDITION_PRESENT: Final = reason_spec(
    "lifecycle.blocking_condition_present",
    retryable=False,
    en="'{guard}' holds, and this step is allowed only while it does not.",
    zh_cn="条件“{guard}”成立，而该步骤仅在其不成立时才允许。",
    remedy_en="Resolve the condition '{guard}' first, then try again.",
    remedy_zh_cn="请先解除条件“{guard}”，然后重试。",
)
GUARD_ERROR: Final = reason_spec(
    "guard.error",
    retryable=True,
    en="The check '{guard}' failed to run ({error_type}); nothing was changed.",
    zh_cn="检查项“{guard}”运行出错（{error_type}），未做任何更改。",
    remedy_en="Retry; if it keeps failing, report the error to the terminal-management team.",
    remedy_zh_cn="请重试；若持续失败，请将错误报告给终端管理团队。",
)
PORT_UNAVAILABLE: Final = reason_spec(
    "port.unavailable",
    retryable=True,
    en="The {port} service did not answer while '{guard}' was checked; nothing was changed.",
    zh_cn="检查“{guard}”时{port_zh}未响应，未做任何更改。",
    remedy_en="Retry in a few minutes; if the {port} service stays down, contact its operators.",
    remedy_zh_cn="请几分钟后重试；若{port_zh}持续不可用，请联系其运维人员。",
)

PORT_NAMES_ZH: Final = {
    "documents": "资料库服务",
    "inventory": "库存系统",
    "risk": "风控系统",
    "accounts": "结算账户系统",
    "host": "收单主机",
    "operators": "操作员目录",
    "merchants": "商户档案",
    "external": "外部服务",
}
"""The ``port.unavailable`` reason's port in Chinese; a port of the caller's own is named
as given (its name is an identifier, as a guard's is)."""

CORE_SPECS: Final = (
    UNKNOWN_EVENT,
    NOT_ALLOWED_FROM_STATE,
    UNDECLARED_STATE,
    CONDITION_PRESENT,
    GUARD_ERROR,
    PORT_UNAVAILABLE,
)


def default_catalogue() -> Catalogue:
    """Every reason code posflow itself can produce, with both languages."""
    from posflow.guards import _catalogue_specs  # noqa: PLC0415 - guards import this module

    return Catalogue((*CORE_SPECS, *_catalogue_specs()))
