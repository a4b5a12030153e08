"""Reasons: the explanation attached to every refusal.

A :class:`ReasonSpec` is one catalogue entry (code, category, both languages,
remedy, whether a retry can help). A :class:`Reason` is one occurrence of it, with
the evidence that produced it. Guards return reasons; the engine collects them.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from posflow._mask import redact
from posflow.errors import InvalidInput

__all__ = ["LANGUAGES", "Category", "Reason", "ReasonSpec"]

LANGUAGES: Final = ("en", "zh-CN")
"""The languages every catalogue entry is written in."""


class Category(enum.StrEnum):
    """What kind of rule a reason comes from; the first part of every reason code."""

    DOCUMENTS = "documents"
    """What must be on file (资料)."""
    COMPLIANCE = "compliance"
    """Risk, region, quota and binding rules (合规)."""
    STOCK = "stock"
    """Models, serial numbers and warehouse (库存/机具)."""
    SESSION = "session"
    """Daily sign-in and sign-out (签到/签退)."""
    SETTLEMENT = "settlement"
    """Limits, accounts, batches and money owed (结算)."""
    LIFECYCLE = "lifecycle"
    """The shape of the lifecycle itself: unknown events, wrong state."""
    GUARD = "guard"
    """A guard that failed to run."""
    PORT = "port"
    """An outside system a guard needed that did not answer."""


class _Template(string.Formatter):
    """Formats catalogue templates, leaving unknown fields visible instead of raising."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str):
            return kwargs.get(key, "{" + key + "}")
        return super().get_value(key, args, kwargs)  # pragma: no cover - positional unused


_FORMATTER = _Template()


