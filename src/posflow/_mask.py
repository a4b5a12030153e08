"""Masking of sensitive values before they reach a repr, a message, a log or history.

posflow never keeps an ID number, bank account, phone number or password in clear
outside the caller's own payload object. Keys are matched by name, so any mapping
(reason evidence, event payloads, terminal data) is masked the same way.

How a key name is matched. :func:`_words` first turns the key into lower-case
words joined by ``_`` (``contactPhone``, ``CONTACT-PHONE`` and ``contact phone``
all become ``contact_phone``). A word written in one case with no separator
(``bankaccountno``, ``LEGALPERSONIDCARD``) stays one word, so each sensitive term
is matched in one of three ways, chosen by how easily it is read into other words:

* **whole words** only: the short or common terms, which sit inside everyday words
  (``pin`` in ``shipping`` and ``pinyin``, ``pan`` in ``company``, ``tel`` in
  ``hotel``, ``id`` in ``paid``, ``acct``, ``ssn``, ``iban``, ``identity``,
  ``master key``...). ``operatorpin`` is therefore not recognised; ``operatorPin``
  and ``operator_pin`` are.
* **anywhere**, even inside a word: long compounds that read as nothing else
  (``password``, ``phone``, ``passport``, ``bankaccount``, ``bankcard``,
  ``settleacct``, ``cardnumber``, ``accountnumber``, ``mobilenumber``, ``idcard``,
  ``idnumber``...), so ``legalpersonidcard`` and ``BANKACCOUNTNUMBER`` are masked.
  ``id`` compounds are not taken after ``pa``, ``val`` or ``vo``: ``prepaidcard``,
  ``invalidnumber`` and ``voidnumber`` name a card type and counts, not ID numbers.
* **at the end of a word**: terms that are safe as the head of a compound name but
  begin other words when something follows them. Abbreviations ending in ``no``
  (``cardno``, ``accountno``, ``acctno``, ``idno``, ``mobileno``) are one: ``no``
  begins ``not``, ``note``, ``notice`` (``cardnotpresent``, ``accountnotice``).
  So are ``mobile`` (``contactmobile``; not ``automobile``, nor ``mobilepos``),
  ``token``, ``secret``, ``pwd``, ``otp``, ``acct`` and ``cvv``: ``paytoken``,
  ``loginpwd`` and ``payeracct`` are masked.

Chinese has no separators between words, so its terms (``密码``, ``手机``,
``电话``, ``身份证``, ``证件号``, ``护照``, ``银行卡``, ``账号``, ``卡号``, ...,
simplified and traditional) are matched anywhere in the key: ``法人身份证号``,
``商户银行卡号``, ``merchant银行账号``.

A key whose last word is one of :data:`_NOT_SECRET_SUFFIXES` holds a fact about a
value, not the value (``password_hash``, ``pin_count``); run together, only
``hash`` and ``salt`` are read that way (``passwordhash``), as ``count`` ends
``account``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["is_sensitive_key", "mask_value", "plain_json", "redact", "unmasked_plain_json"]


def _pattern(
    words: tuple[str, ...], inside: tuple[str, ...], at_end: tuple[str, ...]
) -> re.Pattern[str]:
    """Match a key split by :func:`_words` holding any of the terms (see the module docstring).

    Args:
        words: found only as whole words of the key.
        inside: found anywhere, even inside a word (long compounds, Chinese terms).
        at_end: found as the last letters of a word, whatever comes before them.
    """
    return re.compile(
        r"(?:^|_)(?:" + "|".join(words) + r")(?:_|$)"
        + "|" + "|".join(inside)
        + r"|(?:" + "|".join(at_end) + r")(?=_|$)"
    )  # fmt: skip


# In the words below "_?" lets a two-word name also match written as one word
# (``id_card``, ``idCard``, ``idcard``); "s?" accepts the plural. Each family's
# Chinese terms come simplified first, then traditional.
_NOT_AN_ID_BEFORE = r"(?<!pa)(?<!val)(?<!vo)"
"""``id`` ending ``prepaid``, ``valid`` or ``void`` does not begin an ID compound."""
_SECRET = _pattern(
    (
        r"pwds?", r"pass_?codes?", r"pass_?phrases?", r"pins?", r"pincodes?", r"pinblocks?",
        r"otps?", r"secrets?", r"tokens?", r"master_?keys?", r"api_?keys?", r"private_?keys?",
        r"cvv2?", r"cvc2?", r"cvn2?",
    ),
    inside=(
        r"passw(?:or)?d",  # new_password, operatorpassword, oldpasswd
        r"pass(?:code|phrase)",
        "密码", "口令", "验证码", "密钥",
        "密碼", "驗證碼", "密鑰",
    ),
    at_end=(r"pwds?", r"otps?", r"tokens?", r"secrets?", r"(?:api|private|secret)keys?",
            r"cv[vcn]2?"),
)  # fmt: skip
_PHONE = _pattern(
    (r"mobiles?", r"mobile_?(?:nos?|numbers?)", r"tels?", r"tel_?(?:nos?|numbers?)"),
    inside=(
        r"phone",  # telephone, cellphone, contactphone, phoneno
        r"(?<!auto)mobilenumbers?",
        "手机", "电话",
        "手機", "電話",
    ),
    at_end=(r"(?<!auto)mobile(?:s|nos?)?",),
)  # fmt: skip
_ID = _pattern(
    (
        r"id_?numbers?", r"id_?nos?", r"id_?cards?", r"identity(?:_?cards?)?",
        r"national_?ids?", r"ssns?", r"passports?", r"cert_?(?:nos?|numbers?)",
        r"certificate_?(?:nos?|numbers?)",
    ),
    inside=(
        _NOT_AN_ID_BEFORE + r"id(?:cards?|numbers?)",
        r"identity(?:cards?|numbers?)",
        r"passports?",
        r"certificatenumbers?",
        "身份证", "证件号", "护照",
        "身份證", "證件號", "護照",
    ),
    at_end=(_NOT_AN_ID_BEFORE + r"idnos?", r"certificatenos?"),
)  # fmt: skip
_ACCOUNT = _pattern(
    (
        r"(?:bank|settle|settlement)_?(?:acc(?:ou)?nts?|accts?)", r"bank_?cards?",
        r"acc(?:ou)?nts?_?(?:numbers?|nos?)", r"accts?(?:_?(?:numbers?|nos?))?",
        r"card_?(?:numbers?|nos?)", r"pans?", r"ibans?",
    ),
    inside=(
        r"bank(?:acc(?:ou)?nts?|accts?|cards?)",
        r"settle(?:ment)?(?:acc(?:ou)?nts?|accts?)",
        r"(?:acc(?:ou)?nt|acct|card)numbers?",
        "银行卡", "银行账户", "结算账户", "账号", "帐号", "账户号", "帐户号", "卡号",
        "銀行卡", "銀行帳戶", "結算帳戶", "帳號", "賬號", "帳戶號", "卡號",
    ),
    at_end=(r"(?:acc(?:ou)?nt|acct|card)nos?", r"accts?"),
)  # fmt: skip
_NOT_SECRET_SUFFIXES = ("hash", "salt", "_ok", "_injected", "_present", "_count")
"""A key ending in one of these holds a fact about a value, not the value.

