"""Store benchmark: committed fires per second against raw driver inserts of the same rows.

Run it on demand::

    python benchmarks/bench_store.py                 # SQLite and PostgreSQL (if reachable)
    python benchmarks/bench_store.py --quick         # fewer fires
    python benchmarks/bench_store.py --backends sqlite --fires 20000

What one *fire* writes is the same everywhere: one history row (12 columns:
terminal id, seq, event, from/to state, version, actor, time, payload JSON,
reasons JSON, idempotency key, changes JSON) and one update of the terminal's
row (state, version, seq, data JSON, updated_at, with the ``seq`` check). The
event is an accepted ``record_sale`` on a ``signed_in`` terminal (one guard,
one effect that adds the amount to the batch total), with an idempotency key.

Measured, each on a fresh database of the same schema
(``SQLStore.create_schema()``), with ``--terminals`` terminals created
beforehand (not timed) and fires spread round-robin over them:

* ``fire``: ``TerminalService.fire`` one at a time; one transaction each
  (load, decide, append, save with the version check, commit);
* ``fire_many``: ``TerminalService.fire_many`` in batches of ``--batch``, given
  its list of ``Command`` objects built before the clock starts (as the raw runs'
  rows are);
* ``iter_fire_many``: the streaming variant, same batches and commands;
* ``raw row``: the driver alone (``sqlite3`` / ``psycopg``), one transaction per
  fire: ``BEGIN``, ``INSERT`` the history row, ``UPDATE`` the terminal,
  ``COMMIT``; the parameters are built before the clock starts, so this is the
  floor no store can beat;
* ``raw batch``: the driver alone, ``executemany`` of the same rows,
  one transaction per ``--batch`` fires.

The clock of a posflow run stops when its last fire has returned, as a raw
run's stops at its last commit; the accepted outcomes are counted after that
(only the streaming run counts as it goes, because its consumer sees each
outcome once).

SQLite runs with the store's own settings (WAL, ``synchronous=NORMAL``,
``wal_autocheckpoint=10000``) on both sides. PostgreSQL runs on the server
named by ``--pg-url`` (or ``POSFLOW_BENCH_PG``), each measurement in a schema of
its own, dropped afterwards. Figures are committed fires per second (median of ``--repeats``,
default 9; the modes take turns, one measurement each per round), printed with
the slowest and fastest of the repeats; the ratios compare posflow with the raw
floor measured in the same run. Nine rather than five: on a shared host,
single batched SQLite runs of the same code were seen to differ by 15%, and
the medians of five runs by 3 points of the ratio from one invocation to the next.

The ratios depend on the run's length, not only on the code: the longer the
run, the larger the tables and the more of SQLite's checkpoints fall inside
it, so each raw row costs more while a posflow fire's own work stays the same.
The default 5,000 fires is the hardest case for posflow; 20,000 fires gave
about 58% for SQLite's batched ratio in a run where 5,000 gave about 52%.

The cyclic garbage collector stays on while timing (it is part of what a fire
costs), but every timed run starts after a ``gc.collect()``, as in
``bench_engine.py``: otherwise the full collection that the objects left by
earlier runs make due lands in whichever run happens to be next, adding about
7 µs per fire to it alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import posflow
from posflow import Context, Lifecycle, Outcome, State, Terminal, Transition
from posflow.ports import FrozenClock
from posflow.store import Command, SQLStore, TerminalService

PG_URL = os.environ.get("POSFLOW_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EVENT = "record_sale"
STATE = "signed_in"
AMOUNT = 1200
ACTOR = "bench"
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MODES = ("fire", "fire_many", "iter_fire_many", "raw row", "raw batch")

NO_AMOUNT = posflow.reason_spec(
    "session.bench_no_amount",
    retryable=False,
    en="The sale has no positive amount.",
    zh_cn="交易金额必须为正数。",
    remedy_en="Send a positive amount in fen.",
    remedy_zh_cn="请发送以分为单位的正数金额。",
)


@posflow.guard("session.bench_amount_positive")
def amount_positive(terminal: Terminal, ctx: Context) -> tuple[posflow.Reason, ...]:
    """The benchmark's one guard: the sale carries a positive amount."""
    amount = ctx.payload.get("amount")
    return () if isinstance(amount, int) and amount > 0 else (NO_AMOUNT.reason(),)


