"""Small pieces of the store package: codecs, records, reprs, corrupt columns, edge branches."""

from __future__ import annotations

import contextlib
import datetime as dt
import pickle
import sqlite3
import sys
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

import posflow
from posflow import Context, Lifecycle, Outcome, State, Transition
from posflow._mask import plain_json
from posflow.errors import (
    ConcurrencyConflict,
    CorruptRecord,
    InvalidInput,
    SchemaMismatch,
    StoreUnavailable,
    TerminalNotFound,
)
from posflow.store import (
    Command,
    CommandFailed,
    Loaded,
    MemoryStore,
    Prior,
    SQLStore,
    Store,
    TerminalService,
    Write,
    _base,
    _json,
    _records,
)
from sql_support import execute_behind

CLEAR_VALUES = ("13812345678", "110101199003074512", "6222020200112233445", "1234")
"""Sensitive values the tests below put in payloads and changes, never to be seen in clear."""

SMALL = Lifecycle(
    ["a", State("b", final=True)],
    [Transition("go", "a", "b"), Transition("tick", "a", "=")],
    "a",
    name="units",
)


class TestCodec:
    def test_decode_refuses_what_is_not_one_json_object(self) -> None:
        for text in ("", "{", '{"a": 1} trailing', "[1, 2]", "7", None, b"{}"):
            with pytest.raises(CorruptRecord) as err:
                _json.decode_data("T1", text)
            assert err.value.terminal_id == "T1"
        assert dict(_json.decode_data("T1", '{"a": [1, "\\u0000"]}  ')) == {"a": [1, "\x00"]}

    def test_encode_data_is_strict_and_audit_is_lenient(self) -> None:
        with pytest.raises(InvalidInput):
            _json.encode_data("T1", {"x": object()})
        loop: dict[str, Any] = {}
        loop["self"] = loop
        with pytest.raises(InvalidInput):
            _json.encode_data("T1", loop)
        with pytest.raises(InvalidInput):
            _json.encode_audit(loop)
        assert _json.encode_audit({}) == "{}"
        assert _json.encode_audit({"m": posflow.Context().payload}) == '{"m":{}}'
        assert _json.encode_audit({"t": dt.time(9, 30)}) == '{"t":"09:30:00"}'
        assert _json.encode_audit({"o": object}) == '{"o":"<class \'object\'>"}'

    def test_reasons_round_trip_with_their_messages(self) -> None:
        world_reason = posflow.default_catalogue()["guard.refused"].reason(guard="g.x")
        custom = posflow.Reason(
            code="nocategory.thing", category=posflow.Category.GUARD, params={}, retryable=True
        )
        text = _json.encode_reasons([world_reason, custom])
        back = _json.decode_reasons("T1", text)
        assert back[0] == world_reason
        assert back[0].message("en") == world_reason.message("en")
        assert (back[1].code, back[1].category, back[1].retryable) == (
            "nocategory.thing",
            posflow.Category.GUARD,
            True,
        )
        assert back[1].message() == "nocategory.thing"
        for bad in ("[[1]]", '{"a": 1}', "[7]", "nope"):
            with pytest.raises(CorruptRecord):
                _json.decode_reasons("T1", bad)

    def test_check_text_and_storable(self) -> None:
        assert _base.check_text("ok ✓", "f") == "ok ✓"
        assert _base.storable("fine")
        for bad in ("", "a\x00", "\udfff", None, 3):
            assert not _base.storable(bad)
        with pytest.raises(InvalidInput) as err:
            _base.check_text("\ud800", "actor")
        assert err.value.field == "actor"

    def test_ids_and_keys_have_a_length_limit_counted_in_characters(self) -> None:
        at_limit = "é" * _base.MAX_ID_LENGTH
        assert _base.check_id(at_limit) == at_limit
        assert _base.storable(at_limit)
        assert _base.storable("a" * _base.MAX_ID_LENGTH)
        for over in ("é" * (_base.MAX_ID_LENGTH + 1), "a" * (_base.MAX_ID_LENGTH + 1)):
            assert not _base.storable(over)
            with pytest.raises(InvalidInput) as err:
                _base.check_id(over, "idempotency_key")
            assert err.value.field == "idempotency_key"
        assert not _base.storable("a\x00")  # the ASCII fast path still sees a NUL
        assert _base.check_text("x" * 10_000, "actor") == "x" * 10_000  # no limit unless asked
        with pytest.raises(InvalidInput, match="at most 3 characters"):
            _base.check_text("abcd", "run_id", 3)

    def test_with_seq_and_record_of_agree_with_the_outcome(self) -> None:
        t = SMALL.new_terminal("T1")
        at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
        ctx = Context({"password": "pw", "a": 1}, actor="me", at=at)
        expected = SMALL.fire(t, "go", ctx).record
        fresh = SMALL.fire(t, "go", ctx)
        built = _records.record_of(fresh, 4)
        assert built == expected.with_seq(4)
        assert _records.with_seq(expected, 9) == expected.with_seq(9)
        refused = SMALL.fire(t, "nope", Context(at=at))
        assert _records.record_of(refused, 0) == refused.record.with_seq(0)

    def test_small_records_have_reprs(self) -> None:
        t = SMALL.new_terminal("T1")
        assert "seq=3" in repr(Loaded(t, 3))
        rec = SMALL.fire(t, "go").record
        assert "Prior(" in repr(Prior(rec, ()))
        assert Write(Loaded(t, 0), t, None, []).rows == []
        assert "MemoryStore" in repr(MemoryStore())


