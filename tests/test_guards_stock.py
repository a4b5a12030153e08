"""Stock guards: certified, compatible, current devices that are really there."""

from __future__ import annotations

import pytest

import posflow
from guard_world import MODEL, SN, TERMINAL, World, codes, run
from posflow.ports import Device, DeviceModel


def _shipped(world: World, **data: object) -> posflow.Terminal:
    return world.terminal("shipped", **data)


class TestModelCertified:
    def test_a_certified_stocked_model_passes(self) -> None:
        world = World()
        assert codes(world, "stock.model_certified", world.terminal("reviewed"), model=MODEL) == ()

    def test_a_model_the_acquirer_does_not_stock_is_unknown(self) -> None:
        world = World()
        (reason,) = run(world, "stock.model_certified", world.terminal("reviewed"), model="Z1")
        assert (reason.code, reason.params["model"]) == ("stock.model_unknown", "Z1")

    def test_a_model_without_the_required_certification_is_refused(self) -> None:
        world = World()
        world.inventory.add_model(DeviceModel("GREY", certifications=[]))
        (reason,) = run(world, "stock.model_certified", world.terminal("reviewed"), model="GREY")
        assert reason.code == "stock.model_uncertified"
        assert reason.params["certification"] == "unionpay"
        assert not reason.retryable

    def test_at_activation_the_device_s_own_model_counts(self) -> None:
        world = World()
        t = world.terminal("in_stock")
        world.inventory.add_model(DeviceModel(MODEL, certifications=["ce"]))
        assert codes(world, "stock.model_certified", t) == ("stock.model_uncertified",)

    def test_without_a_model_or_sn_the_input_is_invalid(self) -> None:
        world = World()
        (reason,) = run(world, "stock.model_certified", world.terminal("reviewed"))
        assert (reason.code, reason.params["field"]) == ("guard.invalid_input", "payload.model")


class TestModelCompatible:
    def test_a_host_compatible_model_with_every_capability_passes(self) -> None:
        world = World()
        world.merchant["needs"] = ["card", "qr", "nfc"]
        assert codes(world, "stock.model_compatible", world.terminal("reviewed"), model=MODEL) == ()

    def test_a_model_the_host_does_not_support_is_incompatible(self) -> None:
        world = World()
        world.inventory.add_model(DeviceModel("OLD", host_compatible=False))
        assert codes(world, "stock.model_compatible", world.terminal("reviewed"), model="OLD") == (
            "stock.model_incompatible",
        )

    def test_a_model_lacking_what_the_merchant_needs_names_the_capability(self) -> None:
        world = World()
        world.merchant["needs"] = ["card", "nfc"]
        world.inventory.add_model(DeviceModel("QRBOX", capabilities=["qr"]))
        (reason,) = run(world, "stock.model_compatible", world.terminal("reviewed"), model="QRBOX")
        assert reason.code == "stock.model_lacks_capability"
        assert reason.params["missing"] == ["card", "nfc"]

    def test_an_unknown_model_is_left_to_model_certified(self) -> None:
        world = World()
        assert codes(world, "stock.model_compatible", world.terminal("reviewed"), model="Z1") == ()

    def test_an_unknown_need_is_invalid_input(self) -> None:
        world = World()
        world.merchant["needs"] = ["cheque"]
        (reason,) = run(world, "stock.model_compatible", world.terminal("reviewed"), model=MODEL)
        assert reason.params["field"] == "data.merchant.needs"


class TestFirmwareCurrent:
    def test_firmware_at_the_minimum_passes(self) -> None:
        world = World(policy=posflow.Policy(min_firmware_version="2.0"))
        assert codes(world, "stock.firmware_current", world.terminal("reviewed"), model=MODEL) == ()

    def test_firmware_below_the_minimum_is_refused_with_both_versions(self) -> None:
        world = World(policy=posflow.Policy(min_firmware_version="2.10"))
        (reason,) = run(world, "stock.firmware_current", world.terminal("reviewed"), model=MODEL)
        assert reason.code == "stock.firmware_outdated"
        assert (reason.params["firmware"], reason.params["minimum"]) == ("2.0.0", "2.10")

    def test_a_device_s_own_firmware_wins_over_its_model_s(self) -> None:
        world = World(policy=posflow.Policy(min_firmware_version="2.0"))
        t = world.terminal("in_stock")
        world.inventory.update_device(SN, firmware="1.9.9")
        assert codes(world, "stock.firmware_current", t) == ("stock.firmware_outdated",)

    def test_an_unknown_model_has_no_firmware_to_compare(self) -> None:
        world = World()
        assert codes(world, "stock.firmware_current", world.terminal("reviewed"), model="Z1") == ()


