"""Where a simulation keeps its parameters: a one-row table next to the terminals.

``posflow explain`` must see the world the simulation saw. That world is a pure
function of the run's parameters, so they are stored in the same database as the
terminals, in the table ``posflow_simulation`` (one row per database: the last
run). Keeping them in the database, not in a side file, means a PostgreSQL URL
works the same way as a SQLite file, and copying the database copies the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, Final

import attrs

from posflow.cli._plan import SIMULATION_POLICY, Params
from posflow.errors import CorruptRecord, StoreUnavailable
from posflow.store._sqlconn import _damage, _damaged, _first_line

__all__ = ["TABLE", "RunInfo", "clear_run", "read_run", "write_run"]

TABLE: Final = "posflow_simulation"
FORMAT: Final = 1
"""The version of the stored document; a newer one is refused, not misread."""


@attrs.frozen
class RunInfo:
    """A stored run: its parameters and the simulated time it ended at.

    Attributes:
        params: seed, fleet size and days.
        ended_at: the simulated clock at the end of the run; ``explain`` asks its
            questions at this time.
        policy: how the run's policy differs from the defaults.
    """

    params: Params
    ended_at: dt.datetime
    policy: dict[str, Any] = attrs.field(factory=lambda: dict(SIMULATION_POLICY))

    def to_json(self) -> str:
        """The stored document."""
        return json.dumps(
            {
                "format": FORMAT,
                "params": self.params.to_dict(),
                "ended_at": self.ended_at.isoformat(),
                "policy": self.policy,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> RunInfo:
        """Read a stored document back.

        Raises:
            CorruptRecord: when it is not one this version wrote.
        """
        try:
            doc = json.loads(text)
            if doc["format"] != FORMAT:
                raise ValueError(f"format {doc['format']!r}")
            p = doc["params"]
            params = Params(int(p["seed"]), int(p["terminals"]), int(p["days"]))
            ended = dt.datetime.fromisoformat(doc["ended_at"])
            return cls(params, ended, dict(doc["policy"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptRecord(
                f"the stored simulation parameters cannot be read ({exc})", terminal_id=TABLE
            ) from None


def _engine(url: str) -> Any:
    import sqlalchemy as sa  # noqa: PLC0415 - the cli extra brings it; imported on use

    return sa.create_engine(url)


@contextlib.contextmanager
def _store_errors(engine: Any) -> Iterator[None]:
    """Report the database's errors as the store does: a damaged file is not an outage."""
    import sqlalchemy as sa  # noqa: PLC0415

    try:
        yield
    except sa.exc.DBAPIError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        if _damaged(exc):
            raise _damage(exc, shown) from exc
        raise StoreUnavailable(
            f"database error: {_first_line(exc.orig or exc)}", url=shown
        ) from exc
    finally:
        engine.dispose()


def _table(sa: Any) -> Any:
    meta = sa.MetaData()
    return sa.Table(
        TABLE,
        meta,
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
    )


def write_run(url: str, info: RunInfo) -> None:
    """Store ``info`` as the database's run, replacing an earlier one."""
    import sqlalchemy as sa  # noqa: PLC0415

    engine = _engine(url)
    table = _table(sa)
    with _store_errors(engine), engine.begin() as conn:
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())
        conn.execute(table.insert().values(name="run", document=info.to_json()))


def read_run(url: str) -> RunInfo | None:
    """The database's run, or ``None`` when no simulation wrote to it."""
    import sqlalchemy as sa  # noqa: PLC0415

    engine = _engine(url)
    table = _table(sa)
    with _store_errors(engine), engine.connect() as conn:
        if not sa.inspect(conn).has_table(TABLE):
            return None
        row = conn.execute(sa.select(table.c.document).where(table.c.name == "run")).first()
    return None if row is None else RunInfo.from_json(row[0])


def clear_run(url: str) -> None:
    """Forget the database's run (the table goes)."""
    import sqlalchemy as sa  # noqa: PLC0415

    engine = _engine(url)
    with _store_errors(engine), engine.begin() as conn:
        _table(sa).drop(conn, checkfirst=True)
