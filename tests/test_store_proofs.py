"""Proofs of issue 4 against real databases: races, redelivery, crashes, hostile strings, drains.

Every test runs on SQLite (a file in a temporary directory) and on PostgreSQL
(a schema of its own, dropped afterwards). PostgreSQL is skipped when it does
not answer, except with ``CI=true``, where that is a failure. Worker processes
are fresh interpreters running ``tests/store_worker.py`` (see
``store_harness.py``); they share nothing with the test but the database.

The sizes are small (a few workers, a few hundred fires) so that each test
takes seconds on two shared cores; what they check is exact, not statistical.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posflow.errors import InvalidInput, PosflowError, TerminalExists, TerminalNotFound
from posflow.store import MAX_ID_LENGTH, Command, SQLStore, TerminalService
from sql_support import execute_behind
from store_harness import backends, collect, collect_all, kill_after, spawn
from store_world import context, counter_lifecycle, pg_schema_url, sqlite_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
DB_SETTINGS = settings(
    max_examples=min(settings.default.max_examples, 25),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
"""Every example writes to a real database: at most 25 of them (the thorough profile's
2,000 are for the in-memory properties)."""


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with no posflow schema yet, on each backend.

    PostgreSQL URLs carry ``options=-csearch_path=<schema>`` so that worker
    processes, which get nothing but the URL, use this test's own schema.
    """
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with pg_schema_url(request.getfixturevalue("postgres_url")) as pg:
        yield pg


@pytest.fixture
def service(url: str) -> Iterator[TerminalService]:
    """A service on a freshly created schema."""
    store = SQLStore(url)
    store.create_schema()
    try:
        yield TerminalService(counter_lifecycle(), store)
    finally:
        store.close()


def assert_consistent(svc: TerminalService, ids: list[str]) -> None:
    """Each terminal's row is what its history adds up to, and verify_all agrees."""
    for tid in ids:
        t = svc.get(tid)
        history = svc.history(tid)
        accepted = [r for r in history if r.to_state is not None]
        assert [r.seq for r in history] == list(range(len(history)))
        assert t.version == len(accepted)
        assert [r.version for r in accepted] == list(range(1, len(accepted) + 1))
        bumps = [r for r in accepted if r.event == "bump"]
        assert t.data.get("bumps", 0) == len(bumps)
        assert t.data.get("total", 0) == sum(r.payload.get("amount", 1) for r in bumps)
        keys = [r.idempotency_key for r in history if r.idempotency_key is not None]
        assert len(keys) == len(set(keys)), f"{tid}: a key was applied twice"
    assert svc.verify_all() == []


# -- multi-process race -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("retry", [False, True], ids=["conflicts-raised", "conflicts-retried"])
def test_racing_processes_lose_no_update(service: TerminalService, url: str, retry: bool) -> None:
    ids = ["R0", "R1"]
    workers, fires = 3, 40
    service.create_many((tid, {}) for tid in ids)
    flag = ["--retry"] if retry else []
    procs = [spawn("race", url, seed, fires, *ids, *flag) for seed in range(workers)]
    outs = collect_all(procs)
    lines = [line for out in outs for line in out]

    accepted = [line for line in lines if "ok" in line]
    conflicts = [line for line in lines if "conflict" in line]
    assert len(accepted) + len(conflicts) == workers * fires
    if retry:
        assert conflicts == []
    for tid in ids:
        mine = [line for line in accepted if line["ok"] == tid]
        t = service.get(tid)
        # 0 lost updates: every accepted fire a worker was told about is in the row
        assert t.version == len(mine)
        assert t.data.get("total", 0) == sum(line["amount"] for line in mine)
        # two writers never both win: each version was handed to exactly one writer
        assert sorted(line["version"] for line in mine) == list(range(1, len(mine) + 1))
        # and the history credits each writer with exactly the fires it was told won
        actors = Counter(r.actor for r in service.history(tid))
        told = Counter(
            f"w{seed}" for seed, out in enumerate(outs) for line in out if line.get("ok") == tid
        )
        assert actors == told
    assert_consistent(service, ids)