def add_sale(terminal: Terminal, ctx: Context) -> Mapping[str, Any]:
    """The benchmark's one effect: count the sale and add its amount."""
    batch = terminal.data.get("batch") or {"count": 0, "total": 0}
    return {"batch": {"count": batch["count"] + 1, "total": batch["total"] + ctx.payload["amount"]}}


def build_lifecycle() -> Lifecycle:
    """A signed-in session in which sales are recorded."""
    return Lifecycle(
        [State("signed_out"), State(STATE)],
        [
            Transition("sign_in", "signed_out", STATE),
            Transition(EVENT, STATE, "=", conditions=amount_positive, effect=add_sale),
            Transition("sign_out", STATE, "signed_out"),
        ],
        initial=STATE,
        name="bench-session",
    )


def terminal_ids(count: int) -> list[str]:
    return [f"T{i:06d}" for i in range(count)]


def plan(fires: int, terminals: int) -> list[tuple[str, str]]:
    """``(terminal_id, idempotency_key)`` for each fire, round-robin over the terminals."""
    ids = terminal_ids(terminals)
    return [(ids[i % terminals], f"sale-{i}") for i in range(fires)]


# -- databases --------------------------------------------------------------------------


class Backend:
    """A database the benchmark can open fresh, as a store and through its raw driver."""

    name = ""

    @contextmanager
    def fresh(self) -> Iterator[SQLStore]:  # pragma: no cover - overridden
        raise NotImplementedError
        yield

    def raw(self, store: SQLStore) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def fresh(self) -> Iterator[SQLStore]:
        path = self.directory / f"bench-{uuid.uuid4().hex[:8]}.db"
        store = SQLStore(f"sqlite:///{path}")
        self.path = path
        try:
            store.create_schema()
            yield store
        finally:
            store.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def raw(self, store: SQLStore) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 10000")  # the store's default
        return conn


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url

    def conninfo(self) -> str:
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @contextmanager
    def fresh(self) -> Iterator[SQLStore]:
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        store = SQLStore(self.url, schema=self.schema)
        try:
            store.create_schema()
            yield store
        finally:
            try:
                store.drop_schema()
            finally:
                store.close()

    def raw(self, store: SQLStore) -> Any:
        import psycopg

        conn = psycopg.connect(self.conninfo())
        conn.execute(f'SET search_path TO "{self.schema}"')
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()
        return conn


def postgres_problem(url: str) -> str | None:
    """``None`` when PostgreSQL answers at ``url``, else why not."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


# -- the measurements -------------------------------------------------------------------


def setup(store: SQLStore, terminals: int) -> TerminalService:
    svc = TerminalService(build_lifecycle(), store, record_refusals=True)
    svc.create_many((tid, {"batch": {"count": 0, "total": 0}}) for tid in terminal_ids(terminals))
    return svc


def context() -> Context:
    return Context({"amount": AMOUNT}, actor=ACTOR, clock=FrozenClock(AT))


def run_fire(svc: TerminalService, work: Sequence[tuple[str, str]], batch: int) -> list[Outcome]:
    ctx = context()
    fire = svc.fire
    return [fire(tid, EVENT, ctx, idempotency_key=key) for tid, key in work]


def commands(work: Sequence[tuple[str, str]]) -> list[Command]:
    return [Command(tid, EVENT, idempotency_key=key) for tid, key in work]


def run_fire_many(svc: TerminalService, work: Sequence[Command], batch: int) -> list[Outcome]:
    return svc.fire_many(work, context(), batch_size=batch)


def run_iter_fire_many(svc: TerminalService, work: Sequence[Command], batch: int) -> int:
    # a streaming consumer looks at each outcome as it arrives and lets it go: its
    # count is that look, so it is timed (the other runners' counts are not)
    return sum(o.ok for o in svc.iter_fire_many(work, context(), batch_size=batch))


def accepted(result: int | Sequence[Outcome]) -> int:
    """How many fires a runner's result says were accepted (counted after the clock stops)."""
    return result if isinstance(result, int) else sum(o.ok for o in result)


