"""Session guards: master key, host, software, hardware, operator, batch."""

from __future__ import annotations

from typing import Any

import pytest

import posflow
from guard_world import OPERATOR, PASSWORD, TERMINAL, World, codes, run
from posflow.ports import InMemoryOperatorDirectory, OperatorCheck

SIGN_IN = {"operator": OPERATOR, "password": PASSWORD, "software_version": "2.1.0"}


class TestBatchSettled:
    def test_an_empty_batch_passes(self) -> None:
        world = World()
        assert codes(world, "session.batch_settled", world.terminal("settled")) == ()

    def test_a_batch_with_sales_is_unsettled(self) -> None:
        world = World()
        t = world.fire(world.terminal("signed_in"), "record_sale").terminal
        (reason,) = run(world, "session.batch_settled", t)
        assert reason.code == "session.unsettled_batch"
        assert (reason.params["batch_no"], reason.params["count"]) == (1, 1)

    def test_a_batch_count_that_is_not_a_number_is_invalid_input(self) -> None:
        world = World()
        t = world.terminal("signed_in", batch={"no": 1, "count": "two"})
        (reason,) = run(world, "session.batch_settled", t)
        assert reason.params["field"] == "data.batch.count"


class TestMasterKeyInjected:
    def test_activation_injects_the_master_key(self) -> None:
        world = World()
        t = world.terminal("activated")
        assert t.data["master_key_injected"] is True
        assert codes(world, "session.master_key_injected", t) == ()

    def test_a_terminal_without_a_master_key_cannot_sign_in(self) -> None:
        world = World()
        t = world.terminal("activated", master_key_injected=False)
        assert codes(world, "session.master_key_injected", t) == ("session.master_key_missing",)


class TestHostReachable:
    def test_a_reachable_host_passes(self) -> None:
        world = World()
        assert codes(world, "session.host_reachable", world.terminal("activated")) == ()

    def test_an_unreachable_host_is_a_retryable_network_failure(self) -> None:
        world = World()
        world.host.cut_off(TERMINAL)
        (reason,) = run(world, "session.host_reachable", world.terminal("activated"))
        assert reason.code == "session.host_unreachable"
        assert reason.retryable

    def test_a_host_link_answering_a_non_bool_is_unavailable(self) -> None:
        class Odd(posflow.ports.InMemoryHostLink):
            def reachable(self, terminal_id: str) -> bool:
                return "yes"  # type: ignore[return-value]

        world = World(host=Odd())
        (reason,) = run(world, "session.host_reachable", world.terminal("activated"))
        assert (reason.code, reason.params["port"]) == ("port.unavailable", "host")


class TestSoftwareCurrent:
    def test_software_at_or_above_the_minimum_passes(self) -> None:
        world = World(policy=posflow.Policy(min_software_version="2.1"))
        t = world.terminal("activated")
        assert codes(world, "session.software_current", t, software_version="2.1.0") == ()
        assert codes(world, "session.software_current", t, software_version="2.10") == ()

    def test_old_software_must_be_upgraded(self) -> None:
        world = World(policy=posflow.Policy(min_software_version="2.10"))
        (reason,) = run(
            world, "session.software_current", world.terminal("activated"), software_version="2.9.9"
        )
        assert reason.code == "session.software_outdated"
        assert not reason.retryable
        assert "Upgrade" in reason.remedy("en")

    def test_the_last_reported_version_is_used_when_none_is_sent(self) -> None:
        world = World()
        t = world.terminal("signed_in")
        assert t.data["software_version"] == "2.1.0"
        world.policy = posflow.Policy(min_software_version="3.0")
        assert codes(world, "session.software_current", t) == ("session.software_outdated",)

    def test_a_terminal_that_never_reported_its_version_is_refused(self) -> None:
        world = World()
        assert codes(world, "session.software_current", world.terminal("activated")) == (
            "session.software_version_unknown",
        )

    def test_a_version_that_is_not_dotted_numbers_is_invalid_input(self) -> None:
        world = World()
        (reason,) = run(
            world,
            "session.software_current",
            world.terminal("activated"),
            software_version="v2-beta",
        )
        assert reason.params["field"] == "payload.software_version"


