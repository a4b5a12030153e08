"""The ``posflow`` command: simulate, explain, history, diagram, validate."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import posflow
from posflow.cli._errors import CliError, ExitCode
from posflow.cli._output import Output, silence_stdout
from posflow.cli._plan import Params

__all__ = ["app", "main"]

DEFAULT_DB = "sqlite:///posflow.db"
DEFAULT_TERMINALS = 10_000
DEFAULT_DAYS = 3
DEFAULT_SEED = 42
TERMINALS_PER_WORKER = 5_000
"""``simulate``'s default: no more workers than this many terminals each would fill."""

app = typer.Typer(
    name="posflow",
    help="Explainable POS terminal lifecycles: simulate a fleet, explain refusals.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class Lang(StrEnum):
    """Languages of messages and remedies."""

    en = "en"
    zh = "zh-CN"


class Format(StrEnum):
    """Diagram formats."""

    mermaid = "mermaid"
    dot = "dot"


_state: dict[str, bool] = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
) -> None:
    """Explainable POS terminal lifecycles: simulate a fleet, explain refusals."""
    _state["debug"] = debug


def _err(message: str) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {escape(message)}"
    )


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    """Turn known failures into one line and an exit code (a traceback with ``--debug``)."""
    from posflow import errors  # noqa: PLC0415

    try:
        yield
        sys.stdout.flush()  # a reader that went away is noticed here, not at exit
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
    except Exception as exc:
        if _state["debug"]:
            raise
        code, message = _classify(exc, errors)
        _err(message)
        raise typer.Exit(int(code)) from None


def _classify(exc: Exception, errors: Any) -> tuple[ExitCode, str]:
    if isinstance(exc, CliError):
        return exc.code, str(exc)
    if isinstance(exc, errors.TerminalNotFound):
        return ExitCode.UNKNOWN_TERMINAL, f"no terminal {exc.terminal_id!r} in this database"
    unavailable = getattr(errors, "StoreUnavailable", None)
    if unavailable is not None and isinstance(exc, unavailable):
        # its messages say what failed ("cannot connect to the database: ...")
        return ExitCode.NO_DATABASE, str(exc)
    if isinstance(exc, errors.StoreError):
        return ExitCode.BAD_DATABASE, _unusable(exc, errors)
    if isinstance(exc, errors.PosflowError):
        return ExitCode.INTERNAL, f"{type(exc).__name__}: {_first_line(exc)}"
    return (
        ExitCode.INTERNAL,
        f"unexpected {type(exc).__name__}: {_first_line(exc)} (run with --debug for details)",
    )


def _unusable(exc: Exception, errors: Any) -> str:
    """Why the database is not usable, in one line."""
    if isinstance(exc, errors.SchemaMismatch) and exc.found is None:
        # the library's remedy is a Python call; here the file is simply not posflow's
        return "the database is not usable: it holds no posflow tables"
    text = _first_line(exc)  # a damaged file's message says so itself
    return text if text.startswith("the database ") else f"the database is not usable: {text}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the database ------------------------------------------------------------------------


def database_url(value: str) -> str:
    """A database URL from ``--db``: a URL as given, or a path to a SQLite file.

    Raises:
        CliError: (usage) for an empty value or an in-memory SQLite database, which
            would end with the command (and which ``simulate``'s workers could not share).
    """
    url = value if "://" in value else f"sqlite:///{value}"
    if not value.strip() or (url.startswith("sqlite:") and _sqlite_path(url) is None):
        raise CliError(
            f"invalid value for --db {value!r}: give a SQLite file path or a database URL",
            ExitCode.USAGE,
        )
    return url


def checked_id(terminal_id: str) -> str:
    """``TERMINAL_ID`` as given, checked by the store's own rules before any database is opened.

    Raises:
        CliError: (usage) naming the argument, for an id that no store can hold.
    """
    from posflow.errors import InvalidInput  # noqa: PLC0415
    from posflow.store._base import check_id  # noqa: PLC0415 - the stores' one rule

    try:
        return check_id(terminal_id)
    except InvalidInput as exc:
        why = str(exc).removeprefix(f"{exc.field}: ")
        raise CliError(f"invalid value for TERMINAL_ID: {why}", ExitCode.USAGE) from None


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url[len(prefix) :] not in {"", ":memory:"}:
        return Path(url[len(prefix) :])
    return None


_SQLITE_HEADER = b"SQLite format 3\x00"


def _existing(url: str) -> str:
    """``url``, checked to name a database that exists (SQLite: a file that is one)."""
    path = _sqlite_path(url)
    if path is None:
        return url
    if not path.is_file():
        raise CliError(
            f"no database at {path} (run `posflow simulate` first, or give --db)",
            ExitCode.NO_DATABASE,
        )
    with path.open("rb") as f:
        header = f.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER and path.stat().st_size > 0:
        raise CliError(f"{path} is not a SQLite database (corrupt?)", ExitCode.BAD_DATABASE)
    return url


DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///file.db, postgresql+psycopg://...) or a SQLite file path.",
    ),
]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language of messages.")]


# -- simulate --------------------------------------------------------------------------


