"""posflow.testing: the world, misbehaving ports, SimpleService and the strategies."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import posflow
from posflow.errors import InvalidInput, TerminalExists, TerminalNotFound, TransitionBlocked
from posflow.ports import PORT_NAMES, DocumentKind
from posflow.testing import (
    EPOCH,
    FailingPort,
    MisbehavingPort,
    PortsBuilder,
    SimpleService,
    World,
    shortest_path,
)
from posflow.testing import strategies as pst
from strategies import build, lifecycle_docs

DEFAULT = posflow.default_lifecycle()
STRUCTURAL = {"lifecycle.not_allowed_from_state", "lifecycle.unknown_event"}


class TestWorld:
    @pytest.mark.parametrize("state", DEFAULT.states)
    def test_every_state_of_the_default_lifecycle_is_reached_with_every_guard_passing(
        self, state: str
    ) -> None:
        world = World()
        t = world.walk_to(state)
        assert t.state == state
        assert t.version == len(shortest_path(DEFAULT, DEFAULT.initial, state))

    def test_a_spoiled_world_refuses_with_the_reason(self) -> None:
        world = World()
        world.host.up = False
        with pytest.raises(TransitionBlocked) as info:
            world.walk_to("signed_in")
        assert "session.host_unreachable" in {r.code for r in info.value.reasons}

    def test_paths_name_states_that_exist_and_can_be_reached(self) -> None:
        with pytest.raises(InvalidInput, match="not a state"):
            World().path_to("nowhere")
        one_way = posflow.Lifecycle(
            ["a", posflow.State("b", final=True)], [posflow.Transition("go", "a", "b")], "a"
        )
        with pytest.raises(InvalidInput, match="cannot be reached"):
            shortest_path(one_way, "b", "a")
        assert shortest_path(one_way, "a", "a") == ()

    def test_payloads_and_contexts_carry_the_world(self) -> None:
        world = World()
        assert world.payload("record_sale", amount=7) == {"amount": 7}
        ctx = world.context_for("sign_in")
        assert ctx.clock is world.clock
        assert ctx.policy is world.policy
        assert ctx.payload["operator"] == "01"
        assert world.check(world.walk_to("activated"), "sign_in").allowed
        assert world.merchant_id == world.merchant["id"]

    def test_enrolled_terminals_can_sign_in(self) -> None:
        world = World()
        t = world.walk_to(
            "activated", world.lifecycle.new_terminal("T-other", world.new_terminal().data)
        )
        assert world.fire(t, "sign_in").codes == ("session.operator_unknown",)
        world.enrol("T-other")
        assert world.fire(t, "sign_in").ok


class TestMisbehavingPorts:
    @pytest.mark.parametrize("error", [None, TimeoutError("slow"), lambda: OSError("gone")])
    def test_a_failing_port_refuses_retryably_naming_the_port(self, error: Any) -> None:
        world = World()
        t = world.walk_to("in_stock")
        ports = world.ports.replace(documents=FailingPort("documents", error))
        ctx = posflow.Context(world.payload("activate"), clock=world.clock, ports=ports)
        outcome = world.lifecycle.fire(t, "activate", ctx)
        assert outcome.blocked
        assert outcome.terminal is t
        unavailable = [r for r in outcome.reasons if r.code == "port.unavailable"]
        assert unavailable
        assert all(r.retryable for r in unavailable)
        assert "documents" in unavailable[0].message("en")

    def test_a_port_answering_nonsense_refuses_and_never_crashes(self) -> None:
        world = World()
        t = world.walk_to("in_stock")
        for answer in ("nonsense", 42, None, [object()]):
            port = MisbehavingPort("documents", answer)
            assert port.documents("M") == answer
            ports = world.ports.replace(documents=port)
            ctx = posflow.Context(world.payload("activate"), clock=world.clock, ports=ports)
            outcome = world.lifecycle.fire(t, "activate", ctx)
            assert outcome.blocked, answer
            assert outcome.terminal is t

    def test_misbehaving_ports_do_not_pretend_to_be_protocols(self) -> None:
        for port in (FailingPort(), MisbehavingPort()):
            with pytest.raises(AttributeError):
                port.__fspath__  # noqa: B018 - dunder lookups must not be answered
            assert "port" in repr(port)

    def test_a_builder_sets_fails_and_builds(self) -> None:
        vault = posflow.ports.InMemoryDocumentVault()
        builder = PortsBuilder({"documents": vault, "crm": "a crm"})
        assert builder.get("documents") is vault
        assert builder.get("crm") == "a crm"
        assert builder.get("host") is None
        builder.fail("host", error=TimeoutError("slow")).misbehave("risk", answer=0)
        ports = builder.build()
        assert ports.documents is vault
        assert ports.extra["crm"] == "a crm"
        with pytest.raises(posflow.errors.PortUnavailable):
            ports.host.reachable("T")
        assert ports.risk.score("M") == 0
        assert "host" in repr(builder)


class TestSimpleService:
    def test_it_keeps_terminals_and_every_attempt(self) -> None:
        world = World()
        svc = SimpleService(world.lifecycle)
        svc.create("T-world", {"merchant": world.merchant})
        assert svc.fire("T-world", "review", world.context_for("review")).ok
        refused = svc.fire("T-world", "activate", world.context_for("activate"))
        assert refused.blocked
        history = svc.history("T-world")
        assert [(r.seq, r.event, r.accepted) for r in history] == [
            (0, "review", True),
            (1, "activate", False),
        ]
        assert world.lifecycle.replay(history).state == svc.get("T-world").state == "reviewed"
        assert "1 terminals" in repr(svc)

    def test_refusals_can_be_left_out(self) -> None:
        svc = SimpleService(DEFAULT, record_refusals=False)
        svc.create("T")
        svc.fire("T", "activate", posflow.Context())
        assert svc.history("T") == []

    def test_it_refuses_duplicates_and_unknown_terminals(self) -> None:
        svc = SimpleService(DEFAULT)
        svc.create("T")
        with pytest.raises(TerminalExists):
            svc.create("T")
        with pytest.raises(TerminalNotFound):
            svc.get("nope")
        with pytest.raises(TerminalNotFound):
            svc.history("nope")


class TestStrategies:
    @given(walk=pst.walks())
    def test_walks_end_where_their_history_says(self, walk: pst.Walk) -> None:
        lc = walk.world.lifecycle
        t = walk.terminal
        assert t.state in lc.states
        assert [r.seq for r in walk.history] == list(range(len(walk.history)))
        rebuilt = lc.replay(walk.history, terminal_id=t.id)
        assert (rebuilt.state, rebuilt.version) == (t.state, t.version)

    @given(data=st.data())
    def test_terminals_are_drawn_in_the_states_asked_for(self, data: st.DataObject) -> None:
        wanted = data.draw(st.lists(st.sampled_from(DEFAULT.states), min_size=1, max_size=3))
        t = data.draw(pst.terminals(states=wanted, max_steps=6))
        assert t.state in wanted

    def test_every_reachable_state_is_drawn(self) -> None:
        seen: set[str] = set()

        # 150 random walks missed a state about one run in six; 400 make that rare
        @settings(max_examples=400, database=None)
        @given(pst.terminals())
        def collect(t: posflow.Terminal) -> None:
            seen.add(t.state)

        collect()
        assert seen == set(DEFAULT.states)

    @given(doc=lifecycle_docs(guards=False), data=st.data())
    def test_terminals_of_any_lifecycle(self, doc: dict[str, Any], data: st.DataObject) -> None:
        lc = build(doc)
        target = data.draw(st.sampled_from(lc.states))
        ctx = posflow.Context()
        t = data.draw(pst.terminals(lc, context=lambda t, e: ctx, states=[target], data={}))
        assert t.state == target
        assert t.data.get("steps", 0) <= t.version

    def test_a_state_that_cannot_be_reached_is_an_error(self) -> None:
        @given(pst.terminals(states=["nowhere"]))
        def draw(t: posflow.Terminal) -> None:
            raise AssertionError("never drawn")

        with pytest.raises(InvalidInput, match="nowhere"):
            draw()

    @given(doc=lifecycle_docs(), data=st.data())
    def test_event_sequences_follow_the_table(
        self, doc: dict[str, Any], data: st.DataObject
    ) -> None:
        lc = build(doc)
        start = data.draw(st.sampled_from(lc.states))
        events = data.draw(pst.event_sequences(lc, start=start, max_size=8))
        assert len(events) <= 8
        t = posflow.Terminal("T", start)
        for event in events:
            verdict = lc.check(t, event, posflow.Context())
            assert not set(verdict.codes) & STRUCTURAL, (t.state, event)
            assert verdict.dest is not None
            t = posflow.Terminal("T", verdict.dest)

    @given(pst.event_sequences(DEFAULT, min_size=3, max_size=3))
    def test_event_sequences_have_the_size_asked_for_while_there_is_a_way(
        self, events: list[str]
    ) -> None:
        assert len(events) == 3  # the default lifecycle has no dead end

    @given(data=st.data())
    def test_event_sequences_start_in_a_declared_state(self, data: st.DataObject) -> None:
        with pytest.raises(InvalidInput, match="start"):
            data.draw(pst.event_sequences(DEFAULT, start="nowhere"))

    @given(data=st.data())
    def test_documents_are_valid_or_not_as_asked(self, data: st.DataObject) -> None:
        day = data.draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
        valid = data.draw(st.booleans())
        kinds = data.draw(st.lists(st.sampled_from(list(DocumentKind)), min_size=1, unique=True))
        doc = data.draw(pst.documents(kinds=kinds, on=day, valid=valid))
        assert doc.kind in kinds
        assert doc.valid_on(day) is valid
        if doc.expires is not None and doc.issued is not None:
            assert doc.expires >= doc.issued

    def test_documents_are_asked_for_by_kind_and_day(self) -> None:
        with pytest.raises(InvalidInput, match="kinds"):
            pst.documents(kinds=["passport_photo"])
        with pytest.raises(InvalidInput, match="kinds"):
            pst.documents(kinds=[])
        with pytest.raises(InvalidInput, match="on="):
            pst.documents(valid=True)

    @given(pst.documents())
    def test_documents_of_any_kind(self, doc: posflow.ports.Document) -> None:
        bills = {DocumentKind.UTILITY_BILLS, DocumentKind.BANK_STATEMENT}
        assert (doc.months is not None) == (doc.kind in bills)

    @given(pst.policies())
    def test_policies_are_valid_and_round_trip(self, policy: posflow.Policy) -> None:
        assert posflow.Policy.from_dict(policy.to_dict()) == policy
        assert policy.fraud_causes <= policy.suspension_causes
        assert 1 <= policy.substitutes_required <= len(policy.storefront_substitutes)

    def test_policies_vary(self) -> None:
        seen: set[int] = set()

        @settings(max_examples=30, database=None)
        @given(pst.policies())
        def collect(p: posflow.Policy) -> None:
            seen.add(p.cooling_off_days)

        collect()
        assert len(seen) > 5

    @given(data=st.data())
    def test_contexts_whose_ports_fail_refuse_and_never_raise(self, data: st.DataObject) -> None:
        walk = data.draw(pst.walks(max_steps=8))
        events = DEFAULT.allowed_events(walk.terminal.state)
        event = data.draw(st.sampled_from(events))
        ctx = data.draw(pst.contexts(walk.world, event=event))
        broken = {
            name
            for name in PORT_NAMES
            if isinstance(
                posflow.ports.unshielded(getattr(ctx.ports, name)), FailingPort | MisbehavingPort
            )
        }
        outcome = DEFAULT.fire(walk.terminal, event, ctx)
        verdict = DEFAULT.check(walk.terminal, event, ctx)
        assert outcome.ok == verdict.allowed
        for reason in outcome.reasons:
            if reason.code == "port.unavailable":
                assert reason.retryable
                assert reason.params["port"] in broken

    @given(ctx=pst.contexts(ports=["host"], faults=["ok"]))
    def test_contexts_with_every_port_working(self, ctx: posflow.Context) -> None:
        assert ctx.ports.host.reachable("T")
        assert ctx.payload == {}

    def test_port_faults_are_checked(self) -> None:
        with pytest.raises(InvalidInput, match="ports"):
            pst.port_faults(["nope"])
        with pytest.raises(InvalidInput, match="faults"):
            pst.port_faults(faults=["melt"])

    def test_the_epoch_is_the_world_clock(self) -> None:
        assert World().clock.now() == EPOCH


_NO_HYPOTHESIS = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "hypothesis":
            raise ModuleNotFoundError("No module named 'hypothesis' (blocked)", name="hypothesis")
        return None

sys.meta_path.insert(0, Blocker())
import posflow.testing
world = posflow.testing.World()
assert world.walk_to("signed_in").state == "signed_in"
assert "hypothesis" not in sys.modules
try:
    posflow.testing.TerminalMachine
except ImportError as exc:
    print(exc)
"""