class TestHardwareOk:
    def test_no_fault_reported_passes(self) -> None:
        world = World()
        assert codes(world, "session.hardware_ok", world.terminal("activated")) == ()

    def test_faults_reported_now_or_on_record_call_for_repair(self) -> None:
        world = World()
        t = world.terminal("activated", hardware_faults=["keyboard"])
        (reason,) = run(world, "session.hardware_ok", t, hardware_faults="touch_screen")
        assert reason.code == "session.hardware_fault"
        assert reason.params["faults"] == ["keyboard", "touch_screen"]
        assert not reason.retryable
        assert "repair" in reason.remedy("en")

    def test_a_fault_list_of_numbers_is_invalid_input(self) -> None:
        world = World()
        (reason,) = run(
            world, "session.hardware_ok", world.terminal("activated"), hardware_faults=[1]
        )
        assert reason.params["field"] == "payload.hardware_faults"


class TestOperatorValid:
    def test_a_registered_operator_with_the_right_password_passes(self) -> None:
        world = World()
        assert codes(world, "session.operator_valid", world.terminal("activated"), **SIGN_IN) == ()

    def test_at_sign_out_the_operator_defaults_to_the_one_signed_in(self) -> None:
        world = World()
        t = world.terminal("settled")
        assert codes(world, "session.operator_valid", t, password=PASSWORD) == ()

    def test_a_wrong_password_is_refused_without_showing_it(self) -> None:
        world = World()
        wrong = {"password": "9999"}
        (reason,) = run(world, "session.operator_valid", world.terminal("settled"), **wrong)
        assert reason.code == "session.operator_password_wrong"
        assert "9999" not in repr(reason) + reason.message("en") + reason.message("zh-CN")

    def test_an_unregistered_operator_is_refused(self) -> None:
        world = World()
        t = world.terminal("activated")
        (reason,) = run(world, "session.operator_valid", t, operator="07", password=PASSWORD)
        assert (reason.code, reason.params["operator"]) == ("session.operator_unknown", "07")

    @pytest.mark.parametrize(
        ("payload", "missing"),
        [
            ({"operator": OPERATOR}, ["password"]),
            ({"password": PASSWORD}, ["operator"]),
            ({}, ["operator", "password"]),
            ({"operator": OPERATOR, "password": 1234}, ["password"]),
        ],
    )
    def test_missing_credentials_are_named(
        self, payload: dict[str, Any], missing: list[str]
    ) -> None:
        world = World()
        (reason,) = run(world, "session.operator_valid", world.terminal("activated"), **payload)
        assert reason.code == "session.operator_credentials_missing"
        assert reason.params["missing"] == missing

    def test_a_directory_answering_something_else_is_unavailable(self) -> None:
        class Odd(InMemoryOperatorDirectory):
            def verify(self, terminal_id: str, operator: str, password: str) -> OperatorCheck:
                return "maybe"  # type: ignore[return-value]

        world = World(operators=Odd(cost=2))
        (reason,) = run(world, "session.operator_valid", world.terminal("activated"), **SIGN_IN)
        assert (reason.code, reason.params["port"]) == ("port.unavailable", "operators")

    def test_a_directory_answering_with_plain_strings_is_understood(self) -> None:
        class Plain:
            def verify(self, terminal_id: str, operator: str, password: str) -> str:
                return "wrong_password"

        world = World()
        ctx = posflow.Context(SIGN_IN, ports=posflow.Ports(operators=Plain()))  # type: ignore[arg-type]
        g = posflow.default_guards()["session.operator_valid"]
        reasons = posflow.guards.run_guard(
            "session.operator_valid", g, world.terminal("activated"), ctx
        )
        assert [r.code for r in reasons] == ["session.operator_password_wrong"]
