"""Document guards: the form, the documents per step, expiry, the storefront proof."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

import posflow
from guard_world import MERCHANT_ID, World, codes, run
from posflow.ports import Document, DocumentKind, InMemoryMerchantFile

FORM = "documents.application_form_complete"
REVIEW = "documents.review_documents_on_file"
STOREFRONT = "documents.storefront_proof_on_file"


def _today(world: World) -> dt.date:
    return world.clock.now().date()


class TestApplicationFormComplete:
    def test_a_complete_form_passes(self) -> None:
        world = World()
        assert codes(world, FORM, world.new_terminal()) == ()

    @pytest.mark.parametrize("field", ["name", "contact_phone", "shop_address"])
    def test_each_missing_field_is_named(self, field: str) -> None:
        world = World()
        world.merchant[field] = "  "
        (reason,) = run(world, FORM, world.new_terminal())
        assert reason.code == "documents.application_field_missing"
        assert reason.params["fields"] == [field]

    def test_fields_sent_with_the_event_complete_the_form(self) -> None:
        world = World()
        del world.merchant["shop_address"]
        t = world.new_terminal()
        assert codes(world, FORM, t, merchant={"shop_address": "2 Road"}) == ()

    def test_a_merchant_record_that_is_not_a_mapping_is_invalid_input(self) -> None:
        world = World()
        t = world.new_terminal().with_data(merchant=["Ming"])
        (reason,) = run(world, FORM, t)
        assert reason.code == "guard.invalid_input"
        assert reason.params["field"] == "data.merchant"


class TestReviewDocumentsOnFile:
    def test_a_merchant_with_every_document_passes(self) -> None:
        world = World()
        assert codes(world, REVIEW, world.new_terminal()) == ()

    @pytest.mark.parametrize(
        "kind", ["business_licence", "id_card_front", "id_card_back", "settlement_account"]
    )
    def test_each_missing_document_is_named(self, kind: str) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, kind)
        (reason,) = run(world, REVIEW, world.new_terminal())
        assert reason.code == "documents.required_document_missing"
        assert reason.params["documents"] == [kind]
        assert reason.params["step"] == "review"

    def test_a_micro_merchant_needs_no_licence(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        world.documents.remove(MERCHANT_ID, "business_licence")
        assert codes(world, REVIEW, world.new_terminal()) == ()

    def test_an_individual_business_needs_its_licence(self) -> None:
        world = World()
        world.merchant["type"] = "individual"
        world.documents.remove(MERCHANT_ID, "business_licence")
        assert codes(world, REVIEW, world.new_terminal()) == (
            "documents.required_document_missing",
        )

    def test_a_merchant_without_a_type_is_held_to_the_enterprise_list(self) -> None:
        world = World()
        del world.merchant["type"]
        world.documents.remove(MERCHANT_ID, "business_licence")
        assert codes(world, REVIEW, world.new_terminal()) == (
            "documents.required_document_missing",
        )

    def test_an_expired_document_counts_as_missing_and_says_when_it_expired(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "id_card_back")
        lapsed = _today(world) - dt.timedelta(days=1)
        world.documents.add(MERCHANT_ID, Document("id_card_back", expires=lapsed))
        (reason,) = run(world, REVIEW, world.new_terminal())
        assert reason.code == "documents.document_expired"
        assert reason.params["documents"] == [f"id_card_back (expired {lapsed.isoformat()})"]
        assert lapsed.isoformat() in reason.message("zh-CN")

    def test_a_current_copy_next_to_an_expired_one_is_enough(self) -> None:
        world = World()
        lapsed = _today(world) - dt.timedelta(days=400)
        world.documents.add(MERCHANT_ID, Document("id_card_back", expires=lapsed))
        assert codes(world, REVIEW, world.new_terminal()) == ()

    def test_a_document_issued_in_the_future_is_not_yet_on_file(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "business_licence")
        soon = _today(world) + dt.timedelta(days=3)
        world.documents.add(MERCHANT_ID, Document("business_licence", issued=soon))
        assert codes(world, REVIEW, world.new_terminal()) == (
            "documents.required_document_missing",
        )

    def test_missing_and_expired_documents_are_both_reported(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "id_card_front")
        world.documents.remove(MERCHANT_ID, "business_licence")
        lapsed = _today(world) - dt.timedelta(days=1)
        world.documents.add(MERCHANT_ID, Document("business_licence", expires=lapsed))
        assert codes(world, REVIEW, world.new_terminal()) == (
            "documents.required_document_missing",
            "documents.document_expired",
        )

    def test_the_policy_decides_what_each_type_needs(self) -> None:
        world = World(policy=posflow.Policy.from_dict({"review_documents": {"enterprise": []}}))
        for kind in DocumentKind:
            world.documents.remove(MERCHANT_ID, kind)
        assert codes(world, REVIEW, world.new_terminal()) == ()

    @pytest.mark.parametrize(
        ("merchant", "field"),
        [({"id": None}, "data.merchant.id"), ({"type": "corporate"}, "data.merchant.type")],
    )
    def test_a_merchant_without_an_id_or_with_an_unknown_type_is_invalid_input(
        self, merchant: dict[str, object], field: str
    ) -> None:
        world = World()
        world.merchant.update(merchant)
        (reason,) = run(world, REVIEW, world.new_terminal())
        assert (reason.code, reason.params["field"]) == ("guard.invalid_input", field)

    def test_the_zh_message_names_the_documents_in_chinese(self) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, "business_licence")
        (reason,) = run(world, REVIEW, world.new_terminal())
        assert "营业执照" in reason.message("zh-CN")
        assert "审核" in reason.message("zh-CN")


class _CountingMerchantFile(InMemoryMerchantFile):
    def __init__(self, records: list[dict[str, Any]]) -> None:
        super().__init__(records)
        self.asked = 0

    def merchant(self, merchant_id: str) -> Mapping[str, Any] | None:
        self.asked += 1
        return super().merchant(merchant_id)


@pytest.mark.parametrize(
    "guard", ["documents.review_documents_on_file", "documents.reapply_documents_on_file"]
)
def test_the_merchant_file_is_read_once_for_the_type_and_the_documents(guard: str) -> None:
    """The type that picks the list and the id that finds the file come from one record."""
    policy = posflow.Policy.from_dict({"reapply_documents": {"micro": ["id_card_back"]}})
    world = World(policy=policy)
    world.merchants = _CountingMerchantFile([{**world.merchant, "type": "micro"}])
    terminal = world.lifecycle.new_terminal(world.terminal_id, {"merchant": {"id": MERCHANT_ID}})
    world.documents.remove(MERCHANT_ID, "id_card_back")
    (reason,) = run(world, guard, terminal)
    assert reason.code == "documents.required_document_missing"
    assert "business_licence" not in reason.params["documents"]  # a micro-merchant's list
    assert world.merchants.asked == 1


class TestReapplyDocumentsOnFile:
    def test_by_default_a_reapplication_needs_nothing_more(self) -> None:
        world = World()
        assert codes(world, "documents.reapply_documents_on_file", world.new_terminal()) == ()

    def test_the_policy_may_ask_for_tax_and_organisation_code_certificates(self) -> None:
        extra = ["tax_registration", "organisation_code"]
        world = World(policy=posflow.Policy.from_dict({"reapply_documents": {"enterprise": extra}}))
        (reason,) = run(world, "documents.reapply_documents_on_file", world.new_terminal())
        assert reason.params["documents"] == extra
        assert reason.params["step"] == "reapplication"
        world.documents.add(
            MERCHANT_ID, Document("tax_registration"), Document("organisation_code")
        )
        assert codes(world, "documents.reapply_documents_on_file", world.new_terminal()) == ()


class TestActivationDocumentsOnFile:
    def test_by_default_no_extra_photos_are_needed(self) -> None:
        world = World()
        assert codes(world, "documents.activation_documents_on_file", world.new_terminal()) == ()

    def test_the_policy_may_ask_for_cashier_and_interior_photos(self) -> None:
        world = World(
            policy=posflow.Policy(
                activation_documents=(DocumentKind.CASHIER_PHOTO, DocumentKind.INTERIOR_PHOTO)
            )
        )
        world.documents.add(MERCHANT_ID, Document("cashier_photo"))
        (reason,) = run(world, "documents.activation_documents_on_file", world.new_terminal())
        assert reason.params["documents"] == ["interior_photo"]


class TestClosingDocumentsOnFile:
    def test_the_request_form_id_and_contract_allow_a_close_request(self) -> None:
        world = World()
        assert codes(world, "documents.closing_documents_on_file", world.new_terminal()) == ()

    @pytest.mark.parametrize("kind", ["close_request", "id_card_front", "service_contract"])
    def test_each_missing_closing_document_is_named(self, kind: str) -> None:
        world = World()
        world.documents.remove(MERCHANT_ID, kind)
        (reason,) = run(world, "documents.closing_documents_on_file", world.new_terminal())
        assert reason.params["documents"] == [kind]
        assert reason.params["step"] == "close request"


def _without_photo(world: World) -> None:
    world.documents.remove(MERCHANT_ID, "storefront_photo")


class TestStorefrontProofOnFile:
    def test_a_storefront_photo_is_proof_enough(self) -> None:
        world = World()
        assert codes(world, STOREFRONT, world.new_terminal()) == ()

    def test_without_photo_or_substitute_the_reason_lists_what_would_do(self) -> None:
        world = World()
        _without_photo(world)
        (reason,) = run(world, STOREFRONT, world.new_terminal())
        assert reason.code == "documents.storefront_proof_missing"
        assert reason.params["still_needed"] == 1
        assert reason.params["options"] == ["bank_statement", "lease_contract", "utility_bills"]
        assert "storefront photo" in reason.message("en")
        assert "门头照" in reason.message("zh-CN")
        assert "租赁合同" in reason.message("zh-CN")

    @pytest.mark.parametrize(
        "substitute",
        [
            Document("lease_contract"),
            Document("utility_bills", issued=dt.date(2026, 2, 1), months=3),
            Document("bank_statement", issued=dt.date(2026, 2, 1)),
        ],
    )
    def test_one_accepted_substitute_stands_in_for_the_photo(self, substitute: Document) -> None:
        world = World()
        _without_photo(world)
        world.documents.add(MERCHANT_ID, substitute)
        assert codes(world, STOREFRONT, world.new_terminal()) == ()

    @pytest.mark.parametrize(
        "weak",
        [
            Document("utility_bills", issued=dt.date(2026, 2, 1), months=2),
            Document("utility_bills", months=6),
            Document("bank_statement", issued=dt.date(2025, 1, 1)),
            Document("lease_contract", expires=dt.date(2026, 1, 1)),
        ],
        ids=["too-few-months", "undated-bills", "old-statement", "expired-lease"],
    )
    def test_a_substitute_that_does_not_meet_the_policy_does_not_count(
        self, weak: Document
    ) -> None:
        world = World()
        _without_photo(world)
        world.documents.add(MERCHANT_ID, weak)
        (reason,) = run(world, STOREFRONT, world.new_terminal())
        assert reason.params["have"] == []

    def test_an_expired_storefront_photo_is_no_proof(self) -> None:
        world = World()
        _without_photo(world)
        world.documents.add(MERCHANT_ID, Document("storefront_photo", expires=dt.date(2025, 1, 1)))
        assert codes(world, STOREFRONT, world.new_terminal()) == (
            "documents.storefront_proof_missing",
        )

    def test_when_the_policy_wants_two_substitutes_the_reason_counts_what_is_left(self) -> None:
        world = World(policy=posflow.Policy(substitutes_required=2))
        _without_photo(world)
        world.documents.add(MERCHANT_ID, Document("lease_contract"))
        (reason,) = run(world, STOREFRONT, world.new_terminal())
        assert reason.params["still_needed"] == 1
        assert reason.params["have"] == ["lease_contract"]
        assert reason.params["options"] == ["bank_statement", "utility_bills"]
        world.documents.add(MERCHANT_ID, Document("bank_statement", issued=dt.date(2026, 3, 1)))
        assert codes(world, STOREFRONT, world.new_terminal()) == ()

    def test_a_substitute_the_policy_does_not_accept_does_not_count(self) -> None:
        policy = posflow.Policy.from_dict({"storefront_substitutes": ["lease_contract"]})
        world = World(policy=policy)
        _without_photo(world)
        world.documents.add(MERCHANT_ID, Document("bank_statement", issued=dt.date(2026, 3, 1)))
        (reason,) = run(world, STOREFRONT, world.new_terminal())
        assert reason.params["options"] == ["lease_contract"]

    def test_a_vault_answering_with_something_else_is_unavailable(self) -> None:
        class Odd:
            def documents(self, merchant_id: str) -> list[str]:
                return ["licence.pdf"]

        world = World()
        t = world.new_terminal()
        ctx = posflow.Context(ports=posflow.Ports(documents=Odd()))  # type: ignore[arg-type]
        reasons = posflow.guards.run_guard(STOREFRONT, posflow.default_guards()[STOREFRONT], t, ctx)
        assert [(r.code, r.params["port"]) for r in reasons] == [("port.unavailable", "documents")]

    def test_a_vault_whose_answer_fails_while_read_is_unavailable(self) -> None:
        class Lazy:
            def documents(self, merchant_id: str) -> object:
                yield Document("storefront_photo")
                raise ConnectionResetError

        world = World()
        ctx = posflow.Context(ports=posflow.Ports(documents=Lazy()))  # type: ignore[arg-type]
        g = posflow.default_guards()[REVIEW]
        reasons = posflow.guards.run_guard(REVIEW, g, world.new_terminal(), ctx)
        assert [r.code for r in reasons] == ["port.unavailable"]
        assert reasons[0].retryable
