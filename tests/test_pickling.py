"""Terminals, history records, outcomes, reasons and contexts pickle, for other processes."""

from __future__ import annotations

import copy
import datetime as dt
import multiprocessing
import pickle
import threading
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow import Context, FrozenClock, HistoryRecord, Outcome, Ports, SystemClock, Terminal
from posflow.ports import PORT_NAMES, InMemoryMerchantFile, unshielded
from posflow.testing import World
from posflow.testing.strategies import walks
from strategies import contexts

WRONG = "98765"  # a wrong password the tests send
MASK = "******"
SENSITIVE = {"legal_rep_id_number": "110101199001011234", "contact_phone": "13812345678"}


def roundtrip(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))  # noqa: S301 - bytes made by the test


def same_outcome(a: Outcome, b: Outcome) -> None:
    assert (a.terminal, a.previous, a.event, a.reasons) == (
        b.terminal,
        b.previous,
        b.event,
        b.reasons,
    )
    assert (a.ok, a.retryable, a.codes, a.at, a.idempotency_key) == (
        b.ok,
        b.retryable,
        b.codes,
        b.at,
        b.idempotency_key,
    )
    assert a.record == b.record
    assert a.explain("zh-CN") == b.explain("zh-CN")
    assert repr(a) == repr(b)


class TestTerminal:
    def test_a_terminal_pickles_to_an_equal_read_only_terminal(self) -> None:
        t = Terminal("T1", "signed_in", 7, {"batch": {"total": 5}, "sn": "SN1"})
        copy = roundtrip(t)
        assert copy == t
        assert type(copy) is Terminal
        with pytest.raises(TypeError):
            copy.data["sn"] = "SN2"

    def test_a_terminal_the_engine_made_pickles_too(self) -> None:
        world = World()
        t = world.walk_to("signed_in")
        assert roundtrip(t) == t


class TestHistoryRecord:
    def test_a_record_pickles_masked_and_equal(self) -> None:
        rec = HistoryRecord(
            "T1",
            3,
            "sign_in",
            "activated",
            None,
            4,
            "ops",
            dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
            {"password": "0000", **SENSITIVE},
            ("session.wrong_password",),
            "k1",
            {"contact_phone": "13912345678"},
        )
        data = pickle.dumps(rec)
        for secret in ("110101199001011234", "13812345678", "13912345678"):
            assert secret.encode() not in data
        copy = roundtrip(rec)
        assert copy == rec
        assert copy.payload["password"] == MASK
        with pytest.raises(TypeError):
            copy.payload["password"] = MASK
        with pytest.raises(TypeError):
            copy.changes["x"] = 1


class TestOutcome:
    def test_an_accepted_outcome_pickles_with_its_record(self) -> None:
        world = World()
        out = world.fire(world.walk_to("signed_in"), "record_sale", amount=500)
        same_outcome(roundtrip(out), out)

    def test_a_refusal_pickles_with_its_reasons(self) -> None:
        world = World()
        out = world.fire(world.walk_to("activated"), "sign_in", password=WRONG)
        assert out.blocked
        copy = roundtrip(out)
        same_outcome(copy, out)
        with pytest.raises(posflow.errors.TransitionBlocked):
            copy.raise_for_blocked()

    def test_the_password_does_not_travel(self) -> None:
        world = World()
        out = world.fire(world.walk_to("activated"), "sign_in", password=WRONG)
        assert WRONG.encode() not in pickle.dumps(out)

    def test_the_context_and_its_ports_stay_behind(self) -> None:
        world = World()
        out = world.fire(world.walk_to("signed_in"), "record_sale", amount=500)
        copy = roundtrip(out)
        assert copy._ctx.ports is not out._ctx.ports
        assert copy._ctx.actor == out._ctx.actor

    @given(walk=walks(max_steps=12), key=st.none() | st.text(min_size=1, max_size=8))
    def test_every_outcome_of_a_random_walk_pickles(self, walk: Any, key: str | None) -> None:
        world = walk.world
        t = walk.terminal
        for event in world.lifecycle.events:
            out = world.lifecycle.fire(t, event, world.context_for(event), idempotency_key=key)
            same_outcome(roundtrip(out), out)


def _terminal_state(t: Terminal) -> tuple[str, int]:
    return t.state, t.version


def test_terminals_cross_a_process_boundary() -> None:
    world = World()
    t = world.walk_to("settled")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_terminal_state, (t,)) == ("settled", t.version)


