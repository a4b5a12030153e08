"""History records and ``Lifecycle.replay``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

import posflow
from posflow import Context, HistoryRecord, Lifecycle, State, Transition
from posflow.errors import InvalidInput, ReplayError

AT = dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def _bump(terminal: posflow.Terminal, ctx: Context) -> dict[str, Any]:
    return {"count": int(terminal.data.get("count", 0)) + 1, "last": ctx.payload.get("tag")}


def _lifecycle() -> Lifecycle:
    return Lifecycle(
        [State("new"), State("open"), State("closed", final=True)],
        [
            Transition("open", "new", "open", effect=_bump),
            Transition("sell", "open", "=", effect=_bump),
            Transition("close", "open", "closed"),
        ],
        "new",
    )


def _live_run() -> tuple[posflow.Terminal, list[HistoryRecord]]:
    """open, a refused close from ``new``, two sales, close: with every record."""
    lc = _lifecycle()
    t = lc.new_terminal("T1", {"sn": "SN-9"})
    records = []
    for i, event in enumerate(["sell", "open", "sell", "explode", "sell", "close"]):
        outcome = lc.fire(t, event, Context({"tag": i}, at=AT))
        records.append(outcome.record)
        t = outcome.terminal
    return t, records


def rec(**changes: Any) -> HistoryRecord:
    base = HistoryRecord("T1", None, "open", "new", "open", 1, "system", AT)
    return attrs.evolve(base, **changes)


class TestHistoryRecord:
    def test_a_record_is_frozen_and_knows_whether_it_was_accepted(self) -> None:
        r = rec()
        assert r.accepted
        assert not rec(to_state=None, version=0, reasons=("x.y",)).accepted
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            r.event = "other"  # type: ignore[misc]

    def test_with_seq_places_a_copy(self) -> None:
        r = rec()
        placed = r.with_seq(4)
        assert (placed.seq, r.seq) == (4, None)
        assert attrs.evolve(placed, seq=None) == r

    def test_payload_and_changes_are_read_only(self) -> None:
        r = rec(payload={"a": 1}, changes={"b": 2})
        with pytest.raises(TypeError):
            r.payload["a"] = 3  # type: ignore[index]
        with pytest.raises(TypeError):
            r.changes["b"] = 3  # type: ignore[index]

    def test_to_dict_is_ready_for_json(self) -> None:
        r = rec(
            seq=2,
            payload={"operator_password": "pw", "amount": 12},
            reasons=(),
            idempotency_key="k",
            changes={"count": 1},
        )
        assert r.to_dict() == {
            "terminal_id": "T1",
            "seq": 2,
            "event": "open",
            "from_state": "new",
            "to_state": "open",
            "version": 1,
            "actor": "system",
            "at": "2026-02-03T04:05:06+00:00",
            "payload": {"operator_password": "******", "amount": 12},
            "reasons": [],
            "idempotency_key": "k",
            "changes": {"count": 1},
        }


class TestReplay:
    def test_replay_rebuilds_state_version_and_data_of_a_live_run(self) -> None:
        live, records = _live_run()
        assert [r.accepted for r in records] == [False, True, True, False, True, True]
        rebuilt = _lifecycle().replay(records, data={"sn": "SN-9"})
        assert rebuilt == live
        assert dict(rebuilt.data) == {"sn": "SN-9", "count": 3, "last": 4}

    def test_replaying_nothing_gives_a_fresh_terminal_for_the_given_id(self) -> None:
        t = _lifecycle().replay([], terminal_id="T2")
        assert (t.id, t.state, t.version, dict(t.data)) == ("T2", "new", 0, {})

    def test_replaying_refusals_only_keeps_the_initial_state(self) -> None:
        _, records = _live_run()
        assert _lifecycle().replay(records[:1]).state == "new"

    def test_replaying_a_prefix_gives_the_terminal_as_it_was_then(self) -> None:
        _, records = _live_run()
        t = _lifecycle().replay(records[:3])
        assert (t.state, t.version, t.data["count"]) == ("open", 2, 2)

    def _fails(self, records: list[HistoryRecord], index: int, match: str, **kw: Any) -> None:
        with pytest.raises(ReplayError, match=match) as caught:
            _lifecycle().replay(records, **kw)
        assert caught.value.index == index
        assert str(caught.value).startswith(f"record {index}: ")

    def test_an_item_that_is_not_a_history_record_is_a_replay_error_naming_its_index(
        self,
    ) -> None:
        _, records = _live_run()
        given: list[Any] = [records[0], {"event": "open"}]
        self._fails(given, 1, "is a dict, not a HistoryRecord")

    def test_records_that_are_not_iterable_are_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="must be an iterable of HistoryRecord") as caught:
            _lifecycle().replay(None, terminal_id="T")  # type: ignore[arg-type]
        assert caught.value.field == "records"

    def test_starting_data_that_is_not_a_mapping_is_invalid_input(self) -> None:
        _, records = _live_run()
        with pytest.raises(InvalidInput, match="must be a mapping") as caught:
            _lifecycle().replay(records, data=[("sn", "SN-9")])  # type: ignore[arg-type]
        assert caught.value.field == "data"

    def test_a_record_of_another_terminal(self) -> None:
        _, records = _live_run()
        records[2] = attrs.evolve(records[2], terminal_id="T9")
        self._fails(records, 2, "belongs to terminal 'T9'")

    def test_a_record_of_another_terminal_than_the_one_asked_for(self) -> None:
        _, records = _live_run()
        self._fails(records, 0, "not 'T5'", terminal_id="T5")

    def test_a_record_starting_from_the_wrong_state(self) -> None:
        _, records = _live_run()
        records[2] = attrs.evolve(records[2], from_state="new")
        self._fails(records, 2, "starts from 'new' but the terminal was in 'open'")

    def test_a_refusal_starting_from_the_wrong_state(self) -> None:
        _, records = _live_run()
        self._fails(records[1:2] + records[:1], 1, "starts from 'new'")

    def test_a_record_for_which_there_is_no_transition(self) -> None:
        _, records = _live_run()
        records[1] = attrs.evolve(records[1], event="close", to_state="closed")
        self._fails(records, 1, "no transition for 'close' from 'new'")

    def test_a_record_with_the_wrong_destination(self) -> None:
        _, records = _live_run()
        records[5] = attrs.evolve(records[5], to_state="new")
        self._fails(records, 5, "leads to 'closed', not 'new'")

    def test_a_record_that_skips_a_version(self) -> None:
        _, records = _live_run()
        records[2] = attrs.evolve(records[2], version=5)
        self._fails(records, 2, "version 5 after 1")

    def test_a_refusal_at_the_wrong_version(self) -> None:
        _, records = _live_run()
        records[3] = attrs.evolve(records[3], version=7)
        self._fails(records, 3, "refusal at version 7, expected 2")

    def test_a_refusal_without_reasons(self) -> None:
        _, records = _live_run()
        records[0] = attrs.evolve(records[0], reasons=())
        self._fails(records, 0, "must carry its reason codes")

    def test_nothing_to_replay_and_no_id(self) -> None:
        self._fails([], 0, "no records to replay and no terminal_id")

    def test_a_dropped_record_is_detected(self) -> None:
        _, records = _live_run()
        self._fails(records[:2] + records[3:], 2, "refusal at version 2, expected 1")

    def test_replay_errors_name_the_terminal(self) -> None:
        _, records = _live_run()
        with pytest.raises(ReplayError) as caught:
            _lifecycle().replay([*records, records[-1]])
        assert caught.value.terminal_id == "T1"
        assert isinstance(caught.value, ValueError)
