"""The commands that need the store: simulate, explain and history."""

from __future__ import annotations

import json
from typing import Any

import attrs
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import posflow
from posflow.cli._agents import ROUNDS
from posflow.cli._app import history_table
from posflow.cli._errors import CliError, ExitCode
from posflow.cli._output import Output
from posflow.cli._plan import START, Params
from posflow.cli._report import render_report, report_dict
from posflow.cli._runinfo import RunInfo, clear_run, read_run, write_run
from posflow.cli._simulate import RunResult, simulate
from posflow.cli._world import World, natural_payload
from posflow.errors import CorruptRecord
from posflow.store import Command, RetryPolicy, SQLStore, TerminalService

__all__ = ["ServiceFactory", "explain", "history", "run"]


@attrs.frozen
class ServiceFactory:
    """Opens a terminal service on ``url``; picklable, so that worker processes can use it.

    With ``shared`` (several workers on one database), a SQLite store reads and
    decides each batch before it takes the file's write lock (``optimistic``), so
    that the workers decide at the same time and take turns only to write. Their
    shares of the fleet never overlap, so no write ever finds a terminal changed;
    if one did, the batch would be decided again from what is stored. With ``keep``,
    the store keeps that many of the terminals it saved and starts later batches from
    them without reading their rows (``SQLStore(cache_terminals=...)``).
    """

    url: str
    shared: bool = False
    keep: int = 0
    """Terminals the store keeps decoded after saving them (``cache_terminals``)."""

    def __call__(self) -> tuple[TerminalService, type]:
        """A service on a fresh store connection, and the command type it takes."""
        store = SQLStore(self.url, optimistic=self.shared, cache_terminals=self.keep)
        retry = RetryPolicy(attempts=10) if self.shared else None
        return TerminalService(posflow.default_lifecycle(), store, retry=retry), Command


def _prepare(url: str) -> None:
    """Make ``url`` an empty posflow database, replacing an earlier simulation's data.

    A database holding terminals that no simulation wrote is left alone.
    """
    store = SQLStore(url)
    try:
        if store.schema_version() is not None:
            earlier = read_run(url)
            if earlier is None and store.counts():
                raise CliError(
                    "the database holds terminals that no simulation wrote; "
                    "give another --db to simulate into",
                    ExitCode.BAD_DATABASE,
                )
            store.drop_schema()
        clear_run(url)
        store.create_schema()
    finally:
        store.close()


def run(
    params: Params, *, url: str, shown_db: str, workers: int, lang: str, as_json: bool
) -> RunResult:
    """``posflow simulate``: prepare the database, run, store the parameters, report."""
    _prepare(url)
    err = Console(stderr=True)
    rounds = params.days * len(ROUNDS) * workers
    # each worker alone writes its share of the fleet: its store keeps all of it decoded
    # (2 to 4 KB a terminal) and reuses it without reading the rows back
    share = -(-params.terminals // max(workers, 1))
    factory = ServiceFactory(url, shared=workers > 1, keep=share)
    if err.is_terminal and not as_json:
        bar = Progress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            TextColumn("{task.fields[events]:,} events"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        with bar:
            task = bar.add_task("simulate", total=rounds, events=0)
            seen = [0]

            def advance(n: int) -> None:
                seen[0] += n
                bar.update(task, advance=1, events=seen[0])

            result = simulate(params, factory, workers=workers, progress=advance)
    else:
        result = simulate(params, factory, workers=workers)
    ended = START + _days(params.days)
    write_run(url, RunInfo(params, ended))
    states = posflow.default_lifecycle().states
    report = report_dict(result, states, shown_db, lang)
    store = SQLStore(url)
    try:
        stored = store.counts()
    finally:
        store.close()
    if stored != {s: n for s, n in report["states"].items() if n}:
        raise CliError(
            "the database's counts differ from the simulation's; it was changed during the run",
            ExitCode.BAD_DATABASE,
        )
    out = _wide_console()
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        render_report(out, report, lang)
    return result


def _wide_console() -> Console:
    """A console for tables: the terminal's width, or 120 columns when piped."""
    console = Output(highlight=False)
    if not console.is_terminal:
        console = Output(highlight=False, width=120)
    return console


def _days(n: int) -> Any:
    import datetime as dt  # noqa: PLC0415

    return dt.timedelta(days=n)


def _context_maker(url: str) -> tuple[Any, str]:
    """A function giving the context to check each event in, and a note for the reader."""
    info = read_run(url)
    if info is None:
        note = "no simulation parameters in this database: guards see empty ports and the clock"

        def plain(terminal: posflow.Terminal, event: str) -> posflow.Context:
            return posflow.Context()

        return plain, note
    world = World(info.params)
    world.clock.set(info.ended_at)
    world.policy = posflow.Policy.from_dict(info.policy)

    def simulated(terminal: posflow.Terminal, event: str) -> posflow.Context:
        return world.context(natural_payload(world, terminal, event))

    return simulated, f"as of {info.ended_at.isoformat(timespec='minutes')}, the end of the run"


def explain(terminal_id: str, url: str, *, event: str | None, lang: str, as_json: bool) -> None:
    """``posflow explain``: the state, and each event's verdict with every reason and remedy."""
    store = SQLStore(url)
    try:
        service = TerminalService(posflow.default_lifecycle(), store)
        terminal = service.get(terminal_id)
        lifecycle = service.lifecycle
        if terminal.state not in lifecycle.states:
            raise CorruptRecord(
                f"terminal {terminal.id!r} is in state {terminal.state!r}, "
                "which the default lifecycle does not declare",
                terminal_id=terminal.id,
            )
        context_for, note = _context_maker(url)
        if event is not None:
            events: tuple[str, ...] = (event,)
        else:
            events = lifecycle.allowed_events(terminal.state)
        verdicts = {e: lifecycle.check(terminal, e, context_for(terminal, e)) for e in events}
    finally:
        store.close()
    if as_json:
        doc = {
            "terminal": terminal.id,
            "state": terminal.state,
            "version": terminal.version,
            "note": note,
            "events": {
                e: {
                    "allowed": v.allowed,
                    "reasons": [r.to_dict(lang) for r in v.reasons],
                }
                for e, v in verdicts.items()
            },
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return
    out = Output(highlight=False, soft_wrap=True)
    out.print(
        f"[bold]{escape(terminal.id)}[/bold] is [bold]{escape(terminal.state)}[/bold] "
        f"(version {terminal.version})"
    )
    out.print(f"[dim]{escape(note)}[/dim]")
    for e, v in verdicts.items():
        if v.allowed:
            out.print(f"  [green]✓[/green] {escape(e)}")
            continue
        out.print(f"  [red]✗[/red] {escape(e)}")
        for r in v.reasons:
            retry = " (retryable)" if r.retryable else ""
            out.print(escape(f"      {r.code}{retry}: {r.message(lang)}"))
            out.print(escape(f"        → {r.remedy(lang)}"))


def history(terminal_id: str, url: str, *, as_json: bool) -> None:
    """``posflow history``: the audit trail as a table or JSON."""
    store = SQLStore(url)
    try:
        records = TerminalService(posflow.default_lifecycle(), store).history(terminal_id)
    finally:
        store.close()
    if as_json:
        print(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2, default=str))
        return
    table: Table = history_table(records)
    _wide_console().print(table)
