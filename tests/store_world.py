"""A small counting lifecycle and database helpers shared by the store proofs.

The proofs need a lifecycle in which one terminal can take thousands of events
(so that writers race on it), whose every accepted event leaves a countable
effect in the terminal's data (so that lost or doubled updates show), and in
which a refusal is easy to ask for. The same definition is built in the test
process and in every worker process (``store_worker.py``), so ``verify_all()``
run by the test rebuilds exactly what the workers wrote.

States: ``idle`` <-> ``busy`` (``start`` / ``finish``), ``retired`` (final).

* ``bump`` (``idle`` or ``busy``, stays): adds ``payload["amount"]`` to
  ``data["total"]`` and 1 to ``data["bumps"]``; refused with
  ``guard.proof_refused`` when the payload says ``refuse``.
* ``start`` / ``finish``: move between ``idle`` and ``busy``; ``finish`` adds 1
  to ``data["finished"]`` (a drain's visible effect).
* ``note`` (``idle`` or ``busy``, stays): copies ``payload["text"]`` into
  ``data["note"]`` (hostile strings travel through it into data and history).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import posflow
from posflow import Lifecycle, State, Terminal, Transition

REFUSED = posflow.reason_spec(
    "guard.proof_refused",
    retryable=False,
    en="The proof asked for a refusal.",
    zh_cn="测试要求拒绝。",
    remedy_en="Send the event without 'refuse'.",
    remedy_zh_cn="去掉 refuse 后重发。",
)


@posflow.guard("proof.not_refused")
def not_refused(terminal: Terminal, ctx: posflow.Context) -> tuple[posflow.Reason, ...]:
    """Refuse when the payload carries a true ``refuse``."""
    return (REFUSED.reason(),) if ctx.payload.get("refuse") else ()


def add_amount(terminal: Terminal, ctx: posflow.Context) -> Mapping[str, Any]:
    """``bump``'s effect: count the event and add its amount."""
    return {
        "total": terminal.data.get("total", 0) + int(ctx.payload.get("amount", 1)),
        "bumps": terminal.data.get("bumps", 0) + 1,
    }


def count_finish(terminal: Terminal, ctx: posflow.Context) -> Mapping[str, Any]:
    """``finish``'s effect: count the finishes."""
    return {"finished": terminal.data.get("finished", 0) + 1}


def keep_note(terminal: Terminal, ctx: posflow.Context) -> Mapping[str, Any]:
    """``note``'s effect: keep the text of the payload."""
    return {"note": ctx.payload.get("text")}


def counter_lifecycle() -> Lifecycle:
    """The proofs' lifecycle (see the module docstring)."""
    return Lifecycle(
        [State("idle"), State("busy"), State("retired", final=True)],
        [
            Transition(
                "bump", ["idle", "busy"], "=", conditions="proof.not_refused", effect=add_amount
            ),
            Transition("start", "idle", "busy"),
            Transition("finish", "busy", "idle", effect=count_finish),
            Transition("note", ["idle", "busy"], "=", effect=keep_note),
            Transition("retire", ["idle", "busy"], "retired"),
        ],
        initial="idle",
        name="proof-counter",
        guards=posflow.GuardRegistry.of(not_refused),
    )


def context(payload: Mapping[str, Any] | None = None, actor: str = "proof") -> posflow.Context:
    """A context with a frozen clock (the same instant in every process)."""
    return posflow.Context(payload or {}, actor=actor, clock=posflow.ports.FrozenClock())


# -- databases (reachability and CI rules: pg_support.py, conftest.py) --------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema on ``pg_url``; yields a URL whose search_path is that schema.

    The schema is dropped afterwards, so concurrent test runs (other branches,
    other agents) never see each other's tables.
    """
    import psycopg

    name = f"proof_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
        conn.execute(f'create schema "{name}"')
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
            conn.execute(f'drop schema if exists "{name}" cascade')


def sqlite_url(directory: os.PathLike[str] | str, name: str = "proof.db") -> str:
    """A SQLite store URL for a file in ``directory``."""
    return f"sqlite:///{os.fspath(directory)}/{name}"