# -- redelivery -------------------------------------------------------------------------


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[tuple[int, bool]], list[int]]:
    """Distinct events (amount, refuse) and an order in which each is sent 2 or 3 times."""
    events = draw(st.lists(st.tuples(st.integers(1, 50), st.booleans()), min_size=1, max_size=8))
    copies = draw(st.lists(st.integers(2, 3), min_size=len(events), max_size=len(events)))
    sent = [i for i, n in enumerate(copies) for _ in range(n)]
    return events, draw(st.permutations(sent))


@pytest.mark.parametrize("mode", ["fire", "fire_many"])
@DB_SETTINGS
@given(plan=deliveries(), batch=st.integers(1, 6))
def test_redelivered_events_take_effect_once(
    service: TerminalService, mode: str, plan: tuple[list[tuple[int, bool]], list[int]], batch: int
) -> None:
    events, order = plan
    tid = f"D-{uuid.uuid4().hex}"
    service.create(tid, {})

    def payload(i: int) -> dict[str, Any]:
        return {"amount": events[i][0], "refuse": events[i][1]}

    if mode == "fire":
        outcomes = [
            service.fire(tid, "bump", context(payload(i)), idempotency_key=f"k{i}") for i in order
        ]
    else:
        commands = [Command(tid, "bump", payload(i), idempotency_key=f"k{i}") for i in order]
        outcomes = service.fire_many(commands, context(), batch_size=batch)

    first: dict[int, Any] = {}
    for i, out in zip(order, outcomes, strict=True):
        if i not in first:
            first[i] = out
            assert out.ok is not events[i][1]
            continue
        # a repeat returns the first outcome and changes nothing
        assert getattr(out, "duplicate", False)
        assert (out.ok, out.codes) == (first[i].ok, first[i].codes)
        assert out.record.seq == first[i].record.seq
    accepted = [i for i in first if not events[i][1]]
    t = service.get(tid)
    assert t.version == len(accepted)
    assert t.data.get("total", 0) == sum(events[i][0] for i in accepted)
    history = service.history(tid)
    assert sorted(r.idempotency_key or "" for r in history) == sorted(f"k{i}" for i in first)
    assert_consistent(service, [tid])


@pytest.mark.slow
def test_concurrent_redelivery_from_several_processes_takes_effect_once(
    service: TerminalService, url: str, tmp_path: Path
) -> None:
    ids = [f"P{i}" for i in range(4)]
    service.create_many((tid, {}) for tid in ids)
    rng = random.Random(7)
    plan = [[ids[i % 4], "bump", {"amount": rng.randint(1, 9)}, f"p{i}"] for i in range(60)]
    procs = []
    for w, batch in enumerate((0, 5, 25)):
        shuffled = plan[:]
        random.Random(w).shuffle(shuffled)
        path = tmp_path / f"plan{w}.json"
        path.write_text(json.dumps(shuffled), encoding="utf-8")
        procs.append(spawn("deliver", url, path, batch))
    for out in collect_all(procs):
        assert out[-1] == {"finished": len(plan)}
    for tid in ids:
        mine = [row for row in plan if row[0] == tid]
        t = service.get(tid)
        assert t.version == len(mine)
        assert t.data["total"] == sum(row[2]["amount"] for row in mine)
    assert_consistent(service, ids)