# -- contexts ------------------------------------------------------------------------------


def same_port(a: Any, b: Any) -> None:
    """Two ports alike: one class and, for posflow's in-memory ones, the same records."""
    a, b = unshielded(a), unshielded(b)
    assert type(a) is type(b)
    assert a is not b
    if hasattr(a, "__dict__"):
        assert vars(a) == vars(b)


def same_context(copy_: Context, ctx: Context) -> None:
    """What "equal" can mean for a copy whose ports and clock are copies too."""
    assert type(copy_) is type(ctx)
    assert (dict(copy_.payload), copy_.actor, copy_.at, copy_.policy) == (
        dict(ctx.payload),
        ctx.actor,
        ctx.at,
        ctx.policy,
    )
    assert type(copy_.clock) is type(ctx.clock)
    if isinstance(ctx.clock, FrozenClock):
        assert copy_.clock.now() == ctx.clock.now()
    for name in PORT_NAMES:
        same_port(getattr(copy_.ports, name), getattr(ctx.ports, name))
    assert copy_.ports.extra.keys() == ctx.ports.extra.keys()
    assert copy_._system_time is ctx._system_time
    with pytest.raises(TypeError):
        copy_.payload["x"] = 1  # type: ignore[index]
    assert repr(copy_) == repr(ctx)


@attrs.frozen
class Tagged(Context):
    """An attrs subclass with a field of its own."""

    tag: str = "none"


class Noted(Context):
    """A plain subclass, which keeps attributes of its own in a ``__dict__``."""


