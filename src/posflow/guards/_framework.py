"""Guards: named predicates that answer with reasons instead of a bare bool."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Protocol, TypeAlias

import attrs

from posflow._catalogue import (
    CONDITION_PRESENT,
    GUARD_ERROR,
    PORT_NAMES_ZH,
    PORT_UNAVAILABLE,
    reason_spec,
)
from posflow._reasons import Reason
from posflow.errors import InvalidInput, PortUnavailable, UnknownGuard

if TYPE_CHECKING:
    from posflow._context import Context
    from posflow._terminal import Terminal

__all__ = [
    "Guard",
    "GuardLike",
    "GuardRegistry",
    "GuardResult",
    "all_of",
    "any_of",
    "guard",
    "guard_name",
    "not_",
    "reasons_for_exception",
    "run_guard",
]

GuardResult: TypeAlias = Iterable[Reason] | bool | None
"""What a guard returns: reasons (none means pass), ``True`` or ``None`` (pass), ``False``.

Anything else, a ``0`` or an empty string or mapping as much as a ``1``, is not
a guard result: it refuses with ``guard.error`` (see :func:`normalise`).
"""


class Guard(Protocol):
    """A check a transition must pass: ``(terminal, ctx) -> reasons``.

    An empty result (no reasons), ``None`` or ``True`` means the check passed. A
    plain ``False`` is accepted (as from a ``transitions`` condition) and reported
    as ``guard.refused``, but a guard that explains itself with reasons is what
    posflow is for. Any other value is a bug in the guard, reported as
    ``guard.error`` whether it is truthy or not: a ``0``, an empty string or an
    empty mapping never passes.
    """

    def __call__(self, terminal: Terminal, ctx: Context, /) -> GuardResult:
        """Check ``terminal`` in ``ctx``; return the reasons it fails, if any."""
        ...


GuardLike: TypeAlias = "str | Guard"
"""A guard object, or the dotted name of a registered one."""

GUARD_REFUSED: Final = reason_spec(
    "guard.refused",
    retryable=False,
    en="The check '{guard}' refused without giving a reason.",
    zh_cn="检查项“{guard}”未通过，且未说明原因。",
    remedy_en="Have '{guard}' return posflow reasons so that the refusal explains itself.",
    remedy_zh_cn="请联系“{guard}”的维护者，使其返回 posflow 原因，以便说明拒绝原因。",
)

INVALID_INPUT: Final = reason_spec(
    "guard.invalid_input",
    retryable=False,
    en="'{field}' is malformed ({problem}), so '{guard}' could not decide; nothing was changed.",
    # the problem is the check's own text, in English: zh-CN quotes it as such (原文)
    zh_cn="“{field}”格式不正确（原文：{problem}），检查项“{guard}”无法判断，未做任何更改。",
    remedy_en="Correct '{field}' in the event payload or the terminal record and try again.",
    remedy_zh_cn="请更正事件数据或终端记录中的“{field}”后重试。",
)

_NAME_ATTR: Final = "__posflow_guard_name__"


def guard(name: str) -> Callable[[Callable[..., GuardResult]], Callable[..., GuardResult]]:
    """Give a guard function its dotted name (used in reasons and registries).

    The decorator registers nothing globally; collect named guards into a
    :class:`GuardRegistry` with :meth:`GuardRegistry.of`.
    """
    if type(name) is not str or not name.strip() or name != name.strip():
        raise ValueError(
            f"a guard's name is a non-empty dotted name such as 'documents.storefront_proof', "
            f"got {name!r}"
        )

    def mark(fn: Callable[..., GuardResult]) -> Callable[..., GuardResult]:
        setattr(fn, _NAME_ATTR, name)
        return fn

    return mark


def guard_name(g: object) -> str:
    """The name reasons use for guard ``g``: its registered name, else its qualified name."""
    name = getattr(g, _NAME_ATTR, None)
    if isinstance(name, str):
        return name
    return str(getattr(g, "__qualname__", None) or type(g).__qualname__)


def run_guard(name: str, g: Guard, terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    """Run one guard safely: exceptions become reasons and nothing propagates.

    A :class:`~posflow.errors.PortUnavailable` (or a ``TimeoutError`` /
    ``ConnectionError`` from a port) becomes a retryable ``port.unavailable``;
    any other exception becomes ``guard.error``, which keeps the exception.
    """
    try:
        result = g(terminal, ctx)
    except Exception as exc:  # noqa: BLE001 - any guard failure must become a refusal
        return reasons_for_exception(name, exc)
    return normalise(name, result)


def reasons_for_exception(name: str, exc: Exception) -> tuple[Reason, ...]:
    """The refusal for a guard that raised ``exc``.

    Malformed input (:class:`~posflow.errors.InvalidInput`) refuses with
    ``guard.invalid_input`` naming the field; a port that failed refuses with a
    retryable ``port.unavailable`` naming the port; anything else is ``guard.error``.
    The exception itself is kept on the reason (``reason.error``).
    """
    if isinstance(exc, InvalidInput):
        field = exc.field or "input"
        problem = str(exc).removeprefix(f"{exc.field}: ") if exc.field else str(exc)
        return (INVALID_INPUT.reason(guard=name, field=field, problem=problem, error=exc),)
    if isinstance(exc, PortUnavailable):
        return (_unavailable(name, exc.port, exc),)
    if isinstance(exc, TimeoutError | ConnectionError):
        return (_unavailable(name, getattr(exc, "port", None) or "external", exc),)
    return (GUARD_ERROR.reason(guard=name, error=exc, error_type=type(exc).__name__),)


def _unavailable(guard_name: str, port: str, exc: BaseException) -> Reason:
    port_zh = PORT_NAMES_ZH.get(port, f"{port} 服务")
    return PORT_UNAVAILABLE.reason(guard=guard_name, port=port, port_zh=port_zh, error=exc)


def normalise(name: str, result: GuardResult) -> tuple[Reason, ...]:
    """Turn whatever guard ``name`` returned into a tuple of reasons (empty: it passed).

    ``None``, ``True`` and an iterable of no reasons pass; ``False`` is
    ``guard.refused``. A value that is not a guard result is ``guard.error`` with
    a ``TypeError`` saying so, whether it is truthy or not: a number (``0`` as
    much as ``1``), text (iterable, but of characters) and a mapping (iterable, but
    of keys; an effect's result, say, given as a guard).
    """
    if result is None or result is True:
        return ()
    if result is False:
        return (GUARD_REFUSED.reason(guard=name),)
    if isinstance(result, str | bytes | bytearray | Mapping) or not isinstance(result, Iterable):
        err = TypeError(
            f"guard returned {type(result).__name__}, which is not a guard result "
            "(an iterable of Reason, a bool or None)"
        )
        return (GUARD_ERROR.reason(guard=name, error=err, error_type="TypeError"),)
    try:
        reasons = tuple(result)
    except Exception as exc:  # noqa: BLE001 - a generator guard can fail while it is consumed
        return reasons_for_exception(name, exc)
    for r in reasons:
        if not isinstance(r, Reason):
            err = TypeError(f"guard returned {type(r).__name__}, not Reason")
            return (GUARD_ERROR.reason(guard=name, error=err, error_type="TypeError"),)
    # a refusal says which rule spoke, even when the guard itself did not say
    return tuple(r if r.guard is not None else attrs.evolve(r, guard=name) for r in reasons)


class _Composite:
    __slots__ = ("_name", "parts")

    def __init__(self, parts: Sequence[GuardLike], name: str) -> None:
        self.parts = tuple(parts)
        self._name = name

    def bind(self, registry: GuardRegistry) -> _Composite:
        """Resolve guard names inside this composite against ``registry``."""
        bound: list[GuardLike] = []
        for p in self.parts:
            if isinstance(p, str):
                bound.append(registry[p])
            elif isinstance(p, _Composite):
                bound.append(p.bind(registry))  # type: ignore[arg-type]
            else:
                bound.append(p)
        clone = type(self).__new__(type(self))
        _Composite.__init__(clone, bound, self._name)
        return clone

    def names(self) -> Iterator[str]:
        """Every guard name used inside, for validation."""
        for p in self.parts:
            if isinstance(p, str):
                yield p
            elif isinstance(p, _Composite):
                yield from p.names()

    @property
    def __posflow_guard_name__(self) -> str:
        return self._name

    def _children(self) -> Iterator[tuple[str, Guard]]:
        for p in self.parts:
            if isinstance(p, str):  # pragma: no cover - bind() resolves names first
                raise UnknownGuard(p)
            yield guard_name(p), p

    def __repr__(self) -> str:
        return self._name


class _AllOf(_Composite):
    __slots__ = ()

    def __call__(self, terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
        out: list[Reason] = []
        for name, g in self._children():
            out.extend(run_guard(name, g, terminal, ctx))
        return tuple(out)


class _AnyOf(_Composite):
    __slots__ = ()

    def __call__(self, terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
        out: list[Reason] = []
        for name, g in self._children():
            reasons = run_guard(name, g, terminal, ctx)
            if not reasons:
                return ()
            out.extend(reasons)
        return tuple(out)


class _Not(_Composite):
    __slots__ = ()

    def __call__(self, terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
        ((name, g),) = self._children()
        reasons = run_guard(name, g, terminal, ctx)
        if reasons:
            if any(
                r.code in {"guard.error", "guard.invalid_input", "port.unavailable"}
                for r in reasons
            ):
                return reasons
            return ()
        return (CONDITION_PRESENT.reason(guard=name),)


def _label(parts: Sequence[GuardLike]) -> str:
    return ", ".join(p if isinstance(p, str) else guard_name(p) for p in parts)


def all_of(*guards: GuardLike) -> Guard:
    """Pass when every guard passes; refuse with the reasons of all that fail."""
    return _AllOf(guards, f"all_of({_label(guards)})")


def any_of(*guards: GuardLike) -> Guard:
    """Pass when one guard passes; otherwise refuse with every alternative's reasons.

    Each alternative that failed is explained, so the caller sees every way to
    satisfy the rule (for example the storefront photo *or* enough substitutes).
    """
    if not guards:
        raise ValueError("any_of() needs at least one guard")
    return _AnyOf(guards, f"any_of({_label(guards)})")


def not_(g: GuardLike) -> Guard:
    """Pass when ``g`` refuses; refuse with ``lifecycle.blocking_condition_present`` when it passes.

    A ``g`` that cannot run (``guard.error``, ``port.unavailable``) still refuses:
    an error is never read as "the condition does not hold".
    """
    return _Not((g,), f"not_({_label((g,))})")


class GuardRegistry(Mapping[str, Guard]):
    """An immutable name → guard table that lifecycles resolve names against.

    Args:
        guards: the named guards.
    """

    __slots__ = ("_guards",)

    def __init__(self, guards: Mapping[str, Guard] | None = None) -> None:
        self._guards: dict[str, Guard] = dict(guards or {})

    @classmethod
    def of(cls, *guards: Guard) -> GuardRegistry:
        """Build a registry from guards named with :func:`guard`.

        Raises:
            ValueError: when two different guards have the same name (one would
                silently replace the other).
        """
        table: dict[str, Guard] = {}
        for g in guards:
            name = guard_name(g)
            if table.get(name, g) is not g:
                raise ValueError(f"two different guards are named {name!r}")
            table[name] = g
        return cls(table)

    def __getitem__(self, name: str) -> Guard:
        try:
            return self._guards[name]
        except KeyError:
            raise UnknownGuard(name, known=sorted(self._guards)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._guards)

    # ``in`` and ``get`` answer without raising (Mapping's versions expect a KeyError)
    def __contains__(self, name: object) -> bool:
        return name in self._guards

    def get(self, name: str, default: Guard | None = None) -> Guard | None:  # type: ignore[override]
        """The guard named ``name``, or ``default`` when there is none."""
        return self._guards.get(name, default)

    def __len__(self) -> int:
        return len(self._guards)

    def __or__(self, other: Mapping[str, Guard]) -> GuardRegistry:
        return GuardRegistry({**self._guards, **other})

    def extended(
        self, guards: Mapping[str, Guard] | None = None, /, **named: Guard
    ) -> GuardRegistry:
        """Return a new registry with ``guards`` added (a name given twice is replaced)."""
        return GuardRegistry({**self._guards, **(guards or {}), **named})

    def __repr__(self) -> str:
        return f"GuardRegistry({len(self)} guards)"
