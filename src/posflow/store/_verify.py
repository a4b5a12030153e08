"""Verification for :class:`~posflow.store.TerminalService`: stored rows against history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from posflow._history import HistoryRecord
from posflow._mask import is_sensitive_key
from posflow._terminal import Terminal, terminal_id_of
from posflow.errors import CorruptRecord, InvalidInput, ReplayError
from posflow.store._servicebase import _ServiceBase
from posflow.store._values import Discrepancy


class _Verifies(_ServiceBase):
    """``verify`` and ``verify_all`` of :class:`~posflow.store.TerminalService`."""

    __slots__ = ()

    def verify(self, terminal_id: str) -> Discrepancy | None:
        """Rebuild one terminal from its history; ``None`` when it matches what is stored.

        State, version and history length must agree exactly. Data is compared
        for every key the history changed whose value is not masked (masked
        values and the data given at creation are not in history).

        Raises:
            TerminalNotFound: no such terminal.
            InvalidInput: an id no store can hold (see ``MAX_ID_LENGTH``).
        """
        try:
            terminal, seq, records = self._store.snapshot(terminal_id)
        except CorruptRecord as exc:
            return Discrepancy(terminal_id, (str(exc),))
        return self._compare(terminal, seq, records)

    def verify_all(self, *, page: int = 500) -> list[Discrepancy]:
        """Every terminal whose stored row disagrees with its history, in id order.

        Rows that cannot be decoded are reported too (with ``stored=None``), and
        the check goes on after them.
        """
        found: list[Discrepancy] = []
        after: str | None = None
        while True:
            try:
                items = self._store.scan(after, page)
                cursor = items[-1][0].id if items else after
            except CorruptRecord as exc:
                items, cursor = self._scan_carefully(after, page, found, exc)
            for terminal, seq, records in items:
                d = self._compare(terminal, seq, records)
                if d is not None:
                    found.append(d)
            if cursor == after:
                return found
            after = cursor

    def _scan_carefully(
        self,
        after: str | None,
        page: int,
        found: list[Discrepancy],
        exc: CorruptRecord,
    ) -> tuple[list[tuple[Terminal, int, list[HistoryRecord]]], str | None]:
        """Scan a page that holds a corrupt row one terminal at a time, reporting the bad ones."""
        items: list[tuple[Terminal, int, list[HistoryRecord]]] = []
        cursor = after
        for _ in range(page):
            try:
                one = self._store.scan(cursor, 1)
            except CorruptRecord as err:
                if err.terminal_id is None or err.terminal_id == cursor:
                    raise exc from err  # cannot tell which row: stop rather than loop
                found.append(Discrepancy(err.terminal_id, (str(err),)))
                cursor = err.terminal_id
                continue
            if not one:
                break
            items.extend(one)
            cursor = one[0][0].id
        return items, cursor

    def _compare(
        self, terminal: Terminal, seq: int, records: Sequence[HistoryRecord]
    ) -> Discrepancy | None:
        tid = terminal.id
        try:
            terminal_id_of(tid, "id")
        except InvalidInput as exc:  # stored by a posflow that took it: get and fire refuse it
            return Discrepancy(
                tid,
                (
                    f"the stored id is one posflow now refuses ({exc}): get and fire "
                    "cannot reach this terminal until its rows are given another id",
                ),
                terminal,
                None,
            )
        problems: list[str] = []
        if seq != len(records):
            problems.append(f"stored history length {seq}, but {len(records)} records found")
        for i, rec in enumerate(records):
            if rec.seq != i:
                problems.append(f"history record {i} has seq {rec.seq}")
                break
        try:
            rebuilt = self._lifecycle.replay(records, terminal_id=tid)
        except ReplayError as exc:
            problems.append(f"history cannot be replayed: {exc}")
            return Discrepancy(tid, tuple(problems), terminal, None)
        if rebuilt.state != terminal.state:
            problems.append(f"stored state {terminal.state!r}, history says {rebuilt.state!r}")
        if rebuilt.version != terminal.version:
            problems.append(f"stored version {terminal.version}, history says {rebuilt.version}")
        stored = terminal.data
        for key, value in rebuilt.data.items():
            if is_sensitive_key(str(key)) or _masked_inside(value):
                continue
            if stored.get(key, _MISSING) != value:
                problems.append(f"stored data {key!r} differs from the last change in history")
        if problems:
            return Discrepancy(tid, tuple(problems), terminal, rebuilt)
        return None


_MISSING = object()


def _masked_inside(value: Any) -> bool:
    """True when a history value is (or contains) a mapping with a sensitive key."""
    if isinstance(value, Mapping):
        return any(is_sensitive_key(str(k)) or _masked_inside(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_masked_inside(v) for v in value)
    return False
