"""Policy as data: defaults, loading from files, and errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import posflow
from posflow.errors import InvalidInput, InvalidPolicy
from posflow.policy import DocumentsByType, Limits, LimitsByType, MerchantType, Policy
from posflow.ports import DocumentKind


class TestPolicy:
    def test_micro_merchants_have_lower_caps_than_the_others(self) -> None:
        limits = Policy().limits
        micro = limits.of(MerchantType.MICRO)
        for kind in (MerchantType.ENTERPRISE, MerchantType.INDIVIDUAL):
            assert micro.per_transaction < limits.of(kind).per_transaction
            assert micro.daily < limits.of(kind).daily

    def test_a_micro_merchant_needs_no_licence_at_review(self) -> None:
        docs = Policy().review_documents
        assert DocumentKind.BUSINESS_LICENCE in docs.of(MerchantType.ENTERPRISE)
        assert DocumentKind.BUSINESS_LICENCE in docs.of(MerchantType.INDIVIDUAL)
        assert DocumentKind.BUSINESS_LICENCE not in docs.of(MerchantType.MICRO)
        for kind in MerchantType:
            assert {DocumentKind.ID_CARD_FRONT, DocumentKind.ID_CARD_BACK} <= set(docs.of(kind))

    def test_a_policy_is_immutable_and_round_trips_through_its_document(self) -> None:
        policy = Policy(cooling_off_days=30, served_regions=frozenset({"310000"}))
        with pytest.raises(Exception, match="frozen"):
            policy.cooling_off_days = 1  # type: ignore[misc]
        assert Policy.from_dict(policy.to_dict()) == policy
        assert json.loads(json.dumps(policy.to_dict()))["cooling_off_days"] == 30

    @pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
    def test_a_policy_loads_from_yaml_json_and_toml(self, tmp_path: Path, suffix: str) -> None:
        texts = {
            ".yaml": (
                "cooling_off_days: 30\nlimits:\n  micro: {per_transaction: 50000, daily: 200000}\n"
            ),
            ".json": json.dumps(
                {
                    "cooling_off_days": 30,
                    "limits": {"micro": {"per_transaction": 50000, "daily": 200000}},
                }
            ),
            ".toml": (
                "cooling_off_days = 30\n[limits.micro]\nper_transaction = 50000\ndaily = 200000\n"
            ),
        }
        path = tmp_path / f"policy{suffix}"
        path.write_text(texts[suffix], encoding="utf-8")
        policy = Policy.from_file(path)
        assert policy.cooling_off_days == 30
        assert policy.limits.micro == Limits(per_transaction=50000, daily=200000)
        assert policy.limits.enterprise == LimitsByType().enterprise

    @pytest.mark.parametrize(
        ("document", "where"),
        [
            ({"cooling_off_days": -1}, "cooling_off_days"),
            ({"cooling_off_days": "30"}, "cooling_off_days"),
            ({"early_termination_penalty": 500.5}, "early_termination_penalty"),
            ({"device_recovery_fee": True}, "device_recovery_fee"),
            (
                {"limits": {"micro": {"per_transaction": 10.5, "daily": 100}}},
                "limits.micro.per_transaction",
            ),
            ({"limits": {"micro": {"per_transaction": 100, "daily": 5}}}, "limits.micro.daily"),
            ({"review_documents": {"micro": ["selfie"]}}, "review_documents.micro.0"),
            ({"substitutes_required": 4}, "substitutes_required"),
            ({"substitutes_required": 0}, "substitutes_required"),
            ({"storefront_substitutes": ["storefront_photo"]}, "storefront_substitutes"),
            ({"min_software_version": "latest"}, "min_software_version"),
            ({"fraud_causes": ["chargebacks"]}, "fraud_causes"),
            ({"colour": "blue"}, "colour"),
        ],
    )
    def test_a_bad_value_raises_invalid_policy_naming_the_field(
        self, document: dict[str, Any], where: str
    ) -> None:
        with pytest.raises(InvalidPolicy) as err:
            Policy.from_dict(document)
        assert [p.where for p in err.value.problems] == [where]

    def test_every_problem_is_listed_at_once(self) -> None:
        with pytest.raises(InvalidPolicy) as err:
            Policy.from_dict({"cooling_off_days": -1, "minimum_term_days": "x", "colour": 1})
        assert {p.where for p in err.value.problems} == {
            "cooling_off_days",
            "minimum_term_days",
            "colour",
        }

    def test_building_a_policy_in_python_raises_invalid_policy_too(self) -> None:
        with pytest.raises(InvalidPolicy) as err:
            Policy(cooling_off_days=-1, colour="red")  # type: ignore[call-arg]
        assert {p.where for p in err.value.problems} == {"cooling_off_days", "colour"}
        with pytest.raises(InvalidPolicy) as err:
            Limits(per_transaction=-5, daily=1)
        assert [p.where for p in err.value.problems] == ["per_transaction"]

    def test_a_nested_problem_keeps_its_whole_location(self) -> None:
        # pydantic validates nested models without their constructors (which raise
        # InvalidPolicy): the problem is named where it is, not at the outer field
        bad = {"limits": {"micro": {"per_transaction": 1, "daily": -1}}}
        with pytest.raises(InvalidPolicy) as err:
            Policy.from_dict(bad)
        assert [p.where for p in err.value.problems] == ["limits.micro.daily"]
        with pytest.raises(InvalidPolicy) as err:
            Policy(limits=bad["limits"])  # type: ignore[arg-type]
        assert [p.where for p in err.value.problems] == ["limits.micro.daily"]

    @pytest.mark.parametrize(
        "field", ["cooling_off_days", "minimum_term_days", "substitute_max_age_days"]
    )
    def test_a_period_longer_than_a_century_is_refused(self, field: str) -> None:
        # a date that far away overflows: every guard reading it would fail instead
        with pytest.raises(InvalidPolicy, match="less than or equal to 36500"):
            Policy.from_dict({field: 10**9})
        assert getattr(Policy.from_dict({field: 36_500}), field) == 36_500

    def test_a_document_that_is_not_a_mapping_is_refused(self) -> None:
        with pytest.raises(InvalidPolicy) as err:
            Policy.from_dict(["cooling_off_days"])  # type: ignore[arg-type]
        assert err.value.problems[0].where == "policy"

    @pytest.mark.parametrize(
        ("name", "text"),
        [("p.yaml", "limits: [unclosed"), ("p.json", "{"), ("p.toml", "= 1"), ("p.ini", "x=1")],
    )
    def test_a_file_that_cannot_be_parsed_raises_invalid_policy(
        self, tmp_path: Path, name: str, text: str
    ) -> None:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidPolicy) as err:
            Policy.from_file(path)
        assert err.value.source == str(path)

    def test_a_policy_file_with_a_bad_value_names_the_file_and_the_field(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("min_credit_score: high\n", encoding="utf-8")
        with pytest.raises(InvalidPolicy) as err:
            Policy.from_file(path)
        assert err.value.source == str(path)
        assert [p.where for p in err.value.problems] == ["min_credit_score"]

    def test_documents_by_type_can_ask_nothing_of_a_type(self) -> None:
        docs = DocumentsByType(micro=())
        assert docs.of(MerchantType.MICRO) == ()


class TestContextPolicy:
    def test_a_context_shares_one_default_policy(self) -> None:
        assert posflow.Context().policy is posflow.Context().policy
        assert posflow.Context().policy == Policy()

    def test_a_context_validates_a_mapping_into_a_policy(self) -> None:
        ctx = posflow.Context(policy={"cooling_off_days": 7})
        assert isinstance(ctx.policy, Policy)
        assert ctx.policy.cooling_off_days == 7

    def test_a_context_refuses_a_bad_policy_mapping_with_invalid_policy(self) -> None:
        with pytest.raises(InvalidPolicy):
            posflow.Context(policy={"cooling_off_days": -7})

    def test_a_context_refuses_something_that_is_not_a_policy(self) -> None:
        with pytest.raises(InvalidInput) as err:
            posflow.Context(policy=42)
        assert err.value.field == "policy"
