"""The schema methods every store has, with one meaning: create, upgrade, version, drop.

``MemoryStore`` had no ``drop_schema``: code written against the ``Store``
protocol (a test fixture that resets its store, say) could drop a SQL store but
not a memory one. Now both forget everything, and both refuse to be used with
``SchemaMismatch`` until ``create_schema()`` makes them usable again, empty.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from posflow import Context
from posflow.errors import InvalidInput, SchemaMismatch, TerminalNotFound
from posflow.store import SCHEMA_VERSION, Command, MemoryStore, Store, TerminalService
from store_lifecycles import two_states

LC = two_states("schema")
CTX = Context(actor="tester")


def _filled(store: Store) -> TerminalService:
    svc = TerminalService(LC, store)
    svc.create_many([("T1", {"n": 1}), ("T2", None)])
    svc.fire("T1", "tick", CTX, idempotency_key="k1")
    return svc


def _uses(store: Store, svc: TerminalService) -> dict[str, Callable[[], Any]]:
    """Every way to read or write a store, directly and through a service."""

    def transaction() -> None:
        with store.transaction():
            pass

    return {
        "get": lambda: store.get("T1"),
        "history": lambda: store.history("T1"),
        "snapshot": lambda: store.snapshot("T1"),
        "counts": store.counts,
        "scan": lambda: store.scan(None, 10),
        "transaction": transaction,
        "create": lambda: svc.create("T3"),
        "fire": lambda: svc.fire("T1", "go", CTX),
        "fire_many": lambda: svc.fire_many([Command("T1", "go")], CTX),
        "drain": lambda: svc.drain("run-1", "a", "go", CTX),
        "verify_all": svc.verify_all,
    }


class TestDropSchema:
    def test_every_store_has_it_as_the_protocol_says(self, store: Store) -> None:
        assert callable(store.drop_schema)
        assert "drop_schema" in Store.__dict__

    def test_after_a_drop_every_use_is_a_schema_mismatch_until_created_again(
        self, store: Store
    ) -> None:
        svc = _filled(store)
        store.drop_schema()
        assert store.schema_version() is None
        for name, use in _uses(store, svc).items():
            with pytest.raises(SchemaMismatch, match="create_schema") as err:
                use()
            assert (err.value.found, err.value.expected) == (None, SCHEMA_VERSION), name

    def test_an_id_no_store_can_hold_is_still_invalid_input_first(self, store: Store) -> None:
        store.drop_schema()
        with pytest.raises(InvalidInput):
            store.get("T\x00")

    @pytest.mark.parametrize("make", ["create_schema", "upgrade_schema"])
    def test_made_again_the_store_is_empty_and_forgot_its_keys(
        self, store: Store, make: str
    ) -> None:
        _filled(store)
        store.drop_schema()
        getattr(store, make)()
        assert store.schema_version() == SCHEMA_VERSION
        assert store.counts() == {}
        assert store.scan(None, 10) == []
        with pytest.raises(TerminalNotFound):
            store.get("T1")
        svc = TerminalService(LC, store)
        svc.create("T1")
        out = svc.fire("T1", "tick", CTX, idempotency_key="k1")
        assert not getattr(out, "duplicate", False)  # the key was forgotten with its record
        assert len(svc.history("T1")) == 1

    def test_dropping_twice_is_not_an_error(self, store: Store) -> None:
        store.drop_schema()
        store.drop_schema()
        assert store.schema_version() is None

    def test_creating_a_schema_in_use_keeps_what_is_stored(self, store: Store) -> None:
        _filled(store)
        store.create_schema()
        store.upgrade_schema()
        assert store.counts() == {"a": 2}
        assert len(store.history("T1")) == 1


class TestMemoryStoreDrop:
    def test_a_new_memory_store_is_ready_and_its_repr_says_when_it_is_not(self) -> None:
        store = MemoryStore()
        assert store.schema_version() == SCHEMA_VERSION
        store.drop_schema()
        assert repr(store) == "<MemoryStore: no schema>"
        store.create_schema()
        assert repr(store) == "<MemoryStore: 0 terminals>"

    def test_a_drop_inside_a_transaction_leaves_it_nothing_to_commit_into(self) -> None:
        store = MemoryStore()
        svc = TerminalService(LC, store)
        terminal = LC.new_terminal("T1")

        def insert_then_drop() -> None:
            with store.transaction() as tx:
                tx.insert([terminal], [tx.encode_data(terminal)])
                store.drop_schema()  # the same thread: the store's lock is re-entrant

        with pytest.raises(SchemaMismatch):
            insert_then_drop()
        store.create_schema()
        assert svc.counts() == {}

    def test_a_transaction_begun_before_a_drop_but_entered_after_is_refused(self) -> None:
        store = MemoryStore()
        pending = store.transaction()
        store.drop_schema()
        with pytest.raises(SchemaMismatch), pending:
            pass
        recreate = threading.Thread(target=store.create_schema)
        recreate.start()
        recreate.join()  # the lock was released: another thread gets it
        assert store.counts() == {}

    def test_a_drop_waits_for_an_open_transaction_of_another_thread(self) -> None:
        store = MemoryStore()
        terminal = LC.new_terminal("T1")
        inside, drop_done = threading.Event(), threading.Event()

        def drop() -> None:
            inside.wait()
            store.drop_schema()
            drop_done.set()

        worker = threading.Thread(target=drop)
        worker.start()
        with store.transaction() as tx:
            tx.insert([terminal], [tx.encode_data(terminal)])
            inside.set()
            assert not drop_done.wait(0.05)  # blocked on the store's lock
        worker.join()
        assert store.schema_version() is None