def _changing(changes: Any) -> Lifecycle:
    return Lifecycle(
        ["a", State("b", final=True)],
        [Transition("go", "a", "=", effect=lambda t, c: changes), Transition("end", "a", "b")],
        "a",
    )


class TestRecordRows:
    """``record_row``: the SQL row ``encode_record(record_of(...))`` gives, built in one step."""

    CHANGES = (  # (changes, taken as they are: plain JSON with no sensitive key)
        ({"batch": {"count": 1, "total": 1200}}, True),
        ({"owner": {"contact_phone": "13812345678"}, "n": 1}, False),
        ({"list": [{"pin": "1234"}], "fine": (1, 2)}, False),
        ({"when": dt.datetime(2026, 1, 2, tzinfo=dt.UTC)}, False),
        ({"merchant-ID_Number": "110101199003074512"}, False),
        ({"法人身份证号": "110101199003074512", "商户名称": "明记"}, False),
        ({"merchant": {"银行卡号": "6222020200112233445"}}, False),
        ({"legalpersonidcard": "110101199003074512"}, False),
        ({"pinned": True, "hotel": "tel", "company": "x", "shipping": 1}, True),
        ({"caf\u00e9": {"x": [1, None]}, "商户名称": "明记"}, True),
        ({"note": "a\ud800"}, False),  # a lone surrogate: not plain, stored as it is
        ({"t": (1,)}, False),
        ({}, True),
    )

    @pytest.mark.parametrize(("changes", "taken"), CHANGES)
    def test_a_row_and_record_equal_the_general_path(
        self, tmp_path: Any, changes: Any, taken: bool
    ) -> None:
        lc = _changing(changes)
        store = SQLStore(f"sqlite:///{tmp_path / 'r.db'}")
        store.create_schema()
        at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        ctx = Context({"password": "pw", "amount": 5}, actor="op", at=at)
        t = lc.new_terminal("T1")
        with store.transaction() as tx:
            general = lc.fire(t, "go", ctx, idempotency_key="k")
            expected = tx.encode_record(_records.record_of(general, 3), 3, ())
            fast = lc.fire(t, "go", ctx, idempotency_key="k")
            row, plain = tx.record_row(fast, 3)
            assert row == expected
            assert plain is taken
        assert fast.record == general.record
        assert fast.record.seq == 3
        for clear in CLEAR_VALUES:
            assert clear not in repr(fast.record) + repr(expected) + repr(fast)
        store.close()

    def test_a_refusal_row_carries_its_reasons(self, tmp_path: Any) -> None:
        store = SQLStore(f"sqlite:///{tmp_path / 'r.db'}")
        store.create_schema()
        out = SMALL.fire(SMALL.new_terminal("T1"), "nope", Context(at=dt.datetime(2026, 1, 1)))
        with store.transaction() as tx:
            row, plain = tx.record_row(out, 0)
            assert plain
            assert row == tx.encode_record(_records.record_of(out, 0), 0, out.reasons)
        assert row[4] is None
        assert "lifecycle." in row[9]
        store.close()

    def test_changes_that_are_not_json_are_refused_as_before(self) -> None:
        with pytest.raises(InvalidInput):
            _records.changes_json({"x": float("nan")})

    def test_harmless_changes_are_encoded_as_they_are_and_others_masked(self) -> None:
        assert _records.changes_json({"a": 1, "b": {"c": [None]}}) == (
            '{"a":1,"b":{"c":[null]}}',
            None,
        )
        text, masked = _records.changes_json({"pin": "1234", "a": 1})
        assert masked == {"pin": "******", "a": 1}
        assert text == '{"pin":"******","a":1}'
        with pytest.raises(TypeError):
            masked["a"] = 2  # type: ignore[index]

    @pytest.mark.parametrize(
        ("mapping", "plain"),
        [
            ({}, True),
            ({"a": 1, "b": 1.5, "c": True, "d": None, "e": "x"}, True),
            ({"a": {"b": [1, {"c": []}]}}, True),
            ({"a": (1, 2)}, False),
            ({"a": [1, (2,)]}, False),
            ({"a": {"b": dt.date(2026, 1, 1)}}, False),
            ({1: "a"}, False),
            ({"a": {1: "a"}}, False),
            ({"a": posflow.Category.GUARD}, False),  # a str subclass reads back as a str
        ],
    )
    def test_plain_json_is_what_reads_back_equal_and_of_the_same_types(
        self, mapping: Any, plain: bool
    ) -> None:
        assert plain_json(mapping) is plain
        if plain:
            decoded = _json.decode_json("T1", "payload", _json.encode_audit(mapping))
            assert decoded == mapping