def _render(template: str, params: Mapping[str, Any], guard: str | None) -> str:
    shown = {
        k: (", ".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in params.items()
    }
    if guard is not None:
        shown.setdefault("guard", guard)  # templates may name the guard that refused
    return _FORMATTER.vformat(template, (), shown)


@attrs.frozen(slots=True)
class ReasonSpec:
    """One entry of the reason catalogue.

    Args:
        code: ``category.what_is_wrong``, for example ``documents.storefront_proof_missing``.
        category: the rule family; must equal the part of ``code`` before the dot.
        retryable: whether trying again later, unchanged, can succeed.
        en: the English message; ``{name}`` fields are filled from the evidence.
        zh_cn: the Simplified Chinese message, with the same fields.
        remedy_en: what to do about it, in English.
        remedy_zh_cn: what to do about it, in Simplified Chinese.
    """

    code: str
    category: Category
    retryable: bool
    en: str
    zh_cn: str
    remedy_en: str
    remedy_zh_cn: str

    def __attrs_post_init__(self) -> None:
        prefix, _, rest = self.code.partition(".")
        if not rest or prefix != self.category.value:
            raise InvalidInput(
                f"reason code {self.code!r} must start with its category {self.category.value!r}.",
                field="code",
            )
        for name in ("en", "zh_cn", "remedy_en", "remedy_zh_cn"):
            if not getattr(self, name).strip():
                raise InvalidInput(f"{self.code}: {name} is empty", field=name)
        # both languages show the same evidence; zh-CN may show a Chinese form of a
        # field, ``x_zh``, in place of ``x``
        for en, zh in (("en", "zh_cn"), ("remedy_en", "remedy_zh_cn")):
            english, chinese = _fields(self, en), _fields(self, zh)
            if any(f.endswith("_zh") for f in english):
                raise InvalidInput(f"{self.code}: {en} shows a Chinese form (_zh)", field=en)
            chinese = {f.removesuffix("_zh") for f in chinese}
            if english != chinese:
                raise InvalidInput(
                    f"{self.code}: {en} shows {sorted(english)} but {zh} shows {sorted(chinese)}",
                    field=zh,
                )

    def reason(
        self,
        *,
        guard: str | None = None,
        retryable: bool | None = None,
        error: BaseException | None = None,
        **params: Any,
    ) -> Reason:
        """Make a :class:`Reason` of this kind with the given evidence.

        Sensitive evidence (IDs, accounts, phones, secrets) is masked here, once,
        so that no later repr, message or history record can show it in clear.
        """
        return Reason(
            code=self.code,
            category=self.category,
            params=MappingProxyType(redact(params)),
            retryable=self.retryable if retryable is None else retryable,
            guard=guard,
            error=error,
            spec=self,
        )

    def text(self, lang: str) -> tuple[str, str]:
        """Return the (message template, remedy) pair for ``lang``."""
        if lang == "en":
            return self.en, self.remedy_en
        if lang == "zh-CN":
            return self.zh_cn, self.remedy_zh_cn
        raise InvalidInput(f"unsupported language {lang!r}; use one of {LANGUAGES}", field="lang")


def _fields(spec: ReasonSpec, name: str) -> set[str]:
    """The ``{placeholders}`` of one of ``spec``'s templates; ``InvalidInput`` if malformed."""
    try:
        parsed = list(string.Formatter().parse(getattr(spec, name)))
    except ValueError as exc:
        raise InvalidInput(
            f"{spec.code}: {name} is not a valid template ({exc})", field=name
        ) from None
    return {f.partition(".")[0].partition("[")[0] for _, f, _, _ in parsed if f}


def _params_repr(params: Mapping[str, Any]) -> str:
    return repr(dict(params))


@attrs.frozen(slots=True)
class Reason:
    """Why a transition was refused: one rule that did not hold, with its evidence.

    Attributes:
        code: the catalogue code, ``category.what_is_wrong``.
        category: the rule family (documents, compliance, stock, session, ...).
        params: the evidence, already masked where sensitive.
        retryable: true when trying again later, unchanged, can succeed.
        guard: the registered name of the guard that produced it, when known.
        error: for ``guard.error``, the exception the guard raised.

    Reasons pickle (to hand them to another process), as long as ``error``, when
    there is one, pickles too; the copy is equal to the original and renders the
    same messages.
    """

    code: str
    category: Category
    params: Mapping[str, Any] = attrs.field(repr=_params_repr, eq=False)
    retryable: bool
    guard: str | None = None
    error: BaseException | None = attrs.field(default=None, eq=False, repr=False)
    spec: ReasonSpec | None = attrs.field(default=None, eq=False, repr=False)
    _params_key: tuple[tuple[str, str], ...] = attrs.field(
        init=False,
        repr=False,
        eq=True,
        default=attrs.Factory(
            lambda self: tuple(sorted((k, repr(v)) for k, v in self.params.items())),
            takes_self=True,
        ),
    )

    def message(self, lang: str = "en") -> str:
        """The reason in words, in ``"en"`` or ``"zh-CN"``, with the evidence filled in."""
        if self.spec is None:
            return self.code
        return _render(self.spec.text(lang)[0], self.params, self.guard)

    def remedy(self, lang: str = "en") -> str:
        """What the merchant or operator should do, in ``"en"`` or ``"zh-CN"``."""
        if self.spec is None:
            return ""
        return _render(self.spec.text(lang)[1], self.params, self.guard)

    def __reduce__(self) -> tuple[Any, ...]:
        # params is a read-only view, which pickle cannot copy: send a plain dict
        return (
            _unpickle_reason,
            (self.code, self.category, dict(self.params), self.retryable, self.guard,
             self.error, self.spec),
        )  # fmt: skip

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready view: code, category, retryable, guard, evidence, message, remedy."""
        return {
            "code": self.code,
            "category": self.category.value,
            "retryable": self.retryable,
            "guard": self.guard,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "message": self.message(lang),
            "remedy": self.remedy(lang),
        }


def _unpickle_reason(
    code: str,
    category: Category,
    params: dict[str, Any],
    retryable: bool,
    guard: str | None,
    error: BaseException | None,
    spec: ReasonSpec | None,
) -> Reason:
    """A pickled :class:`Reason` back (its params were masked before it was pickled)."""
    return Reason(code, category, MappingProxyType(params), retryable, guard, error, spec)


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)
