"""Terminal ids of whitespace alone are refused wherever a terminal is made or looked up.

A blank id (``"   "``, a tab, an ideographic space) was accepted as a terminal
id: a form field left empty but for a space made a terminal no one could
tell from a missing one. Now a terminal id, an event and an actor must hold a
character other than whitespace; an idempotency key is an opaque token and may
be anything a store can hold. Nothing is stripped: ``" T1"`` is stored as given.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import posflow
from posflow import Context, Terminal
from posflow.errors import InvalidInput, TerminalNotFound
from posflow.store import Command, CommandFailed, Store, TerminalService
from store_lifecycles import two_states
from strategies import BLANKS

LC = two_states("ids")
CTX = Context(actor="tester")
SAMPLES = ["   ", "\t", "\u3000", "\n \r\n", "\x1c", "\u2028\u00a0"]
FIXTURE_HYPOTHESIS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def svc(store: Store) -> TerminalService:
    return TerminalService(LC, store)


class TestATerminal:
    @given(BLANKS)
    def test_built_with_a_blank_id_is_invalid_input_naming_the_id(self, blank: str) -> None:
        with pytest.raises(InvalidInput, match="whitespace only") as err:
            Terminal(blank, "a")
        assert err.value.field == "id"

    @pytest.mark.parametrize(("bad", "why"), [("", "non-empty"), (7, "got int"), (None, "got")])
    def test_built_with_an_id_that_is_not_text_is_invalid_input(self, bad: Any, why: str) -> None:
        with pytest.raises(InvalidInput, match=why) as err:
            Terminal(bad, "a")
        assert err.value.field == "id"

    @pytest.mark.parametrize("tid", [" T1", "T1 ", "\tT 1\u3000", "T1"])
    def test_an_id_with_whitespace_around_a_name_is_kept_as_given(self, tid: str) -> None:
        assert Terminal(tid, "a").id == tid
        assert LC.new_terminal(tid).id == tid

    @given(BLANKS)
    def test_a_lifecycle_makes_no_terminal_with_a_blank_id(self, blank: str) -> None:
        with pytest.raises(InvalidInput) as err:
            LC.new_terminal(blank)
        assert err.value.field == "terminal_id"


class TestCreation:
    @FIXTURE_HYPOTHESIS
    @given(blank=BLANKS)
    def test_create_refuses_a_blank_id_on_every_store(
        self, svc: TerminalService, blank: str
    ) -> None:
        with pytest.raises(InvalidInput, match="whitespace only") as err:
            svc.create(blank)
        assert err.value.field == "terminal_id"
        assert svc.counts() == {}

    @pytest.mark.parametrize("blank", SAMPLES)
    def test_create_many_refuses_a_blank_id_and_stores_nothing_of_its_batch(
        self, svc: TerminalService, blank: str
    ) -> None:
        with pytest.raises(InvalidInput) as err:
            svc.create_many([("T1", None), (blank, None), ("T2", None)], batch_size=2)
        assert err.value.field == "terminal_id"
        assert svc.counts() == {}

    @pytest.mark.parametrize("blank", SAMPLES)
    def test_a_store_refuses_to_insert_a_terminal_with_a_blank_id(
        self, store: Store, blank: str
    ) -> None:
        # a terminal that skipped the constructor's checks (as a store's decoder may)
        sneaked = posflow._terminal.terminal_of(blank, "a", 0, posflow._terminal._EMPTY)
        with pytest.raises(InvalidInput) as err, store.transaction() as tx:
            tx.insert([sneaked], [tx.encode_data(sneaked)])
        assert err.value.field == "terminal_id"
        assert store.counts() == {}

    def test_a_store_refuses_an_insert_its_columns_could_not_hold(self, store: Store) -> None:
        sneaked = posflow._terminal.terminal_of("T\x00", "a", 0, posflow._terminal._EMPTY)
        with pytest.raises(InvalidInput, match="NUL"), store.transaction() as tx:
            tx.insert([sneaked], [tx.encode_data(sneaked)])
        assert store.counts() == {}

    @pytest.mark.parametrize("tid", [" T1", "T1 ", "\tT1\u3000"])
    def test_an_id_with_whitespace_around_a_name_is_stored_intact(
        self, svc: TerminalService, tid: str
    ) -> None:
        svc.create(tid)
        assert svc.get(tid).id == tid
        with pytest.raises(TerminalNotFound):
            svc.get("T1")  # not stripped: another terminal
        assert [t.id for t, _, _ in svc.store.scan(None, 10)] == [tid]


class TestLookups:
    @pytest.mark.parametrize("blank", SAMPLES)
    def test_every_lookup_of_a_blank_id_is_invalid_input_naming_it(
        self, svc: TerminalService, blank: str
    ) -> None:
        svc.create("T1")
        for call in (
            lambda: svc.get(blank),
            lambda: svc.history(blank),
            lambda: svc.explain(blank, CTX),
            lambda: svc.verify(blank),
            lambda: svc.fire(blank, "go", CTX),
        ):
            with pytest.raises(InvalidInput, match="whitespace only") as err:
                call()
            assert err.value.field == "terminal_id"
        assert svc.get("T1").version == 0

    @pytest.mark.parametrize("blank", SAMPLES)
    def test_a_batch_refuses_a_blank_id_as_a_single_fire_does(
        self, svc: TerminalService, blank: str
    ) -> None:
        svc.create_many([("T1", None), ("T2", None)])
        outs = svc.fire_many(
            [Command("T1", "go"), Command(blank, "go"), Command("T2", "go")], CTX, errors="return"
        )
        failed = outs[1]
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        assert failed.error.field == "terminal_id"
        assert [o.ok for o in outs] == [True, False, True]
        assert svc.counts() == {"b": 2}

    @pytest.mark.parametrize("fresh", [False, True], ids=["kept", "read"])
    def test_a_batch_with_ids_no_store_can_hold_applies_the_rest(
        self, svc: TerminalService, fresh: bool
    ) -> None:
        # the batch hands every text id to the store's load_many, which must leave out
        # what no store holds (a NUL fails PostgreSQL's query for the whole batch);
        # with fresh, a new service on the same store has kept nothing (SQLite)
        svc.create_many([("T1", None), ("T2", None)])
        if fresh:
            svc.store.close()  # type: ignore[attr-defined]
            svc = TerminalService(LC, svc.store)
        unheld = ["T\x00X", "x" * 300, "\ud800", ""]
        commands = [Command("T1", "go"), *(Command(u, "go") for u in unheld), Command("T2", "go")]
        outs = svc.fire_many(commands, CTX, errors="return")
        assert [o.ok for o in outs] == [True, False, False, False, False, True]
        for failed in outs[1:-1]:
            assert isinstance(failed, CommandFailed)
            assert isinstance(failed.error, InvalidInput)
            assert failed.error.field == "terminal_id"
        assert svc.counts() == {"b": 2}

    @pytest.mark.parametrize("blank", SAMPLES)
    def test_a_batch_that_raises_rolls_back_at_a_blank_id(
        self, svc: TerminalService, blank: str
    ) -> None:
        svc.create("T1")
        with pytest.raises(InvalidInput) as err:
            svc.fire_many([Command("T1", "go"), Command(blank, "go")], CTX)
        assert err.value.field == "terminal_id"
        assert svc.get("T1").version == 0


class TestKeysEventsAndActors:
    @pytest.mark.parametrize("blank", SAMPLES)
    def test_a_blank_idempotency_key_is_a_key_like_any_other(
        self, svc: TerminalService, blank: str
    ) -> None:
        svc.create("T1")
        first = svc.fire("T1", "tick", CTX, idempotency_key=blank)
        again = svc.fire("T1", "tick", CTX, idempotency_key=blank)
        in_batch = svc.fire_many([Command("T1", "tick", idempotency_key=blank)], CTX)
        assert first.ok
        assert getattr(again, "duplicate", False)
        assert getattr(in_batch[0], "duplicate", False)
        [record] = svc.history("T1")
        assert record.idempotency_key == blank

    @pytest.mark.parametrize("blank", SAMPLES)
    def test_a_blank_event_is_invalid_input_naming_it(
        self, svc: TerminalService, blank: str
    ) -> None:
        svc.create("T1")
        with pytest.raises(InvalidInput) as err:
            svc.fire("T1", blank, CTX)
        assert err.value.field == "event"
        [failed] = svc.fire_many([Command("T1", blank)], CTX, errors="return")
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        assert svc.history("T1") == []

    @pytest.mark.parametrize("blank", SAMPLES)
    def test_a_blank_actor_is_invalid_input_naming_it(
        self, svc: TerminalService, blank: str
    ) -> None:
        svc.create("T1")
        with pytest.raises(InvalidInput) as err:
            svc.fire("T1", "tick", Context(actor=blank))
        assert err.value.field == "actor"
        [failed] = svc.fire_many([Command("T1", "tick", actor=blank)], CTX, errors="return")
        assert isinstance(failed, CommandFailed)
        assert svc.history("T1") == []

    @pytest.mark.parametrize("actor", ["", "   ", 5])
    def test_the_shared_actor_of_a_batch_or_a_drain_is_checked_as_a_single_fires_is(
        self, svc: TerminalService, actor: Any
    ) -> None:
        # it was not: fire_many and drain stored it as given (5 on memory, '5' on SQL)
        svc.create("T1")
        ctx = Context(actor=actor)
        for call in (
            lambda: svc.fire_many([Command("T1", "tick")], ctx, errors="return"),
            lambda: list(svc.iter_fire_many([Command("T1", "tick")], ctx)),
            lambda: svc.drain("run-1", "a", "tick", ctx),
        ):
            with pytest.raises(InvalidInput) as err:
                call()
            assert err.value.field == "actor"
        assert svc.history("T1") == []

    def test_a_blank_run_id_is_refused(self, svc: TerminalService) -> None:
        with pytest.raises(InvalidInput) as err:
            svc.drain("  ", "a", "tick", CTX)
        assert err.value.field == "run_id"
