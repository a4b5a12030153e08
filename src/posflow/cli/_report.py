"""The end-of-run report: as a dict for ``--json``, as rich tables for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from posflow.cli._simulate import RunResult

__all__ = ["TOP_REASONS", "render_report", "report_dict"]

TOP_REASONS: Final = 10

_TEXT: Final = {
    "en": {
        "title": "posflow simulation",
        "run": "{terminals:,} terminals, {days} days, seed {seed}, {workers} worker(s), {db}",
        "states": "Terminals per state",
        "state": "state",
        "terminals": "terminals",
        "events": "Events",
        "event": "event",
        "accepted": "accepted",
        "refused": "refused",
        "total": "total",
        "reasons": "Most frequent refusal reasons",
        "code": "reason",
        "count": "count",
        "message": "example message",
        "retry": "retry?",
        "yes": "yes",
        "no": "no",
        "speed": "{events:,} events in {seconds:.1f} s: {rate:,.0f} events/s",
    },
    "zh-CN": {
        "title": "posflow 模拟",
        "run": "{terminals:,} 台终端，{days} 天，种子 {seed}，{workers} 个进程，{db}",
        "states": "各状态终端数",
        "state": "状态",
        "terminals": "终端数",
        "events": "事件",
        "event": "事件",
        "accepted": "通过",
        "refused": "拒绝",
        "total": "合计",
        "reasons": "最常见的拒绝原因",
        "code": "原因",
        "count": "次数",
        "message": "示例说明",
        "retry": "可重试",
        "yes": "是",
        "no": "否",
        "speed": "{events:,} 个事件，用时 {seconds:.1f} 秒：每秒 {rate:,.0f} 个事件",
    },
}


def report_dict(result: RunResult, states: Sequence[str], db: str, lang: str) -> dict[str, Any]:
    """The report as plain data: what ``--json`` prints.

    Everything but ``seconds`` and ``events_per_second`` depends only on the
    run's parameters, so two runs with the same seed give equal reports.
    """
    tally = result.tally
    per_state = {s: tally.states.get(s, 0) for s in states}
    per_state.update({s: n for s, n in sorted(tally.states.items()) if s not in per_state})
    events = sorted(set(tally.by_event) | set(tally.refusals_by_event))
    reasons = []
    for code, count in sorted(tally.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]:
        sample = tally.samples[code]
        reasons.append(
            {
                "code": code,
                "count": count,
                "retryable": sample.retryable,
                "message": sample.messages[lang],
                "remedy": sample.remedies[lang],
            }
        )
    return {
        "params": {**result.params.to_dict(), "workers": result.workers, "db": db, "lang": lang},
        "states": per_state,
        "events": {
            "accepted": tally.accepted,
            "refused": tally.refused,
            "total": tally.events,
            "by_event": {
                e: {
                    "accepted": tally.by_event.get(e, 0),
                    "refused": tally.refusals_by_event.get(e, 0),
                }
                for e in events
            },
        },
        "top_refusal_reasons": reasons,
        "seconds": round(result.seconds, 3),
        "events_per_second": round(result.events_per_second, 1),
    }


def render_report(console: Console, report: dict[str, Any], lang: str) -> None:
    """Print ``report`` as tables, in ``lang``."""
    t = _TEXT.get(lang, _TEXT["en"])
    p = report["params"]
    console.print(f"[bold]{t['title']}[/bold]: " + t["run"].format(**p))
    states = Table(title=t["states"], title_justify="left")
    states.add_column(t["state"])
    states.add_column(t["terminals"], justify="right")
    for state, n in report["states"].items():
        states.add_row(escape(state), f"{n:,}")
    console.print(states)
    ev = report["events"]
    events = Table(title=t["events"], title_justify="left")
    events.add_column(t["event"])
    events.add_column(t["accepted"], justify="right")
    events.add_column(t["refused"], justify="right")
    for name, row in ev["by_event"].items():
        events.add_row(escape(name), f"{row['accepted']:,}", f"{row['refused']:,}")
    events.add_section()
    events.add_row(t["total"], f"{ev['accepted']:,}", f"{ev['refused']:,}", style="bold")
    console.print(events)
    reasons = Table(title=t["reasons"], title_justify="left", show_lines=False)
    reasons.add_column(t["code"])
    reasons.add_column(t["count"], justify="right")
    reasons.add_column(t["retry"])
    reasons.add_column(t["message"])
    for r in report["top_refusal_reasons"]:
        retry = t["yes"] if r["retryable"] else t["no"]
        reasons.add_row(escape(r["code"]), f"{r['count']:,}", retry, escape(r["message"]))
    console.print(reasons)
    console.print(
        t["speed"].format(
            events=ev["total"], seconds=report["seconds"], rate=report["events_per_second"]
        )
    )