@app.command()
def simulate(
    terminals: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="How many terminals.")
    ] = DEFAULT_TERMINALS,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Simulated days.")] = DEFAULT_DAYS,
    seed: Annotated[int, typer.Option(min=0, help="Seed: the same seed, the same run.")] = (
        DEFAULT_SEED
    ),
    db: DbOption = DEFAULT_DB,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes. Default: one per available core, at most one per "
            f"{TERMINALS_PER_WORKER:,} terminals.",
            show_default=False,
        ),
    ] = None,
    lang: LangOption = Lang.en,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Drive a fleet through the whole lifecycle, with faults drawn from the seed."""
    from posflow.cli import _sim_cli  # noqa: PLC0415 - the store loads only when needed

    with _reported():
        _sim_cli.run(
            Params(seed=seed, terminals=terminals, days=days),
            url=database_url(db),
            shown_db=db,
            workers=default_workers(terminals) if workers is None else workers,
            lang=lang.value,
            as_json=as_json,
        )


def default_workers(terminals: int) -> int:
    """``simulate``'s worker count when none is given.

    One per core this process may run on, but no more than one per
    :data:`TERMINALS_PER_WORKER` terminals (a worker's start costs about half a
    second, more than a small fleet takes), and at least one.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity (macOS, Windows)
        cores = os.cpu_count() or 1
    return max(1, min(cores, terminals // TERMINALS_PER_WORKER))


# -- explain, history ------------------------------------------------------------------


@app.command()
def explain(
    terminal_id: Annotated[str, typer.Argument(help="The terminal's id, such as T0000042.")],
    event: Annotated[str | None, typer.Option("--event", help="Explain only this event.")] = None,
    lang: LangOption = Lang.en,
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show a terminal's state, what may happen next and, for each refusal, why."""
    from posflow.cli import _sim_cli  # noqa: PLC0415

    with _reported():
        terminal_id = checked_id(terminal_id)
        _sim_cli.explain(
            terminal_id, _existing(database_url(db)), event=event, lang=lang.value, as_json=as_json
        )


@app.command()
def history(
    terminal_id: Annotated[str, typer.Argument(help="The terminal's id, such as T0000042.")],
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show a terminal's audit trail: every accepted and refused event."""
    from posflow.cli import _sim_cli  # noqa: PLC0415

    with _reported():
        terminal_id = checked_id(terminal_id)
        _sim_cli.history(terminal_id, _existing(database_url(db)), as_json=as_json)


# -- diagram, validate -------------------------------------------------------------------


@app.command()
def diagram(
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.mermaid,
    definition: Annotated[
        Path | None,
        typer.Option("--definition", help="A lifecycle definition file (default: built-in)."),
    ] = None,
) -> None:
    """Draw the lifecycle as a Mermaid state diagram or a Graphviz digraph."""
    with _reported():
        lifecycle = posflow.default_lifecycle() if definition is None else _load(definition)
        typer.echo(lifecycle.diagram(fmt.value), nl=False)


def default_effects() -> dict[str, Any]:
    """The default lifecycle's effects by name, so that definitions may use them."""
    return dict(posflow.default_effects())


def _load(path: Path) -> posflow.Lifecycle:
    from posflow.errors import InvalidDefinition  # noqa: PLC0415

    if not path.is_file():
        raise CliError(f"no such file: {path}", ExitCode.BAD_FILE)
    try:
        return posflow.Lifecycle.from_file(path, effects=default_effects())
    except InvalidDefinition as exc:
        lines = "; ".join(str(p) for p in exc.problems)
        raise CliError(
            f"{path} is not a valid lifecycle definition: {lines}", ExitCode.BAD_FILE
        ) from None


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="A lifecycle definition or a policy file.")],
) -> None:
    """Check a lifecycle definition or a policy file; list every problem with its location."""
    from posflow.cli import _validate  # noqa: PLC0415

    with _reported():
        if not file.is_file():
            raise CliError(f"no such file: {file}", ExitCode.BAD_FILE)
        kind, problems = _validate.check_file(file)
        out = Output(highlight=False, soft_wrap=True)
        if not problems:
            out.print(escape(f"{file}: a valid {kind}"))
            return
        for where, message in problems:
            out.print(escape(f"{file}: {where}: {message}"))
        out.print(escape(f"{len(problems)} problem(s) in {kind} {file}"))
        raise typer.Exit(int(ExitCode.PROBLEMS))


def history_table(records: list[Any]) -> Table:
    """The audit trail as a table: one row per accepted or refused event."""
    table = Table()
    table.add_column("seq", justify="right")
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("event")
    table.add_column("state")
    table.add_column("result")
    for r in records:
        if r.accepted:
            state, result = f"{r.from_state} → {r.to_state}", "accepted"
        else:
            state, result = r.from_state, "refused: " + ", ".join(r.reasons)
        table.add_row(
            str(r.seq),
            r.at.strftime("%Y-%m-%d %H:%M"),
            escape(r.event),
            escape(state),
            escape(result),
        )
    return table


def main(argv: list[str] | None = None) -> None:
    """Run the ``posflow`` command (the console script's entry point)."""
    app(args=argv, prog_name="posflow")
