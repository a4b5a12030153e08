"""The simulated world and its agents: deterministic, and faithful to the faults they plan."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow.cli._agents import Agent
from posflow.cli._plan import (
    _MERCHANT_TYPES,
    _MODELS_DRAWN,
    _SUSPEND_CAUSES,
    START,
    Params,
    Plan,
    _weighted,
    sn_for,
    terminal_id,
    terminal_index,
)
from posflow.cli._runinfo import RunInfo
from posflow.cli._simulate import Tally, run_shard, share
from posflow.cli._world import World, natural_payload
from posflow.errors import CorruptRecord
from posflow.ports import PORT_NAMES, OperatorCheck, Subject, unshielded
from posflow.store import Command, MemoryStore, TerminalService

seeds = st.integers(0, 2**40)
indexes = st.integers(0, 9_999_999)


def run(params: Params, *, shard: int = 0, shards: int = 1) -> Tally:
    service = TerminalService(posflow.default_lifecycle(), MemoryStore())
    return run_shard(params, service, Command, shard=shard, shards=shards)


class TestPlan:
    @given(seed=seeds, index=indexes)
    def test_a_plan_depends_only_on_the_seed_and_the_index(self, seed: int, index: int) -> None:
        small = Plan.draw(Params(seed, index + 1, 10), index)
        large = Plan.draw(Params(seed, index + 5000, 10), index)
        assert small == large

    @given(index=indexes)
    def test_ids_lead_back_to_their_index(self, index: int) -> None:
        assert terminal_index(terminal_id(index)) == index
        assert terminal_index(f"M{index:07d}") == index
        assert terminal_index(sn_for(index, 3)) == index

    @pytest.mark.parametrize("stranger", ["", "T12", "Txxxxxxx", "SN", "hello world"])
    def test_strangers_have_no_index(self, stranger: str) -> None:
        assert terminal_index(stranger) is None

    @given(seed=seeds)
    def test_a_weighted_draw_is_the_one_random_choices_makes(self, seed: int) -> None:
        for population, cum in (_MERCHANT_TYPES, _MODELS_DRAWN, _SUSPEND_CAUSES):
            weights = [b - a for a, b in zip((0, *cum), cum, strict=False)]
            ours, theirs = random.Random(seed), random.Random(seed)
            for _ in range(20):
                expected = theirs.choices(population, weights)[0]
                assert _weighted(ours.random, population, cum) == expected

    def test_the_password_stays_out_of_the_repr(self) -> None:
        plan = Plan.draw(Params(1, 10, 3), 4)
        assert plan.password not in repr(plan)


class TestWorld:
    def find(self, world: World, predicate: object) -> Plan:
        for i in range(world.params.terminals):
            plan = world.plan(i)
            if predicate(plan):  # type: ignore[operator]
                return plan
        raise AssertionError("no such plan in this world")

    def test_a_late_document_is_missing_until_its_day(self) -> None:
        world = World(Params(5, 400, 10))
        plan = self.find(world, lambda p: p.late_document is not None and p.region == "310000")
        lc = posflow.default_lifecycle()
        t = lc.new_terminal(
            terminal_id(plan.index), {"merchant": plan.merchant | {"contact_phone": "1"}}
        )
        world.clock.set(START + dt.timedelta(days=plan.document_day - 1, hours=9))
        before = lc.check(t, "review", world.context())
        assert "documents.required_document_missing" in before.codes
        world.clock.set(START + dt.timedelta(days=plan.document_day, hours=9))
        after = lc.check(t, "review", world.context())
        assert "documents.required_document_missing" not in after.codes

    def test_blacklisted_merchants_are_listed(self) -> None:
        world = World(Params(5, 2000, 10))
        plan = self.find(world, lambda p: p.blacklisted == "merchant")
        risk = world.ports.risk
        assert risk.blacklist_entry(Subject.MERCHANT, f"M{plan.index:07d}") is not None
        assert risk.blacklist_entry(Subject.MERCHANT, "M9999999") is None

    def test_operators_check_the_planned_password(self) -> None:
        world = World(Params(5, 10, 3))
        plan = world.plan(3)
        ops = world.ports.operators
        assert ops.verify(terminal_id(3), "01", plan.password) is OperatorCheck.OK
        assert ops.verify(terminal_id(3), "01", plan.password + "0") is OperatorCheck.WRONG_PASSWORD
        assert ops.verify(terminal_id(3), "02", plan.password) is OperatorCheck.UNKNOWN_OPERATOR
        assert ops.verify("T9999999", "01", "x") is OperatorCheck.UNKNOWN_OPERATOR

    def test_a_frozen_account_is_frozen_only_in_its_days_whatever_was_asked_before(self) -> None:
        world = World(Params(5, 2000, 10))
        plan = self.find(world, lambda p: p.frozen_from is not None and p.frozen_from > 0)
        accounts = world.ports.accounts
        merchant = f"M{plan.index:07d}"
        statuses = []
        for day in range(plan.frozen_from - 1, plan.frozen_until + 1):  # type: ignore[operator]
            world.clock.set(START + dt.timedelta(days=day, hours=9))
            first = accounts.account(merchant)
            assert accounts.account(merchant) is first  # kept while it still holds
            assert first is not None
            fresh = World(Params(5, 2000, 10))  # a world asked nothing before
            fresh.clock.set(world.clock.now())
            assert fresh.ports.accounts.account(merchant) == first
            statuses.append(first.status.value)
        days = plan.frozen_until - plan.frozen_from
        assert statuses == ["active"] + ["frozen"] * days + ["active"]

    def test_a_merchant_file_is_the_same_each_time(self) -> None:
        world = World(Params(5, 50, 3))
        docs = world.ports.documents
        assert docs.documents("M0000007") is docs.documents("M0000007")
        assert docs.documents("M0000007") == World(Params(5, 50, 3)).ports.documents.documents(
            "M0000007"
        )

    def test_merchant_and_device_records_are_made_once_and_kept(self) -> None:
        world = World(Params(5, 6000, 3))
        merchants, inventory = world.ports.merchants, world.ports.inventory
        first = merchants.merchant("M0000007")
        device = inventory.device(sn_for(7, 0))
        for i in range(6000):  # every other record of the run asked for in between
            merchants.merchant(f"M{i:07d}")
            inventory.device(sn_for(i, 0))
        assert merchants.merchant("M0000007") is first
        assert first == world.plan(7).merchant
        assert inventory.device(sn_for(7, 0)) is device

    def test_the_world_s_ports_are_posflow_s_own_and_go_unshielded(self) -> None:
        ports = World(Params(5, 10, 3)).ports
        for name in PORT_NAMES:
            assert unshielded(getattr(ports, name)) is getattr(ports, name)

    def test_strangers_are_unknown_to_every_port(self) -> None:
        world = World(Params(5, 10, 3))
        assert world.ports.documents.documents("M0000099") == ()
        assert world.ports.inventory.device("SN000009900") is None
        assert world.ports.inventory.device("nonsense") is None
        assert world.ports.accounts.account("nobody") is None
        assert world.ports.risk.score("nobody") is None
        assert world.ports.risk.merchant_codes_held("short") == 0
        assert world.ports.host.reachable("nobody")

    def test_a_lost_parcel_is_lost_and_the_next_one_arrives(self) -> None:
        world = World(Params(5, 2000, 10))
        plan = self.find(world, lambda p: p.shipment_fault == "lost")
        inventory = world.ports.inventory
        assert inventory.device(sn_for(plan.index, 0)).location.value == "lost"  # type: ignore[union-attr]
        assert inventory.device(sn_for(plan.index, 1)).location.value == "in_transit"  # type: ignore[union-attr]

    def test_natural_payloads_pass_the_operating_guards(self) -> None:
        """A terminal that reached signed_out can sign in with what explain would send."""
        params = Params(9, 60, 5)
        service = TerminalService(posflow.default_lifecycle(), MemoryStore())
        run_shard(params, service, Command)
        world = World(params)
        world.clock.set(START + dt.timedelta(days=params.days, hours=8))
        checked = 0
        for i in range(params.terminals):
            t = service.get(terminal_id(i))
            plan = world.plan(i)
            if t.state != "signed_out" or plan.outage_days & {params.days}:
                continue
            verdict = service.lifecycle.check(
                t, "sign_in", world.context(natural_payload(world, t, "sign_in"))
            )
            assert verdict.allowed, verdict.codes
            checked += 1
        assert checked > 10
        assert natural_payload(world, posflow.default_lifecycle().new_terminal("X"), "ship") == {}


class TestAgents:
    def test_the_split_between_workers_does_not_change_anything(self) -> None:
        params = Params(21, 90, 5)
        whole = run(params)
        halves = run(params, shard=0, shards=2)
        halves.merge(run(params, shard=1, shards=2))
        assert halves.states == whole.states
        assert halves.by_event == whole.by_event
        assert halves.refusals_by_event == whole.refusals_by_event
        assert halves.reasons == whole.reasons
        assert halves.samples == whole.samples
        assert halves.created == whole.created == 90

    def test_the_shares_of_the_fleet_are_contiguous_and_cover_it_once(self) -> None:
        for terminals in (1, 2, 7, 90, 1001):
            for shards in (1, 2, 3, 8):
                parts = [share(terminals, k, shards) for k in range(shards)]
                assert [i for part in parts for i in part] == list(range(terminals))
                assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1

    def test_terminals_carry_their_merchant_id_and_what_the_merchant_resubmitted(self) -> None:
        params = Params(7, 300, 6)
        world = World(params)
        store = MemoryStore()
        run_shard(params, TerminalService(posflow.default_lifecycle(), store), Command)
        resubmitted = 0
        for i in range(params.terminals):
            merchant = store.get(terminal_id(i)).data["merchant"]
            plan = world.plan(i)
            assert merchant["id"] == plan.merchant_id
            assert set(merchant) <= {"id", "contact_phone"}
            if "contact_phone" in merchant:
                assert plan.form_incomplete
                resubmitted += 1
            assert world.ports.merchants.merchant(plan.merchant_id) == plan.merchant
        assert resubmitted > 0
        assert world.ports.merchants.merchant("T0000001") is None
        assert world.ports.merchants.merchant("M9999999") is None

    def test_a_longer_run_meets_the_whole_lifecycle(self) -> None:
        tally = run(Params(3, 400, 12))
        events = set(tally.by_event)
        assert {"review", "ship", "receive", "activate", "sign_in", "record_sale"} <= events
        assert {"settle", "sign_out", "suspend", "request_close", "close", "reapply"} <= events
        assert {"reject", "resubmit", "report_lost", "reinstate", "send_reversal"} <= events
        expected = {
            "documents.required_document_missing",
            "documents.storefront_proof_missing",
            "compliance.merchant_blacklisted",
            "stock.model_uncertified",
            "stock.shipment_fault",
            "session.host_unreachable",
            "session.operator_password_wrong",
            "settlement.account_frozen",
            "settlement.transaction_limit_exceeded",
            "settlement.host_maintenance",
            "stock.out_of_stock",
            "compliance.cooling_off_active",
        }
        assert expected <= set(tally.reasons), expected - set(tally.reasons)

    def test_an_agent_gives_up_after_many_refusals(self) -> None:
        plan = Plan.draw(Params(1, 10, 3), 0)
        agent = Agent(1, plan)
        lc = posflow.default_lifecycle()
        t = lc.new_terminal(agent.id, {"merchant": {}})
        for _ in range(30):
            agent.observe(lc.fire(t, "settle"), day=0)
        assert agent.done


class TestRunInfo:
    def test_it_reads_back_what_it_wrote(self) -> None:
        info = RunInfo(Params(1, 2, 3), START)
        assert RunInfo.from_json(info.to_json()) == info

    @pytest.mark.parametrize("text", ["", "[]", '{"format": 99}', '{"format": 1}'])
    def test_a_damaged_document_is_a_corrupt_record(self, text: str) -> None:
        with pytest.raises(CorruptRecord):
            RunInfo.from_json(text)
