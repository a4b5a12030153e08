"""The terminal record the engine reads and produces."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from posflow._mask import redact

__all__ = ["Terminal"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _freeze(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if data is None:
        return _EMPTY
    if isinstance(data, MappingProxyType):
        return data
    return MappingProxyType(dict(data))


def _data_repr(data: Mapping[str, Any]) -> str:
    return repr(redact(data))


@attrs.frozen(slots=True)
class Terminal:
    """One terminal as the engine sees it: identity, state, version and data.

    Records are immutable: the engine never changes a terminal, it returns a new
    one with the next state and ``version + 1``. The version is what optimistic
    concurrency compares when a store saves it.

    Attributes:
        id: the terminal's id (often the merchant-facing terminal number).
        state: the current state, one of the lifecycle's declared states.
        version: how many accepted transitions the record has been through.
        data: operating data (merchant, SN, batch, ...); read-only, masked in reprs.
    """

    id: str
    state: str
    version: int = 0
    data: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_freeze, repr=_data_repr)

    def with_data(self, **changes: Any) -> Terminal:
        """Return a copy whose data has ``changes`` merged in (state and version kept)."""
        return Terminal(self.id, self.state, self.version, {**self.data, **changes})


# The engine makes one Terminal per accepted event. attrs' frozen ``__init__`` sets
# each field through a bound ``object.__setattr__`` and runs the data converter; the
# engine instead calls these slot setters on ``object.__new__(Terminal)``, which is
# about 40% cheaper, and only with data that is already read-only (see adopt_data).
set_id = vars(Terminal)["id"].__set__
set_state = vars(Terminal)["state"].__set__
set_version = vars(Terminal)["version"].__set__
set_data = vars(Terminal)["data"].__set__


def adopt_data(fresh: dict[str, Any]) -> Mapping[str, Any]:
    """A dict nobody else holds, as the read-only mapping a :class:`Terminal` keeps.

    Unlike the constructor's converter it does not copy: the caller must have just
    built ``fresh`` and must not keep it.
    """
    return MappingProxyType(fresh)
