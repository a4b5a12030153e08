"""What the pytest plugin's fixtures build, kept in the package so that it is measured."""

from __future__ import annotations

import importlib.util

from posflow._lifecycle import Lifecycle
from posflow.testing._service import ServiceLike, SimpleService

__all__ = ["has_store", "memory_service"]


def has_store() -> bool:
    """Whether ``posflow.store`` is part of this installation."""
    return importlib.util.find_spec("posflow.store") is not None


def memory_service(lifecycle: Lifecycle) -> ServiceLike:
    """A ``TerminalService`` over a ``MemoryStore``, or a :class:`SimpleService` without a store."""
    if not has_store():
        return SimpleService(lifecycle)
    from posflow.store import MemoryStore, TerminalService  # noqa: PLC0415

    service: ServiceLike = TerminalService(lifecycle, MemoryStore())
    return service
