"""posflow: explainable, durable state machines for a payment POS terminal's whole life.

The public API is re-exported here; implementation modules are private. Start
with :func:`default_lifecycle`, fire events with :meth:`Lifecycle.fire` and read
why a step is refused from the :class:`Reason` objects it returns.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from posflow import errors
from posflow._catalogue import Catalogue, default_catalogue, reason_spec
from posflow._context import Context
from posflow._default import default_effects, default_lifecycle
from posflow._history import HistoryRecord
from posflow._lifecycle import Lifecycle
from posflow._mask import redact
from posflow._outcome import Outcome, Verdict
from posflow._reasons import LANGUAGES, Category, Reason, ReasonSpec
from posflow._spec import State, Transition
from posflow._terminal import Terminal
from posflow.guards import GuardRegistry, all_of, any_of, default_guards, guard, not_
from posflow.policy import Policy
from posflow.ports import FrozenClock, Ports, SystemClock

try:
    __version__ = _version("posflow")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "LANGUAGES",
    "Catalogue",
    "Category",
    "Context",
    "FrozenClock",
    "GuardRegistry",
    "HistoryRecord",
    "Lifecycle",
    "Outcome",
    "Policy",
    "Ports",
    "Reason",
    "ReasonSpec",
    "State",
    "SystemClock",
    "Terminal",
    "Transition",
    "Verdict",
    "__version__",
    "all_of",
    "any_of",
    "default_catalogue",
    "default_effects",
    "default_guards",
    "default_lifecycle",
    "errors",
    "guard",
    "not_",
    "reason_spec",
    "redact",
]