Only ``hash`` and ``salt`` also end a word run together (``passwordhash``): no
sensitive term ends in them, whereas ``count`` ends ``account``.
"""

_CJK = "\u3400-\u9fff\uf900-\ufaff"  # Chinese characters (unified, extension A, compatibility)
_WORD_START = re.compile(
    r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])"
    rf"|(?<=[{_CJK}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[{_CJK}])"
)
"""Where a word starts without a separator.

In camelCase, at a capital: ``operator|Password``, ``ID|Number`` (not ``IBAN``);
and where Chinese meets Latin letters or digits: ``法人|IdCard``, ``merchant|银行账号``.
"""
_NOT_A_WORD = re.compile(r"[\W_]+")
"""Anything but letters and digits separates words: ``_``, ``-``, ``.``, spaces, ``/``."""


def _words(key: str) -> str:
    """Return ``key`` as lower-case words joined by ``_``, whatever its case style.

    ``operatorPassword``, ``Operator-Password``, ``OPERATOR_PASSWORD`` and
    ``operator.password`` all become ``operator_password``, so one set of
    patterns covers the snake_case of Python code and the camelCase of JSON.
    """
    return _NOT_A_WORD.sub("_", _WORD_START.sub("_", key)).strip("_").lower()


_SCALARS = frozenset({str, int, float, bool, bytes})
_PLAIN = frozenset({int, bool, type(None)})  # str: without surrogates; float: finite

_KNOWN_HARMLESS = frozenset(
    {
        # payload keys of the default lifecycle's events
        "address", "amount", "cause", "hardware_faults", "install_address", "merchant",
        "model", "operator", "sn", "software_version", "timed_out",
        # terminal data and changes its effects write (and what they hold)
        "activated_at", "applied_at", "at", "balance", "batch", "binding", "closed_at",
        "closures", "contract_start", "count", "daily", "day", "device_returned", "id",
        "last_closure", "last_reversal", "last_settlement", "last_sign_in", "last_sign_out",
        "master_key_injected", "max", "merchant_id", "no", "penalty_paid", "pending_reversal",
        "reapplied_at", "received_at", "recovery_fee_charged", "shipment_faults",
        "shipped_at", "shipped_sn", "suspension", "suspensions", "total",
    }
)  # fmt: skip
"""Keys known not to be sensitive (``_kind`` gives ``None``; a test holds it to that).