def raw_rows(
    work: Sequence[tuple[str, str]], sqlite: bool
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The history rows and terminal updates the fires of ``work`` write, in order."""
    seq: dict[str, int] = {}
    batch: dict[str, dict[str, int]] = {}
    at: Any = AT.isoformat() if sqlite else AT
    payload = json.dumps({"amount": AMOUNT}, separators=(",", ":"))
    history: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for tid, key in work:
        n = seq.get(tid, 0)
        b = batch.get(tid, {"count": 0, "total": 0})
        b = {"count": b["count"] + 1, "total": b["total"] + AMOUNT}
        batch[tid] = b
        data = json.dumps({"batch": b}, separators=(",", ":"))
        changes = json.dumps({"batch": b}, separators=(",", ":"))
        history.append((tid, n, EVENT, STATE, STATE, n + 1, ACTOR, at, payload, "[]", key, changes))
        updates.append((STATE, n + 1, n + 1, data, at, tid, n))
        seq[tid] = n + 1
    return history, updates


INSERT = (
    "INSERT INTO posflow_history (terminal_id, seq, event, from_state, to_state, version,"
    " actor, at, payload, reasons, idempotency_key, changes)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE = (
    "UPDATE posflow_terminals SET state = ?, version = ?, seq = ?, data = ?, updated_at = ?"
    " WHERE id = ? AND seq = ?"
)


def raw_sql(sqlite: bool) -> tuple[str, str]:
    if sqlite:
        return INSERT, UPDATE
    return INSERT.replace("?", "%s"), UPDATE.replace("?", "%s")


def run_raw(conn: Any, work: Sequence[tuple[str, str]], batch: int, sqlite: bool) -> float:
    """Write the rows with the driver alone; returns the seconds it took."""
    history, updates = raw_rows(work, sqlite)
    insert, update = raw_sql(sqlite)
    cur = conn.cursor()
    start = time.perf_counter()
    if batch <= 1:
        for h, u in zip(history, updates, strict=True):
            if sqlite:
                cur.execute("BEGIN")
            cur.execute(insert, h)
            cur.execute(update, u)
            conn.commit() if not sqlite else cur.execute("COMMIT")
    else:
        for i in range(0, len(history), batch):
            if sqlite:
                cur.execute("BEGIN")
            cur.executemany(insert, history[i : i + batch])
            cur.executemany(update, updates[i : i + batch])
            conn.commit() if not sqlite else cur.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


Runner = Callable[[TerminalService, Any, int], "int | list[Outcome]"]
RUNNERS: dict[str, Runner] = {
    "fire": run_fire,
    "fire_many": run_fire_many,
    "iter_fire_many": run_iter_fire_many,
}
PREPARED: dict[str, Callable[[Sequence[tuple[str, str]]], Any]] = {
    "fire_many": commands,
    "iter_fire_many": commands,
}
"""What a runner is given instead of the plain plan, built before the clock starts (as the
raw runs' rows are): the bulk runs take their ``Command`` list ready-made."""


def measure(backend: Backend, mode: str, fires: int, terminals: int, batch: int) -> float:
    """Committed fires per second for one mode on a fresh database."""
    work = plan(fires, terminals)
    with backend.fresh() as store:
        svc = setup(store, terminals)
        if mode in RUNNERS:
            given = PREPARED[mode](work) if mode in PREPARED else work
            gc.collect()  # every run starts from the same collector state (see the docstring)
            start = time.perf_counter()
            result = RUNNERS[mode](svc, given, batch)
            elapsed = time.perf_counter() - start
            done = accepted(result)  # the raw runs' clocks stop at their last commit too
            if done != fires:
                raise BenchmarkInvalid(f"{backend.name} {mode}: {done} of {fires} fires accepted")
            check(svc, work)
        else:
            conn = backend.raw(store)
            gc.collect()
            elapsed = run_raw(
                conn, work, batch if mode == "raw batch" else 1, backend.name == "sqlite"
            )
            check(svc, work)
    return fires / elapsed


class BenchmarkInvalid(RuntimeError):
    """A measured run did not write what it should have: its figure would be meaningless."""


def check(svc: TerminalService, work: Sequence[tuple[str, str]]) -> None:
    """Every fire was committed: versions and batch totals add up, history matches state."""
    per: dict[str, int] = {}
    for tid, _ in work:
        per[tid] = per.get(tid, 0) + 1
    for tid, n in per.items():
        t = svc.get(tid)
        if t.version != n or t.data["batch"]["count"] != n:
            raise BenchmarkInvalid(f"{tid}: version {t.version}, {n} fires sent")
    sample = next(iter(per))
    if svc.verify(sample) is not None:
        raise BenchmarkInvalid(f"{sample}: history does not rebuild the stored terminal")


# -- the report -------------------------------------------------------------------------


def ratios(rates: Mapping[tuple[str, str], float]) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []
    for backend in sorted({b for b, _ in rates}):
        r = {m: v for (b, m), v in rates.items() if b == backend}
        for num, den in (
            ("fire_many", "raw batch"),
            ("iter_fire_many", "raw batch"),
            ("fire", "raw row"),
            ("fire_many", "fire"),
        ):
            if num in r and den in r:
                out.append((backend, f"{num} / {den}", r[num] / r[den]))
    return out


def goals(rates: Mapping[tuple[str, str], float]) -> dict[str, tuple[float, float, bool]]:
    """Each goal of issue 4: (measured, target, met)."""
    out: dict[str, tuple[float, float, bool]] = {}
    for backend in sorted({b for b, _ in rates}):
        r = {m: v for (b, m), v in rates.items() if b == backend}
        if "fire_many" in r and "raw batch" in r:
            share = r["fire_many"] / r["raw batch"]
            out[f"{backend}: fire_many >= 50% of raw batch"] = (share, 0.5, share >= 0.5)
    if ("sqlite", "fire") in rates:
        rate = rates[("sqlite", "fire")]
        out["sqlite: fire >= 5,000/s"] = (rate, 5000.0, rate >= 5000)
    return out


def choose_backends(
    names: Sequence[str], tmp: Path, pg_url: str, skipped: dict[str, str]
) -> list[Backend]:
    """The backends asked for; an unreachable PostgreSQL is noted in ``skipped``."""
    backends: list[Backend] = []
    for name in names:
        if name == "sqlite":
            backends.append(SQLiteBackend(tmp))
        elif name == "postgresql":
            problem = postgres_problem(pg_url)
            if problem is None:
                backends.append(PostgresBackend(pg_url))
            else:
                skipped[name] = problem
        else:
            raise SystemExit(f"unknown backend {name!r}")
    return backends


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fires", type=int, default=5000, help="fires per measurement")
    parser.add_argument("--terminals", type=int, default=500, help="terminals fired at")
    parser.add_argument("--batch", type=int, default=500, help="fires per batch transaction")
    parser.add_argument("--repeats", type=int, default=9, help="measurements per figure")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--quick", action="store_true", help="2,000 fires, one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.fires, args.repeats = 2000, 1
    terminals = max(1, min(args.terminals, args.fires))

    print(
        f"posflow store benchmark: python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, sqlite {sqlite3.sqlite_version}"
    )
    print(
        f"{args.fires} fires over {terminals} terminals, batches of {args.batch}, "
        f"median of {args.repeats}"
    )
    rates: dict[tuple[str, str], float] = {}
    spread: dict[tuple[str, str], tuple[float, float]] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="posflow-bench-") as tmp:
        backends = choose_backends(args.backends.split(","), Path(tmp), args.pg_url, skipped)
        for backend in backends:
            # the modes take turns, one measurement each per round, so that a busy
            # moment of the machine or the server (a checkpoint, say) falls on each
            # of them rather than on every repeat of one
            samples: dict[str, list[float]] = {mode: [] for mode in MODES}
            for _ in range(args.repeats):
                for mode in MODES:
                    samples[mode].append(measure(backend, mode, args.fires, terminals, args.batch))
            for mode in MODES:
                rates[(backend.name, mode)] = statistics.median(samples[mode])
                spread[(backend.name, mode)] = (min(samples[mode]), max(samples[mode]))

    print()
    print(f"{'backend':<12}{'mode':<18}{'fires/s':>12}{'slowest':>12}{'fastest':>12}")
    for (backend, mode), rate in rates.items():
        low, high = spread[(backend, mode)]
        print(f"{backend:<12}{mode:<18}{rate:>12,.0f}{low:>12,.0f}{high:>12,.0f}")
    for name, why in skipped.items():
        print(f"{name:<12}skipped: {why}")
    print()
    table = ratios(rates)
    for backend, label, value in table:
        print(f"{backend:<12}{label:<28}{value:>8.2f}")
    print()
    met = goals(rates)
    for label, (value, target, ok) in met.items():
        shown = f"{value:.0%}" if target < 1 else f"{value:,.0f}/s"
        print(f"goal {label:<40}{shown:>10}  {'met' if ok else 'NOT met'}")
    sys.stdout.flush()
    return {"rates": rates, "spread": spread, "ratios": table, "goals": met, "skipped": skipped}


if __name__ == "__main__":
    main()
