"""The SQL store's own duties: schema versions, reachability, encoding, hostile strings."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posflow import Context, Lifecycle, State, Transition
from posflow.errors import (
    CorruptRecord,
    InvalidInput,
    SchemaMismatch,
    StoreError,
    StoreUnavailable,
    TerminalNotFound,
)
from posflow.store import (
    MAX_ID_LENGTH,
    MAX_RUN_ID_LENGTH,
    SCHEMA_VERSION,
    Command,
    CommandFailed,
    MemoryStore,
    SQLStore,
    Store,
    TerminalService,
    _sqlschema,
    _sqlstmt,
    _sqltx,
)
from sql_support import execute_behind

SMALL = Lifecycle(
    ["a", State("b", final=True)],
    [Transition("go", "a", "b"), Transition("tick", "a", "=")],
    "a",
)


def _set_version(store: SQLStore, value: str) -> None:
    execute_behind(
        store, "UPDATE posflow_meta SET value = ? WHERE key = 'schema_version'", (value,)
    )


@pytest.fixture
def bare(sql_store: SQLStore) -> SQLStore:
    """A SQL store whose database has no posflow schema yet."""
    sql_store.drop_schema()
    return sql_store


class TestSchema:
    def test_no_schema_is_a_clear_mismatch(self, bare: SQLStore) -> None:
        assert bare.schema_version() is None
        svc = TerminalService(SMALL, bare)
        with pytest.raises(SchemaMismatch, match="create_schema") as err:
            svc.get("T1")
        assert (err.value.found, err.value.expected) == (None, SCHEMA_VERSION)
        with pytest.raises(SchemaMismatch):
            svc.create("T1")

    def test_create_schema_is_idempotent(self, bare: SQLStore) -> None:
        bare.create_schema()
        bare.create_schema()
        assert bare.schema_version() == SCHEMA_VERSION
        TerminalService(SMALL, bare).create("T1")
        bare.create_schema()
        assert bare.get("T1").state == "a"

    def test_a_newer_schema_is_refused(self, sql_store: SQLStore) -> None:
        _set_version(sql_store, str(SCHEMA_VERSION + 1))
        other = SQLStore(sql_store.engine)
        with pytest.raises(SchemaMismatch, match="newer") as err:
            other.get("T1")
        assert err.value.found == SCHEMA_VERSION + 1
        for call in (other.create_schema, other.upgrade_schema):
            with pytest.raises(SchemaMismatch):
                call()

    def test_an_older_schema_without_a_migration_is_refused(self, sql_store: SQLStore) -> None:
        _set_version(sql_store, "0")
        other = SQLStore(sql_store.engine)
        with pytest.raises(SchemaMismatch, match="upgrade_schema"):
            other.counts()
        for call in (other.create_schema, other.upgrade_schema):
            with pytest.raises(SchemaMismatch):
                call()

    def test_upgrade_runs_the_migration_steps(
        self, sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _set_version(sql_store, "0")
        monkeypatch.setattr(
            _sqlschema, "_MIGRATIONS", {0: ("CREATE TABLE posflow_marker (x INTEGER)",)}
        )
        other = SQLStore(sql_store.engine)
        other.upgrade_schema()
        assert other.schema_version() == SCHEMA_VERSION
        execute_behind(other, "INSERT INTO posflow_marker (x) VALUES (1)")
        execute_behind(other, "DROP TABLE posflow_marker")
        assert other.counts() == {}

    def test_upgrade_creates_a_missing_schema_and_keeps_a_current_one(self, bare: SQLStore) -> None:
        bare.upgrade_schema()
        assert bare.schema_version() == SCHEMA_VERSION
        TerminalService(SMALL, bare).create("T1")
        bare.upgrade_schema()
        assert bare.get("T1").id == "T1"

    def test_an_unreadable_version_is_corrupt(self, sql_store: SQLStore) -> None:
        _set_version(sql_store, "one")
        with pytest.raises(CorruptRecord):
            SQLStore(sql_store.engine).schema_version()

    def test_a_dropped_schema_is_noticed(self, sql_store: SQLStore) -> None:
        sql_store.drop_schema()
        with pytest.raises(SchemaMismatch):
            sql_store.counts()


class TestReachability:
    @pytest.mark.parametrize(
        "url",
        ["not a url", "nosuchdb://x/y", "mysql://u@localhost/db", "postgresql+psycopg2://u@h/db"],
    )
    def test_unusable_urls_are_store_unavailable(self, url: str) -> None:
        with pytest.raises(StoreUnavailable):
            SQLStore(url)

    @pytest.mark.parametrize(
        ("url", "named"),
        [
            ("mysql://u@localhost/db", "mysql"),
            ("postgresql+psycopg2://u:hunter2@h/db", "postgresql+psycopg2"),
            ("nosuchdb://x/y", "nosuchdb"),
        ],
    )
    def test_another_database_is_named_as_unsupported(self, url: str, named: str) -> None:
        with pytest.raises(StoreUnavailable) as err:
            SQLStore(url)
        text = str(err.value)
        assert text.startswith(f"unsupported database {named}: use sqlite or postgresql+psycopg")
        assert "hunter2" not in text

    def test_a_sqlite_url_with_an_unknown_driver_cannot_be_used(self) -> None:
        with pytest.raises(StoreUnavailable, match="cannot use this database URL"):
            SQLStore("sqlite+nosuchdriver:///x.db")

    def test_an_unreachable_server_is_store_unavailable_without_its_password(self) -> None:
        store = SQLStore("postgresql+psycopg://user:hunter2@127.0.0.1:1/db")
        assert store.engine.dialect.driver == "psycopg"
        with pytest.raises(StoreUnavailable) as err:
            store.create_schema()
        assert "hunter2" not in str(err.value)
        assert "hunter2" not in repr(store)
        assert isinstance(err.value, StoreError)
        with pytest.raises(StoreUnavailable):
            TerminalService(SMALL, store).get("T1")

    def test_plain_postgresql_means_psycopg(self) -> None:
        assert SQLStore("postgresql://u@127.0.0.1/db").engine.dialect.driver == "psycopg"

    def test_the_short_postgres_alias_means_psycopg_too(self) -> None:
        assert SQLStore("postgres://u@127.0.0.1/db").engine.dialect.driver == "psycopg"

    def test_a_sqlite_file_that_cannot_be_opened(self, tmp_path: Path) -> None:
        store = SQLStore(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
        with pytest.raises(StoreUnavailable):
            store.create_schema()

    def test_an_in_memory_sqlite_database_works(self) -> None:
        store = SQLStore("sqlite://")
        store.create_schema()
        svc = TerminalService(SMALL, store)
        svc.create("T1")
        assert svc.fire("T1", "go").ok
        assert svc.counts() == {"b": 1}
        store.close()

    def test_options_are_checked(self) -> None:
        with pytest.raises(InvalidInput):
            SQLStore("sqlite://", schema="bad name; drop")
        with pytest.raises(InvalidInput):
            SQLStore("sqlite://", synchronous="SOMETIMES")

    def test_a_locked_sqlite_file_is_store_unavailable(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'locked.db'}"
        holder = SQLStore(url)
        holder.create_schema()
        waiting = SQLStore(url, busy_timeout=0.05)
        waiting.create_schema()
        with holder.transaction(), pytest.raises(StoreUnavailable, match="locked"):
            TerminalService(SMALL, waiting).create("T1")
        holder.close()
        waiting.close()


def _real_database(path: Path) -> str:
    """A SQLite file holding a posflow schema and enough terminals to span many pages."""
    url = f"sqlite:///{path}"
    store = SQLStore(url)
    store.create_schema()
    service = TerminalService(SMALL, store)
    for n in range(300):
        service.create(f"T{n:04d}", {"note": "x" * 100})
    store.close()
    assert path.stat().st_size > 8192
    assert not Path(f"{path}-wal").exists()
    return url


class TestDamagedDatabase:
    """A damaged file is a permanent fault: ``CorruptRecord``, never ``StoreUnavailable``."""

    def test_a_truncated_sqlite_file_is_corrupt_not_unavailable(self, tmp_path: Path) -> None:
        url = _real_database(tmp_path / "real.db")
        cut = tmp_path / "cut.db"
        cut.write_bytes((tmp_path / "real.db").read_bytes()[:8192])  # head -c 8192
        store = SQLStore(url.replace("real.db", "cut.db"))
        for use in (store.create_schema, store.counts, lambda: store.get("T0001")):
            with pytest.raises(CorruptRecord, match="database disk image is malformed") as err:
                use()
            assert not isinstance(err.value, StoreUnavailable)
            assert err.value.terminal_id is None
        store.close()

    def test_a_file_that_is_not_a_database_is_corrupt_too(self, tmp_path: Path) -> None:
        text = tmp_path / "notes.db"
        text.write_text("not a database, just notes\n" * 200)
        store = SQLStore(f"sqlite:///{text}")
        with pytest.raises(CorruptRecord, match="file is not a database"):
            store.schema_version()
        store.close()

    def test_a_page_damaged_inside_is_corrupt_where_it_is_read(self, tmp_path: Path) -> None:
        path = tmp_path / "real.db"
        url = _real_database(path)
        data = bytearray(path.read_bytes())
        data[4096 * 5 : 4096 * 8] = b"\xff" * (4096 * 3)  # the schema page stays intact
        path.write_bytes(bytes(data))
        store = SQLStore(url)
        assert store.schema_version() == SCHEMA_VERSION
        service = TerminalService(SMALL, store)
        damaged = []
        for n in range(300):
            try:
                service.history(f"T{n:04d}")
            except CorruptRecord as exc:  # anything else fails the test
                damaged.append(str(exc))
        store.close()
        assert damaged
        assert all("database disk image is malformed" in text for text in damaged)

    def test_postgresql_corruption_states_are_corrupt_too(self) -> None:
        class DataCorrupted(Exception):
            sqlstate = "XX001"

        store = SQLStore("sqlite://")
        assert isinstance(store._translate(DataCorrupted("bad page")), CorruptRecord)
        store.close()


HOSTILE = [
    "quote ' and \" and `",
    "'; DROP TABLE posflow_terminals; --",
    "Robert'); DELETE FROM posflow_history WHERE ('1'='1",
    "终端-①号 🏪",
    "tab\tnewline\nreturn\r",
    "%s %(x)s ? :name $1",
    "x" * MAX_ID_LENGTH,  # the longest id and key every store takes (actors may be longer)
    "\\x00 backslash \\",
]


class TestHostileStrings:
    @pytest.mark.parametrize("text", HOSTILE)
    def test_hostile_ids_actors_keys_and_payloads_read_back_intact(
        self, store: Store, text: str
    ) -> None:
        svc = TerminalService(SMALL, store)
        svc.create(text, {"label": text, "nested": {"v": [text, "\x00"]}})
        out = svc.fire(text, "tick", Context({"note": text, "nul": "a\x00b"}, actor=text), text)
        assert out.ok
        assert svc.get(text).data == {"label": text, "nested": {"v": [text, "\x00"]}}
        (rec,) = svc.history(text)
        assert (rec.terminal_id, rec.actor, rec.idempotency_key) == (text, text, text)
        assert dict(rec.payload) == {"note": text, "nul": "a\x00b"}
        again = svc.fire(text, "go", Context(), text)
        assert again.event == "tick"  # the key was found again
        assert svc.counts() == {"a": 1}

    @pytest.mark.parametrize("field", ["terminal_id", "event", "actor", "key"])
    @pytest.mark.parametrize("bad", ["nul\x00inside", "lone \udc80 surrogate", ""])
    def test_unstorable_text_is_refused_before_the_database(
        self, store: Store, field: str, bad: str
    ) -> None:
        svc = TerminalService(SMALL, store)
        svc.create("T1")
        args: dict[str, Any] = {"terminal_id": "T1", "event": "go", "actor": "me", "key": "k"}
        args[field] = bad
        with pytest.raises(InvalidInput):
            svc.fire(args["terminal_id"], args["event"], Context(actor=args["actor"]), args["key"])
        assert svc.history("T1") == []

    def test_payload_values_that_are_not_json_are_kept_as_text(self, sql_store: Store) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        when = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
        payload = {
            "when": when,
            "day": when.date(),
            "amount": decimal.Decimal("12.30"),
            "tags": {"b", "a"},
            "raw": b"\xffbytes",
        }
        svc.fire("T1", "tick", Context(payload))
        (rec,) = svc.history("T1")
        assert dict(rec.payload) == {
            "when": "2026-03-02T09:30:00+00:00",
            "day": "2026-03-02",
            "amount": "12.30",
            "tags": ["a", "b"],
            "raw": "\\xffbytes",
        }

    def test_a_payload_that_cannot_be_json_is_refused_and_nothing_is_stored(
        self, sql_store: Store
    ) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        with pytest.raises(InvalidInput):
            svc.fire("T1", "go", Context({"x": float("nan")}))
        outs = svc.fire_many(
            [Command("T1", "go", {"x": float("inf")}), Command("T1", "go")],
            errors="return",
        )
        assert [o.ok for o in outs] == [False, True]
        assert [r.event for r in svc.history("T1")] == ["go"]

    def test_data_changes_that_are_not_json_refuse_the_event(self, sql_store: Store) -> None:
        def stamp(terminal: Any, ctx: Context) -> dict[str, Any]:
            return {"at": ctx.now()}  # a datetime: not a JSON value

        lc = Lifecycle(["a", "b"], [Transition("go", "a", "b", effect=stamp),
                                    Transition("back", "b", "a")], "a")  # fmt: skip
        svc = TerminalService(lc, sql_store)
        svc.create("T1")
        with pytest.raises(InvalidInput, match="JSON"):
            svc.fire("T1", "go")
        assert svc.get("T1").state == "a"

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
    @given(
        text=st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
        ).filter(lambda s: not s.isspace()),  # it is the actor too, which may not be blank
        value=st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
    def test_any_text_and_json_value_round_trips(self, store: Store, text: str, value: Any) -> None:
        svc = TerminalService(SMALL, store)
        tid = f"{text}-{uuid.uuid4().hex}"
        svc.create(tid, {"v": value})
        assert dict(svc.get(tid).data) == {"v": value}
        svc.fire(tid, "tick", Context({"v": value}, actor=text), idempotency_key=text)
        (rec,) = svc.history(tid)
        assert rec.actor == text
        assert rec.idempotency_key == text


class TestTranslation:
    def test_unknown_terminal_in_a_transaction(self, sql_store: SQLStore) -> None:
        with sql_store.transaction() as tx, pytest.raises(TerminalNotFound):
            tx.load("ghost", None)

    def test_memory_and_sql_agree_on_the_protocol(self, sql_store: SQLStore) -> None:
        stores: list[Store] = [MemoryStore(), sql_store]
        for s in stores:
            svc = TerminalService(SMALL, s)
            svc.create_many([("A", None), ("B", {"k": 1})])
            svc.fire("A", "tick", idempotency_key="x")
            with s.transaction() as tx:
                assert set(tx.load_many(["A", "B", "C"])) == {"A", "B"}
                assert set(tx.find_keys([("A", "x"), ("A", "y"), ("B", "x")])) == {("A", "x")}
                assert [ld.terminal.id for ld in tx.claim("a", "run:", 10)] == ["A", "B"]
            terminal, seq, history = s.snapshot("A")
            assert (terminal.version, seq, len(history)) == (1, 1, 1)
            assert s.schema_version() == SCHEMA_VERSION


class TestLimits:
    """Ids and keys: at most MAX_ID_LENGTH characters, checked the same way on every store."""

    def test_ids_and_keys_at_the_limit_are_kept_even_at_four_bytes_a_character(
        self, store: Store
    ) -> None:
        svc = TerminalService(SMALL, store)
        tid, key = "💳" * MAX_ID_LENGTH, "🧾" * MAX_ID_LENGTH
        actor = "收银员" * 2000  # actors have no length limit
        svc.create(tid, {"n": 1})
        out = svc.fire(tid, "tick", Context({"x": 1}, actor=actor), idempotency_key=key)
        assert out.ok
        again = svc.fire(tid, "go", Context(), idempotency_key=key)
        assert again.event == "tick"  # found under its key, nothing else done
        (rec,) = svc.history(tid)
        assert (rec.terminal_id, rec.idempotency_key, rec.actor) == (tid, key, actor)
        other = "🏪" * MAX_ID_LENGTH
        svc.create(other)
        [done] = svc.fire_many([Command(other, "tick", idempotency_key=key)])
        assert done.ok
        assert svc.get(other).version == 1
        assert svc.verify_all() == []

    @pytest.mark.parametrize("call", ["create", "create_many", "fire", "fire_many"])
    def test_an_id_over_the_limit_is_refused_naming_the_field(
        self, store: Store, call: str
    ) -> None:
        svc = TerminalService(SMALL, store)
        tid = "终" * (MAX_ID_LENGTH + 1)
        if call == "fire_many":
            [failed] = svc.fire_many([Command(tid, "tick")], errors="return")
            assert isinstance(failed, CommandFailed)
            error = failed.error
        else:
            do = {
                "create": lambda: svc.create(tid),
                "create_many": lambda: svc.create_many([("T1", None), (tid, None)]),
                "fire": lambda: svc.fire(tid, "tick"),
            }[call]
            with pytest.raises(InvalidInput) as err:
                do()
            error = err.value
        assert isinstance(error, InvalidInput)
        assert error.field == "terminal_id"
        assert f"at most {MAX_ID_LENGTH} characters" in str(error)
        assert svc.counts() == {}

    @pytest.mark.parametrize("call", ["fire", "fire_many"])
    def test_a_key_over_the_limit_is_refused_and_nothing_is_stored(
        self, store: Store, call: str
    ) -> None:
        svc = TerminalService(SMALL, store)
        svc.create("T1")
        key = "k" * (MAX_ID_LENGTH + 1)
        if call == "fire":
            with pytest.raises(InvalidInput) as err:
                svc.fire("T1", "tick", idempotency_key=key)
            error: Exception = err.value
        else:
            failed, ok = svc.fire_many(
                [Command("T1", "tick", idempotency_key=key), Command("T1", "tick")],
                errors="return",
            )
            assert isinstance(failed, CommandFailed)
            assert ok.ok
            error = failed.error
        assert isinstance(error, InvalidInput)
        assert error.field == "idempotency_key"
        assert [r.idempotency_key for r in svc.history("T1")] == ([] if call == "fire" else [None])

    @pytest.mark.parametrize(
        "tid", ["T1\x00", "\x00", "lone \udc80", "", "x" * (MAX_ID_LENGTH + 1), 7]
    )
    @pytest.mark.parametrize("call", ["get", "history", "verify", "explain", "snapshot"])
    def test_reads_refuse_an_unusable_id_before_the_database(
        self, store: Store, tid: Any, call: str
    ) -> None:
        svc = TerminalService(SMALL, store)
        svc.create("T1")
        do = {
            "get": lambda: svc.get(tid),
            "history": lambda: svc.history(tid),
            "verify": lambda: svc.verify(tid),
            "explain": lambda: svc.explain(tid),
            "snapshot": lambda: store.snapshot(tid),
        }[call]
        with pytest.raises(InvalidInput) as err:
            do()
        assert err.value.field == "terminal_id"
        assert svc.get("T1").version == 0

    def test_drain_run_ids_have_their_own_limit_and_keys_fit_at_the_longest(
        self, store: Store
    ) -> None:
        svc = TerminalService(SMALL, store)
        with pytest.raises(InvalidInput) as err:
            svc.drain("r" * (MAX_RUN_ID_LENGTH + 1), "a", "tick")
        assert err.value.field == "run_id"
        ids = ["𝄞" * (MAX_ID_LENGTH - 1) + c for c in "AB"]
        svc.create_many((tid, None) for tid in ids)
        run = "运" * MAX_RUN_ID_LENGTH
        report = svc.drain(run, "a", "go")
        assert (report.fired, report.refused) == (2, 0)
        assert svc.counts() == {"b": 2}
        for tid in ids:
            (rec,) = svc.history(tid)
            assert rec.idempotency_key == f"{run}:{tid}"


@pytest.mark.postgres
def test_a_value_the_database_refuses_is_invalid_input_not_an_outage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Below the service's checks: PostgreSQL's refusal of NUL text is a caller error."""
    from conftest import make_store

    store = make_store("postgresql", request, tmp_path)
    try:
        with pytest.raises(InvalidInput, match="refused a value"), store.transaction() as tx:
            tx.load("T\x00", None)
    finally:
        store.close()


