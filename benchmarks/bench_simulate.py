"""Where a simulated event's time goes: the engine, the service, the database.

Run: ``.venv/bin/python benchmarks/bench_simulate.py [--terminals N] [--days D]``.

The same simulation (same seed, so the very same events) runs four times in one
process, each time on a different back end:

- ``engine``: ``Lifecycle.fire`` on terminals kept in a dict (no history, no store);
- ``memory``: ``TerminalService`` on ``MemoryStore`` (history records, batches);
- ``sqlite``: ``TerminalService`` on ``SQLStore`` with a SQLite file, as ``posflow simulate``.

It prints events per second for each, the CPU time each took (microseconds of
CPU per event: what the other processes on a shared machine do not inflate as
much as wall time), and the ratios between them, so that the cost of each layer
shows whatever the machine's load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import posflow
from posflow.cli._plan import Params
from posflow.cli._simulate import run_shard
from posflow.store import Command, MemoryStore, SQLStore, TerminalService


class EngineOnly:
    """Terminals in a dict, decided by the engine alone: the floor under every store."""

    def __init__(self) -> None:
        self.lifecycle = posflow.default_lifecycle()
        self.terminals: dict[str, posflow.Terminal] = {}

    def create_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        n = 0
        for terminal_id, data in items:
            self.terminals[terminal_id] = self.lifecycle.new_terminal(terminal_id, data)
            n += 1
        return n

    def iter_fire_many(
        self, commands: Iterable[Command], ctx: posflow.Context, batch_size: int = 0
    ) -> Iterator[posflow.Outcome]:
        fire, terminals = self.lifecycle.fire, self.terminals
        for c in commands:
            out = fire(terminals[c.terminal_id], c.event, ctx.with_payload(c.payload))
            terminals[c.terminal_id] = out.terminal
            yield out


def timed(name: str, params: Params, service: Any) -> tuple[str, int, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    tally = run_shard(params, service, Command)
    return name, tally.events, time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    params = Params(args.seed, args.terminals, args.days)
    lifecycle = posflow.default_lifecycle()
    rows = [timed("engine", params, EngineOnly())]
    rows.append(timed("memory", params, TerminalService(lifecycle, MemoryStore())))
    with tempfile.TemporaryDirectory() as where:
        store = SQLStore(f"sqlite:///{Path(where) / 'bench.db'}")
        store.create_schema()
        rows.append(timed("sqlite", params, TerminalService(lifecycle, store)))
        store.close()
    rate = {name: events / seconds for name, events, seconds, _ in rows}
    cpu_us = {name: cpu * 1e6 / max(events, 1) for name, events, _, cpu in rows}
    print(f"{params.terminals:,} terminals, {params.days} days, {rows[0][1]:,} events each")
    for name, _, seconds, cpu in rows:
        print(
            f"  {name:<8} {seconds:8.2f} s  {rate[name]:10,.0f} events/s"
            f"  {cpu:8.2f} s CPU  {cpu_us[name]:6.1f} us CPU/event"
        )
    ratios = [
        ("memory / engine (time)", rate["engine"] / rate["memory"]),
        ("sqlite / memory (time)", rate["memory"] / rate["sqlite"]),
        ("sqlite / engine (time)", rate["engine"] / rate["sqlite"]),
    ]
    for label, ratio in ratios:
        print(f"  {label:<24} {ratio:5.2f}x")
    return {"events": rows[0][1], "rate": rate, "cpu_us": cpu_us, "ratios": ratios}


if __name__ == "__main__":
    main()
