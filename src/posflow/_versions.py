"""Dotted version numbers (firmware, software), compared part by part as integers."""

from __future__ import annotations

import functools
import re
from typing import Final

from posflow.errors import InvalidInput

__all__ = ["parse_version"]

_VERSION: Final = re.compile(r"\d{1,9}(?:\.\d{1,9}){0,5}")


@functools.lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[int, ...] | None:
    if not _VERSION.fullmatch(text):
        return None
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # "2.1.0" and "2.1" are the same version
    return tuple(parts)


def parse_version(value: object, field: str) -> tuple[int, ...]:
    """The version ``value`` (such as ``"2.10.1"``) as a tuple that compares correctly.

    ``"2.10"`` is newer than ``"2.9"``, which plain string comparison gets wrong.

    Raises:
        InvalidInput: naming ``field`` when ``value`` is not a dotted number.
    """
    parsed = _parse(value.strip()) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(f"must be a dotted version such as 2.1.0, got {value!r}", field=field)
    return parsed