class TestDeviceAvailable:
    def test_a_free_device_of_the_model_can_ship(self) -> None:
        world = World()
        t = world.terminal("reviewed")
        assert codes(world, "stock.device_available", t, model=MODEL) == ()
        assert codes(world, "stock.device_available", t, model=MODEL, sn=SN) == ()

    def test_an_empty_warehouse_is_a_retryable_shortage(self) -> None:
        world = World()
        world.inventory.update_device(SN, location="deployed")
        (reason,) = run(world, "stock.device_available", world.terminal("reviewed"), model=MODEL)
        assert reason.code == "stock.out_of_stock"
        assert reason.retryable

    def test_a_named_sn_must_be_registered(self) -> None:
        world = World()
        (reason,) = run(world, "stock.device_available", world.terminal("reviewed"), sn="SN-X")
        assert (reason.code, reason.params["sn"]) == ("stock.sn_not_registered", "SN-X")

    def test_a_named_sn_allocated_to_another_terminal_is_a_duplicate(self) -> None:
        world = World()
        world.inventory.update_device(SN, terminal_id="T9")
        (reason,) = run(world, "stock.device_available", world.terminal("reviewed"), sn=SN)
        assert (reason.code, reason.params["other_terminal"]) == ("stock.duplicate_sn", "T9")

    def test_a_named_sn_not_in_the_warehouse_cannot_ship(self) -> None:
        world = World()
        world.inventory.update_device(SN, location="returned")
        (reason,) = run(world, "stock.device_available", world.terminal("reviewed"), sn=SN)
        assert (reason.code, reason.params["location"]) == (
            "stock.device_not_in_warehouse",
            "returned",
        )
        assert "已退回" in reason.message("zh-CN")

    def test_a_named_sn_of_another_model_than_ordered_is_an_order_error(self) -> None:
        world = World()
        world.inventory.add_device(Device("SN-Q", "Q1"))
        t = world.terminal("reviewed")
        assert codes(world, "stock.device_available", t, sn="SN-Q", model=MODEL) == (
            "stock.order_mismatch",
        )

    def test_an_inventory_answering_a_non_count_is_unavailable(self) -> None:
        class Odd(posflow.ports.InMemoryInventory):
            def available(self, model: str) -> int:
                return "many"  # type: ignore[return-value]

        world = World(inventory=Odd())
        (reason,) = run(world, "stock.device_available", world.terminal("reviewed"), model=MODEL)
        assert (reason.code, reason.params["port"]) == ("port.unavailable", "inventory")


class TestSnRegistered:
    def test_a_registered_sn_passes(self) -> None:
        world = World()
        assert codes(world, "stock.sn_registered", _shipped(world), sn=SN) == ()

    def test_an_unregistered_sn_is_not_in_stock(self) -> None:
        world = World()
        t = _shipped(world)
        world.inventory.remove_device(SN)
        (reason,) = run(world, "stock.sn_registered", t, sn=SN)
        assert reason.code == "stock.sn_not_registered"
        assert "终端未入库" in reason.message("zh-CN")

    def test_without_an_sn_the_input_is_invalid(self) -> None:
        world = World()
        (reason,) = run(world, "stock.sn_registered", _shipped(world))
        assert (reason.code, reason.params["field"]) == ("guard.invalid_input", "payload.sn")

    def test_a_payload_sn_that_is_not_text_is_invalid_input(self) -> None:
        world = World()
        (reason,) = run(world, "stock.sn_registered", _shipped(world), sn=["SN"])
        assert reason.params["field"] == "payload.sn"


