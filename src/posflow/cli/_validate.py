"""``posflow validate``: is this file a lifecycle definition or a policy, and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from posflow._lifecycle import Lifecycle
from posflow._reading import read_document
from posflow.errors import InvalidDefinition, InvalidPolicy
from posflow.policy import Policy

__all__ = ["DEFINITION_KEYS", "check_file", "kind_of"]

DEFINITION_KEYS: Final = frozenset({"states", "transitions", "initial", "name", "final"})
"""Top-level keys only a lifecycle definition has; a policy has none of them."""


def kind_of(document: Any) -> str:
    """``"lifecycle definition"`` or ``"policy"``: which one ``document`` means to be."""
    if isinstance(document, dict) and DEFINITION_KEYS & set(document):
        return "lifecycle definition"
    return "policy"


def check_file(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """The kind of ``path`` and every problem in it, as ``(where, message)`` pairs.

    Definitions may name the built-in guards and the default lifecycle's effects.
    """
    from posflow.cli._app import default_effects  # noqa: PLC0415 - avoids an import cycle

    try:
        document = read_document(path)
    except InvalidDefinition as exc:
        return "file", [(p.where, p.message) for p in exc.problems]
    kind = kind_of(document)
    try:
        if kind == "policy":
            Policy.from_dict(document, source=str(path))
        else:
            Lifecycle.from_dict(document, effects=default_effects(), source=str(path))
    except (InvalidDefinition, InvalidPolicy) as exc:
        return kind, [(p.where, p.message) for p in exc.problems]
    return kind, []
