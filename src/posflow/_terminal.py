"""The terminal record the engine reads and produces."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

import attrs

from posflow._mask import redact
from posflow.errors import InvalidInput

__all__ = ["Terminal"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def data_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict with the items of ``data``, which may be a terminal's read-only data.

    A terminal's data is a read-only view of a dict only it holds, and the view's
    ``copy()`` copies that dict directly: three to nine times as fast as ``dict()``,
    which reads a view item by item.
    """
    if data.__class__ is MappingProxyType:
        try:
            fresh = data.copy()
        except AttributeError:  # a view of a mapping without copy(): read item by item
            fresh = None
        if fresh.__class__ is dict:
            return fresh
    return dict(data)


def mapping_copy(value: object, field: str) -> dict[str, Any]:
    """A new dict with the items of ``value``; ``InvalidInput`` naming ``field`` unless a mapping.

    Always a copy: a read-only view passed in may be of a dict its caller still
    changes. (``dict()`` alone would take a list of pairs, and fail on anything
    else with a ``TypeError``.)
    """
    if value.__class__ is not dict and not isinstance(value, Mapping):
        raise InvalidInput(f"must be a mapping, got {type(value).__name__}", field=field)
    return data_dict(value)


def _freeze(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _EMPTY if data is None else MappingProxyType(mapping_copy(data, "data"))


def terminal_id_of(terminal_id: str, field: str = "id") -> str:
    """A terminal's id: text with a character other than whitespace (nothing is stripped).

    Only the class is checked beyond that: what a store can hold (length, NUL) is
    the store's rule, checked where a terminal is stored. ``InvalidInput`` names
    ``field`` otherwise.
    """
    # the Terminal's converter, as for the version: one call, and a class compare on
    # the common path
    if terminal_id.__class__ is str and terminal_id and not terminal_id.isspace():
        return terminal_id
    if not isinstance(terminal_id, str):
        raise InvalidInput(f"must be a string, got {type(terminal_id).__name__}", field=field)
    if not terminal_id:
        raise InvalidInput("must be a non-empty string", field=field)
    if terminal_id.isspace():
        raise InvalidInput("must not be whitespace only", field=field)
    return terminal_id


def _version(version: int) -> int:
    """A version counts accepted transitions: a non-negative int (a bool is not one here)."""
    # a converter rather than a validator: attrs calls it without its validators' switch
    if version.__class__ is int or (isinstance(version, int) and not isinstance(version, bool)):
        if version >= 0:
            return version
        raise InvalidInput(f"must not be negative, got {version}", field="version")
    raise InvalidInput(f"must be a non-negative int, got {type(version).__name__}", field="version")


def _data_repr(data: Mapping[str, Any]) -> str:
    return repr(redact(data))


class _TerminalSlots:
    """The storage of a :class:`Terminal`: its slots, without attrs' frozen ``__setattr__``.

    attrs reuses these slots rather than adding its own, so the two classes share
    one layout. The engine makes one terminal per accepted event; instead of attrs'
    frozen ``__init__`` (a bound ``object.__setattr__`` per field, plus the data
    converter) it fills a bare ``_TerminalSlots`` with plain attribute stores and
    then gives it the ``Terminal`` class, which CPython allows between classes of
    the same layout. It does so only with data that is already read-only (see
    :func:`adopt_data`); everyone else uses the constructor.
    """

    __slots__ = ("__weakref__", "data", "id", "state", "version")


@attrs.frozen(slots=True)
class Terminal(_TerminalSlots):
    """One terminal as the engine sees it: identity, state, version and data.

    Records are immutable: the engine never changes a terminal, it returns a new
    one with the next state and ``version + 1``. The version is what optimistic
    concurrency compares when a store saves it.

    Terminals compare by value but are not hashable (their data is a read-only
    mapping, which is not); key dicts and sets by ``terminal.id``. They pickle,
    for handing to another process; the copy is equal.

    Attributes:
        id: the terminal's id (often the merchant-facing terminal number): a
            non-empty string that is not whitespace only, kept exactly as given.
        state: the current state, one of the lifecycle's declared states.
        version: how many accepted transitions the record has been through: a
            non-negative ``int`` (not a bool, not a string of digits).
        data: operating data (merchant, SN, batch, ...): a mapping, copied and kept
            read-only; masked in reprs.

    Raises:
        InvalidInput: naming ``id``, ``version`` or ``data`` when one is not what it must be.
    """

    id: str = attrs.field(converter=terminal_id_of)
    state: str
    version: int = attrs.field(default=0, converter=_version)
    data: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_freeze, repr=_data_repr)

    def with_data(self, **changes: Any) -> Terminal:
        """Return a copy whose data has ``changes`` merged in (state and version kept)."""
        return Terminal(self.id, self.state, self.version, {**self.data, **changes})

    def __reduce__(self) -> tuple[Any, ...]:
        # the read-only data view cannot be pickled: send a plain dict, frozen again on load
        return (Terminal, (self.id, self.state, self.version, data_dict(self.data)))


def adopt_data(fresh: dict[str, Any]) -> Mapping[str, Any]:
    """A dict nobody else holds, as the read-only mapping a :class:`Terminal` keeps.

    Unlike the constructor's converter it does not copy: the caller must have just
    built ``fresh`` and must not keep it.
    """
    return MappingProxyType(fresh)


def terminal_of(terminal_id: str, state: str, version: int, data: Mapping[str, Any]) -> Terminal:
    """A :class:`Terminal` from trusted parts, without the constructor's checks and copy.

    For stores that have just decoded a row: ``data`` must already be read-only
    (see :func:`adopt_data`) and nobody may keep a mutable reference to it.
    """
    new: Any = _TerminalSlots()
    new.id = terminal_id
    new.state = state
    new.version = version
    new.data = data
    new.__class__ = Terminal
    return cast(Terminal, new)
