"""Compliance guards: risk records, regions, quotas, binding, relocation, causes."""

from __future__ import annotations

import pytest

import posflow
from guard_world import MERCHANT, MERCHANT_ID, MODEL, SN, World, codes, run
from posflow.ports import BlacklistEntry, DeviceModel, RegionRule

ID_NUMBER = MERCHANT["legal_rep_id_number"]


class TestNotBlacklisted:
    def test_a_merchant_on_no_list_passes(self) -> None:
        world = World()
        assert codes(world, "compliance.not_blacklisted", world.new_terminal()) == ()

    @pytest.mark.parametrize("key", [MERCHANT_ID, MERCHANT["credit_code"]])
    def test_a_merchant_listed_by_id_or_credit_code_is_refused(self, key: str) -> None:
        world = World()
        world.risk.blacklist(BlacklistEntry("merchant", key, reason="cash-out ring"))
        (reason,) = run(world, "compliance.not_blacklisted", world.new_terminal())
        assert reason.code == "compliance.merchant_blacklisted"
        assert reason.params["listed_reason"] == "cash-out ring"
        assert not reason.retryable

    def test_a_listed_legal_representative_is_refused_without_showing_the_id(self) -> None:
        world = World()
        world.risk.blacklist(BlacklistEntry("legal_rep", ID_NUMBER))
        (reason,) = run(world, "compliance.not_blacklisted", world.new_terminal())
        assert reason.code == "compliance.legal_rep_blacklisted"
        for lang in posflow.LANGUAGES:
            assert ID_NUMBER not in reason.message(lang)
        assert ID_NUMBER not in repr(reason)

    def test_merchant_and_representative_both_listed_give_two_reasons(self) -> None:
        world = World()
        world.risk.blacklist(
            BlacklistEntry("merchant", MERCHANT_ID), BlacklistEntry("legal_rep", ID_NUMBER)
        )
        assert codes(world, "compliance.not_blacklisted", world.new_terminal()) == (
            "compliance.merchant_blacklisted",
            "compliance.legal_rep_blacklisted",
        )


class TestRegionServed:
    def test_any_region_is_served_by_default(self) -> None:
        world = World()
        assert codes(world, "compliance.region_served", world.new_terminal()) == ()

    def test_a_region_outside_the_policy_s_list_is_refused(self) -> None:
        world = World(policy=posflow.Policy(served_regions=frozenset({"110000"})))
        (reason,) = run(world, "compliance.region_served", world.new_terminal())
        assert (reason.code, reason.params["region"]) == ("compliance.region_not_served", "310000")

    def test_a_missing_region_is_refused_when_the_policy_lists_regions(self) -> None:
        world = World(policy=posflow.Policy(served_regions=frozenset({"310000"})))
        del world.merchant["region"]
        assert codes(world, "compliance.region_served", world.new_terminal()) == (
            "compliance.region_not_served",
        )

    def test_a_region_the_risk_registry_closes_is_refused(self) -> None:
        world = World()
        world.risk.set_region(RegionRule("310000", served=False))
        assert codes(world, "compliance.region_served", world.new_terminal()) == (
            "compliance.region_not_served",
        )


class TestModelAllowedInRegion:
    def test_a_region_without_rules_allows_every_model(self) -> None:
        world = World()
        t = world.terminal("reviewed")
        assert codes(world, "compliance.model_allowed_in_region", t, model=MODEL) == ()

    def test_a_model_forbidden_in_the_region_is_refused(self) -> None:
        world = World()
        world.risk.set_region(RegionRule("310000", forbidden_models=[MODEL]))
        t = world.terminal("reviewed")
        (reason,) = run(world, "compliance.model_allowed_in_region", t, model=MODEL)
        assert reason.code == "compliance.model_forbidden_in_region"

    def test_a_model_without_the_region_s_extra_certification_is_refused(self) -> None:
        world = World()
        world.risk.set_region(RegionRule("310000", required_certifications=["sh-local"]))
        t = world.terminal("reviewed")
        (reason,) = run(world, "compliance.model_allowed_in_region", t, model=MODEL)
        assert reason.code == "compliance.region_certification_missing"
        assert reason.params["certifications"] == ["sh-local"]
        world.inventory.add_model(DeviceModel(MODEL, certifications=["unionpay", "sh-local"]))
        assert codes(world, "compliance.model_allowed_in_region", t, model=MODEL) == ()


