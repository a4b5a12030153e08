"""Starting, watching and killing worker processes for the store proofs.

Workers are separate OS processes started through a multiprocessing
*forkserver*: a clean server process imports posflow, SQLAlchemy and the
drivers once and forks each worker from
itself. A worker therefore shares no memory, connection or lock with the test
process (it is not a fork of it) and opens its own connections, as a real
deployment's processes do, but starts in milliseconds instead of the second an
interpreter needs to import everything. Each worker appends one JSON object
per line to a file of its own with single ``os.write`` calls, so whatever a
worker reported before a SIGKILL is still there, whole, after it.

A PostgreSQL server outlives the workers it serves: a COMMIT that a worker sent
just before its SIGKILL is still carried out by its server process, and may
become visible some time after the worker was reaped (a transaction left open
is rolled back once the server notices the closed socket). Each worker's
connections therefore carry an ``application_name`` of its own, and
:func:`kill_after` returns only when no server process of the killed worker is
left, that is when every transaction it began has committed or rolled back.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import psycopg

import store_worker

TIMEOUT = 120.0
"""Seconds a worker may take before the test fails (a hung worker is a bug)."""

_CTX = multiprocessing.get_context("forkserver")
# The forkserver imports these before it forks anyone (Python 3.11 preloads before it
# sets sys.path, so only installed packages can be named here; the workers' own small
# modules are imported by each worker).
_CTX.set_forkserver_preload(
    [
        "posflow",
        "posflow.store",
        "sqlalchemy",
        "sqlalchemy.dialects.sqlite.pysqlite",
        "sqlalchemy.dialects.postgresql.psycopg",
        "psycopg",
    ]
)
_OUT = Path(tempfile.mkdtemp(prefix="posflow-proofs-"))


class Worker:
    """One running worker process and the file it reports to."""

    def __init__(self, process: BaseProcess, out: Path, url: str, name: str | None) -> None:
        self.process = process
        self.out = out
        self.url = url
        """The database URL the test gave (without the worker's ``application_name``)."""
        self.name = name
        """PostgreSQL: the ``application_name`` of the worker's connections."""

    def lines(self) -> list[dict[str, Any]]:
        """What the worker has reported so far (whole lines only)."""
        try:
            text = self.out.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.split("\n")[:-1]]

    def count(self) -> int:
        """How many lines the worker has reported so far (cheap: nothing is parsed)."""
        try:
            return self.out.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0


def spawn(mode: str, url: str, *args: object) -> Worker:
    """Start one worker running ``store_worker.main([mode, url, *args])``."""
    fd, out = tempfile.mkstemp(dir=_OUT, suffix=".jsonl")
    os.close(fd)
    name = None
    own = url
    if url.startswith("postgresql"):
        name = f"posflow-worker-{uuid.uuid4().hex[:12]}"
        own = f"{url}{'&' if '?' in url else '?'}application_name={name}"
    argv = [mode, own, *map(str, args)]
    process = _CTX.Process(target=store_worker.main, args=(argv, out), daemon=True)
    process.start()
    return Worker(process, Path(out), url, name)


def backends(worker: Worker, *, committing_for: float | None = None) -> int:
    """How many PostgreSQL server processes serve the worker's connections (0 on SQLite).

    With ``committing_for``, only those that have been running a ``COMMIT`` for
    at least that many seconds.
    """
    if worker.name is None:
        return 0
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    params: tuple[object, ...] = (worker.name,)
    if committing_for is not None:
        sql += (
            " AND state = 'active' AND query = 'COMMIT'"
            " AND now() - query_start >= make_interval(secs => %s)"
        )
        params += (committing_for,)
    conninfo = worker.url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def settle(worker: Worker) -> None:
    """Wait until the dead worker's transactions have all ended on the server.

    On SQLite there is nothing to wait for: a transaction lives in the worker's
    own process, and one it left half-written in the file is rolled back by the
    next connection to open it.
    """
    deadline = time.monotonic() + TIMEOUT
    while backends(worker):
        if time.monotonic() > deadline:
            raise AssertionError(f"the killed worker's server processes lived {TIMEOUT} s")
        time.sleep(0.005)


def collect(worker: Worker) -> list[dict[str, Any]]:
    """Wait for a worker and return what it reported; fail if it failed or hung."""
    worker.process.join(TIMEOUT)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
        raise AssertionError(f"worker hung for {TIMEOUT} s")
    if worker.process.exitcode != 0:
        raise AssertionError(
            f"worker exited with {worker.process.exitcode} (its traceback is in captured stderr)"
        )
    return worker.lines()


def collect_all(workers: Sequence[Worker]) -> list[list[dict[str, Any]]]:
    """:func:`collect` every worker (all are waited for even when one failed)."""
    results: list[list[dict[str, Any]]] = []
    failures: list[str] = []
    for worker in workers:
        try:
            results.append(collect(worker))
        except AssertionError as exc:
            failures.append(str(exc))
    if failures:
        raise AssertionError("\n".join(failures))
    return results


def kill_after(worker: Worker, lines: int, delay: float) -> list[dict[str, Any]]:
    """SIGKILL the worker ``delay`` seconds after it reported ``lines`` lines (or ended).

    Returns what it reported, once every transaction the worker began has ended
    (see :func:`settle`). The kill lands at an arbitrary point of the worker's
    work: inside a transaction, between two, or during a commit.
    """
    deadline = time.monotonic() + TIMEOUT
    while worker.process.is_alive() and worker.count() < lines and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(delay)
    pid = worker.process.pid
    if worker.process.is_alive() and pid is not None:
        # the worker may end (and be reaped by the forkserver) between the check and the kill
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.process.join(TIMEOUT)
    settle(worker)
    return worker.lines()