class TestImport:
    def test_the_kit_works_without_hypothesis_until_a_strategy_is_asked_for(self) -> None:
        result = subprocess.run(
            [sys.executable, "-c", _NO_HYPOTHESIS],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "pip install 'posflow[testing]'" in result.stdout

    def test_lazy_names_load_once_and_unknown_names_fail(self) -> None:
        import posflow.testing as kit

        assert kit.strategies is pst
        assert kit.InvariantViolation.__name__ == "InvariantViolation"
        with pytest.raises(AttributeError, match="nope"):
            kit.nope  # noqa: B018
        assert set(kit.__all__) <= set(dir(kit)) | {"TerminalMachine", "InvariantViolation"}


class TestMasking:
    def test_a_world_never_shows_the_merchant_s_sensitive_data(self) -> None:
        world = World()
        text = repr(world)
        for key in ("contact_phone", "legal_rep_id_number", "settlement_account"):
            assert str(world.merchant[key]) not in text, key


class TestDocstrings:
    @pytest.mark.parametrize(
        "module",
        [
            "posflow.testing._world",
            "posflow.testing._ports",
            "posflow.testing._service",
            "posflow.testing.strategies",
        ],
    )
    def test_the_examples_in_the_docstrings_run(self, module: str) -> None:
        import doctest
        import importlib

        result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0
        assert result.failed == 0


REFUSED = posflow.reason_spec(
    "compliance.kit_never",
    retryable=False,
    en="Never.",
    zh_cn="从不。",
    remedy_en="Do not ask.",
    remedy_zh_cn="请勿请求。",
)


@posflow.guard("kit.never")
def never(terminal: posflow.Terminal, ctx: posflow.Context) -> Any:
    """Always refuses."""
    return (REFUSED.reason(),)


def _one_way_back() -> posflow.Lifecycle:
    """``a -> b`` and ``a -> c`` freely; ``b -> a`` and ``b -> d`` never."""
    return posflow.Lifecycle(
        ["a", "b", posflow.State("c", final=True), posflow.State("d", final=True)],
        [
            posflow.Transition("go", "a", "b"),
            posflow.Transition("back", "b", "a", conditions="kit.never"),
            posflow.Transition("jump", "b", "d", conditions="kit.never"),
            posflow.Transition("finish", "a", "c"),
        ],
        "a",
        guards=posflow.GuardRegistry.of(never),
    )


class TestWalksThatMeetRefusals:
    @given(data=st.data())
    def test_a_refused_way_there_is_retried_from_the_start(self, data: st.DataObject) -> None:
        lc = _one_way_back()
        walk = data.draw(pst.walks(lc, states=["c"], data={}))
        assert walk.terminal.state == "c"
        assert lc.replay(walk.history).state == "c"

    def test_a_state_only_refusals_lead_to_is_never_drawn(self) -> None:
        from hypothesis.errors import FailedHealthCheck, Unsatisfiable

        @settings(max_examples=5, database=None)
        @given(pst.terminals(_one_way_back(), states=["d"], data={}))
        def draw(t: posflow.Terminal) -> None:
            raise AssertionError("never drawn")

        with pytest.raises((Unsatisfiable, FailedHealthCheck)):
            draw()

    def test_destination_needs_a_transition(self) -> None:
        from posflow.testing._world import destination

        assert destination(DEFAULT, "applied", "review") == "reviewed"
        with pytest.raises(InvalidInput, match="no transition"):
            destination(DEFAULT, "applied", "settle")


class TestServiceFixtureFallback:
    def test_without_a_store_the_fixture_gives_a_simple_service(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from posflow.testing import _fixtures

        assert _fixtures.has_store()
        monkeypatch.setattr(_fixtures, "has_store", lambda: False)
        assert isinstance(_fixtures.memory_service(DEFAULT), SimpleService)


class TestPublicNames:
    def test_every_exported_name_exists_and_is_documented(self) -> None:
        import posflow.testing as kit

        for module in (kit, pst):
            for name in module.__all__:
                value = getattr(module, name)
                if callable(value) or isinstance(value, type):
                    assert (value.__doc__ or "").strip(), f"{module.__name__}.{name}"
