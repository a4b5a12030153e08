"""Terminals, history records, outcomes and reasons pickle, to be handed to other processes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow import HistoryRecord, Outcome, Terminal
from posflow.testing import World
from posflow.testing.strategies import walks

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
