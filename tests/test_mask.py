"""Masking: sensitive values never appear in clear in reprs, messages or history."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow import Context, Lifecycle, State, Terminal, Transition
from posflow._mask import _KNOWN_HARMLESS, _kind, is_sensitive_key, redact, unmasked_plain_json
from strategies import SENSITIVE_KEYS, sensitive_items

EVIDENCE = posflow.reason_spec(
    "compliance.evidence_shown",
    retryable=False,
    en="Evidence ({key}): phone {contact_phone}; id {id_number}; account {bank_account}.",
    zh_cn="证据（{key}）：电话 {contact_phone}；证件 {id_number}；账户 {bank_account}。",
    remedy_en="Check {details} and {password}.",
    remedy_zh_cn="请核对 {details} 和 {password}。",
)


class TestRedact:
    @pytest.mark.parametrize(
        ("key", "value", "masked"),
        [
            ("contact_phone", "13812345678", "138****5678"),
            ("mobile", "13812345678", "138****5678"),
            ("id_number", "110101199003074512", "110***********4512"),
            ("legal_rep_id_card", "110101199003074512", "110***********4512"),
            ("bank_account", "6222020200112233445", "***************3445"),
            ("card_number", 6222020200112233, "************2233"),
            ("password", "hunter22", "******"),
            ("operator_pin", "1234", "******"),
            ("master_key", "ABCDEF0123456789", "******"),
        ],
    )
    def test_sensitive_values_are_masked_by_key_name(
        self, key: str, value: Any, masked: str
    ) -> None:
        assert posflow.redact({key: value}) == {key: masked}

    @pytest.mark.parametrize(
        "key", ["password_hash", "password_salt", "master_key_injected", "phone_ok", "pin_count"]
    )
    def test_derived_facts_about_a_secret_are_not_masked(self, key: str) -> None:
        assert posflow.redact({key: "value"}) == {key: "value"}

    def test_short_values_are_masked_entirely(self) -> None:
        assert posflow.redact({"phone": "1234567"}) == {"phone": "*******"}

    def test_empty_values_stay_empty(self) -> None:
        assert posflow.redact({"phone": "", "password": None}) == {"phone": "", "password": None}

    def test_other_keys_pass_unchanged(self) -> None:
        data = {"name": "Ming", "amount": 1200, "shop_address": "1 Road"}
        assert posflow.redact(data) == data

    def test_nested_mappings_and_sequences_are_masked(self) -> None:
        data = {
            "merchant": {"contact_phone": "13812345678", "name": "Ming"},
            "operators": [{"password": "pw"}, ({"mobile": "13900001111"},)],
        }
        assert posflow.redact(data) == {
            "merchant": {"contact_phone": "138****5678", "name": "Ming"},
            "operators": [{"password": "******"}, ({"mobile": "139****1111"},)],
        }

    def test_redact_copies_and_leaves_the_original_alone(self) -> None:
        data = {"password": "pw"}
        posflow.redact(data)
        assert data == {"password": "pw"}


def _surfaces(key: str, value: str) -> list[str]:
    """Every text posflow makes about a terminal whose data, payload and evidence hold ``value``."""
    nested = {"merchant": {key: value, "name": "Ming"}, key: value}

    @posflow.guard("compliance.evidence")
    def evidence(terminal: Terminal, ctx: Context) -> tuple[posflow.Reason, ...]:
        return (
            EVIDENCE.reason(
                key=key,
                contact_phone=value,
                id_number=value,
                bank_account=value,
                password=value,
                **{key: value, "details": nested},
            ),
        )

    @posflow.guard("compliance.crash")
    def crash(terminal: Terminal, ctx: Context) -> None:
        raise ValueError(f"lookup failed for {value}")

    def effect(terminal: Terminal, ctx: Context) -> dict[str, Any]:
        return dict(nested)

    lc = Lifecycle(
        ["a", State("b", final=True)],
        [
            Transition("check", "a", "=", conditions=[evidence, crash]),
            Transition("go", "a", "b", effect=effect),
        ],
        "a",
    )
    t = lc.new_terminal("T1", nested)
    ctx = Context(nested, actor="op", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    refused = lc.fire(t, "check", ctx)
    accepted = lc.fire(t, "go", ctx)
    texts = [repr(t), repr(ctx), repr(refused), repr(accepted), repr(accepted.terminal)]
    texts += [repr(refused.reasons), repr(lc.check(t, "check", ctx)), repr(lc.available(t, ctx))]
    for lang in posflow.LANGUAGES:
        texts += refused.explain(lang)
        texts += [json.dumps(r.to_dict(lang), ensure_ascii=False) for r in refused.reasons]
    for outcome in (refused, accepted):
        texts += [repr(outcome.record), json.dumps(outcome.record.to_dict(), default=str)]
    texts.append(str(_blocked(refused)))
    replayed = lc.replay([refused.record, accepted.record], data=nested)
    texts.append(repr(replayed))
    return texts


def _blocked(outcome: posflow.Outcome) -> posflow.errors.TransitionBlocked:
    with pytest.raises(posflow.errors.TransitionBlocked) as caught:
        outcome.raise_for_blocked()
    return caught.value


class TestNothingSensitiveLeaks:
    @given(item=sensitive_items())
    def test_no_surface_shows_a_sensitive_value_in_clear(self, item: tuple[str, str]) -> None:
        key, value = item
        for text in _surfaces(key, value):
            assert value not in text, f"{key}={value!r} leaked in {text!r}"

    @given(item=sensitive_items())
    def test_history_keeps_only_masked_payloads_and_changes(self, item: tuple[str, str]) -> None:
        key, value = item
        record = posflow.HistoryRecord(
            "T",
            None,
            "go",
            "a",
            "b",
            1,
            "op",
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            payload={key: value, "inner": [{key: value}]},
            changes={"merchant": {key: value}},
        )
        assert value not in repr(record.payload)
        assert value not in repr(record.changes)
        assert value not in repr(record.with_seq(3))

    def test_the_sensitive_key_families_are_all_exercised(self) -> None:
        for keys in SENSITIVE_KEYS.values():
            for key in keys:
                assert posflow.redact({key: "abcdefghijkl"})[key] != "abcdefghijkl", key

    @given(value=st.text(min_size=1))
    def test_a_secret_hides_even_its_length(self, value: str) -> None:
        assert posflow.redact({"password": value}) == {"password": "******"}


class TestPluralAndVariantKeys:
    def test_plural_and_variant_sensitive_keys_are_masked_item_by_item(self) -> None:
        masked = posflow.redact(
            {
                "contact_phones": ["13812345678", "13912345678"],
                "telephone": "02188886666",
                "bank_accounts": ("6222020200112233",),
                "passwords": ["hunter2"],
            }
        )
        assert masked == {
            "contact_phones": ["138****5678", "139****5678"],
            "telephone": "021****6666",
            "bank_accounts": ["************2233"],
            "passwords": ["******"],
        }


_KEY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_PLAIN_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEY_TEXT, inner, max_size=3),
    max_leaves=8,
)


class TestUnmaskedPlainJson:
    """``unmasked_plain_json``: ``True`` only when redact would return an equal copy."""

    def test_every_sensitive_key_family_is_seen_at_any_depth(self) -> None:
        for keys in SENSITIVE_KEYS.values():
            for key in keys:
                for variant in (key, key.upper(), key.replace("_", "-"), f"x_{key}_y"):
                    if is_sensitive_key(variant):
                        value = {"outer": [[{"inner": {variant: 1}}]]}
                        assert not unmasked_plain_json(value), variant

    def test_harmless_plain_changes_pass(self) -> None:
        assert unmasked_plain_json({"batch": {"count": 1, "total": 1200}, "l": [[1], {"a": 2}]})

    @given(value=st.dictionaries(_KEY_TEXT, _PLAIN_VALUES, max_size=4))
    def test_true_means_redact_changes_nothing(self, value: dict[str, Any]) -> None:
        if unmasked_plain_json(value):
            assert posflow.redact(value) == value
            assert json.loads(json.dumps(value)) == value

    @given(key=_KEY_TEXT, depth=st.integers(0, 3))
    def test_a_key_redact_masks_is_never_passed(self, key: str, depth: int) -> None:
        value: Any = {key: "1234567890"}
        for _ in range(depth):
            value = {"wrap": [value]}
        if posflow.redact(value) != value:
            assert not unmasked_plain_json(value), key


def test_known_harmless_keys_are_not_sensitive() -> None:
    # redact and plain_json trust this set instead of classifying its keys
    assert _KNOWN_HARMLESS
    assert [k for k in _KNOWN_HARMLESS if _kind(k) is not None] == []


def test_redact_masks_sensitive_keys_beside_known_ones() -> None:
    masked = redact({"amount": 5, "password": "123456", "batch": {"no": 1, "pin": "1234"}})
    assert masked == {"amount": 5, "password": "******", "batch": {"no": 1, "pin": "******"}}
