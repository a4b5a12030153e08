"""The guards' readers and history masking take shortcuts for plain values; they agree with the
general path.

``posflow.guards._read`` reads a ``str``, an ``int``, a ``dict`` or a port answer of
the exact expected class without the ABC checks, and ``posflow._mask.redact`` keeps
a plain value under a harmless key without a call. Each test gives the same
content once as the plain type and once wrapped in a subclass or a custom
mapping (which takes the general path) and checks both readings agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow._mask import redact
from posflow.errors import InvalidInput, PortUnavailable
from posflow.guards import _read
from posflow.ports import Document, DocumentKind
from strategies import sensitive_items


class Wrapped(Mapping[str, Any]):
    """A mapping that is neither a ``dict`` nor a ``MappingProxyType``."""

    def __init__(self, inner: Mapping[str, Any]) -> None:
        self._inner = dict(inner)

    def __getitem__(self, key: str) -> Any:
        return self._inner[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)


class Text(str):
    """A ``str`` subclass: read through the general path."""


class Count(int):
    """An ``int`` subclass: read through the general path."""


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.text(max_size=12),
    st.lists(st.integers(0, 9), max_size=3),
)
_keys = st.sampled_from(["amount", "note", "sn", "phone", "password", "settlement_account", "x"])


@given(st.text(max_size=20))
def test_optional_text_reads_a_str_and_a_str_subclass_alike(text: str) -> None:
    plain = _read.optional_text({"k": text}, "k", "payload.k")
    subclassed = _read.optional_text({"k": Text(text)}, "k", "payload.k")
    assert plain == subclassed
    assert plain is None or plain.__class__ is str
    assert plain == (text.strip() or None)


@given(st.integers(0, 10**12))
def test_whole_reads_an_int_and_an_int_subclass_alike(n: int) -> None:
    assert _read.whole(n, "f") == _read.whole(Count(n), "f") == n


def test_whole_still_refuses_booleans_and_negatives() -> None:
    with pytest.raises(InvalidInput):
        _read.whole(True, "f")
    with pytest.raises(InvalidInput):
        _read.whole(-1, "f")


@given(st.dictionaries(_keys, _values, max_size=5))
def test_mapping_reads_a_dict_and_a_custom_mapping_alike(d: dict[str, Any]) -> None:
    assert dict(_read.mapping(d, "f")) == dict(_read.mapping(Wrapped(d), "f")) == d


def test_mapping_refuses_what_is_not_one() -> None:
    assert _read.mapping(None, "f") == {}
    with pytest.raises(InvalidInput):
        _read.mapping(["a"], "data.merchant")


@given(
    st.dictionaries(st.sampled_from(["id", "type", "region"]), st.text(max_size=5), max_size=3),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(["id", "region"]), st.text(max_size=5))),
)
def test_merchant_of_merges_the_payload_over_the_record(
    stored: dict[str, str], given_merchant: dict[str, str] | None
) -> None:
    terminal = posflow.Terminal("T1", "applied", 0, {"merchant": stored})
    payload = {} if given_merchant is None else {"merchant": given_merchant}
    ctx = posflow.Context(payload)
    assert dict(_read.merchant_of(terminal, ctx)) == {**stored, **(given_merchant or {})}


def test_merchant_of_refuses_a_payload_merchant_that_is_not_a_mapping() -> None:
    terminal = posflow.Terminal("T1", "applied", 0, {"merchant": {"id": "M1"}})
    with pytest.raises(InvalidInput) as err:
        _read.merchant_of(terminal, posflow.Context({"merchant": "M2"}))
    assert err.value.field == "payload.merchant"


class SubDocument(Document):
    """A document subclass: still a :class:`Document`, read through the general check."""


def test_port_answer_takes_the_exact_class_and_subclasses_alike() -> None:
    exact = Document(DocumentKind.ID_CARD_BACK)
    sub = SubDocument(DocumentKind.ID_CARD_BACK)
    assert _read.port_answer("documents", exact, Document) is exact
    assert _read.port_answer("documents", sub, Document) is sub
    assert _read.port_answer("documents", None, Document) is None
    with pytest.raises(PortUnavailable):
        _read.port_answer("documents", "a document", Document)
    with pytest.raises(PortUnavailable):
        _read.port_answer("documents", None, Document, optional=False)


@given(st.dictionaries(_keys, _values, max_size=6), sensitive_items())
def test_redact_masks_a_dict_and_a_custom_mapping_alike(
    d: dict[str, Any], item: tuple[str, str]
) -> None:
    key, clear = item
    d = {**d, key: clear, "nested": {key: clear, "ok": 1}}
    plain, general = redact(d), redact(Wrapped(d))
    assert plain == general
    assert clear not in (plain[key], plain["nested"][key])
    assert plain["nested"]["ok"] == 1


def test_redact_reads_keys_that_are_not_strings() -> None:
    assert redact({1: "a", None: 2}) == {1: "a", None: 2}