# -- crash ------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_mid_batch_leaves_no_partial_transition(
    service: TerminalService, url: str, tmp_path: Path
) -> None:
    ids = [f"C{i}" for i in range(8)]
    service.create_many((tid, {}) for tid in ids)
    rng = random.Random(20261123)
    plan = [[ids[i % 8], "bump", {"amount": rng.randint(1, 9)}, f"c{i}"] for i in range(200)]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    amount = {row[3]: row[2]["amount"] for row in plan}

    kills = 10
    for _ in range(kills):
        batch = rng.choice([0, 5, 20])
        seen = kill_after(
            spawn("deliver", url, path, batch), rng.randint(1, 150), rng.uniform(0, 0.02)
        )
        done = max((line["done"] for line in seen if "done" in line), default=0)
        # the rows and the history of every terminal as of one moment, after the
        # killed worker's last transaction ended (committed or rolled back)
        stored = service.store.scan(None, len(ids))
        assert [t.id for t, _, _ in stored] == ids
        applied: dict[str, str] = {}
        for t, _, history in stored:
            for r in history:
                assert r.idempotency_key is not None
                applied[r.idempotency_key] = t.id
        # every outcome the worker was handed had been committed
        assert all(row[3] in applied for row in plan[:done])
        # nothing partial: each terminal adds up to exactly the records it has
        for t, seq, history in stored:
            keys = [r.idempotency_key for r in history]
            assert t.version == seq == len(keys)
            assert t.data.get("total", 0) == sum(amount[k] for k in keys)
        assert service.verify_all() == []

    # a full redelivery after the crashes completes the work, each event once
    out = collect(spawn("deliver", url, path, 20))
    assert out[-1] == {"finished": len(plan)}
    for tid in ids:
        mine = [row for row in plan if row[0] == tid]
        assert service.get(tid).version == len(mine)
        assert service.get(tid).data["total"] == sum(row[2]["amount"] for row in mine)
    assert_consistent(service, ids)


SLOW_COMMIT = (
    "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON posflow_history"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
)
"""A trigger that PostgreSQL runs at COMMIT: each commit that adds history takes a second."""


@pytest.mark.postgres
def test_a_commit_the_killed_worker_sent_has_landed_when_the_test_reads(
    postgres_url: str, tmp_path: Path
) -> None:
    # The crash proofs once failed one run in forty (a terminal one version ahead of
    # its history): a worker killed right after it sent COMMIT leaves that commit to
    # its server process, which made it visible after the test had read the history
    # and before it read the terminal. kill_after now waits until the worker's
    # server processes are gone. Here every commit takes a second, so the kill
    # lands inside one for certain, and the test's reads must still see it landed.
    with pg_schema_url(postgres_url) as url:
        store = SQLStore(url)
        try:
            store.create_schema()
            service = TerminalService(counter_lifecycle(), store)
            service.create("K")
            for sql in SLOW_COMMIT:
                execute_behind(store, sql)
            plan = [["K", "bump", {"amount": 2}, f"k{i}"] for i in range(3)]
            path = tmp_path / "plan.json"
            path.write_text(json.dumps(plan), encoding="utf-8")
            worker = spawn("deliver", url, path, 0)
            deadline = time.monotonic() + 30
            while not backends(worker, committing_for=0.2):  # inside its first commit
                assert time.monotonic() < deadline, "the worker never committed"
                time.sleep(0.01)
            seen = kill_after(worker, 0, 0)
            assert seen == []  # the worker never learnt that its commit succeeded...
            t, seq, history = store.snapshot("K")
            # ...and the commit had nevertheless landed, whole, when the test read
            assert (t.version, seq, [r.idempotency_key for r in history]) == (1, 1, ["k0"])
            assert t.data == {"bumps": 1, "total": 2}
            assert service.verify_all() == []
        finally:
            store.close()


@pytest.mark.slow
def test_killed_drain_workers_resume_to_completion(service: TerminalService, url: str) -> None:
    ids = [f"N{i:03d}" for i in range(60)]
    service.create_many((tid, {}) for tid in ids)
    service.fire_many([Command(tid, "start") for tid in ids], context())
    rng = random.Random(99)
    for _ in range(10):
        proc = spawn("drain", url, "night-1", "busy", "finish", 3)
        kill_after(proc, rng.randint(1, 50), rng.uniform(0, 0.02))
        for t, _, history in service.store.scan(None, len(ids)):
            tid = t.id
            keyed = [r for r in history if r.idempotency_key == f"night-1:{tid}"]
            # either not yet drained, or drained exactly once, never in between
            assert (t.state, len(keyed), t.data.get("finished", 0)) in {
                ("busy", 0, 0),
                ("idle", 1, 1),
            }
        assert service.verify_all() == []
    out = collect(spawn("drain", url, "night-1", "busy", "finish", 7))
    assert "report" in out[-1]
    assert service.counts() == {"idle": len(ids)}
    assert all(service.get(tid).data["finished"] == 1 for tid in ids)
    assert_consistent(service, ids)


