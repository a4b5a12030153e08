"""Ports that fail or answer nonsense, and a builder for a test's set of ports.

Nothing here imports hypothesis (see :mod:`posflow.testing._world`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from posflow.errors import InvalidInput
from posflow.ports import PORT_NAMES, Ports

if TYPE_CHECKING:
    from posflow.testing._world import World

__all__ = ["FailingPort", "MisbehavingPort", "PortsBuilder", "names_of", "world_ports"]


class FailingPort:
    """A port every method of which raises ``error`` (a ``ConnectionError`` by default).

    posflow reports it as a retryable ``port.unavailable`` reason naming the port.

    >>> import posflow
    >>> from posflow.testing import FailingPort, World
    >>> world = World()
    >>> t = world.walk_to("in_stock")
    >>> ctx = world.context_for("activate")
    >>> broken = posflow.Context(ctx.payload, clock=world.clock,
    ...                          ports=world.ports.replace(documents=FailingPort("documents")))
    >>> sorted({r.code for r in world.lifecycle.check(t, "activate", broken).reasons})
    ['port.unavailable']

    Args:
        name: the port's name, for reprs.
        error: the exception to raise, or a zero-argument callable making one.
    """

    def __init__(
        self, name: str = "port", error: BaseException | Callable[[], BaseException] | None = None
    ) -> None:
        self._name = name
        self._error = error

    def _raise(self, *args: Any, **kwargs: Any) -> Any:
        error = self._error
        if error is None:
            raise ConnectionError(f"{self._name} is down (posflow.testing.FailingPort)")
        raise error if isinstance(error, BaseException) else error()

    def __getattr__(self, attr: str) -> Callable[..., Any]:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._raise

    def __repr__(self) -> str:
        return f"FailingPort({self._name!r})"


class MisbehavingPort:
    """A port every method of which answers ``answer``: a value of the wrong type or meaning.

    A well-written guard refuses with ``guard.invalid_input`` or ``guard.error``
    rather than crash or let the event through on a nonsense answer.

    Args:
        name: the port's name, for reprs.
        answer: what every method returns (a string by default, where the guards
            expect objects, numbers or booleans).
    """

    def __init__(self, name: str = "port", answer: Any = "nonsense") -> None:
        self._name = name
        self.answer = answer

    def _answer(self, *args: Any, **kwargs: Any) -> Any:
        return self.answer

    def __getattr__(self, attr: str) -> Callable[..., Any]:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._answer

    def __repr__(self) -> str:
        return f"MisbehavingPort({self._name!r}, {self.answer!r})"


class PortsBuilder:
    """A mutable set of ports a test adjusts before building its :class:`~posflow.Ports`.

    The ``posflow_ports`` fixture hands one out, seeded with a :class:`World`'s
    ports so that the default lifecycle's guards pass until the test spoils one.

    >>> from posflow.testing import PortsBuilder
    >>> ports = PortsBuilder().fail("host").build()
    >>> type(ports.host).__name__
    '_Shielded'

    Args:
        ports: the starting ports by name (the others are empty in-memory ports).
    """

    def __init__(self, ports: Mapping[str, Any] | None = None) -> None:
        self._ports: dict[str, Any] = {}
        self._extra: dict[str, Any] = {}
        self.set(**(ports or {}))

    def set(self, **ports: Any) -> PortsBuilder:
        """Use these ports (by name: ``documents``, ..., or any name for an extra port)."""
        for name, port in ports.items():
            (self._ports if name in PORT_NAMES else self._extra)[name] = port
        return self

    def fail(self, *names: str, error: BaseException | None = None) -> PortsBuilder:
        """Replace the ports ``names`` by ones that raise (``error``, or a ``ConnectionError``)."""
        return self.set(**{n: FailingPort(n, error) for n in names})

    def misbehave(self, *names: str, answer: Any = "nonsense") -> PortsBuilder:
        """Replace the ports ``names`` by ones that answer ``answer`` to every question."""
        return self.set(**{n: MisbehavingPort(n, answer) for n in names})

    def get(self, name: str) -> Any:
        """The port currently set under ``name`` (``None`` when it is left to the default)."""
        return self._ports.get(name, self._extra.get(name))

    def build(self) -> Ports:
        """The :class:`~posflow.Ports` these settings describe."""
        return Ports(**self._ports, extra=dict(self._extra))

    def __repr__(self) -> str:
        return f"PortsBuilder({sorted([*self._ports, *self._extra])})"


def world_ports(world: World) -> dict[str, Any]:
    """A world's ports by name, for a :class:`PortsBuilder`."""
    return {name: getattr(world, name) for name in PORT_NAMES}


def names_of(ports: Iterable[str]) -> tuple[str, ...]:
    """Port names, checked against posflow's own.

    Raises:
        InvalidInput: for a name that is not one of ``posflow.ports.PORT_NAMES``.
    """
    out = tuple(ports)
    for name in out:
        if name not in PORT_NAMES:
            raise InvalidInput(f"{name!r} is not one of {', '.join(PORT_NAMES)}", field="ports")
    return out