class TestReadsTogether:
    """A terminal's row and its history are read as of one moment while others write."""

    def _write_once_after(
        self, monkeypatch: pytest.MonkeyPatch, store: SQLStore, name: str
    ) -> list[str]:
        """After the store's ``name`` method runs once, another connection commits a fire."""
        original = getattr(SQLStore, name)
        wrote: list[str] = []

        def then_write(self: SQLStore, *args: Any) -> Any:
            found = original(self, *args)
            if not wrote:
                wrote.append("T1")
                TerminalService(SMALL, store).fire("T1", "tick")
            return found

        monkeypatch.setattr(SQLStore, name, then_write)
        return wrote

    def test_verify_finds_nothing_wrong_when_a_fire_commits_between_its_reads(
        self, sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        svc.fire("T1", "tick")
        wrote = self._write_once_after(monkeypatch, sql_store, "_terminal_row")
        terminal, seq, history = sql_store.snapshot("T1")
        assert wrote  # the fire committed after the row was read, before the history was
        assert (terminal.version, seq, len(history)) == (1, 1, 1)
        assert svc.verify("T1") is None
        assert svc.get("T1").version == 2

    def test_verify_all_finds_nothing_wrong_when_a_fire_commits_between_its_reads(
        self, sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        svc.fire("T1", "tick")
        # scan builds its history query between reading the rows and the history
        wrote = self._write_once_after(monkeypatch, sql_store, "_in")
        [(terminal, seq, history)] = sql_store.scan(None, 10)
        assert wrote
        assert (terminal.version, seq, len(history)) == (1, 1, 1)
        assert svc.verify_all() == []
        assert svc.get("T1").version == 2


class TestKeyLookup:
    def test_keys_are_matched_as_pairs_not_as_crossed_ids_and_keys(self, store: Store) -> None:
        """T1 used k2 and T2 used k1: (T1, k1) and (T2, k2) are new, not duplicates."""
        svc = TerminalService(SMALL, store)
        svc.create_many([("T1", None), ("T2", None)])
        svc.fire("T1", "tick", Context({"n": "first"}), idempotency_key="k2")
        svc.fire("T2", "tick", Context({"n": "first"}), idempotency_key="k1")
        outs = svc.fire_many(
            [
                Command("T1", "tick", {"n": "new"}, idempotency_key="k1"),
                Command("T2", "tick", {"n": "new"}, idempotency_key="k2"),
                Command("T1", "tick", {"n": "again"}, idempotency_key="k2"),
            ]
        )
        assert [getattr(o, "duplicate", False) for o in outs] == [False, False, True]
        assert [dict(r.payload) for r in svc.history("T1")] == [{"n": "first"}, {"n": "new"}]
        assert [r.idempotency_key for r in svc.history("T2")] == ["k1", "k2"]

    def test_many_keys_over_several_lookup_chunks_are_all_found(self, store: Store) -> None:
        svc = TerminalService(SMALL, store)
        ids = [f"T{i:04d}" for i in range(_sqlstmt._IN_CHUNK + 20)]
        svc.create_many((tid, None) for tid in ids)
        first = svc.fire_many([Command(tid, "tick", idempotency_key=f"k-{tid}") for tid in ids])
        assert all(o.ok for o in first)
        again = svc.fire_many(
            [Command(tid, "go", idempotency_key=f"k-{tid}") for tid in ids], batch_size=len(ids)
        )
        assert all(getattr(o, "duplicate", False) for o in again)
        assert svc.counts() == {"a": len(ids)}


def _adding(value: Any) -> Lifecycle:
    """A lifecycle whose ``add`` event sets ``data["v"]`` to ``value``, whatever it was."""
    return Lifecycle(
        ["a", State("z", final=True)],
        [Transition("add", "a", "=", effect=lambda t, c: {"v": value, "n": t.data.get("n", 0) + 1}),
         Transition("end", "a", "z")],
        "a",
    )  # fmt: skip


class TestLoadedTerminalReuse:
    """A batch reuses the terminal the previous batch saved, only while its row is unchanged."""

    def test_the_next_batch_starts_from_the_saved_terminal_itself(
        self, sql_store: SQLStore
    ) -> None:
        svc = TerminalService(_adding({"k": [1, "x", None, 1.5, True]}), sql_store)
        svc.create_many([("A", {"z": 1}), ("B", None)])
        outs = svc.fire_many([Command(t, "add") for t in "ABAB"], batch_size=2)
        assert outs[2].previous is outs[0].terminal  # batch 2 did not decode A's row again
        assert outs[3].previous is outs[1].terminal
        assert svc.get("A") == outs[2].terminal
        assert svc.verify("A") is None

    def test_data_that_reads_back_differently_is_decoded_again(self, sql_store: SQLStore) -> None:
        svc = TerminalService(_adding(("t", 1)), sql_store)  # a tuple reads back as a list
        svc.create_many([("A", None), ("B", None)])
        outs = svc.fire_many([Command(t, "add") for t in "ABA"], batch_size=2)
        assert outs[0].terminal.data["v"] == ("t", 1)
        assert outs[2].previous is not outs[0].terminal
        assert outs[2].previous.data["v"] == ["t", 1]  # as get() would have given it

    def test_a_row_written_since_is_decoded_again(self, sql_store: SQLStore) -> None:
        svc = TerminalService(_adding(1), sql_store)
        svc.create_many([("A", None), ("B", None)])
        first = svc.fire_many([Command("A", "add"), Command("B", "add")])
        # another writer (a store of its own, as in another process) moves A on
        TerminalService(_adding(2), SQLStore(sql_store.engine)).fire("A", "add")
        again = svc.fire_many([Command("A", "add"), Command("B", "add")])
        assert again[0].previous is not first[0].terminal
        assert dict(again[0].previous.data) == {"v": 2, "n": 2}
        assert again[0].terminal.version == 3
        assert again[1].previous == first[1].terminal  # SQLite read it again with A
        svc.fire("B", "add")  # a single fire in between: B's row moved on
        last = svc.fire_many([Command("A", "add"), Command("B", "add")])
        assert last[1].previous.version == 3
        assert last[1].previous is not again[1].terminal
        assert svc.verify_all() == []

    def test_a_row_edited_in_place_is_decoded_again_where_rows_are_read(
        self, sql_store: SQLStore
    ) -> None:
        # SQLite without the option trusts the kept terminal (its history did not grow);
        # PostgreSQL and optimistic SQLite read every row and compare it
        store = SQLStore(sql_store.engine, optimistic=True) if sql_store._sqlite else sql_store
        svc = TerminalService(_adding(1), store)
        svc.create_many([("A", None), ("B", None)])
        first = svc.fire_many([Command("A", "add"), Command("B", "add")])
        # same history length and state, other data: only the data text tells
        execute_behind(
            sql_store, "UPDATE posflow_terminals SET data = ? WHERE id = ?", ('{"v":2}', "A")
        )
        again = svc.fire_many([Command("A", "add"), Command("B", "add")])
        assert again[0].previous is not first[0].terminal
        assert dict(again[0].previous.data) == {"v": 2}
        assert again[1].previous is first[1].terminal
        svc.fire("B", "add")  # a single fire in between: B's row moved on
        last = svc.fire_many([Command("A", "add"), Command("B", "add")])
        assert last[1].previous.version == 3
        assert last[1].previous is not again[1].terminal

    def test_a_corrupt_version_is_still_reported(self, sql_store: SQLStore) -> None:
        svc = TerminalService(_adding(1), sql_store)
        svc.create_many([("A", None), ("B", None)])
        outs = svc.fire_many([Command("A", "add"), Command("B", "add")])
        t = outs[0].terminal
        recent = sql_store._recent
        assert recent["A"].terminal is t
        terminal = _sqltx._SQLTx._terminal
        assert terminal(recent, "A", t.state, 1, 1, recent["A"].token) is t
        with pytest.raises(CorruptRecord):  # 1.0 == 1, but a float is no version
            terminal(recent, "A", t.state, 1.0, 1, recent["A"].token)


def _keyed(terminal: Any, ctx: Context) -> Any:
    """An effect that writes what the payload says, keys and all."""
    return ctx.payload["changes"]


KEYED = Lifecycle(
    ["a", State("done", final=True)],
    [Transition("set", "a", "=", effect=_keyed), Transition("finish", "a", "done")],
    "a",
    name="keyed",
)


class TestOptions:
    @pytest.mark.parametrize(
        ("option", "bad"),
        [
            ("busy_timeout", "x" * 1000),
            ("busy_timeout", -1),
            ("busy_timeout", float("nan")),
            ("wal_autocheckpoint", "10"),
            ("wal_autocheckpoint", -5),
            ("pool_size", 0),
            ("pool_size", 2.5),
            ("optimistic", "yes"),
            ("synchronous", 1),
            ("schema", 5),
        ],
    )
    def test_a_bad_option_is_invalid_input_naming_it(self, option: str, bad: Any) -> None:
        with pytest.raises(InvalidInput) as err:
            SQLStore("sqlite://", **{option: bad})
        assert err.value.field == option
        assert len(str(err.value)) < 200  # the value is shortened, not printed whole

    def test_a_schema_for_a_sqlite_database_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInput, match="PostgreSQL only") as err:
            SQLStore(f"sqlite:///{tmp_path / 'x.db'}", schema="tenant1")
        assert err.value.field == "schema"


class TestKeysMustBeText:
    @pytest.mark.parametrize(
        "data",
        [{1: "int-key", "1": "str-key"}, {"a": {True: 1}}, {"a": [{None: 1}]}, {1.5: "x"}],
        ids=["int", "nested-bool", "in-a-list", "float"],
    )
    def test_create_refuses_data_with_a_key_that_is_not_text(
        self, sql_store: SQLStore, data: dict[Any, Any]
    ) -> None:
        svc = TerminalService(KEYED, sql_store)
        with pytest.raises(InvalidInput, match="keys must be str") as err:
            svc.create("K1", data)
        assert err.value.field == "data"
        with pytest.raises(InvalidInput, match="keys must be str"):
            svc.create_many([("K2", {"ok": 1}), ("K3", data)])
        for tid in ("K1", "K2", "K3"):
            with pytest.raises(TerminalNotFound):
                svc.get(tid)

    def test_an_effect_that_writes_a_key_that_is_not_text_is_refused(
        self, sql_store: SQLStore
    ) -> None:
        svc = TerminalService(KEYED, sql_store)
        svc.create("K1", {"1": "kept"})
        bad = Context({"changes": {1: "lost"}})
        with pytest.raises(InvalidInput, match=r"keys must be str.*changes"):
            svc.fire("K1", "set", bad)
        (failed,) = svc.fire_many([Command("K1", "set")], bad, errors="return")
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        assert dict(svc.get("K1").data) == {"1": "kept"}
        assert svc.history("K1") == []
        ok = svc.fire("K1", "set", Context({"changes": {"2": (1, 2)}}))  # not plain, text keys
        assert ok.ok
        assert dict(svc.get("K1").data) == {"1": "kept", "2": [1, 2]}

    def test_the_memory_store_keeps_such_keys(self) -> None:
        svc = TerminalService(KEYED, MemoryStore())
        svc.create("K1", {1: "int-key", "1": "str-key"})
        assert dict(svc.get("K1").data) == {1: "int-key", "1": "str-key"}


class TestPlainJson:
    @pytest.mark.parametrize(
        ("value", "plain"),
        [
            ({"a": [1, 2.5, "x", None, True, {"b": [[{"c": 1}]]}]}, True),
            ({"a": (1, 2)}, False),
            ({1: "a"}, False),
            ({"a": {1: "b"}}, False),
            ({"a": [(1,)]}, False),
            ({"a": [[decimal.Decimal(1)]]}, False),
            ({"a": decimal.Decimal(1)}, False),
            ({"a": {"pin": "1"}}, False),  # plain, but masking would change it
            ({"a": [{"phone": None}]}, False),  # would not change it, but the key is sensitive
        ],
    )
    def test_only_plain_json_without_sensitive_keys_is_taken_as_is(
        self, value: Any, plain: bool
    ) -> None:
        from posflow._mask import unmasked_plain_json

        assert unmasked_plain_json(value) is plain
