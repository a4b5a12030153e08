"""``ReasonSpec``, ``Reason``, ``Category``, ``reason_spec`` and ``LANGUAGES``."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import attrs
import pytest

import posflow
from posflow import Category, Reason, ReasonSpec
from posflow.errors import InvalidInput

OVER_LIMIT = posflow.reason_spec(
    "settlement.amount_over_limit",
    retryable=False,
    en="The amount {amount} fen is over the limit of {limit} fen.",
    zh_cn="金额 {amount} 分超过限额 {limit} 分。",
    remedy_en="Split the payment or raise the limit above {limit} fen.",
    remedy_zh_cn="请拆分支付，或将限额提高到 {limit} 分以上。",
)


class TestReasonSpecDeclaration:
    def test_reason_spec_reads_the_category_from_the_code(self) -> None:
        assert OVER_LIMIT.category is Category.SETTLEMENT
        assert OVER_LIMIT.code == "settlement.amount_over_limit"
        assert not OVER_LIMIT.retryable

    def test_an_unknown_category_prefix_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="known category") as caught:
            posflow.reason_spec(
                "billing.late", retryable=False, en="x", zh_cn="x", remedy_en="x", remedy_zh_cn="x"
            )
        assert caught.value.field == "code"

    @pytest.mark.parametrize("code", ["stock", "stock.", "documents.x"])
    def test_a_spec_whose_code_does_not_match_its_category_is_refused(self, code: str) -> None:
        with pytest.raises(InvalidInput, match="must start with its category"):
            ReasonSpec(code, Category.STOCK, False, "x", "x", "x", "x")

    @pytest.mark.parametrize("field", ["en", "zh_cn", "remedy_en", "remedy_zh_cn"])
    def test_every_language_and_remedy_must_be_written(self, field: str) -> None:
        texts = {"en": "x", "zh_cn": "x", "remedy_en": "x", "remedy_zh_cn": "x", field: "  "}
        with pytest.raises(InvalidInput) as caught:
            posflow.reason_spec("stock.x", retryable=False, **texts)
        assert caught.value.field == field

    @pytest.mark.parametrize(
        ("texts", "field"),
        [
            ({"en": "{count} left", "zh_cn": "剩余"}, "zh_cn"),  # zh-CN hides the evidence
            ({"en": "left", "zh_cn": "剩余 {count}"}, "zh_cn"),  # zh-CN shows more
            ({"remedy_en": "Add {n}.", "remedy_zh_cn": "请补充 {m}。"}, "remedy_zh_cn"),
            ({"en": "{kind_zh} missing", "zh_cn": "缺少{kind_zh}"}, "en"),  # English shows _zh
            ({"en": "{oops", "zh_cn": "x"}, "en"),  # not a template
        ],
    )
    def test_both_languages_must_show_the_same_evidence(
        self, texts: dict[str, str], field: str
    ) -> None:
        base = {"en": "x", "zh_cn": "x", "remedy_en": "x", "remedy_zh_cn": "x"}
        with pytest.raises(InvalidInput) as caught:
            posflow.reason_spec("stock.x", retryable=False, **{**base, **texts})
        assert caught.value.field == field

    def test_zh_cn_may_show_a_chinese_form_of_a_field(self) -> None:
        spec = posflow.reason_spec(
            "stock.y", retryable=False, en="No {kind} on file.", zh_cn="缺少{kind_zh}。",
            remedy_en="Add the {kind} ({count}).", remedy_zh_cn="请补充{kind_zh}（{count}）。",
        )  # fmt: skip
        reason = spec.reason(kind="lease", kind_zh="租赁合同", count=1)
        assert reason.message("zh-CN") == "缺少租赁合同。"

    def test_text_gives_the_template_and_remedy_per_language(self) -> None:
        assert OVER_LIMIT.text("en") == (OVER_LIMIT.en, OVER_LIMIT.remedy_en)
        assert OVER_LIMIT.text("zh-CN") == (OVER_LIMIT.zh_cn, OVER_LIMIT.remedy_zh_cn)

    @pytest.mark.parametrize("lang", ["fr", "zh", "EN", "zh_CN", ""])
    def test_an_unknown_language_is_invalid_input(self, lang: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            OVER_LIMIT.text(lang)
        assert caught.value.field == "lang"
        with pytest.raises(InvalidInput):
            OVER_LIMIT.reason().message(lang)
        with pytest.raises(InvalidInput):
            OVER_LIMIT.reason().remedy(lang)

    def test_the_languages_are_english_and_simplified_chinese(self) -> None:
        assert posflow.LANGUAGES == ("en", "zh-CN")


class TestReason:
    def test_a_reason_carries_its_code_category_and_evidence(self) -> None:
        r = OVER_LIMIT.reason(amount=250_000, limit=200_000)
        assert (r.code, r.category, r.retryable, r.guard) == (
            "settlement.amount_over_limit",
            Category.SETTLEMENT,
            False,
            None,
        )
        assert r.params == {"amount": 250_000, "limit": 200_000}
        assert r.spec is OVER_LIMIT

    def test_the_message_and_remedy_are_filled_with_the_evidence(self) -> None:
        r = OVER_LIMIT.reason(amount=250_000, limit=200_000)
        assert r.message() == "The amount 250000 fen is over the limit of 200000 fen."
        assert r.message("zh-CN") == "金额 250000 分超过限额 200000 分。"
        assert r.remedy() == "Split the payment or raise the limit above 200000 fen."
        assert r.remedy("zh-CN") == "请拆分支付，或将限额提高到 200000 分以上。"

    def test_missing_evidence_stays_visible_instead_of_failing(self) -> None:
        assert OVER_LIMIT.reason(amount=1).message() == (
            "The amount 1 fen is over the limit of {limit} fen."
        )

    def test_list_evidence_is_shown_comma_separated(self) -> None:
        spec = posflow.reason_spec(
            "documents.many_missing",
            retryable=False,
            en="Missing: {docs}.",
            zh_cn="缺少：{docs}。",
            remedy_en="Upload {docs}.",
            remedy_zh_cn="请上传{docs}。",
        )
        r = spec.reason(docs=["licence", "id"])
        assert r.message() == "Missing: licence, id."
        assert spec.reason(docs=("a",)).message("zh-CN") == "缺少：a。"

    def test_the_retryable_flag_may_be_overridden_per_occurrence(self) -> None:
        assert OVER_LIMIT.reason(retryable=True).retryable
        assert not OVER_LIMIT.reason().retryable

    def test_the_guard_fills_a_guard_placeholder(self) -> None:
        spec = posflow.reason_spec(
            "guard.custom_failed",
            retryable=True,
            en="'{guard}' failed.",
            zh_cn="“{guard}”失败。",
            remedy_en="Fix '{guard}'.",
            remedy_zh_cn="请修复“{guard}”。",
        )
        r = spec.reason(guard="docs.x")
        assert (r.message(), r.remedy("zh-CN")) == ("'docs.x' failed.", "请修复“docs.x”。")
        assert "guard" not in r.params

    def test_a_reason_without_a_spec_shows_its_code(self) -> None:
        r = Reason("stock.odd", Category.STOCK, {}, False)
        assert (r.message(), r.remedy()) == ("stock.odd", "")

    def test_reasons_compare_by_code_evidence_and_guard_not_by_exception(self) -> None:
        a = OVER_LIMIT.reason(amount=1, error=ValueError("a"))
        b = OVER_LIMIT.reason(amount=1, error=KeyError("b"))
        assert a == b
        assert hash(a) == hash(b)
        assert a != OVER_LIMIT.reason(amount=2)
        assert a != OVER_LIMIT.reason(amount=1, guard="g.x")

    def test_the_repr_shows_the_evidence_but_not_the_exception(self) -> None:
        r = OVER_LIMIT.reason(amount=1, error=ValueError("internal detail"))
        assert "amount" in repr(r)
        assert "internal detail" not in repr(r)

    def test_reasons_are_immutable(self) -> None:
        r = OVER_LIMIT.reason(amount=1)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            r.code = "x"  # type: ignore[misc]
        with pytest.raises(TypeError):
            r.params["amount"] = 2  # type: ignore[index]

    def test_to_dict_is_ready_for_json(self) -> None:
        r = OVER_LIMIT.reason(
            guard="settlement.limit",
            amount=Decimal("2500.00"),
            limit=200_000,
            window={"from": dt.date(2026, 1, 1), "days": [1, 2]},
            tags={"x"},
            note=None,
        )
        assert r.to_dict("zh-CN") == {
            "code": "settlement.amount_over_limit",
            "category": "settlement",
            "retryable": False,
            "guard": "settlement.limit",
            "params": {
                "amount": "2500.00",
                "limit": 200_000,
                "window": {"from": "2026-01-01", "days": [1, 2]},
                "tags": ["x"],
                "note": None,
            },
            "message": "金额 2500.00 分超过限额 200000 分。",
            "remedy": "请拆分支付，或将限额提高到 200000 分以上。",
        }


def _roundtrip(reason: Reason) -> Reason:
    copy: Reason = pickle.loads(pickle.dumps(reason))  # noqa: S301 - bytes made by the test
    return copy


class TestPickling:
    def test_a_reason_pickles_to_an_equal_reason_with_the_same_texts(self) -> None:
        r = OVER_LIMIT.reason(guard="settlement.limit", amount=2500, limit=2000)
        copy = _roundtrip(r)
        assert copy == r
        assert copy.spec == r.spec
        assert (copy.retryable, copy.guard, copy.category) == (
            False,
            "settlement.limit",
            r.category,
        )
        for lang in posflow.LANGUAGES:
            assert copy.message(lang) == r.message(lang)
            assert copy.remedy(lang) == r.remedy(lang)

    def test_the_copy_keeps_its_evidence_read_only(self) -> None:
        copy = _roundtrip(OVER_LIMIT.reason(amount=1))
        with pytest.raises(TypeError):
            copy.params["amount"] = 2  # type: ignore[index]

    def test_the_exception_travels_with_the_reason(self) -> None:
        copy = _roundtrip(OVER_LIMIT.reason(amount=1, error=ValueError("boom")))
        assert isinstance(copy.error, ValueError)
        assert str(copy.error) == "boom"

    def test_sensitive_evidence_is_masked_before_it_is_pickled(self) -> None:
        spec = posflow.reason_spec(
            "session.bench_phone",
            retryable=False,
            en="Phone {phone}.",
            zh_cn="电话 {phone}。",
            remedy_en="Check it.",
            remedy_zh_cn="请核对。",
        )
        data = pickle.dumps(spec.reason(phone="13812345678"))
        assert b"13812345678" not in data
        copy: Reason = pickle.loads(data)  # noqa: S301 - bytes made by the test
        assert copy.params["phone"] == "138****5678"

    @pytest.mark.parametrize("code", list(posflow.default_catalogue()))
    def test_every_catalogued_reason_pickles(self, code: str) -> None:
        r = posflow.default_catalogue()[code].reason(guard="g.x", amount=1, items=("a", "b"))
        assert _roundtrip(r) == r


class TestCategory:
    def test_categories_are_the_documented_rule_families(self) -> None:
        assert {c.value for c in Category} == {
            "documents",
            "compliance",
            "stock",
            "session",
            "settlement",
            "lifecycle",
            "guard",
            "port",
        }
        assert Category("stock") == "stock"
