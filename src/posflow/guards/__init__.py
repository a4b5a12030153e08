"""Guards: the rules that protect every step, and the tools to compose them.

A guard is any callable ``(terminal, ctx) -> reasons``; an empty result means the
step may go ahead. Built-in guards are registered under dotted names
(``documents.application_form_complete``) in :func:`default_guards`; lifecycles
refer to them by name, and services add their own with
:meth:`GuardRegistry.extended`. :func:`reference_markdown` writes the reference
of every built-in guard and reason code (``docs/guards.md``).
"""

from __future__ import annotations

import functools

from posflow._reasons import ReasonSpec
from posflow.guards import (
    _closing,
    _compliance,
    _documents,
    _reapply,
    _session,
    _settlement,
    _stock,
)
from posflow.guards._framework import (
    GUARD_REFUSED,
    INVALID_INPUT,
    Guard,
    GuardLike,
    GuardRegistry,
    GuardResult,
    all_of,
    any_of,
    guard,
    guard_name,
    not_,
    run_guard,
)
from posflow.guards._reference import reference_markdown

__all__ = [
    "Guard",
    "GuardLike",
    "GuardRegistry",
    "GuardResult",
    "all_of",
    "any_of",
    "default_guards",
    "guard",
    "guard_name",
    "not_",
    "reference_markdown",
    "run_guard",
]

_MODULES = (_documents, _compliance, _stock, _session, _settlement, _closing, _reapply)


@functools.cache
def default_guards() -> GuardRegistry:
    """Every built-in guard, by dotted name (immutable; extend it for your own)."""
    table = {}
    for module in _MODULES:
        table.update(module.GUARDS)
    return GuardRegistry(table)


def _catalogue_specs() -> tuple[ReasonSpec, ...]:
    specs: list[ReasonSpec] = [GUARD_REFUSED, INVALID_INPUT]
    for module in _MODULES:
        specs.extend(module.SPECS)
    return tuple(specs)