# -- drain with several processes -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "state"), [("finish", "idle"), ("bump", "busy")], ids=["moves", "stays"]
)
def test_parallel_drain_takes_no_terminal_twice(
    service: TerminalService, url: str, event: str, state: str
) -> None:
    ids = [f"W{i:03d}" for i in range(90)]
    service.create_many((tid, {}) for tid in ids)
    service.fire_many([Command(tid, "start") for tid in ids], context())
    procs = [spawn("drain", url, "settle-1", "busy", event, 5) for _ in range(3)]
    outs = collect_all(procs)

    decided = [Counter(line["decided"] for line in out if "decided" in line) for out in outs]
    everywhere = Counter(tid for d in decided for tid in d)
    taken_twice = sorted(tid for tid, n in everywhere.items() if n > 1)
    assert taken_twice == [], f"terminals decided by more than one worker: {taken_twice[:10]}"
    assert set(everywhere) == set(ids)
    reports = [out[-1]["report"] for out in outs]
    assert sum(r["fired"] for r in reports) == len(ids)
    assert service.counts() == {state: len(ids)}
    for tid in ids:
        keyed = [r for r in service.history(tid) if r.idempotency_key == f"settle-1:{tid}"]
        assert len(keyed) == 1
    assert_consistent(service, ids)


# -- hostile strings --------------------------------------------------------------------

NASTY = [
    "'",
    '"',
    "';--",
    "'; DROP TABLE posflow_terminals; --",
    "Robert'); DELETE FROM posflow_history WHERE ('1'='1",
    "%s",
    "%(id)s",
    "?",
    ":id",
    "$1",
    "\\",
    "\\x00",
    "\x00",
    "a\x00b",
    "\u202etxet desrever",
    "终端机-商户",
    "💳🧾",
    "\ufeff",
    "\U0010fffd",
    "null",
    "{}",
    '{"a": 1}',
    "x" * 5000,
]
HOSTILE = st.one_of(
    st.sampled_from(NASTY),
    st.text(),
    st.text(st.characters(codec="utf-8"), min_size=2000, max_size=4000),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=20)),
)


def refusable(value: str) -> bool:
    """Strings a store may refuse (with InvalidInput): empty, whitespace only, with NUL, too long.

    Only ids and keys have a length limit (``MAX_ID_LENGTH`` characters), and a key
    may be whitespace only; actors, keys and data are checked here with the same
    predicate, which is permissive.
    """
    return not value or value.isspace() or "\x00" in value or len(value) > MAX_ID_LENGTH


def attempt(call: Any) -> tuple[Any, PosflowError | None]:
    """``(result, None)``, or ``(None, error)`` when the call raised a posflow error."""
    try:
        return call(), None
    except PosflowError as exc:
        return None, exc


