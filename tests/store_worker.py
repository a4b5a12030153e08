"""A worker process for the multi-process store proofs.

Started by :func:`store_harness.spawn` (``main(argv, out)`` in a process of
its own), or by hand: ``python tests/store_worker.py MODE URL ...`` reports on
stdout. Each worker opens its own :class:`~posflow.store.SQLStore` on the
database URL it is given, so the processes share nothing but the database. It
reports one JSON object per line, each written by one ``os.write``, so that a
test which kills the worker with SIGKILL still knows what the worker saw
committed before it died.

Modes:

* ``race URL SEED FIRES IDS...``: fire ``bump`` (amount 1..9) at random
  terminals among ``IDS``; print ``{"ok": id, "version": v, "amount": a}`` for
  each accepted event and ``{"conflict": id}`` for each lost race.
* ``deliver URL PLAN [BATCH]``: fire every command of the JSON file ``PLAN``
  (``[[id, event, payload, key], ...]``) with ``iter_fire_many`` in batches of
  ``BATCH`` (0: one ``fire`` each), retrying lost races; print ``{"done": n}`` after each outcome
  and ``{"finished": n}`` at the end.
* ``drain URL RUN STATE EVENT BATCH``: drain ``STATE`` with ``EVENT`` under
  ``RUN``; print ``{"decided": id}`` each time the lifecycle decides for a
  terminal this worker claimed (before its batch commits), and
  ``{"report": {...}}`` at the end.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from posflow import Lifecycle, Terminal
from posflow.errors import ConcurrencyConflict
from posflow.store import Command, RetryPolicy, SQLStore, TerminalService
from store_world import context, counter_lifecycle

_report = {"fd": 1}


def say(**values: Any) -> None:
    """One JSON line on the report file (stdout when run by hand), in one write."""
    os.write(_report["fd"], (json.dumps(values) + "\n").encode("utf-8"))


def race(url: str, seed: int, fires: int, ids: list[str], retry: bool) -> None:
    """Fire ``bump`` at random terminals and report what was accepted."""
    rng = random.Random(seed)
    store = SQLStore(url)
    policy = RetryPolicy(attempts=50) if retry else None
    svc = TerminalService(counter_lifecycle(), store, retry=policy)
    try:
        for _ in range(fires):
            tid = rng.choice(ids)
            amount = rng.randint(1, 9)
            try:
                out = svc.fire(tid, "bump", context({"amount": amount}, actor=f"w{seed}"))
            except ConcurrencyConflict:
                say(conflict=tid)
                continue
            if out.ok:
                say(ok=tid, version=out.terminal.version, amount=amount)
    finally:
        store.close()


def deliver(url: str, plan: str, batch: int) -> None:
    """Fire every command of a plan file, reporting progress after each outcome."""
    rows = json.loads(Path(plan).read_text(encoding="utf-8"))
    store = SQLStore(url)
    # a consumer of an at-least-once queue retries the races it loses to its peers
    svc = TerminalService(counter_lifecycle(), store, retry=RetryPolicy(attempts=100))
    ctx = context()
    done = 0
    try:
        if batch > 0:
            commands = [
                Command(tid, event, payload=payload, idempotency_key=key)
                for tid, event, payload, key in rows
            ]
            for _ in svc.iter_fire_many(commands, ctx, batch_size=batch):
                done += 1
                say(done=done)
        else:
            for tid, event, payload, key in rows:
                svc.fire(tid, event, ctx.with_payload(payload), idempotency_key=key)
                done += 1
                say(done=done)
    finally:
        store.close()
    say(finished=done)


class Watched:
    """A lifecycle that reports every terminal it decides for, then decides as usual."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle

    def fire(self, terminal: Terminal, event: str, ctx: Any, **kwargs: Any) -> Any:
        say(decided=terminal.id)
        return self._lifecycle.fire(terminal, event, ctx, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lifecycle, name)


def drain(url: str, run: str, state: str, event: str, batch: int) -> None:
    """Drain ``state`` with ``event``; report each terminal decided and the final report."""
    store = SQLStore(url)
    svc = TerminalService(Watched(counter_lifecycle()), store)  # type: ignore[arg-type]
    try:
        report = svc.drain(run, state, event, context(), worker=str(os.getpid()), batch_size=batch)
    finally:
        store.close()
    say(report={"batches": report.batches, "fired": report.fired, "refused": report.refused})


def main(argv: list[str], out: str | None = None) -> None:
    """Dispatch on the mode (first argument); report to the file ``out`` (else stdout)."""
    if out is not None:
        _report["fd"] = os.open(out, os.O_WRONLY | os.O_APPEND)
    mode, url, *rest = argv
    if mode == "race":
        seed, fires, *ids = rest
        race(url, int(seed), int(fires), [i for i in ids if i != "--retry"], "--retry" in ids)
    elif mode == "deliver":
        deliver(url, rest[0], int(rest[1]) if len(rest) > 1 else 0)
    elif mode == "drain":
        run, state, event, batch = rest
        drain(url, run, state, event, int(batch))
    else:  # pragma: no cover - a typo in a test
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