class TestMicroMerchantQuotaAvailable:
    def test_an_enterprise_has_no_quota(self) -> None:
        world = World()
        world.risk.set_merchant_codes(ID_NUMBER, 9)
        assert codes(world, "compliance.micro_merchant_quota_available", world.new_terminal()) == ()

    def test_a_micro_merchant_under_its_quota_passes(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        assert codes(world, "compliance.micro_merchant_quota_available", world.new_terminal()) == ()

    def test_a_micro_merchant_at_its_quota_is_refused(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        world.risk.set_merchant_codes(ID_NUMBER, 1)
        (reason,) = run(world, "compliance.micro_merchant_quota_available", world.new_terminal())
        assert reason.code == "compliance.micro_merchant_quota_exceeded"
        assert (reason.params["held"], reason.params["limit"]) == (1, 1)

    def test_a_micro_merchant_without_an_id_number_is_invalid_input(self) -> None:
        world = World()
        world.merchant["type"] = "micro"
        del world.merchant["legal_rep_id_number"]
        (reason,) = run(world, "compliance.micro_merchant_quota_available", world.new_terminal())
        assert reason.params["field"] == "data.merchant.legal_rep_id_number"

    def test_a_registry_answering_a_non_count_is_unavailable(self) -> None:
        class Odd(posflow.ports.InMemoryRiskRegistry):
            def merchant_codes_held(self, id_number: str) -> int:
                return None  # type: ignore[return-value]

        world = World(risk=Odd())
        world.merchant["type"] = "micro"
        (reason,) = run(world, "compliance.micro_merchant_quota_available", world.new_terminal())
        assert (reason.code, reason.params["port"]) == ("port.unavailable", "risk")


class TestBindingComplete:
    def test_all_five_items_and_the_install_address_pass(self) -> None:
        world = World()
        t = world.terminal("in_stock")
        assert codes(world, "compliance.binding_complete", t, install_address="1 Road") == ()

    @pytest.mark.parametrize(
        "item", ["acquirer_code", "merchant_code", "credit_code", "settlement_account"]
    )
    def test_each_missing_merchant_item_is_named(self, item: str) -> None:
        world = World()
        t = world.terminal("in_stock")
        t = t.with_data(merchant={**t.data["merchant"], item: ""})
        (reason,) = run(world, "compliance.binding_complete", t, install_address="1 Road")
        assert reason.params["missing"] == [item]

    def test_a_missing_sn_and_install_address_are_named(self) -> None:
        world = World()
        t = world.terminal("in_stock", sn=None)
        (reason,) = run(world, "compliance.binding_complete", t)
        assert reason.params["missing"] == ["sn", "install_address"]
        assert "装机地址" in reason.message("zh-CN")

    def test_a_micro_merchant_binds_with_its_id_number_instead_of_a_credit_code(self) -> None:
        world = World()
        world.merchant.update(type="micro", credit_code=None)
        t = world.terminal("in_stock")
        assert codes(world, "compliance.binding_complete", t, install_address="1 Road") == ()
        t = t.with_data(merchant={**t.data["merchant"], "legal_rep_id_number": None})
        (reason,) = run(world, "compliance.binding_complete", t, install_address="1 Road")
        assert reason.params["missing"] == ["legal_rep_id_number"]


class TestSnNotBoundElsewhere:
    def test_an_unbound_or_own_device_passes(self) -> None:
        world = World()
        t = world.terminal("in_stock")
        assert codes(world, "compliance.sn_not_bound_elsewhere", t) == ()
        world.inventory.update_device(SN, merchant_id=MERCHANT_ID)
        assert codes(world, "compliance.sn_not_bound_elsewhere", t) == ()

    def test_a_device_bound_to_another_merchant_is_refused(self) -> None:
        world = World()
        t = world.terminal("in_stock")
        world.inventory.update_device(SN, merchant_id="M2")
        assert codes(world, "compliance.sn_not_bound_elsewhere", t) == (
            "compliance.sn_bound_to_other_merchant",
        )

    def test_without_an_sn_binding_complete_explains_instead(self) -> None:
        world = World()
        t = world.terminal("in_stock", sn=None)
        assert codes(world, "compliance.sn_not_bound_elsewhere", t) == ()


class TestAtBoundAddress:
    def test_a_terminal_at_its_bound_address_passes(self) -> None:
        world = World()
        t = world.terminal("signed_in")
        assert codes(world, "compliance.at_bound_address", t, address=" 1  nanjing road ") == ()
        assert codes(world, "compliance.at_bound_address", t) == ()

    def test_a_terminal_used_elsewhere_is_relocated(self) -> None:
        world = World()
        t = world.terminal("signed_in")
        (reason,) = run(world, "compliance.at_bound_address", t, address="9 Huaihai Road")
        assert reason.code == "compliance.terminal_relocated"
        assert "suspension" in reason.remedy("en")


class TestSuspensionCauseKnown:
    @pytest.mark.parametrize(
        "cause", ["cash_out", "fraud", "money_laundering", "relocation", "data_leakage"]
    )
    def test_every_domain_cause_is_known(self, cause: str) -> None:
        world = World()
        t = world.terminal("activated")
        assert codes(world, "compliance.suspension_cause_known", t, cause=cause) == ()

    @pytest.mark.parametrize("cause", [None, "boredom"])
    def test_a_missing_or_unknown_cause_is_refused(self, cause: str | None) -> None:
        world = World()
        t = world.terminal("activated")
        (reason,) = run(world, "compliance.suspension_cause_known", t, cause=cause)
        assert reason.code == "compliance.suspension_cause_unknown"
        assert "fraud" in reason.params["known"]
