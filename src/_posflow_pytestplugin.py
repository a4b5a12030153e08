"""posflow's pytest plugin: ``posflow_*`` fixtures, registered as the ``posflow`` entry point.

This module sits outside the ``posflow`` package and imports posflow only inside
fixtures, so that loading the plugin (which pytest does before coverage starts)
neither slows down collection nor hides posflow's own lines from coverage.
The fixtures are documented in ``docs/testing.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from posflow import Context, Lifecycle
    from posflow.ports import FrozenClock
    from posflow.testing import PortsBuilder, ServiceLike, World

MARKER = (
    "posflow_ports(fail=(), misbehave=(), **ports): ports for the posflow_ports fixture "
    "(names to make fail or answer nonsense, and ports to use by name)"
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``posflow_ports`` marker."""
    config.addinivalue_line("markers", MARKER)


@pytest.fixture
def posflow_lifecycle() -> Lifecycle:
    """The lifecycle the other ``posflow_*`` fixtures use: the default one.

    Override it in your ``conftest.py`` to run them on your own lifecycle.
    """
    import posflow  # noqa: PLC0415 - see the module docstring

    return posflow.default_lifecycle()


@pytest.fixture
def posflow_clock() -> FrozenClock:
    """A frozen clock at ``posflow.testing.EPOCH``; move it with ``advance(...)``."""
    from posflow.ports import FrozenClock  # noqa: PLC0415
    from posflow.testing import EPOCH  # noqa: PLC0415

    return FrozenClock(EPOCH)


@pytest.fixture
def posflow_world(posflow_lifecycle: Lifecycle, posflow_clock: FrozenClock) -> World:
    """A ``posflow.testing.World`` on ``posflow_lifecycle`` and ``posflow_clock``."""
    from posflow.testing import World  # noqa: PLC0415

    return World(lifecycle=posflow_lifecycle, clock=posflow_clock)


@pytest.fixture
def posflow_ports(request: pytest.FixtureRequest, posflow_world: World) -> PortsBuilder:
    """A mutable ``PortsBuilder`` seeded with ``posflow_world``'s ports.

    Change it in the test (``posflow_ports.fail("host")``) or with the marker
    ``@pytest.mark.posflow_ports(fail=["host"], misbehave=["risk"], documents=vault)``.
    """
    from posflow.testing import PortsBuilder  # noqa: PLC0415
    from posflow.testing._ports import world_ports  # noqa: PLC0415

    builder = PortsBuilder(world_ports(posflow_world))
    for mark in reversed(list(request.node.iter_markers("posflow_ports"))):
        options = dict(mark.kwargs)
        fail = options.pop("fail", ())
        misbehave = options.pop("misbehave", ())
        builder.set(**options)
        builder.fail(*([fail] if isinstance(fail, str) else fail))
        builder.misbehave(*([misbehave] if isinstance(misbehave, str) else misbehave))
    return builder


@pytest.fixture
def posflow_context(
    posflow_world: World, posflow_ports: PortsBuilder, posflow_clock: FrozenClock
) -> Callable[..., Context]:
    """Builds contexts: ``posflow_context(event=None, payload=None, actor="system", **values)``.

    The context carries the ports ``posflow_ports`` holds when it is called, the
    world's policy, ``posflow_clock``, and the world's happy payload for ``event``
    (when given) overridden by ``payload`` and ``values``.
    """
    import posflow  # noqa: PLC0415

    def make(
        event: str | None = None,
        payload: dict[str, Any] | None = None,
        *,
        actor: str = "system",
        **values: Any,
    ) -> Context:
        merged = {**(posflow_world.payload(event) if event else {}), **(payload or {}), **values}
        return posflow.Context(
            merged,
            actor=actor,
            clock=posflow_clock,
            ports=posflow_ports.build(),
            policy=posflow_world.policy,
        )

    return make


@pytest.fixture
def posflow_service(posflow_lifecycle: Lifecycle) -> ServiceLike:
    """An in-memory service on ``posflow_lifecycle``, fresh for each test.

    A ``posflow.store.TerminalService`` over a ``MemoryStore`` when ``posflow.store``
    is installed, else a ``posflow.testing.SimpleService``.
    """
    from posflow.testing._fixtures import memory_service  # noqa: PLC0415

    return memory_service(posflow_lifecycle)
