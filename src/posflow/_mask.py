"""Masking of sensitive values before they reach a repr, a message, a log or history.

posflow never keeps an ID number, bank account, phone number or password in clear
outside the caller's own payload object. Keys are matched by name, so any mapping
(reason evidence, event payloads, terminal data) is masked the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["is_sensitive_key", "json_may_hold_sensitive_key", "mask_value", "redact"]


def _pattern(*words: str) -> re.Pattern[str]:
    return re.compile(r"(?:^|_)(?:" + "|".join(words) + r")(?:_|$)")


_SECRET_WORDS = ("passwords?", "passwd", "secrets?", "pins?", "tokens?", "master_keys?")
_PHONE_WORDS = ("phones?", "mobiles?", "tel", "telephones?")
_ID_WORDS = ("id_numbers?", "id_no", "id_cards?", "identity", "passports?")
_ACCOUNT_WORDS = (
    "bank_accounts?",
    "settlement_accounts?",
    "account_numbers?",
    "account_no",
    "card_numbers?",
    "ibans?",
)
_SECRET = _pattern(*_SECRET_WORDS)
_PHONE = _pattern(*_PHONE_WORDS)
_ID = _pattern(*_ID_WORDS)
_ACCOUNT = _pattern(*_ACCOUNT_WORDS)
# Every word above without its plural and without the word boundaries, on either
# separator, plus any \u escape (a non-ASCII key may lower-case into one of the words):
# a superset of what the four patterns find, run over lower-cased ASCII JSON text.
_SCREEN = re.compile(
    "|".join(
        w.removesuffix("s?").replace("_", "[_-]")
        for w in _SECRET_WORDS + _PHONE_WORDS + _ID_WORDS + _ACCOUNT_WORDS
    )
    + r"|\\u"
)
_NOT_SECRET_SUFFIXES = ("_hash", "_salt", "_ok", "_injected", "_present", "_count")

_SCALARS = frozenset({str, int, float, bool, bytes})

SECRET_MASK = "******"  # noqa: S105 - the mask shown instead of a secret, not one


@functools.lru_cache(maxsize=4096)  # keys repeat (payload and data keys); four regexes each
def _kind(key: str) -> str | None:
    k = key.lower().replace("-", "_")
    if k.endswith(_NOT_SECRET_SUFFIXES):
        return None
    if _SECRET.search(k):
        return "secret"
    if _PHONE.search(k):
        return "phone"
    if _ID.search(k):
        return "id"
    if _ACCOUNT.search(k):
        return "account"
    return None


def is_sensitive_key(key: str) -> bool:
    """Tell whether values stored under ``key`` are masked."""
    return _kind(key) is not None


def json_may_hold_sensitive_key(text: str) -> bool:
    """Tell whether ASCII JSON ``text`` could hold a key that :func:`redact` masks.

    ``False`` is certain: no key of the decoded value is sensitive, at any depth,
    so :func:`redact` would return an equal copy. ``True`` may be a false alarm
    (the screen also looks inside values and ignores word boundaries). ``text``
    must come from an encoder that escapes every non-ASCII character.
    """
    return _SCREEN.search(text.lower()) is not None


def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_value(key: str, value: Any) -> Any:
    """Return ``value`` masked according to what ``key`` says it holds.

    Passwords and other secrets become ``******`` whatever their length, so even
    their length is not revealed. Phone numbers keep their first three and last
    four digits (``138****5678``), ID numbers their first three and last four, and
    account numbers their last four only. Values under other keys pass unchanged,
    except that mappings and sequences are masked recursively.
    """
    kind = _kind(key)
    if kind is None:
        return redact_any(value)
    if value is None or value == "":
        return value
    if isinstance(value, list | tuple | set | frozenset):  # plural keys: mask each item
        return [mask_value(key, v) for v in value]
    if kind == "secret":
        return SECRET_MASK
    head = 0 if kind == "account" else 3  # phones and IDs keep 3 leading characters
    return _keep_ends(str(value), head, 4)


def redact_any(value: Any) -> Any:
    """Mask sensitive keys anywhere inside nested mappings and sequences."""
    if value is None or value.__class__ in _SCALARS:  # most values: skip the ABC checks
        return value
    if value.__class__ is dict or isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return (
            type(value)(redact_any(v) for v in value)
            if isinstance(value, tuple)
            else [redact_any(v) for v in value]
        )
    return value


def redact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``mapping`` with every sensitive value masked."""
    scalars, kind = _SCALARS, _kind
    return {
        # a plain value under a harmless key (most of them) is kept without a call
        k: v
        if (v is None or v.__class__ in scalars)
        and kind(k if k.__class__ is str else str(k)) is None
        else mask_value(str(k), v)
        for k, v in mapping.items()
    }
