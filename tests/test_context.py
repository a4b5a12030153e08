"""``Context``, ``Terminal`` and the clocks a decision reads time from."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import pytest

import posflow
from posflow import Context, FrozenClock, Ports, SystemClock, Terminal
from posflow.errors import InvalidInput

NOON = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


class TestContext:
    def test_defaults(self) -> None:
        ctx = Context()
        assert (dict(ctx.payload), ctx.actor, ctx.at) == ({}, "system", None)
        assert isinstance(ctx.clock, SystemClock)
        assert isinstance(ctx.ports, Ports)
        assert isinstance(ctx.policy, posflow.Policy)

    def test_now_is_the_fixed_time_when_one_is_given(self) -> None:
        assert Context(at=NOON, clock=FrozenClock(NOON + dt.timedelta(days=1))).now() == NOON

    def test_now_asks_the_clock_otherwise(self) -> None:
        clock = FrozenClock(NOON)
        ctx = Context(clock=clock)
        assert ctx.now() == NOON
        clock.advance(hours=1)
        assert ctx.now() == NOON + dt.timedelta(hours=1)

    def test_with_payload_replaces_the_payload_and_shares_the_rest(self) -> None:
        clock = FrozenClock(NOON)
        ctx = Context({"a": 1}, actor="op", clock=clock, at=NOON)
        other = ctx.with_payload({"b": 2}, c=3)
        assert dict(other.payload) == {"b": 2, "c": 3}
        assert (other.actor, other.clock, other.at, other.ports) == ("op", clock, NOON, ctx.ports)
        assert other.policy is ctx.policy
        assert dict(ctx.payload) == {"a": 1}
        assert dict(ctx.with_payload().payload) == {}

    def test_the_payload_is_a_read_only_copy(self) -> None:
        given = {"amount": 5}
        ctx = Context(given)
        given["amount"] = 6
        assert ctx.payload["amount"] == 5
        with pytest.raises(TypeError):
            ctx.payload["amount"] = 7  # type: ignore[index]

    def test_the_repr_masks_the_payload(self) -> None:
        text = repr(Context({"operator_password": "hunter22", "amount": 5}))
        assert "hunter22" not in text
        assert "'amount': 5" in text

    def test_a_context_is_frozen(self) -> None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            Context().actor = "x"  # type: ignore[misc]

    def test_none_gives_each_context_ports_of_its_own_and_the_default_policy(self) -> None:
        a, b = Context(ports=None, policy=None), Context()
        assert isinstance(a.ports, Ports)
        assert a.ports is not b.ports
        assert a.ports.inventory is not b.ports.inventory  # nothing shared between contexts
        assert a.policy == posflow.policy.default_policy()

    @pytest.mark.parametrize("ports", [object(), {"inventory": None}, "ports", 5])
    def test_ports_that_are_not_ports_are_invalid_input_naming_them(self, ports: Any) -> None:
        with pytest.raises(InvalidInput) as caught:
            Context(ports=ports)
        assert caught.value.field == "ports"

    def test_the_fields_given_are_kept_as_given(self) -> None:
        ports, policy, clock = Ports(), posflow.policy.default_policy(), FrozenClock(NOON)
        ctx = Context({"amount": 5}, "op-1", clock, ports, policy, NOON)
        assert (dict(ctx.payload), ctx.actor, ctx.at) == ({"amount": 5}, "op-1", NOON)
        assert (ctx.clock, ctx.ports, ctx.policy) == (clock, ports, policy)
        assert type(ctx) is Context

    def test_evolve_makes_a_checked_context(self) -> None:
        ctx = attrs.evolve(Context({"a": 1}), at=dt.datetime(2026, 6, 1, 12))
        assert (ctx.at, dict(ctx.payload)) == (NOON, {"a": 1})
        with pytest.raises(InvalidInput):
            attrs.evolve(Context(), clock=object())

    def test_asdict_fields_and_astuple_show_only_the_fields_a_caller_sets(self) -> None:
        # whether now() is the system clock's reading is derived, kept in a slot for fire
        ctx = Context({"a": 1}, "op")
        names = ["payload", "actor", "clock", "ports", "policy", "at"]
        assert [f.name for f in attrs.fields(Context)] == names
        assert list(attrs.asdict(ctx, recurse=False)) == names
        assert len(attrs.astuple(ctx, recurse=False)) == len(names)
        assert "system_time" not in repr(ctx)
        assert ctx._system_time is True

    def test_the_derived_flag_follows_the_fields_through_evolve(self) -> None:
        fixed = attrs.evolve(Context(), at=NOON)
        assert fixed._system_time is False
        assert attrs.evolve(fixed, at=None)._system_time is True
        assert attrs.evolve(Context(), clock=FrozenClock(NOON))._system_time is False
        assert fixed == Context(ports=fixed.ports, policy=fixed.policy, at=NOON)

    def test_an_attrs_subclass_has_only_its_own_fields_besides_the_contexts(self) -> None:
        @attrs.frozen
        class Tagged(Context):
            tag: str = "none"

        ctx = Tagged(tag="t-1")
        assert list(attrs.asdict(ctx, recurse=False)) == [
            "payload",
            "actor",
            "clock",
            "ports",
            "policy",
            "at",
            "tag",
        ]
        assert ctx._system_time is False

    def test_a_subclass_is_built_and_checked_as_a_context_is(self) -> None:
        class Traced(Context):
            pass

        ctx = Traced({"a": 1}, "op", at=dt.datetime(2026, 6, 1, 12))
        assert type(ctx) is Traced
        assert ctx.at == NOON
        assert ctx.actor == "op"
        assert ctx == Traced({"a": 1}, "op", ports=ctx.ports, policy=ctx.policy, at=NOON)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            ctx.actor = "x"  # type: ignore[misc]
        with pytest.raises(InvalidInput):
            Traced(ports=object())  # type: ignore[arg-type]

    def test_an_attrs_subclass_runs_the_same_checks_in_its_own_init(self) -> None:
        @attrs.frozen(init=True)
        class Dated(Context):
            pass

        ctx = Dated(at=dt.datetime(2026, 6, 1, 12))
        assert ctx.at == NOON
        assert ctx.now() == NOON
        assert Dated(None).payload == {}
        assert not ctx._system_time
        with pytest.raises(InvalidInput):
            Dated(clock=object())  # type: ignore[arg-type]

    def test_an_attrs_subclass_may_have_fields_of_its_own(self) -> None:
        # Python passes a subclass's arguments to __new__ too: Context.__new__ must
        # not refuse the fields it does not know (as attrs' __init__ never did)
        @attrs.frozen
        class Tagged(Context):
            tag: str = "none"

        ctx = Tagged({"a": 1}, "op", tag="t-1", at=dt.datetime(2026, 6, 1, 12))
        assert (ctx.tag, ctx.actor, dict(ctx.payload), ctx.at) == ("t-1", "op", {"a": 1}, NOON)
        assert ctx._system_time is False
        again = attrs.evolve(ctx, tag="t-2")
        assert type(again) is Tagged
        assert (again.tag, again.actor, again.at) == ("t-2", "op", NOON)
        assert Tagged(tag="x") != Tagged(tag="y")
        with pytest.raises(InvalidInput):
            Tagged(tag="x", clock=object())  # type: ignore[arg-type]

    def test_an_attrs_subclass_takes_none_and_refuses_other_ports_as_context_does(self) -> None:
        @attrs.frozen
        class Tagged(Context):
            tag: str = "none"

        ctx = Tagged(ports=None, policy=None)
        assert isinstance(ctx.ports, Ports)
        assert ctx.policy == posflow.policy.default_policy()
        with pytest.raises(InvalidInput) as caught:
            Tagged(ports=object())  # type: ignore[arg-type]
        assert caught.value.field == "ports"

    def test_a_subclass_with_a_new_of_its_own_is_built_and_checked(self) -> None:
        class Counted(Context):
            made = 0

            def __new__(cls, *args: Any, **kwargs: Any) -> Counted:
                cls.made += 1
                return super().__new__(cls, *args, **kwargs)

        ctx = Counted({"a": 1}, at=dt.datetime(2026, 6, 1, 12))
        assert (type(ctx), dict(ctx.payload), ctx.at, Counted.made) == (Counted, {"a": 1}, NOON, 1)
        assert ctx._system_time is False
        with pytest.raises(InvalidInput):
            Counted(clock=object())  # type: ignore[arg-type]

    def test_a_payload_of_none_is_an_empty_payload(self) -> None:
        assert Context(None).payload == {}

    @pytest.mark.parametrize("payload", [[1, 2], [("amount", 5)], "amount", 5])
    def test_a_payload_that_is_not_a_mapping_is_invalid_input_naming_it(self, payload: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a mapping") as caught:
            Context(payload)
        assert caught.value.field == "payload"

    @pytest.mark.parametrize("clock", ["now", 5, dt.datetime(2026, 1, 1, tzinfo=dt.UTC).date()])
    def test_a_clock_without_now_is_invalid_input_when_the_context_is_built(
        self, clock: Any
    ) -> None:
        with pytest.raises(InvalidInput, match="must be a Clock") as caught:
            Context(clock=clock)
        assert caught.value.field == "clock"

    def test_any_object_with_now_is_a_clock(self) -> None:
        class Sundial:
            def now(self) -> dt.datetime:
                return NOON

        assert Context(clock=Sundial()).now() == NOON

    @pytest.mark.parametrize("at", ["yesterday", NOON.date(), NOON.timestamp()])
    def test_a_fixed_time_that_is_not_a_datetime_is_invalid_input(self, at: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a datetime") as caught:
            Context(at=at)
        assert caught.value.field == "at"

    def test_a_naive_fixed_time_is_taken_as_utc_as_a_frozen_clock_takes_one(self) -> None:
        ctx = Context(at=dt.datetime(2026, 6, 1, 12))
        assert ctx.at == NOON
        assert ctx.at.tzinfo is dt.UTC
        assert ctx.now() == FrozenClock(dt.datetime(2026, 6, 1, 12)).now()

    def test_an_aware_fixed_time_is_kept_as_given(self) -> None:
        shanghai = dt.datetime(2026, 6, 1, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        assert Context(at=shanghai).at is shanghai


class _NoCopyMapping(Mapping[str, Any]):
    """A read-only mapping with no ``copy()`` method."""

    def __init__(self, **items: Any) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class TestTerminal:
    def test_defaults(self) -> None:
        t = Terminal("T", "applied")
        assert (t.version, dict(t.data)) == (0, {})

    def test_with_data_merges_and_keeps_state_and_version(self) -> None:
        t = Terminal("T", "activated", 3, {"sn": "A", "model": "X1"})
        after = t.with_data(sn="B")
        assert (after.state, after.version, dict(after.data)) == (
            "activated",
            3,
            {"sn": "B", "model": "X1"},
        )
        assert t.data["sn"] == "A"

    def test_data_is_a_read_only_copy(self) -> None:
        given = {"sn": "A"}
        t = Terminal("T", "a", data=given)
        given["sn"] = "B"
        assert t.data["sn"] == "A"

    def test_a_read_only_view_passed_in_is_copied_too(self) -> None:
        given = {"sn": "A"}
        t = Terminal("T", "a", data=MappingProxyType(given))
        given["sn"] = "B"  # whoever made the view may still change the dict behind it
        assert t.data["sn"] == "A"
        assert type(t.data) is MappingProxyType

    @pytest.mark.parametrize(
        "behind",
        [collections.OrderedDict(sn="A", model="X1"), _NoCopyMapping(sn="A", model="X1")],
        ids=["ordered-dict", "mapping-without-copy"],
    )
    def test_a_view_of_another_mapping_becomes_plain_data(self, behind: Mapping[str, Any]) -> None:
        t = Terminal("T", "a", data=MappingProxyType(behind))
        assert t.data == {"sn": "A", "model": "X1"}
        assert t.with_data(sn="B").data == {"sn": "B", "model": "X1"}

    def test_terminals_compare_by_value(self) -> None:
        assert Terminal("T", "a", 1, {"k": 1}) == Terminal("T", "a", 1, {"k": 1})
        assert Terminal("T", "a", 1) != Terminal("T", "a", 2)

    def test_the_repr_masks_the_data(self) -> None:
        t = Terminal("T", "a", data={"merchant": {"contact_phone": "13812345678"}})
        assert "13812345678" not in repr(t)
        assert "138****5678" in repr(t)

    @pytest.mark.parametrize("version", ["1", 1.0, True, False, None])
    def test_a_version_that_is_not_an_int_is_invalid_input(self, version: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a non-negative int") as caught:
            Terminal("T", "applied", version, {})
        assert caught.value.field == "version"

    def test_a_negative_version_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="must not be negative"):
            Terminal("T", "applied", -1)

    def test_a_version_may_be_an_int_subclass_other_than_bool(self) -> None:
        class Count(int):
            pass

        assert Terminal("T", "applied", Count(2)).version == 2

    @pytest.mark.parametrize("data", [[1, 2], [("sn", "A")], "sn", 5])
    def test_data_that_is_not_a_mapping_is_invalid_input(self, data: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a mapping") as caught:
            Terminal("T", "applied", 0, data)
        assert caught.value.field == "data"

    def test_evolve_checks_the_version_too(self) -> None:
        with pytest.raises(InvalidInput):
            attrs.evolve(Terminal("T", "applied"), version="2")


class TestClocks:
    def test_the_system_clock_is_timezone_aware(self) -> None:
        now = SystemClock().now()
        assert now.tzinfo is not None
        assert abs(now - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
        assert repr(SystemClock()) == "SystemClock()"

    def test_a_frozen_clock_stands_still_until_moved(self) -> None:
        clock = FrozenClock(NOON)
        assert clock.now() == clock.now() == NOON
        assert clock.advance(dt.timedelta(minutes=5)) == NOON + dt.timedelta(minutes=5)
        assert clock.advance(seconds=1) == NOON + dt.timedelta(minutes=5, seconds=1)
        clock.set(NOON)
        assert clock.now() == NOON
        assert repr(clock) == "FrozenClock(2026-06-01T12:00:00+00:00)"

    def test_naive_times_are_taken_as_utc(self) -> None:
        clock = FrozenClock(dt.datetime(2026, 1, 1, 8))
        assert clock.now().tzinfo == dt.UTC
        clock.set(dt.datetime(2026, 1, 2))
        assert clock.now() == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)

    @pytest.mark.parametrize("at", ["2026-01-01", NOON.date(), 0])
    def test_a_frozen_clock_refuses_a_time_that_is_not_a_datetime(self, at: Any) -> None:
        with pytest.raises(InvalidInput, match="must be a datetime") as caught:
            FrozenClock(at)
        assert caught.value.field == "at"
        clock = FrozenClock(NOON)
        with pytest.raises(InvalidInput, match="must be a datetime"):
            clock.set(at)
        assert clock.now() == NOON

    def test_a_frozen_clock_has_a_fixed_default(self) -> None:
        assert FrozenClock().now() == FrozenClock().now()
        assert FrozenClock().now().tzinfo is not None
