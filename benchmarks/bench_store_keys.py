"""Idempotency key lookup of a batch: pairs joined to the key index against crossed IN lists.

Run it on demand::

    python benchmarks/bench_store_keys.py                  # depths 2, 20, 100 on SQLite
    python benchmarks/bench_store_keys.py --depths 5,50 --terminals 200

A batch of ``fire_many`` (and each ``drain`` batch) looks up, for every
``(terminal_id, key)`` of the batch, the attempt recorded under that key.
The store's ``StoreTx.find_keys`` joins the pairs to the unique
``(terminal_id, idempotency_key)`` index, one probe per pair. The peer,
measured in the same run on the same database, is the query the store used
before: ``terminal_id IN (...) AND idempotency_key IN (...)``, which probes the
index with every id for every key and grows with each terminal's history.

For each depth the database holds ``--terminals`` terminals with ``depth`` keyed
history records each (written with ``fire_many``, not timed); the batch asks for
one new key per terminal (and one known key). Figures are the best of
``--repeats`` lookups, in ms; the store's side includes opening and committing
its transaction, the peer's does not.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_store

from posflow.store import SQLStore

COLUMNS = "seq, event, from_state, to_state, version, actor, at, payload, reasons, changes"
"""The history columns the store reads for a prior attempt (the same in both queries)."""


def crossed(conn: sqlite3.Connection, pairs: Sequence[tuple[str, str]]) -> int:
    """The peer: the crossed ``IN`` lists, filtered to the wanted pairs in Python."""
    ids = sorted({p[0] for p in pairs})
    keys = sorted({p[1] for p in pairs})
    marks_ids = ", ".join("?" * len(ids))
    marks_keys = ", ".join("?" * len(keys))
    where = f"terminal_id IN ({marks_ids}) AND idempotency_key IN ({marks_keys})"
    sql = f"SELECT terminal_id, {COLUMNS}, idempotency_key FROM posflow_history WHERE {where}"  # noqa: S608
    wanted = set(pairs)
    return sum(1 for row in conn.execute(sql, [*ids, *keys]) if (row[0], row[-1]) in wanted)


def best(fn: Any, repeats: int) -> float:
    """The shortest of ``repeats`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(directory: Path, depth: int, terminals: int, repeats: int) -> tuple[float, float]:
    """``(store seconds, crossed seconds)`` for one lookup of a batch at ``depth``."""
    path = directory / f"keys-{depth}.db"
    store = SQLStore(f"sqlite:///{path}")
    try:
        store.create_schema()
        svc = bench_store.setup(store, terminals)
        bench_store.run_fire_many(
            svc, bench_store.commands(bench_store.plan(terminals * depth, terminals)), 500
        )
        pairs = [(tid, f"new-{tid}") for tid in bench_store.terminal_ids(terminals)]
        # one known pair, so that both sides must find something
        pairs[0] = (pairs[0][0], "sale-0")

        def ours() -> None:
            with store.transaction() as tx:
                assert len(tx.find_keys(pairs)) == 1

        conn = sqlite3.connect(path, isolation_level=None)
        try:

            def theirs() -> None:
                assert crossed(conn, pairs) == 1

            return best(ours, repeats), best(theirs, repeats)
        finally:
            conn.close()
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> dict[int, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="2,20,100", help="history records per terminal")
    parser.add_argument("--terminals", type=int, default=500, help="terminals (= batch size)")
    parser.add_argument("--repeats", type=int, default=5, help="lookups per figure (best)")
    args = parser.parse_args(argv)
    depths = [int(d) for d in args.depths.split(",")]
    print(f"key lookup of one batch of {args.terminals} on SQLite {sqlite3.sqlite_version}")
    print(f"{'depth':>6} {'pairs (store)':>14} {'crossed IN':>11} {'crossed / pairs':>16}")
    results: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for depth in depths:
            ours, theirs = measure(Path(tmp), depth, args.terminals, args.repeats)
            results[depth] = (ours, theirs)
            ms = f"{ours * 1000:>11.2f} ms {theirs * 1000:>8.2f} ms"
            print(f"{depth:>6} {ms} {theirs / ours:>16.1f}")
    return results


if __name__ == "__main__":
    main()