_plain_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_plain_values = st.recursive(
    _plain_leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_plain_mappings = st.dictionaries(st.text(max_size=8), _plain_values, max_size=5)


class TestPlainEncoding:
    """Plain values are written by pydantic-core's encoder: the same text from every path."""

    @given(_plain_mappings)
    def test_plain_values_read_back_equal_and_every_path_writes_one_text(
        self, value: dict[str, Any]
    ) -> None:
        text = _json.encode_plain(value)
        assert _json.decode_json("T1", "data", text) == value
        assert _json.encode_data("T1", value) == text
        assert _json.encode_audit(value) == (text if value else "{}")

    def test_non_ascii_text_is_written_as_escapes_and_control_characters_escaped(self) -> None:
        # ASCII, as the json module always wrote: a PostgreSQL connection in LATIN1
        # (say) cannot send every character (see TestNonUtf8Postgres)
        text = _json.encode_plain({"café": "\x00\u4e2d"})
        assert text == '{"caf\\u00e9":"\\u0000\\u4e2d"}'
        assert text == _json._encode_strict({"café": "\x00\u4e2d"})
        assert _json.decode_json("T1", "data", text) == {"café": "\x00\u4e2d"}

    def test_non_ascii_text_is_escaped_by_pydantic_core_itself(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def unused(value: Any) -> str:
            raise AssertionError("the json module was asked")

        monkeypatch.setattr(_json, "_encode_strict", unused)
        merchant = {"merchant": {"name": "明记面馆", "city": "杭州"}, "emoji": "😀"}
        text = _json.encode_plain(merchant)
        assert text.isascii()
        assert "\\u660e" in text
        assert _json.decode_json("T1", "data", text) == merchant

    @pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
    def test_a_number_json_has_no_word_for_is_not_plain_and_is_refused(self, number: float) -> None:
        for value in ({"x": number}, {"x": [1, {"y": number}]}, {"x": [number]}):
            assert not plain_json(value)
            with pytest.raises(InvalidInput):
                _json.encode_data("T1", value)
            with pytest.raises(InvalidInput):
                _records.changes_json(value)

    def test_when_the_fast_encoder_fails_the_json_module_decides(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def failing(value: Any, **options: Any) -> bytes:
            raise PydanticSerializationError("deeper than pydantic-core goes")

        strict: list[object] = []
        encode_strict = _json._encode_strict

        def spied(value: Any) -> str:
            strict.append(value)
            return encode_strict(value)

        changes = {"batch": {"count": 1}}
        svc = _sales(tmp_path, changes)
        store: Any = svc.store
        # the hot paths call the store's serializer directly, the rest through encode_plain*
        monkeypatch.setattr(store, "_plain_bytes", failing)
        monkeypatch.setattr(_json, "_serialize", failing)
        monkeypatch.setattr(_json, "_encode_strict", spied)
        svc.fire_many([Command("T1", "go")])
        assert changes in strict  # the changes, then the data, written by the json module
        assert svc.get("T1").data == changes
        assert svc.history("T1")[0].changes == changes

    def test_when_the_stores_encoder_raises_once_the_changes_take_the_general_path(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        changes = {"batch": {"count": 1}}
        svc = _sales(tmp_path, changes)
        store: Any = svc.store
        fast: list[object] = []
        general: list[object] = []
        plain_bytes = store._plain_bytes

        def once(value: Any) -> bytes:
            fast.append(value)
            if len(fast) == 1:
                raise RecursionError("deeper than this interpreter goes")
            return bytes(plain_bytes(value))

        def encode_plain(value: Any) -> str:
            general.append(value)
            return _json.encode_plain_utf8(value)

        monkeypatch.setattr(store, "_plain_bytes", once)
        monkeypatch.setattr(store, "_encode_plain", encode_plain)
        svc.fire_many([Command("T1", "go")])
        assert fast[0] == changes
        assert changes in general  # encoded again, by the general path
        assert svc.get("T1").data == changes
        assert svc.history("T1")[0].changes == changes

    def test_data_a_wrapped_lifecycle_adds_is_checked_not_trusted_as_plain(
        self, tmp_path: Any
    ) -> None:
        class Stamping:
            """A lifecycle wrapper whose new data holds more than the changes: a datetime."""

            def __init__(self, lifecycle: Lifecycle) -> None:
                self._lifecycle = lifecycle

            def fire(self, terminal: Any, event: str, ctx: Any, **kwargs: Any) -> Any:
                out = self._lifecycle.fire(terminal, event, ctx, **kwargs)
                when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
                stamped = out.terminal.with_data(when=when)
                return Outcome(
                    stamped, out.previous, out.event, out.reasons, ctx, out.at,
                    kwargs.get("idempotency_key"), out._changes,
                )  # fmt: skip

            def __getattr__(self, name: str) -> Any:
                return getattr(self._lifecycle, name)

        store = SQLStore(f"sqlite:///{tmp_path / 'w.db'}")
        store.create_schema()
        svc = TerminalService(Stamping(_changing({"n": 1})), store)  # type: ignore[arg-type]
        svc.create("T1")
        [failed] = svc.fire_many([Command("T1", "go")], errors="return")
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        assert svc.get("T1").data == {}

    def test_changes_nested_deeper_than_the_walks_go_are_invalid_input(self, tmp_path: Any) -> None:
        deep: dict[str, Any] = {}
        inner = deep
        for _ in range(3 * sys.getrecursionlimit()):
            inner["a"] = {}
            inner = inner["a"]
        svc = _sales(tmp_path, {"d": deep})
        with pytest.raises(InvalidInput) as caught:
            svc.fire("T1", "go")
        assert caught.value.field == "data"
        [failed] = svc.fire_many([Command("T2", "go")], errors="return")
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        assert svc.history("T1") == svc.history("T2") == []

    @pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\ude00\ud83d"])
    def test_a_lone_surrogate_is_not_plain_and_reads_back_as_it_was(self, text: str) -> None:
        # a low one before a high one is no pair: each is lone
        for value in ({"s": text}, {text: [text]}):
            assert not plain_json(value)
            stored = _json.encode_data("T1", value)
            assert stored == _json.encode_plain(value) == _json.encode_audit(value)
            assert stored.isascii()
            assert _json.decode_json("T1", "data", stored) == value

    @pytest.mark.parametrize(
        "value",
        [
            {"s": "\ud83d\ude00"},
            {"merchant": {"name": "明记\udbff\udfff"}},
            {"\ud800\udc00": 1},
            {"l": [1, ["x", "\ud83d\ude00"]]},
        ],
        ids=["value", "nested", "key", "list"],
    )
    def test_a_surrogate_pair_is_refused_as_it_would_read_back_as_another_character(
        self, value: dict[str, Any]
    ) -> None:
        assert not plain_json(value)
        for encode in (
            lambda: _json.encode_data("T1", value),
            lambda: _json.encode_audit(value),
            lambda: _records.changes_json(value),
        ):
            with pytest.raises(InvalidInput, match="surrogate pair"):
                encode()
        for plain in (_json.encode_plain, _json.encode_plain_utf8):
            with pytest.raises(ValueError, match="surrogate pair"):
                plain(value)  # a caller that took it for plain still cannot write it

    def test_a_payload_object_whose_text_holds_a_pair_is_refused_as_well(self) -> None:
        payload = {"when": dt.date(2026, 1, 1), "tags": {"\ud83d\ude00"}, "t": ("\ud83d",)}
        with pytest.raises(InvalidInput, match=r"value\['tags'\]\[0\] holds a surrogate pair"):
            _json.encode_audit(payload)
        del payload["tags"]
        text = _json.encode_audit(payload)
        assert _json.decode_json("T1", "payload", text) == {"when": "2026-01-01", "t": ["\ud83d"]}

    def test_a_character_beyond_the_basic_plane_is_plain_and_reads_back_equal(self) -> None:
        value = {"note": "😀", "when": dt.date(2026, 1, 1)}  # not plain: the json module writes it
        text = _json.encode_audit(value)
        assert "\\ud83d\\ude00" in text
        assert _json.decode_json("T1", "payload", text) == {"note": "😀", "when": "2026-01-01"}
        assert plain_json({"note": "😀"})

    def test_nesting_deeper_than_pydantic_core_goes_is_left_to_the_json_module(self) -> None:
        deep: dict[str, Any] = {}
        inner = deep
        for _ in range(400):
            inner["a"] = {}
            inner = inner["a"]
        text = _json.encode_plain(deep)
        assert text == '{"a":' * 400 + "{}" + "}" * 400

    @pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
    def test_stored_text_with_a_number_json_has_no_word_for_is_corrupt(self, word: str) -> None:
        with pytest.raises(CorruptRecord):
            _json.decode_data("T1", f'{{"x": {word}}}')
        assert dict(_json.decode_data("T1", f'{{"x": "{word}"}}')) == {"x": word}

    def test_a_batch_writes_plain_data_and_changes_as_a_single_fire_does(
        self, tmp_path: Any
    ) -> None:
        changes = {"batch": {"count": 1, "note": "café ☕"}, "ok": True, "rate": 0.25}
        svc = _sales(tmp_path, changes)
        svc.fire("T1", "go")
        svc.fire_many([Command("T2", "go")])
        # SQLite keeps text as UTF-8 whatever the client: its JSON holds non-ASCII as it is
        expected = _json.encode_plain_utf8(changes)
        assert "café ☕" in expected
        with contextlib.closing(sqlite3.connect(tmp_path / "s.db")) as conn:
            data = conn.execute("SELECT data FROM posflow_terminals ORDER BY id").fetchall()
            logged = conn.execute("SELECT changes FROM posflow_history ORDER BY terminal_id")
            assert [r[0] for r in data] == [expected, expected]
            assert [r[0] for r in logged.fetchall()] == [expected, expected]
        assert svc.get("T1").data == svc.get("T2").data == changes


@pytest.mark.postgres
class TestNonUtf8Postgres:
    """A PostgreSQL connection in another encoding than UTF-8 stores any text in JSON."""

    def test_data_changes_and_payloads_in_text_latin1_cannot_hold_are_stored(
        self, postgres_url: str, pg_schema: str
    ) -> None:
        # psycopg encodes what it sends in the connection's encoding: JSON text that
        # is not ASCII failed to encode ("€" is not LATIN1) with a UnicodeEncodeError
        import sqlalchemy

        changes = {"note": "Kiosk €", "city": "Köln"}
        engine = sqlalchemy.create_engine(
            postgres_url, connect_args={"options": "-c client_encoding=LATIN1"}
        )
        store = SQLStore(engine, schema=pg_schema)
        try:
            store.drop_schema()
            store.create_schema()
            svc = TerminalService(_changing(changes), store)
            svc.create("T1", {"merchant": "Café 中"})
            svc.create_many([("T2", {"merchant": "€"}), ("T3", None)])
            svc.fire("T1", "go", Context({"memo": "5 €"}))
            svc.fire_many([Command("T2", "go"), Command("T3", "go")], Context({"memo": "中"}))
            assert dict(svc.get("T1").data) == {"merchant": "Café 中", **changes}
            assert dict(svc.get("T2").data) == {"merchant": "€", **changes}
            assert [dict(r.payload) for r in svc.history("T3")] == [{"memo": "中"}]
            assert [dict(r.changes) for r in svc.history("T1")] == [changes]
        finally:
            store.close()
            engine.dispose()


def _on_sqlite(tmp_path: Any, lc: Lifecycle) -> TerminalService:
    """A service of ``lc`` on a new SQLite file, with terminals T1 and T2 created."""
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    store.create_schema()
    svc = TerminalService(lc, store)
    svc.create_many([("T1", None), ("T2", None)])
    return svc


def _sales(tmp_path: Any, changes: dict[str, Any]) -> TerminalService:
    """A service on SQLite whose one event's effect returns ``changes`` (the same dict)."""
    return _on_sqlite(tmp_path, _changing(changes))


def _guarded(guard: Any) -> Lifecycle:
    """A lifecycle whose one event ``go`` (a to a) is under ``guard``."""
    return Lifecycle(
        ["a", State("b", final=True)],
        [Transition("go", "a", "=", conditions=guard), Transition("end", "a", "b")],
        "a",
    )


class _Shown:
    """An object that is no JSON value: stored as its text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class TestSurrogatesStored:
    """Text holding surrogates is stored and read back as it was, or refused: never altered."""

    PAIR = "a\ud83d\ude00b"  # two code points JSON would read back as one: "a😀b"
    LONE = "a\ud800b"

    def test_terminal_data_with_a_pair_is_refused_and_with_a_lone_one_kept(
        self, tmp_path: Any
    ) -> None:
        svc = _sales(tmp_path, {"n": 1})
        with pytest.raises(InvalidInput, match="surrogate pair") as caught:
            svc.create("T3", {"merchant": {"name": self.PAIR}})
        assert caught.value.field == "data"
        with pytest.raises(TerminalNotFound):
            svc.get("T3")
        svc.create("T4", {"merchant": {"name": self.LONE}, self.LONE: [self.LONE]})
        assert svc.get("T4").data == {"merchant": {"name": self.LONE}, self.LONE: [self.LONE]}

    @pytest.mark.parametrize(
        ("payload", "changes"),
        [
            ({"memo": PAIR}, {"n": 1}),
            ({"memo": "x"}, {"merchant": {"name": PAIR}}),
            ({"memo": "x"}, {PAIR: 1}),
            ({"memo": "x", "when": dt.date(2026, 1, 1)}, {"note": [PAIR], "pin": "1234"}),
        ],
        ids=["payload", "changes", "changes-key", "masked-changes"],
    )
    def test_a_fire_storing_a_pair_is_refused_and_changes_nothing(
        self, tmp_path: Any, payload: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        svc = _sales(tmp_path, changes)
        with pytest.raises(InvalidInput, match="surrogate pair"):
            svc.fire("T1", "go", Context(payload))
        [failed] = svc.fire_many([Command("T2", "go", payload=payload)], errors="return")
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        for t in ("T1", "T2"):
            assert svc.get(t).data == {}
            assert svc.history(t) == []

    @pytest.mark.parametrize(
        "evidence",
        [{"note": PAIR}, {"tags": [{PAIR: 1}]}, {"device": _Shown(PAIR)}, {"when": {PAIR}}],
        ids=["text", "key", "object", "set"],
    )
    def test_a_refusal_whose_evidence_holds_a_pair_is_refused_not_altered(
        self, tmp_path: Any, evidence: dict[str, Any]
    ) -> None:
        spec = posflow.default_catalogue()["guard.refused"]

        def refuse(t: Any, c: Context) -> Any:
            return (spec.reason(guard="g.pair", **evidence),)

        lc = _guarded(refuse)
        svc = _on_sqlite(tmp_path, lc)
        store = svc.store
        with pytest.raises(InvalidInput, match="surrogate pair") as caught:
            svc.fire("T1", "go", Context())
        assert caught.value.field == "reasons"
        assert "'guard.refused'" in str(caught.value)
        [failed] = svc.fire_many([Command("T2", "go")], errors="return")
        assert isinstance(failed, CommandFailed)
        assert isinstance(failed.error, InvalidInput)
        assert svc.history("T1") == svc.history("T2") == []
        # not recording refusals, nothing is encoded: the refusal is returned as decided
        quiet = TerminalService(lc, store, record_refusals=False)
        out = quiet.fire("T1", "go", Context())
        assert out.reasons[0].params == spec.reason(**evidence).params
        # a lone surrogate in evidence is stored and reads back as it was
        lone = TerminalService(_guarded(lambda t, c: (spec.reason(note=self.LONE),)), store)
        lone.fire("T1", "go", Context(), idempotency_key="k")
        (record,) = lone.history("T1")
        assert record.reasons == ("guard.refused",)
        again = lone.fire("T1", "go", Context(), idempotency_key="k")  # read from the store
        assert again.reasons[0].params == {"note": self.LONE}

    def test_evidence_json_cannot_hold_is_refused_naming_the_reasons(self, tmp_path: Any) -> None:
        spec = posflow.default_catalogue()["guard.refused"]
        svc = _on_sqlite(
            tmp_path, _guarded(lambda t, c: (spec.reason(guard="g.key", shelf={(1, 2): "x"}),))
        )
        with pytest.raises(InvalidInput, match="keys must be str") as caught:
            svc.fire("T1", "go", Context())
        assert caught.value.field == "reasons"
        assert "'guard.refused'" in str(caught.value)
        assert svc.history("T1") == []

    def test_a_payload_object_whose_own_text_holds_a_pair_is_refused(self, tmp_path: Any) -> None:
        svc = _sales(tmp_path, {"n": 1})
        payload = {"device": _Shown(self.PAIR)}
        with pytest.raises(InvalidInput, match="the text of a _Shown holds a surrogate pair"):
            svc.fire("T1", "go", Context(payload))
        assert svc.history("T1") == []
        # the same object with text that reads back as it was is stored as that text
        svc.fire("T1", "go", Context({"device": _Shown(self.LONE)}))
        (record,) = svc.history("T1")
        assert record.payload == {"device": self.LONE}

    def test_a_fire_storing_lone_surrogates_reads_back_as_it_was(self, tmp_path: Any) -> None:
        changes = {"note": self.LONE, self.LONE: {"n": 1}}
        svc = _sales(tmp_path, changes)
        ctx = Context({"memo": self.LONE, "l": [self.LONE]}, at=TestStoredRecords.AT)
        single = svc.fire("T1", "go", ctx)
        [many] = svc.fire_many([Command("T2", "go")], ctx)
        for t, out in (("T1", single), ("T2", many)):
            (record,) = svc.history(t)
            assert out.record == record  # type: ignore[union-attr]
            assert record.changes == changes
            assert record.payload == {"memo": self.LONE, "l": [self.LONE]}
            assert svc.get(t).data == changes


class TestStoredRecords:
    """A stored outcome's record is built only when read, equal to the one stored."""

    AT = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

    def test_records_read_later_equal_history_after_payload_and_changes_changed_in_place(
        self, tmp_path: Any
    ) -> None:
        changes: dict[str, Any] = {"batch": {"items": [1]}, "n": 1}
        svc = _sales(tmp_path, changes)
        items = [1, 2]
        ctx = Context({"items": items, "amount": 5}, actor="op", at=self.AT)
        own = {"items": items, "note": "x"}
        outs = svc.fire_many(
            [
                Command("T1", "go", idempotency_key="k1"),
                Command("T2", "go", payload=own),
                Command("T1", "go"),
            ],
            ctx,
        )
        single = svc.fire("T2", "go", ctx, idempotency_key="k2")
        assert all(type(o._record) is tuple for o in [*outs, single])  # not built yet
        items.append(3)  # the caller's payload and the effect's changes, changed in place
        changes["n"] = 2
        changes["batch"]["items"].append(2)
        stored = {t: svc.history(t) for t in ("T1", "T2")}
        assert [o.record for o in outs] == [stored["T1"][0], stored["T2"][0], stored["T1"][1]]
        assert single.record == stored["T2"][1]
        unread = svc.fire_many([Command("T1", "go")], ctx)[0]
        copy = pickle.loads(pickle.dumps(unread))  # noqa: S301 - bytes made by the test
        assert copy.record == unread.record == svc.history("T1")[2]
        assert outs[0].record is outs[0].record  # built once, then kept
        assert outs[0].record.payload == {"items": [1, 2], "amount": 5}
        assert outs[0].record.changes == {"batch": {"items": [1]}, "n": 1}
        assert outs[2].record.seq == 1
        with pytest.raises(TypeError):
            outs[0].record.changes["n"] = 3  # type: ignore[index]

    @pytest.mark.parametrize(
        ("payload", "changes", "built"),
        [
            ({"when": dt.date(2026, 1, 2), "pin": "1234"}, {"n": 1}, True),  # reads back as text
            ({"pair": (1, 2)}, {"n": 1}, True),  # reads back as a list
            ({"amount": 5}, {"pin": "1234", "n": (1, 2)}, True),  # masked changes
            ({"amount": 5}, {"n": (1, 2)}, True),  # unmasked, but not plain JSON
            ({"pin": "1234"}, {}, False),  # masked, but plain JSON
            ({"法人身份证号": "110101199003074512"}, {"n": 1}, False),  # Chinese keys too
            ({"amount": 5}, {"商户": {"身份证号码": "110101199003074512"}}, True),
            (
                {"银行账号": "6222020200112233445"},
                {"legalpersonidcard": "110101199003074512"},
                True,
            ),
            ({}, {}, False),
        ],
    )
    def test_records_that_would_not_read_back_equal_are_built_at_once(
        self, tmp_path: Any, payload: dict[str, Any], changes: dict[str, Any], built: bool
    ) -> None:
        svc = _sales(tmp_path, changes)
        ctx = Context(payload, at=self.AT)
        outs = svc.fire_many([Command("T1", "go")], ctx)
        single = svc.fire("T2", "go", ctx)
        assert (type(outs[0]._record) is not tuple) is built
        general = svc.lifecycle.fire(svc.lifecycle.new_terminal("T1"), "go", ctx).record
        assert outs[0].record == general.with_seq(0)  # what the outcome's record always was
        with contextlib.closing(sqlite3.connect(tmp_path / "s.db")) as conn:
            rows = conn.execute("SELECT * FROM posflow_history").fetchall()
        assert len(rows) == 2
        texts = [repr(outs[0].record), repr(outs[0]), repr(single.record), repr(single), str(rows)]
        texts += [repr(svc.history(t)) for t in ("T1", "T2")]
        for clear in CLEAR_VALUES:
            assert not [text for text in texts if clear in text], clear

    def test_changes_that_are_not_json_fail_their_command_only(self, tmp_path: Any) -> None:
        svc = _sales(tmp_path, {"x": float("nan")})
        outs = svc.fire_many([Command("T1", "go")], errors="return")
        assert isinstance(outs[0], CommandFailed)
        assert isinstance(outs[0].error, InvalidInput)
        assert svc.history("T1") == []

    def test_iter_fire_many_needs_no_context(self, tmp_path: Any) -> None:
        svc = _sales(tmp_path, {"n": 1})
        outs = list(svc.iter_fire_many([Command("T1", "go"), Command("T2", "go")], batch_size=1))
        assert [o.record for o in outs] == [svc.history("T1")[0], svc.history("T2")[0]]

    def test_a_duplicate_in_the_same_batch_repeats_the_record_stored(self, tmp_path: Any) -> None:
        svc = _sales(tmp_path, {"n": 1})
        outs = svc.fire_many([Command("T1", "go", idempotency_key="k")] * 2, Context())
        assert outs[1].duplicate  # type: ignore[union-attr]
        assert outs[1].record == outs[0].record == svc.history("T1")[0]


class TestServiceEdges:
    def test_properties_and_repr(self) -> None:
        store = MemoryStore()
        svc = TerminalService(SMALL, store)
        assert svc.lifecycle is SMALL
        assert svc.store is store
        assert "units" in repr(svc)

    def test_contexts_are_optional(self) -> None:
        svc = TerminalService(SMALL, MemoryStore())
        svc.create_many([("A", None), ("B", None)])
        assert svc.fire("A", "tick").ok
        assert [o.ok for o in svc.fire_many([Command("A", "go")])] == [True]
        assert svc.drain("r", "a", "go").fired == 1
        assert svc.explain("A", event="tick").codes == ("lifecycle.not_allowed_from_state",)

    def test_an_empty_fire_many_does_nothing(self) -> None:
        assert TerminalService(SMALL, MemoryStore()).fire_many([]) == []

    def test_verify_reports_a_gap_in_seq_and_ignores_masked_values(self) -> None:
        def keys(terminal: Any, ctx: Context) -> dict[str, Any]:
            return {"pin": "1234", "owner": {"phone": "13812345678"}, "list": [{"token": "t"}]}

        lc = Lifecycle(["a", "b"], [Transition("go", "a", "b", effect=keys),
                                    Transition("back", "b", "a")], "a")  # fmt: skip
        store = MemoryStore()
        svc = TerminalService(lc, store)
        svc.create("T1")
        svc.fire("T1", "go")
        assert svc.get("T1").data["pin"] == "1234"  # kept in clear in the row ...
        assert svc.history("T1")[0].changes["pin"] != "1234"  # ... masked in history
        assert svc.verify("T1") is None
        store._history["T1"][0] = store._history["T1"][0].with_seq(5)
        d = svc.verify("T1")
        assert d is not None
        assert any("seq 5" in p for p in d.problems)

    def test_memory_refuses_a_key_taken_by_a_nested_writer(self) -> None:
        store = MemoryStore()
        svc = TerminalService(SMALL, store)
        svc.create("T1")
        with pytest.raises(ConcurrencyConflict), store.transaction() as tx:  # noqa: PT012
            loaded, _ = tx.load("T1", "k")
            out = SMALL.fire(loaded.terminal, "tick", idempotency_key="k")
            rec = _records.record_of(out, 1)
            svc.fire("T1", "go", idempotency_key="k")  # commits first, with the same key
            current = Loaded(store.get("T1"), loaded.seq + 1)  # the version check passes ...
            tx.save([Write(current, out.terminal, None, [tx.encode_record(rec, 1, ())])])
        assert [r.event for r in store.history("T1")] == ["go"]  # ... the key check did not
        released = threading.Event()
        threading.Thread(target=lambda: store.get("T1") and released.set()).start()
        assert released.wait(5)


class TestCorruptColumns:
    @pytest.mark.parametrize(
        ("sql", "params"),
        [
            ("UPDATE posflow_terminals SET version = -1 WHERE id = ?", ("T1",)),
            ("UPDATE posflow_terminals SET seq = -4 WHERE id = ?", ("T1",)),
            ("UPDATE posflow_terminals SET data = '[1]' WHERE id = ?", ("T1",)),
        ],
    )
    def test_a_corrupt_terminal_row(self, sql_store: SQLStore, sql: str, params: Any) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        execute_behind(sql_store, sql, params)
        with pytest.raises(CorruptRecord):
            sql_store.snapshot("T1")
        (d,) = svc.verify_all()
        assert d.terminal_id == "T1"

    @pytest.mark.parametrize(
        "change",
        [
            "payload = '[]'",
            "reasons = '[[]]'",
            "reasons = '{}'",
            "reasons = '[[1, 2]]'",  # a code that is not text, fields missing
            "reasons = '[[\"lifecycle.unknown_event\", null, false]]'",  # a field missing
            "reasons = '[]'",  # a refusal without a reason
            "changes = 'x'",
            "event = ''",
        ],
    )
    def test_a_corrupt_history_row(self, sql_store: SQLStore, change: str) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        svc.fire("T1", "nope", idempotency_key="k")  # a refusal, with reasons
        execute_behind(sql_store, f"UPDATE posflow_history SET {change}")
        if change == "event = ''":
            assert svc.history("T1")[0].event == ""
            return
        with pytest.raises(CorruptRecord):
            svc.history("T1")
        with pytest.raises(CorruptRecord):
            svc.fire("T1", "go", idempotency_key="k")

    def test_an_accepted_row_with_reasons_is_corrupt(self, sql_store: SQLStore) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        svc.fire("T1", "tick")
        execute_behind(
            sql_store,
            """UPDATE posflow_history SET reasons = '[["guard.refused", null, false, {}]]'""",
        )
        with pytest.raises(CorruptRecord, match="accepted and holds reasons"):
            svc.history("T1")

    def test_a_corrupt_timestamp_on_sqlite(self, tmp_path: Any) -> None:
        store = SQLStore(f"sqlite:///{tmp_path / 'x.db'}")
        store.create_schema()
        svc = TerminalService(SMALL, store)
        svc.create("T1")
        svc.fire("T1", "go")
        execute_behind(store, "UPDATE posflow_history SET at = 'yesterday'")
        with pytest.raises(CorruptRecord, match="timestamp"):
            svc.history("T1")
        execute_behind(store, "UPDATE posflow_history SET at = 5, version = 'x'")
        with pytest.raises(CorruptRecord):
            svc.history("T1")

    def test_tables_dropped_behind_the_stores_back(self, sql_store: SQLStore) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        execute_behind(sql_store, "DROP TABLE posflow_history")
        with pytest.raises(SchemaMismatch):
            svc.fire("T1", "go")
        with pytest.raises(SchemaMismatch):
            svc.history("T1")

    def test_other_database_errors_are_store_unavailable(self, sql_store: SQLStore) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        execute_behind(sql_store, "ALTER TABLE posflow_terminals RENAME COLUMN seq TO seq_old")
        with pytest.raises((StoreUnavailable, SchemaMismatch)):
            svc.fire("T1", "go")
        with pytest.raises(StoreUnavailable):
            svc.fire_many([Command("T1", "go")])
        with pytest.raises(StoreUnavailable):
            svc.drain("r", "a", "go")
        with pytest.raises(StoreUnavailable):
            svc.verify_all()


def test_stores_satisfy_the_protocol(sql_store: SQLStore) -> None:
    stores: list[Store] = [MemoryStore(), sql_store]
    assert [s.schema_version() for s in stores] == [1, 1]
    for s in stores:
        s.upgrade_schema()
        s.create_schema()


class TestPublicStoreApi:
    def test_every_export_exists_and_is_documented(self) -> None:
        import posflow.store as store_module

        for name in store_module.__all__:
            value = getattr(store_module, name)
            if callable(value):
                assert (value.__doc__ or "").strip(), name
        assert (store_module.__doc__ or "").strip()

    def test_importing_the_store_does_not_import_sqlalchemy(self) -> None:
        import subprocess
        import sys

        code = "import sys, posflow.store; print('sqlalchemy' in sys.modules)"
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
        )
        assert result.stdout.strip() == "False"


class TestSqlEdges:
    def test_a_second_store_on_an_existing_database_checks_its_schema(
        self, sql_store: SQLStore
    ) -> None:
        TerminalService(SMALL, sql_store).create("T1")
        other = SQLStore(sql_store.engine)
        assert other.get("T1").state == "a"
        assert other.counts() == {"a": 1}

    def test_a_missing_version_row_is_no_schema(self, sql_store: SQLStore) -> None:
        execute_behind(sql_store, "DELETE FROM posflow_meta")
        assert SQLStore(sql_store.engine).schema_version() is None
        with pytest.raises(SchemaMismatch):
            SQLStore(sql_store.engine).counts()

    def test_a_file_that_is_not_a_database_is_corrupt_not_unavailable(self, tmp_path: Any) -> None:
        path = tmp_path / "garbage.db"
        path.write_bytes(b"this is not a SQLite database, just text" * 100)
        store = SQLStore(f"sqlite:///{path}")
        for call in (store.schema_version, store.create_schema, store.drop_schema):
            with pytest.raises(CorruptRecord, match="file is not a database") as err:
                call()
            assert not isinstance(err.value, StoreUnavailable)

    def test_a_history_row_in_the_way_is_a_conflict(self, sql_store: SQLStore) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T1")
        svc.fire("T1", "tick")
        execute_behind(sql_store, "UPDATE posflow_terminals SET seq = 0")  # history says 1 record
        with pytest.raises(ConcurrencyConflict):
            svc.fire("T1", "go")
        assert svc.get("T1").state == "a"

    def test_creating_in_a_dropped_table_is_a_schema_mismatch(self, sql_store: SQLStore) -> None:
        svc = TerminalService(SMALL, sql_store)
        svc.create("T0")
        execute_behind(sql_store, "DROP TABLE posflow_terminals")
        with pytest.raises(SchemaMismatch):
            svc.create("T1")

    def test_idle_connections_are_capped_and_broken_ones_dropped(self, tmp_path: Any) -> None:
        import sqlite3

        store = SQLStore(f"sqlite:///{tmp_path / 'cap.db'}", pool_size=1)
        store.create_schema()
        first, second = store._connect(), store._connect()
        store._release(first)
        store._release(second)  # over the cap: closed
        assert store._idle == [first]
        with pytest.raises(sqlite3.ProgrammingError):
            second.execute("SELECT 1")
        again = store._connect()
        store._release(again, sqlite3.OperationalError("disk I/O error"))
        assert store._idle == []
        store.close()
        assert TerminalService(SMALL, store).counts() == {}  # reconnects after close
        store.close()


def test_a_foreign_meta_table_is_a_database_error(sql_store: SQLStore) -> None:
    execute_behind(sql_store, "DROP TABLE posflow_meta")
    execute_behind(sql_store, "CREATE TABLE posflow_meta (key TEXT)")
    other = SQLStore(sql_store.engine)
    with pytest.raises(StoreUnavailable, match="database error"):
        other.schema_version()
    with pytest.raises(StoreUnavailable, match="database error"):
        other.create_schema()
    other.drop_schema()
    other.create_schema()
    assert other.schema_version() == 1
