"""The merchant file port: terminals may carry only their merchant's id; guards read the rest."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow.errors import InvalidInput
from posflow.guards._read import merchant_of
from posflow.ports import InMemoryMerchantFile, MerchantFile, Ports
from posflow.testing import World


def _full(world: World) -> dict[str, Any]:
    return dict(world.merchant)


class TestInMemoryMerchantFile:
    def test_files_records_by_id_and_replaces(self) -> None:
        f = InMemoryMerchantFile([{"id": "M1", "name": "One"}])
        assert isinstance(f, MerchantFile)
        assert f.merchant("M1") == {"id": "M1", "name": "One"}
        assert f.merchant("M2") is None
        f.add({"id": "M1", "name": "Uno"})
        assert f.merchant("M1") == {"id": "M1", "name": "Uno"}
        assert len(f) == 1
        assert repr(f) == "InMemoryMerchantFile(1 records)"

    def test_keeps_a_copy_that_cannot_be_changed(self) -> None:
        record = {"id": "M1", "name": "One"}
        f = InMemoryMerchantFile([record])
        record["name"] = "changed"
        found = f.merchant("M1")
        assert found is not None
        assert found["name"] == "One"
        with pytest.raises(TypeError):
            found["name"] = "x"  # type: ignore[index]

    @pytest.mark.parametrize("bad", [{"name": "no id"}, {"id": ""}, {"id": 7}])
    def test_a_record_needs_an_id(self, bad: dict[str, Any]) -> None:
        with pytest.raises(InvalidInput) as err:
            InMemoryMerchantFile([bad])
        assert err.value.field == "merchant.id"

    def test_a_record_must_be_a_mapping(self) -> None:
        with pytest.raises(InvalidInput) as err:
            InMemoryMerchantFile().add(["M1"])  # type: ignore[arg-type]
        assert err.value.field == "merchant"


class TestGuardsReadTheFile:
    def test_a_terminal_with_only_the_id_decides_as_one_with_the_whole_record(self) -> None:
        full_world = World()
        slim_world = World()
        slim_world.merchants.add(_full(slim_world))
        full = full_world.new_terminal()
        slim = slim_world.lifecycle.new_terminal(
            slim_world.terminal_id, {"merchant": {"id": slim_world.merchant_id}}
        )
        lc = full_world.lifecycle
        for event in ["review", "ship", "receive", "activate", "sign_in", "record_sale", "settle"]:
            a = lc.fire(full, event, full_world.context_for(event))
            b = lc.fire(slim, event, slim_world.context_for(event))
            assert (a.ok, a.codes) == (b.ok, b.codes), event
            assert a.ok, (event, a.codes)
            full, slim = a.terminal, b.terminal
        assert slim.data["merchant"] == {"id": slim_world.merchant_id}

    @given(
        on_file=st.dictionaries(st.sampled_from(["name", "region", "type"]), st.text(max_size=4)),
        stored=st.dictionaries(st.sampled_from(["name", "region"]), st.text(max_size=4)),
        given_merchant=st.dictionaries(st.sampled_from(["region"]), st.text(max_size=4)),
    )
    def test_the_payload_wins_over_the_terminal_which_wins_over_the_file(
        self, on_file: dict[str, str], stored: dict[str, str], given_merchant: dict[str, str]
    ) -> None:
        ports = Ports(merchants=InMemoryMerchantFile([{**on_file, "id": "M1"}]))
        t = posflow.Terminal("T1", "applied", 0, {"merchant": {**stored, "id": "M1"}})
        ctx = posflow.Context({"merchant": given_merchant} if given_merchant else {}, ports=ports)
        expected = {**on_file, **stored, "id": "M1", **given_merchant}
        assert dict(merchant_of(t, ctx)) == expected

    @pytest.mark.parametrize("record", [{"name": "x"}, {"id": "M2", "name": "x"}])
    def test_the_terminal_s_id_wins_over_a_record_filed_without_it_or_under_another(
        self, record: dict[str, str]
    ) -> None:
        class Odd:
            def merchant(self, merchant_id: str) -> dict[str, str]:
                return record

        t = posflow.Terminal("T1", "applied", 0, {"merchant": {"id": "M1"}})
        ctx = posflow.Context(ports=Ports(merchants=Odd()))  # type: ignore[arg-type]
        assert dict(merchant_of(t, ctx)) == {"name": "x", "id": "M1"}

    def test_records_and_terminal_data_of_any_mapping_type_are_read(self) -> None:
        class Record(Mapping[str, str]):
            def __init__(self, **values: str) -> None:
                self._values = values

            def __getitem__(self, key: str) -> str:
                return self._values[key]

            def __iter__(self) -> Iterator[str]:
                return iter(self._values)

            def __len__(self) -> int:
                return len(self._values)

        class File:
            def merchant(self, merchant_id: str) -> Mapping[str, str]:
                return Record(id=merchant_id, name="on file")

        ctx = posflow.Context(ports=Ports(merchants=File()))  # type: ignore[arg-type]
        slim = posflow.Terminal("T1", "applied", 0, {"merchant": Record(id="M1")})
        assert dict(merchant_of(slim, ctx)) == {"id": "M1", "name": "on file"}
        full = posflow.Terminal("T1", "applied", 0, {"merchant": Record(id="M1", name="own")})
        assert dict(merchant_of(full, ctx)) == {"id": "M1", "name": "own"}

    def test_a_terminal_without_a_merchant_id_is_not_looked_up(self) -> None:
        class Refusing:
            def merchant(self, merchant_id: str) -> None:
                raise AssertionError("not to be asked")

        t = posflow.Terminal("T1", "applied", 0, {"merchant": {"name": "x"}})
        assert merchant_of(t, posflow.Context(ports=Ports(merchants=Refusing()))) == {"name": "x"}

    @pytest.mark.parametrize("how", ["raise", "nonsense"])
    def test_a_failing_file_refuses_retryably_naming_the_port(self, how: str) -> None:
        class Broken:
            def merchant(self, merchant_id: str) -> object:
                if how == "raise":
                    raise ConnectionError("down")
                return "nonsense"

        world = World()
        t = world.lifecycle.new_terminal(world.terminal_id, {"merchant": {"id": "M1"}})
        ctx = posflow.Context(
            world.payload("review"),
            clock=world.clock,
            ports=world.ports.replace(merchants=Broken()),
            policy=world.policy,
        )
        out = world.lifecycle.fire(t, "review", ctx)
        assert out.blocked
        unavailable = [r for r in out.reasons if r.code == "port.unavailable"]
        assert unavailable
        assert all(r.params["port"] == "merchants" and r.retryable for r in unavailable)
