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
from posflow.store import MemoryStore, TerminalService
from strategies import SENSITIVE_KEYS, sensitive_items, styled_keys

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
        # one mapping: ``key`` may itself be contact_phone or password
        evidence = dict.fromkeys(("contact_phone", "id_number", "bank_account", "password"), value)
        return (EVIDENCE.reason(**{**evidence, key: value, "key": key, "details": nested}),)

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


PHONE, ID_NO, ACCOUNT = "13812345678", "110101199003074512", "6222020200112233445"
MASKED = {
    "secret": "******",
    "phone": "138****5678",
    "id": "110***********4512",
    "account": "***************3445",
}
CLEAR = {"secret": "pw!8888", "phone": PHONE, "id": ID_NO, "account": ACCOUNT}


class TestKeyStyles:
    """Keys are classified by their words, whatever the case style and separators."""

    @pytest.mark.parametrize(
        ("key", "kind"),
        [
            # camelCase and PascalCase, as JSON from HTTP clients has them
            ("operatorPassword", "secret"),
            ("newPassword", "secret"),
            ("contactPhone", "phone"),
            ("idNumber", "id"),
            ("IdNumber", "id"),
            ("IDNumber", "id"),
            ("bankAccount", "account"),
            ("bankAccountNo", "account"),
            ("BankAccountNO", "account"),
            ("userPIN", "secret"),
            ("PINCode", "secret"),
            # kebab-case, dotted, spaced, ALL_CAPS
            ("operator-password", "secret"),
            ("contact-phone", "phone"),
            ("merchant.contact_phone", "phone"),
            ("legal rep.id number", "id"),
            ("Bank Account", "account"),
            ("OPERATOR_PASSWORD", "secret"),
            ("LEGAL_REP_ID_NUMBER", "id"),
            ("SETTLEMENT-ACCOUNT", "account"),
            # short forms and words written together
            ("pwd", "secret"),
            ("passwd", "secret"),
            ("oldPasswd", "secret"),
            ("operatorpassword", "secret"),
            ("pin", "secret"),
            ("cvv2", "secret"),
            ("idcard", "id"),
            ("id_card", "id"),
            ("IDCARD", "id"),
            ("idno", "id"),
            ("idCardNo", "id"),
            ("mobile", "phone"),
            ("mobileNo", "phone"),
            ("tel", "phone"),
            ("telNo", "phone"),
            ("cellphone", "phone"),
            ("acct", "account"),
            ("acctNo", "account"),
            ("payer_acct", "account"),
            ("account_no", "account"),
            ("card_no", "account"),
            ("cardNo", "account"),
            ("pan", "account"),
            ("bankcard", "account"),
            # the rest of the words the docs list
            ("passcode", "secret"),
            ("passPhrase", "secret"),
            ("smsOtp", "secret"),
            ("apiKey", "secret"),
            ("PRIVATE_KEY", "secret"),
            ("pinBlock", "secret"),
            ("cvc", "secret"),
            ("CVN2", "secret"),
            ("masterKey", "secret"),
            ("telephone", "phone"),
            ("identityCard", "id"),
            ("nationalId", "id"),
            ("SSN", "id"),
            ("certNo", "id"),
            ("certificate-number", "id"),
            ("bankAcct", "account"),
            ("settleAccount", "account"),
            ("IBAN", "account"),
        ],
    )
    def test_a_sensitive_key_is_masked_in_any_style(self, key: str, kind: str) -> None:
        assert posflow.redact({key: CLEAR[kind]}) == {key: MASKED[kind]}

    def test_the_reviewers_camel_case_payload_is_masked(self) -> None:
        payload = {
            "operatorPassword": "8888",
            "newPassword": "x",
            "pwd": "1",
            "contactPhone": PHONE,
            "idNumber": ID_NO,
            "bankAccount": ACCOUNT,
            "idcard": ID_NO,
        }
        assert posflow.redact(payload) == {
            "operatorPassword": "******",
            "newPassword": "******",
            "pwd": "******",
            "contactPhone": "138****5678",
            "idNumber": "110***********4512",
            "bankAccount": "***************3445",
            "idcard": "110***********4512",
        }

    @pytest.mark.parametrize(
        "key",
        [
            "merchantId",
            "MerchantID",
            "merchant-id",
            "terminalId",
            "ID",
            "amount",
            "Amount",
            "BATCH",
            "shippedSn",
            "softwareVersion",
            "passwordHash",
            "PASSWORD-SALT",
            "masterKeyInjected",
            "pinCount",
            "phoneOk",
            "shipping",
            "pinyin",
            "company",
            "hotel",
            "accountName",
            "account",
            "card",
            "cardType",
            "idempotencyKey",
        ],
    )
    def test_a_harmless_key_stays_in_clear_in_any_style(self, key: str) -> None:
        # ``*_id`` keys name things (a merchant, a terminal), they are not ID numbers
        assert posflow.redact({key: ID_NO}) == {key: ID_NO}

    def test_nested_camel_case_payloads_are_masked_at_every_depth(self) -> None:
        payload = {
            "merchant": {"contactPhone": PHONE, "legalRep": {"IDNumber": ID_NO, "name": "Ming"}},
            "operators": [{"operatorId": "01", "loginPwd": "8888"}],
            "settlement": ({"bank-account": ACCOUNT},),
        }
        assert posflow.redact(payload) == {
            "merchant": {
                "contactPhone": "138****5678",
                "legalRep": {"IDNumber": "110***********4512", "name": "Ming"},
            },
            "operators": [{"operatorId": "01", "loginPwd": "******"}],
            "settlement": ({"bank-account": "***************3445"},),
        }

    def test_a_context_repr_masks_camel_case_payload_keys(self) -> None:
        ctx = Context({"operatorPassword": "pw!8888", "idCard": ID_NO, "amount": 1200})
        text = repr(ctx)
        assert "pw!8888" not in text
        assert ID_NO not in text
        assert "'amount': 1200" in text

    def test_the_service_keeps_camel_case_payloads_and_changes_masked(self) -> None:
        def effect(terminal: Terminal, ctx: Context) -> dict[str, Any]:
            return {"contactPhone": PHONE, "merchant": {"bankAccountNo": ACCOUNT}}

        lc = Lifecycle(
            ["a", State("b", final=True)], [Transition("go", "a", "b", effect=effect)], "a"
        )
        svc = TerminalService(lc, MemoryStore())
        svc.create("T1")
        payload = {"operatorPassword": "pw!8888", "IdNumber": ID_NO, "amount": 5}
        assert svc.fire("T1", "go", Context(payload, actor="op")).ok
        (record,) = svc.history("T1")
        assert record.payload == {
            "operatorPassword": "******",
            "IdNumber": "110***********4512",
            "amount": 5,
        }
        assert record.changes == {
            "contactPhone": "138****5678",
            "merchant": {"bankAccountNo": "***************3445"},
        }
        # the terminal row keeps its data as given, and the audit knows why they differ
        assert svc.get("T1").data["contactPhone"] == PHONE
        assert svc.verify_all() == []

    @given(
        data=st.data(),
        kind=st.sampled_from(sorted(SENSITIVE_KEYS)),
        before=st.sampled_from(("", "merchant_", "new_", "legal_rep_")),
        after=st.sampled_from(("", "_value", "_text")),
    )
    def test_a_sensitive_word_in_any_case_style_is_masked(
        self, data: st.DataObject, kind: str, before: str, after: str
    ) -> None:
        word = data.draw(st.sampled_from(SENSITIVE_KEYS[kind]))
        key = data.draw(styled_keys(before + word + after))
        assert posflow.redact({key: CLEAR[kind]}) == {key: MASKED[kind]}

    @given(data=st.data(), key=st.sampled_from(sorted(_KNOWN_HARMLESS | {"terminal_id"})))
    def test_a_harmless_key_in_any_case_style_stays_in_clear(
        self, data: st.DataObject, key: str
    ) -> None:
        styled = data.draw(styled_keys(key))
        assert posflow.redact({styled: ID_NO}) == {styled: ID_NO}