class TestSnMatchesShipment:
    def test_the_shipped_sn_passes(self) -> None:
        world = World()
        assert codes(world, "stock.sn_matches_shipment", _shipped(world), sn=SN) == ()

    def test_another_sn_than_shipped_is_refused(self) -> None:
        world = World()
        (reason,) = run(world, "stock.sn_matches_shipment", _shipped(world), sn="SN9")
        assert reason.code == "stock.sn_not_shipped"
        assert (reason.params["sn"], reason.params["shipped_sn"]) == ("SN9", SN)

    def test_a_shipment_of_any_device_of_the_model_accepts_any_sn(self) -> None:
        world = World()
        t = _shipped(world, shipped_sn=None)
        assert codes(world, "stock.sn_matches_shipment", t, sn="SN9") == ()


class TestSnUnique:
    def test_an_sn_free_or_allocated_to_this_terminal_passes(self) -> None:
        world = World()
        t = _shipped(world)
        assert codes(world, "stock.sn_unique", t, sn=SN) == ()
        world.inventory.update_device(SN, terminal_id=TERMINAL)
        assert codes(world, "stock.sn_unique", t, sn=SN) == ()

    def test_an_sn_held_by_another_terminal_is_a_duplicate(self) -> None:
        world = World()
        t = _shipped(world)
        world.inventory.update_device(SN, terminal_id="T2")
        assert codes(world, "stock.sn_unique", t, sn=SN) == ("stock.duplicate_sn",)


class TestDeviceIntact:
    def test_a_device_in_transit_arrives_intact(self) -> None:
        world = World()
        t = _shipped(world)
        world.inventory.update_device(SN, location="in_transit")
        assert codes(world, "stock.device_intact", t, sn=SN) == ()

    @pytest.mark.parametrize("location", ["lost", "damaged"])
    def test_a_device_recorded_lost_or_damaged_is_a_shipment_fault(self, location: str) -> None:
        world = World()
        t = _shipped(world)
        world.inventory.update_device(SN, location=location)
        (reason,) = run(world, "stock.device_intact", t, sn=SN)
        assert (reason.code, reason.params["fault"]) == ("stock.shipment_fault", location)
        assert "report_lost" in reason.remedy("en")

    def test_a_device_reported_damaged_on_receipt_is_a_shipment_fault(self) -> None:
        world = World()
        assert codes(world, "stock.device_intact", _shipped(world), sn=SN, condition="damaged") == (
            "stock.shipment_fault",
        )

    def test_an_unknown_condition_is_invalid_input(self) -> None:
        world = World()
        (reason,) = run(world, "stock.device_intact", _shipped(world), sn=SN, condition="wet")
        assert reason.params["field"] == "payload.condition"


class TestDeviceMatchesOrder:
    def test_a_device_of_the_ordered_model_passes(self) -> None:
        world = World()
        assert codes(world, "stock.device_matches_order", _shipped(world), sn=SN) == ()

    def test_a_device_of_another_model_is_an_order_error(self) -> None:
        world = World()
        world.inventory.add_device(Device("SN-Q", "Q1"))
        (reason,) = run(world, "stock.device_matches_order", _shipped(world), sn="SN-Q")
        assert reason.code == "stock.order_mismatch"
        assert (reason.params["model"], reason.params["ordered"]) == ("Q1", MODEL)


class TestShipmentFaultKnown:
    @pytest.mark.parametrize("cause", [None, "lost", "damaged", "delayed", "order_error"])
    def test_a_known_fault_or_none_passes(self, cause: str | None) -> None:
        world = World()
        payload = {} if cause is None else {"cause": cause}
        assert codes(world, "stock.shipment_fault_known", _shipped(world), **payload) == ()

    def test_another_cause_is_refused_naming_the_known_ones(self) -> None:
        world = World()
        (reason,) = run(world, "stock.shipment_fault_known", _shipped(world), cause="stolen")
        assert reason.code == "stock.shipment_fault_unknown"
        assert reason.params["cause"] == "stolen"
        assert reason.params["known"] == ["damaged", "delayed", "lost", "order_error"]
        assert not reason.retryable

    def test_report_lost_in_the_default_lifecycle_is_guarded_by_it(self) -> None:
        world = World()
        lc = posflow.default_lifecycle()
        stolen = lc.fire(_shipped(world), "report_lost", world.ctx({"cause": "stolen"}))
        assert stolen.codes == ("stock.shipment_fault_unknown",)
        damaged = lc.fire(_shipped(world), "report_lost", world.ctx({"cause": "damaged"}))
        assert damaged.ok
        assert damaged.terminal.data["shipment_faults"][-1]["cause"] == "damaged"
