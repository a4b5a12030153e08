"""Test kit for workflows built on posflow: worlds, ports that fail, strategies, a state machine.

What needs nothing beyond posflow is imported here directly: :class:`World`
(ports, policy and clock in which every guard of the default lifecycle passes),
:class:`FailingPort` and :class:`MisbehavingPort`, :class:`PortsBuilder` and
:class:`SimpleService`.

What is built on hypothesis needs the ``testing`` extra
(``pip install 'posflow[testing]'``) and is loaded on first use:
:mod:`posflow.testing.strategies`, :class:`TerminalMachine` and
:class:`InvariantViolation`. ``import posflow`` never imports hypothesis.

The pytest plugin (``posflow_*`` fixtures) is registered as the ``posflow``
entry point and loads by itself wherever posflow and pytest are installed.
See ``docs/testing.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from posflow.testing._ports import FailingPort, MisbehavingPort, PortsBuilder
from posflow.testing._service import ServiceLike, SimpleService
from posflow.testing._world import EPOCH, HAPPY_PAYLOADS, World, shortest_path

if TYPE_CHECKING:
    from posflow.testing import strategies
    from posflow.testing._machine import InvariantViolation, TerminalMachine

__all__ = [
    "EPOCH",
    "HAPPY_PAYLOADS",
    "FailingPort",
    "InvariantViolation",
    "MisbehavingPort",
    "PortsBuilder",
    "ServiceLike",
    "SimpleService",
    "TerminalMachine",
    "World",
    "shortest_path",
    "strategies",
]

_LAZY = {
    "TerminalMachine": "posflow.testing._machine",
    "InvariantViolation": "posflow.testing._machine",
    "strategies": "posflow.testing.strategies",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posflow.testing' has no attribute {name!r}")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess test
        if exc.name != "hypothesis":
            raise
        raise ImportError(
            f"posflow.testing.{name} needs hypothesis: pip install 'posflow[testing]'"
        ) from exc
    value = loaded if module.endswith(name) else getattr(loaded, name)
    globals()[name] = value
    return value