class Locked:
    """A port that holds a lock (as one holding a connection pool would): it cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def reachable(self, terminal_id: str) -> bool:
        return True


class Backend:
    """One client behind several ports (picklable)."""

    def __init__(self) -> None:
        self.calls = 0

    def reachable(self, terminal_id: str) -> bool:
        self.calls += 1
        return True

    def blacklist_entry(self, subject: Any, key: str) -> None:
        raise ConnectionError("risk system down")


class TestContext:
    def test_a_default_context_pickles_to_an_equivalent_one(self) -> None:
        ctx = Context({"amount": 500}, actor="teller-01")
        copy_ = roundtrip(ctx)
        same_context(copy_, ctx)
        assert copy_._system_time is True  # worked out again: the system clock, no fixed time

    @pytest.mark.parametrize(
        "ctx",
        [
            Context(clock=FrozenClock()),
            Context(at=dt.datetime(2026, 3, 2, 9)),
            Context(clock=SystemClock(), at=dt.datetime(2026, 3, 2, 9)),
        ],
        ids=["frozen-clock", "fixed-time", "both"],
    )
    def test_a_context_that_does_not_read_the_system_clock_pickles_as_one(
        self, ctx: Context
    ) -> None:
        copy_ = roundtrip(ctx)
        same_context(copy_, ctx)
        assert copy_._system_time is False
        lc = World().lifecycle
        t = lc.new_terminal("T1")
        assert lc.fire(t, "reject", copy_).at == lc.fire(t, "reject", ctx).at

    def test_a_frozen_clock_travels_with_its_time_and_moves_on_its_own(self) -> None:
        clock = FrozenClock()
        copy_ = roundtrip(Context(clock=clock))
        copy_.clock.advance(hours=1)  # type: ignore[attr-defined]
        assert copy_.now() == clock.now() + dt.timedelta(hours=1)

    def test_a_worlds_context_decides_as_the_original_does(self) -> None:
        world = World()
        world.merchants.add({"id": "M-2", "name": "Ming's Noodles"})  # a read-only record
        terminal = world.walk_to("signed_in")
        ctx = world.context_for("settle")
        copy_ = roundtrip(ctx)
        same_context(copy_, ctx)
        assert copy_.ports.merchants.merchant("M-2") == {"id": "M-2", "name": "Ming's Noodles"}
        verdicts = world.lifecycle.available(terminal, ctx)
        again = world.lifecycle.available(terminal, copy_)
        assert {e: v.codes for e, v in again.items()} == {e: v.codes for e, v in verdicts.items()}

    def test_the_payload_travels_as_it_is_secrets_included(self) -> None:
        ctx = Context({"operator_password": WRONG, "amount": 5})
        assert WRONG.encode() in pickle.dumps(ctx)
        assert roundtrip(ctx).payload["operator_password"] == WRONG
        assert WRONG not in repr(roundtrip(ctx))

    @pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
    def test_every_pickle_protocol_since_2_carries_it(self, protocol: int) -> None:
        ctx = World().context_for("sign_in")
        same_context(pickle.loads(pickle.dumps(ctx, protocol=protocol)), ctx)  # noqa: S301

    def test_an_attrs_subclass_keeps_its_class_and_its_own_fields(self) -> None:
        ctx = Tagged({"a": 1}, "op", tag="t-1")
        copy_ = roundtrip(ctx)
        same_context(copy_, ctx)
        assert copy_.tag == "t-1"
        assert copy_._system_time is False  # a subclass may redefine now()

    def test_a_plain_subclass_keeps_its_class_and_its_own_attributes(self) -> None:
        ctx = Noted({"a": 1})
        ctx.__dict__["note"] = "kept"
        copy_ = roundtrip(ctx)
        same_context(copy_, ctx)
        assert copy_.note == "kept"  # type: ignore[attr-defined]

    def test_a_port_of_the_callers_own_stays_shielded_and_shared_in_the_copy(self) -> None:
        backend = Backend()
        ctx = Context(ports=Ports(host=backend, risk=backend, extra={"crm": backend}))
        copy_ = roundtrip(ctx)
        assert unshielded(copy_.ports.host) is unshielded(copy_.ports.risk)
        assert unshielded(copy_.ports.extra["crm"]) is unshielded(copy_.ports.host)
        assert copy_.ports.host.reachable("T1")
        with pytest.raises(posflow.errors.PortUnavailable) as err:
            copy_.ports.risk.blacklist_entry("merchant", "M1")
        assert err.value.port == "risk"

    @pytest.mark.parametrize(
        ("ports", "named"),
        [
            (lambda: Ports(host=Locked()), "ports.host"),
            (lambda: Ports(extra={"crm": Locked()}), "ports.extra['crm']"),
        ],
    )
    def test_a_port_that_cannot_be_pickled_is_named(self, ports: Any, named: str) -> None:
        with pytest.raises(pickle.PicklingError) as err:
            pickle.dumps(Context(ports=ports()))
        assert str(err.value).startswith(f"{named} (Locked) cannot be pickled: TypeError:")
        assert "_thread.lock" in str(err.value)

    def test_a_clock_that_cannot_be_pickled_is_named(self) -> None:
        class LockedClock(Locked):
            def now(self) -> dt.datetime:
                return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

        with pytest.raises(pickle.PicklingError, match=r"^clock \(.*LockedClock\) cannot"):
            pickle.dumps(Context(clock=LockedClock()))

    def test_a_shallow_copy_shares_the_ports_and_keeps_the_time_right(self) -> None:
        locked = Context(ports=Ports(host=Locked()), at=dt.datetime(2026, 3, 2, 9))
        again = copy.copy(locked)  # no pickling: ports that cannot go are no obstacle
        assert again == locked
        assert again.ports is locked.ports
        assert again._system_time is False
        assert copy.copy(Context())._system_time is True

    def test_a_deep_copy_is_an_equivalent_context(self) -> None:
        ctx = World().context_for("sign_in")
        same_context(copy.deepcopy(ctx), ctx)

    @given(contexts())
    def test_random_contexts_round_trip(self, ctx: Context) -> None:
        same_context(roundtrip(ctx), ctx)


class TestMerchantFile:
    def test_a_merchant_file_pickles_with_its_records_read_only(self) -> None:
        merchants = InMemoryMerchantFile([{"id": "M-1", "region": "310000"}])
        copy_ = roundtrip(merchants)
        assert copy_.merchant("M-1") == {"id": "M-1", "region": "310000"}
        with pytest.raises(TypeError):
            copy_.merchant("M-1")["region"] = "110000"  # type: ignore[index]


def _settle_codes(terminal: Terminal, ctx: Context) -> tuple[str, ...]:
    return posflow.default_lifecycle().check(terminal, "settle", ctx).codes


def test_contexts_cross_a_process_boundary() -> None:
    world = World()
    terminal = world.walk_to("signed_in")
    world.host.up = False  # a refusal the other process must see too
    ctx = world.context_for("settle")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        codes = pool.apply(_settle_codes, (terminal, ctx))
    assert codes == _settle_codes(terminal, ctx)
    assert "session.host_unreachable" in codes