A set lookup costs about a tenth of a call to the cached ``_kind``; the mappings
of every event (payloads, changes) hold mostly these keys.
"""

SECRET_MASK = "******"  # noqa: S105 - the mask shown instead of a secret, not one


@functools.lru_cache(maxsize=4096)  # keys repeat (payload and data keys); six regexes each
def _kind(key: str) -> str | None:
    """What a value under ``key`` is: ``secret``, ``phone``, ``id``, ``account`` or ``None``.

    The key is split into words first (:func:`_words`), so its case style and
    separators do not matter. Cached: keys repeat from event to event.
    """
    k = _words(key)
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


@functools.lru_cache(maxsize=4096)  # as _kind: keys repeat from event to event
def _unplain_key(key: str) -> bool:
    """Tell whether ``key`` keeps a mapping from being unmasked plain JSON.

    That is a sensitive key, or one holding a surrogate code point (see
    :func:`plain_json`). One cached call, where the walk used to call ``_kind``.
    """
    return _kind(key) is not None or not (key.isascii() or _without_surrogates(key))


def is_sensitive_key(key: str) -> bool:
    """Tell whether values stored under ``key`` are masked."""
    return _kind(key) is not None


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
    scalars, kind, harmless = _SCALARS, _kind, _KNOWN_HARMLESS
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        key = k if k.__class__ is str else str(k)
        # a plain value under a harmless key (most of them) is kept without a call:
        # posflow's own keys are found in a set, others classified by the cached _kind
        if (v is None or v.__class__ in scalars) and (key in harmless or kind(key) is None):
            out[k] = v
        else:
            out[k] = mask_value(key, v)
    return out


def unmasked_plain_json(mapping: dict[str, Any]) -> bool:
    """Tell whether ``redact(mapping)`` would be an equal copy, and ``mapping`` is plain JSON.

    True only when no key at any depth is sensitive and ``mapping`` is plain JSON
    (see :func:`plain_json`); anything else is ``False``, even when redact would
    not change it. Cheaper than redacting: nothing is copied.
    """
    return _plain_json(mapping, True)


def plain_json(mapping: Mapping[str, Any], *, sensitive: bool = False) -> bool:
    r"""Tell whether ``mapping`` reads back equal from its JSON text.

    That is ``str`` keys at every depth and values that are exactly ``str``,
    ``int``, ``float`` (finite: JSON has no NaN or infinity, and NaN equals
    nothing), ``bool``, ``None``, or ``dict`` and ``list`` of those (not tuples,
    not subclasses): what JSON decoding gives back. Text (keys and values)
    holding a surrogate code point (U+D800 to U+DFFF) is not plain: JSON writes
    one as a ``\u`` escape, and decoding joins a high one followed by a low one
    into a single character, so ``"\ud83d\ude00"`` would read back as ``"😀"``.
    With ``sensitive``, a sensitive key at any depth also makes it ``False``.
    """
    return _plain_json(mapping, sensitive)


def _plain_json(mapping: Mapping[str, Any], sensitive: bool) -> bool:  # noqa: PLR0911, PLR0912 - a hot path, inlined on purpose
    """:func:`plain_json`, called positionally (cheaper than with a keyword).

    posflow's own keys are found in a set; only others are classified, by the
    cached ``_unplain_key`` (with ``sensitive``) or, without, by their text.
    ASCII text, most of it, costs one ``isascii`` test (a flag CPython keeps on
    the string); only other text is looked through for surrogates.
    """
    harmless = _KNOWN_HARMLESS
    plain = _PLAIN
    text = str  # a local: read once per call, not once per key and value
    for k in mapping:  # then one lookup each: cheaper than items()' pairs, for small mappings
        if k.__class__ is not text:
            return False
        if sensitive:
            if k not in harmless and _unplain_key(k):
                return False
        elif not (k.isascii() or _without_surrogates(k)):
            return False
        v = mapping[k]
        c = v.__class__
        if c is text:
            if v.isascii() or _without_surrogates(v):
                continue
            return False
        if c in plain:
            continue
        if c is dict:
            if not _plain_json(v, sensitive):
                return False
        elif c is float:
            if v - v != 0.0:  # NaN or infinity
                return False
        elif c is not list or not _plain_list(v, sensitive):
            return False
    return True


def _plain_list(items: list[Any], sensitive: bool) -> bool:
    plain = _PLAIN
    text = str
    for v in items:
        c = v.__class__
        if c is text:
            if v.isascii() or _without_surrogates(v):
                continue
            return False
        if c in plain:
            continue
        if c is dict:
            if not _plain_json(v, sensitive):
                return False
        elif c is float:
            if v - v != 0.0:  # NaN or infinity
                return False
        elif c is not list or not _plain_list(v, sensitive):
            return False
    return True


def _without_surrogates(text: str) -> bool:
    """Tell whether ``text`` holds no surrogate code point (U+D800 to U+DFFF).

    Called for non-ASCII text only. Encoding is the cheapest test CPython offers
    (it stops at the first surrogate): for a short Chinese name, about half the
    time a regular expression's search takes.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
