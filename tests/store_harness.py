"""Starting, watching and killing worker processes for the store proofs.

Each worker is a fresh interpreter (``sys.executable tests/store_worker.py``),
not a fork: it imports posflow and opens its own connections, as a real
deployment's processes do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WORKER = Path(__file__).resolve().parent / "store_worker.py"
TIMEOUT = 120.0
"""Seconds a worker may take before the test fails (a hung worker is a bug)."""


def spawn(mode: str, url: str, *args: object) -> subprocess.Popen[str]:
    """Start one worker; its stdout is a pipe of JSON lines."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("COV_CORE_SOURCE", None)  # pytest-cov must not instrument the workers
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, url, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def collect(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """Wait for a worker and return what it printed; fail with its stderr if it failed."""
    out, err = proc.communicate(timeout=TIMEOUT)
    if proc.returncode != 0:
        raise AssertionError(f"worker exited with {proc.returncode}:\n{err[-4000:]}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def collect_all(procs: Sequence[subprocess.Popen[str]]) -> list[list[dict[str, Any]]]:
    """:func:`collect` every worker (all are waited for even when one failed)."""
    results: list[list[dict[str, Any]]] = []
    failures: list[str] = []
    for proc in procs:
        try:
            results.append(collect(proc))
        except AssertionError as exc:
            failures.append(str(exc))
    if failures:
        raise AssertionError("\n".join(failures))
    return results


def kill_after(proc: subprocess.Popen[str], lines: int, delay: float) -> list[dict[str, Any]]:
    """SIGKILL ``proc`` ``delay`` seconds after it printed ``lines`` lines (or when it ends).

    Returns what it printed. The kill lands at an arbitrary point of the
    worker's work: inside a transaction, between two, or during a commit.
    """
    assert proc.stdout is not None
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + TIMEOUT
    while len(seen) < lines and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=TIMEOUT)
    seen.extend(json.loads(line) for line in out.splitlines() if line.strip())
    return seen