@DB_SETTINGS
@given(tid=HOSTILE, actor=HOSTILE, key=HOSTILE, text=HOSTILE)
def test_hostile_strings_read_back_intact_or_are_refused_with_a_typed_error(
    service: TerminalService, tid: str, actor: str, key: str, text: str
) -> None:
    tid = f"{uuid.uuid4().hex[:6]}{tid}"  # distinct per example, still hostile
    data = {"note": text, text: "as a key"}
    created, error = attempt(lambda: service.create(tid, data))
    if error is not None:
        # refused: a caller error, typed, for a value a store may refuse; nothing stored
        assert isinstance(error, InvalidInput), repr(error)
        assert refusable(tid) or refusable(text), f"refused a storable value: {error!r}"
        # nothing was stored: reading it back is "not found", or the same caller error
        _, missing = attempt(lambda: service.get(tid))
        assert isinstance(missing, InvalidInput if refusable(tid) else TerminalNotFound), missing
        return
    stored = service.get(tid)
    assert (stored.id, stored.state, stored.version) == (tid, "idle", 0)
    assert dict(stored.data) == dict(created.data) == data

    ctx = context({"text": text}, actor=actor)
    out, error = attempt(lambda: service.fire(tid, "note", ctx, idempotency_key=key))
    if error is not None:
        assert isinstance(error, InvalidInput), repr(error)
        assert refusable(actor) or refusable(key) or refusable(text), f"refused: {error!r}"
        assert service.history(tid) == []
        assert service.get(tid).version == 0
        return
    assert out.ok
    assert service.get(tid).data["note"] == text
    [record] = service.history(tid)
    expected = out.record
    assert record.terminal_id == tid
    assert record.actor == actor
    assert record.idempotency_key == key
    assert dict(record.payload) == dict(expected.payload)
    assert dict(record.changes) == dict(expected.changes)
    assert record.at == expected.at
    again = service.fire(tid, "note", context({"text": "other"}, actor=actor), idempotency_key=key)
    assert getattr(again, "duplicate", False)
    assert service.get(tid).data["note"] == text
    assert service.verify(tid) is None


@DB_SETTINGS
@given(tid=HOSTILE.filter(lambda v: "\x00" not in v))
def test_hostile_unknown_ids_are_typed_errors(service: TerminalService, tid: str) -> None:
    for call in (
        lambda: service.get(tid),
        lambda: service.history(tid),
        lambda: service.verify(tid),
        lambda: service.fire(tid, "bump", context({"amount": 1})),
    ):
        with pytest.raises((TerminalNotFound, InvalidInput)):
            call()


@pytest.mark.parametrize("tid", ["\x00", "T1\x00", "\x00'; --"])
@pytest.mark.parametrize("call", ["get", "history", "verify", "fire"])
def test_reading_a_nul_id_is_a_caller_error(service: TerminalService, tid: str, call: str) -> None:
    service.create("T1", {})
    do = {
        "get": lambda: service.get(tid),
        "history": lambda: service.history(tid),
        "verify": lambda: service.verify(tid),
        "fire": lambda: service.fire(tid, "bump", context({"amount": 1})),
    }[call]
    with pytest.raises(InvalidInput) as err:  # the same on every store (docs/store.md)
        do()
    assert err.value.field == "terminal_id"
    assert service.get("T1").version == 0


@pytest.mark.parametrize("field", ["terminal_id", "idempotency_key"])
def test_very_long_ids_and_keys_are_stored_or_refused_as_caller_errors(
    service: TerminalService, field: str
) -> None:
    rng = random.Random(3)
    long = "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(3000))  # 9,000 UTF-8 bytes
    tid, key = (long, "k1") if field == "terminal_id" else ("T1", long)
    created, error = attempt(lambda: service.create(tid, {}))
    if error is None:
        out, error = attempt(
            lambda: service.fire(tid, "bump", context({"amount": 2}), idempotency_key=key)
        )
    if error is not None:
        assert isinstance(error, InvalidInput), repr(error)
        assert error.field == field  # the limit names the field it applies to
        return
    assert created.id == tid
    assert out.ok
    [record] = service.history(tid)
    assert (record.terminal_id, record.idempotency_key) == (tid, key)
    assert service.get(tid).data["total"] == 2


def test_duplicate_hostile_id_is_terminal_exists(service: TerminalService) -> None:
    tid = "'; DROP TABLE posflow_terminals; --"
    service.create(tid, {})
    with pytest.raises(TerminalExists):
        service.create(tid, {})
    assert service.counts() == {"idle": 1}
