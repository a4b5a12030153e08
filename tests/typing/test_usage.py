"""Documented usage, written as a user would, checked by ``mypy --strict``.

``tests/test_typing.py`` runs mypy on this file; pytest also runs it, so the
examples are known to work as well as to type-check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import posflow
from posflow import Context, Lifecycle, Reason, State, Terminal, Transition
from posflow.errors import InvalidDefinition, PortUnavailable, TransitionBlocked
from posflow.guards import Guard, GuardRegistry

KEY_MISSING = posflow.reason_spec(
    "session.demo_key_missing",
    retryable=False,
    en="Terminal {terminal} has no master key.",
    zh_cn="终端 {terminal} 未注入主密钥。",
    remedy_en="Inject the master key at the key-loading station.",
    remedy_zh_cn="请在密钥注入台注入主密钥。",
)


@posflow.guard("session.master_key_present")
def master_key_present(terminal: Terminal, ctx: Context) -> tuple[Reason, ...]:
    if terminal.data.get("key_injected"):
        return ()
    return (KEY_MISSING.reason(terminal=terminal.id),)


@posflow.guard("session.host_reachable")
def host_reachable(terminal: Terminal, ctx: Context) -> Iterator[Reason]:
    if ctx.payload.get("offline"):
        raise PortUnavailable("host")
    yield from ()


def stamp_sign_in(terminal: Terminal, ctx: Context) -> Mapping[str, Any]:
    return {"signed_in_at": ctx.now().isoformat()}


def build() -> Lifecycle:
    registry: GuardRegistry = posflow.GuardRegistry.of(master_key_present, host_reachable)
    either: Guard = posflow.any_of("session.master_key_present", posflow.not_(host_reachable))
    return Lifecycle(
        [State("activated"), State("signed_in", final=True)],
        [
            Transition(
                "sign_in",
                "activated",
                "signed_in",
                conditions=["session.master_key_present", posflow.all_of(host_reachable), either],
                effect=stamp_sign_in,
            )
        ],
        "activated",
        guards=registry,
        name="session",
    )


def test_a_refusal_is_explained() -> None:
    lc = build()
    terminal: Terminal = lc.new_terminal("T-1")
    verdict: posflow.Verdict = lc.check(terminal, "sign_in")
    codes: tuple[str, ...] = verdict.codes
    assert "session.demo_key_missing" in codes
    outcome: posflow.Outcome = lc.fire(terminal, "sign_in", Context({"offline": True}))
    lines: list[str] = outcome.explain("zh-CN")
    assert lines
    try:
        outcome.raise_for_blocked()
    except TransitionBlocked as blocked:
        reasons: tuple[Reason, ...] = blocked.reasons
        assert reasons == outcome.reasons
    as_json: list[dict[str, Any]] = [r.to_dict("en") for r in outcome.reasons]
    assert as_json[0]["code"] == "session.demo_key_missing"


def test_an_accepted_step_and_its_history() -> None:
    lc = build()
    clock = posflow.FrozenClock()
    ctx = Context(actor="operator-7", clock=clock)
    terminal = lc.new_terminal("T-1", {"key_injected": True})
    outcome = lc.fire(terminal, "sign_in", ctx, idempotency_key="msg-1").raise_for_blocked()
    after: Terminal = outcome.terminal
    record: posflow.HistoryRecord = outcome.record
    assert (after.state, after.version, record.to_state) == ("signed_in", 1, "signed_in")
    rebuilt: Terminal = lc.replay([record], data={"key_injected": True})
    assert rebuilt == after
    verdicts: dict[str, posflow.Verdict] = lc.available(after)
    assert not verdicts["sign_in"]


def test_loading_and_introspection() -> None:
    document: dict[str, Any] = build().to_dict()
    document["transitions"][0]["conditions"] = ["session.master_key_present"]
    try:
        Lifecycle.from_dict(document)
    except InvalidDefinition as error:
        kinds: frozenset[str] = error.kinds
        assert kinds == {"unknown_guard", "unknown_effect"}
    lc = Lifecycle.from_dict(
        document,
        guards=posflow.default_guards().extended(
            {"session.master_key_present": master_key_present}
        ),
        effects={"stamp_sign_in": stamp_sign_in},
    )
    states: tuple[str, ...] = lc.states
    sources: tuple[str, ...] = lc.sources_of("sign_in")
    text: str = lc.diagram("mermaid")
    assert states == ("activated", "signed_in")
    assert sources == ("activated",)
    assert "activated --> signed_in: sign_in" in text
    catalogue: posflow.Catalogue = posflow.default_catalogue().merged([KEY_MISSING])
    assert catalogue["session.demo_key_missing"] is KEY_MISSING


def test_a_durable_lifecycle(tmp_path: Path) -> None:
    from posflow.store import (
        Command,
        CommandFailed,
        Discrepancy,
        DrainReport,
        MemoryStore,
        RetryPolicy,
        SQLStore,
        Store,
        TerminalService,
    )

    stores: list[Store] = [MemoryStore(), SQLStore(f"sqlite:///{tmp_path / 'typed.db'}")]
    for store in stores:
        store.create_schema()
        svc = TerminalService(build(), store, retry=RetryPolicy(attempts=3))
        created: Terminal = svc.create("T-1", {"key_injected": True})
        assert created.version == 0
        outcome: posflow.Outcome = svc.fire("T-1", "sign_in", Context(), idempotency_key="m-1")
        assert outcome.ok
        outs: list[posflow.Outcome] = svc.fire_many([Command("T-1", "sign_in")], Context())
        mixed: list[posflow.Outcome | CommandFailed] = svc.fire_many(
            [Command("T-2", "sign_in")], errors="return"
        )
        assert outs[0].blocked
        assert isinstance(mixed[0], CommandFailed)
        verdict: posflow.Verdict = svc.explain("T-1", Context(), "sign_in")
        every: dict[str, posflow.Verdict] = svc.explain("T-1")
        assert not verdict.allowed
        assert set(every) == {"sign_in"}
        history: list[posflow.HistoryRecord] = svc.history("T-1")
        report: DrainReport = svc.drain("run-1", "activated", "sign_in", Context())
        problems: list[Discrepancy] = svc.verify_all()
        counts: dict[str, int] = svc.counts()
        assert (len(history), report.attempted, problems, counts) == (2, 0, [], {"signed_in": 1})
        store.close()
