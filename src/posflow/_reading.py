"""Reading definition and policy files: YAML, JSON and TOML, strictly.

Every failure (an unreadable or empty file, a syntax error, a key given twice,
a top level that is not a mapping) becomes an ``InvalidDefinition`` naming where
it is, so that loaders report files the way they report documents.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from posflow.errors import DefinitionProblem, InvalidDefinition

__all__ = ["read_document"]


class _DuplicateKey(ValueError):
    def __init__(self, key: object, where: str) -> None:
        self.key = key
        self.where = where
        super().__init__(f"key {key!r} appears twice in one mapping")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key, "document")
        out[key] = value
    return out


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a mapping with a repeated key (last-wins loses data)."""


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            mark = key_node.start_mark
            raise _DuplicateKey(key, f"line {mark.line + 1}, column {mark.column + 1}")
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def read_document(path: Path) -> dict[str, Any]:
    """Read a YAML, JSON or TOML document, turning every failure into ``InvalidDefinition``."""
    source = str(path)

    def fail(message: str, where: str = "document") -> InvalidDefinition:
        return InvalidDefinition([DefinitionProblem(where, message, "malformed")], source=source)

    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json", ".toml"}:
        raise fail(f"unsupported file type {suffix!r}; use .yaml, .yml, .json or .toml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read the file: {exc}") from None
    if not text.strip():  # the same answer for every format (JSON would call it a syntax error)
        raise InvalidDefinition(
            [DefinitionProblem("document", "the file is empty", "empty_definition")], source=source
        )
    try:
        if suffix == ".json":
            data: Any = json.loads(text, object_pairs_hook=_unique_pairs)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise fail(str(exc), exc.where) from None
    except json.JSONDecodeError as exc:
        raise fail(exc.msg, f"line {exc.lineno}, column {exc.colno}") from None
    except tomllib.TOMLDecodeError as exc:
        raise fail(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        raise fail(str(getattr(exc, "problem", None) or exc), where) from None
    if data is None:
        raise InvalidDefinition(
            [DefinitionProblem("document", "the file is empty", "empty_definition")], source=source
        )
    if not isinstance(data, dict):
        raise fail(f"expected a mapping at the top level, got {type(data).__name__}")
    return data
