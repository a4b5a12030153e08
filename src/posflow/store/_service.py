"""TerminalService: durable lifecycles on a store, one transaction per decision."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar, overload

from posflow._context import Context
from posflow._history import HistoryRecord
from posflow._lifecycle import Lifecycle
from posflow._mask import is_sensitive_key
from posflow._outcome import Outcome, Verdict
from posflow._terminal import Terminal
from posflow.errors import (
    ConcurrencyConflict,
    CorruptRecord,
    InvalidInput,
    ReplayError,
    TerminalExists,
    TerminalNotFound,
)
from posflow.store._base import (
    MAX_RUN_ID_LENGTH,
    Loaded,
    Prior,
    Store,
    StoreTx,
    Write,
    check_id,
    check_text,
    masked_payload,
    record_of,
    storable,
)
from posflow.store._values import (
    Command,
    CommandFailed,
    Discrepancy,
    DrainReport,
    DuplicateOutcome,
    RetryPolicy,
)

__all__ = ["TerminalService"]

_R = TypeVar("_R")


class TerminalService:
    """Durable terminals: every decision loaded, made and saved in one transaction.

    Args:
        lifecycle: decides every event.
        store: keeps terminals and their history.
        record_refusals: also append refused attempts to history (default true);
            a refusal then takes a write transaction like an accepted event.
        retry: how to retry a fire that lost a race; ``None`` raises
            :class:`~posflow.errors.ConcurrencyConflict` at once.

    The service keeps no per-terminal state and never changes the context it is
    given; one service may be shared by threads.
    """

    __slots__ = ("_attempts", "_lifecycle", "_record_refusals", "_retry", "_store")

    def __init__(
        self,
        lifecycle: Lifecycle,
        store: Store,
        record_refusals: bool = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._lifecycle = lifecycle
        self._store = store
        self._record_refusals = record_refusals
        self._retry = retry
        self._attempts = 1 if retry is None else retry.attempts

    def __repr__(self) -> str:
        return f"<TerminalService {self._lifecycle.name!r} on {self._store!r}>"

    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle that decides."""
        return self._lifecycle

    @property
    def store(self) -> Store:
        """The store that keeps terminals and history."""
        return self._store

    # -- retries ---------------------------------------------------------------------------

    def _retrying(self, fn: Callable[[], _R]) -> _R:
        attempt = 1
        while True:
            try:
                return fn()
            except ConcurrencyConflict:
                if attempt >= self._attempts or self._retry is None:
                    raise
                self._retry.sleep(self._retry.delay(attempt))
                attempt += 1

    # -- creation --------------------------------------------------------------------------

    def create(self, terminal_id: str, data: Mapping[str, Any] | None = None) -> Terminal:
        """Store a new terminal in the lifecycle's initial state, version 0.

        Raises:
            TerminalExists: the id is taken.
            InvalidInput: the id is not usable or the data cannot be stored.
        """
        check_id(terminal_id)
        t = self._lifecycle.new_terminal(terminal_id, data)
        with self._store.transaction() as tx:
            tx.insert([t], [tx.encode_data(t)])
        return t

    def create_many(
        self, items: Iterable[tuple[str, Mapping[str, Any] | None]], *, batch_size: int = 1000
    ) -> int:
        """Store many new terminals, ``batch_size`` per transaction; returns how many.

        Raises:
            TerminalExists: an id is taken (its batch is not stored; earlier batches are).
        """
        count = 0
        batch: list[Terminal] = []
        seen: set[str] = set()
        new = self._lifecycle.new_terminal
        for terminal_id, data in items:
            check_id(terminal_id)
            if terminal_id in seen:
                raise TerminalExists(terminal_id)
            seen.add(terminal_id)
            batch.append(new(terminal_id, data))
            if len(batch) >= batch_size:
                count += self._insert(batch)
                batch = []
        if batch:
            count += self._insert(batch)
        return count

    def _insert(self, batch: list[Terminal]) -> int:
        with self._store.transaction() as tx:
            tx.insert(batch, [tx.encode_data(t) for t in batch])
        return len(batch)

    # -- single fires ----------------------------------------------------------------------

    def fire(
        self,
        terminal_id: str,
        event: str,
        ctx: Context | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Decide ``event`` for the stored terminal and save the result, in one transaction.

        The terminal is loaded, the lifecycle decides with ``ctx``, the history
        record is appended and the terminal saved only if nobody saved it since
        it was loaded. A key already used for this terminal returns the first
        attempt's outcome (a :class:`DuplicateOutcome`) and changes nothing.

        Raises:
            TerminalNotFound: no such terminal.
            ConcurrencyConflict: another writer won, and the retry policy (if any)
                ran out of attempts.
            InvalidInput: an id, event, actor or key that cannot be stored, or a
                payload or data that is not JSON.
        """
        check_id(terminal_id)
        check_text(event, "event")
        if idempotency_key is not None:
            check_id(idempotency_key, "idempotency_key")
        if ctx is None:
            ctx = Context()
        check_text(ctx.actor, "actor")
        if self._attempts == 1:
            return self._fire_once(terminal_id, event, ctx, idempotency_key)
        return self._retrying(lambda: self._fire_once(terminal_id, event, ctx, idempotency_key))

    def _fire_once(self, terminal_id: str, event: str, ctx: Context, key: str | None) -> Outcome:
        with self._store.transaction() as tx:
            loaded, prior = tx.load(terminal_id, key)
            if prior is not None:
                return _duplicate(loaded, prior, ctx)
            before = loaded.terminal
            out = self._lifecycle.fire(before, event, ctx, idempotency_key=key)
            reasons = out.reasons
            if reasons and not self._record_refusals:
                return out
            row = _row(tx, out, loaded.seq, None)
            after = out.terminal
            data = None if after.data is before.data else tx.encode_data(after)
            tx.save([Write(loaded, after, data, [row])])
        return out

    # -- bulk fires ------------------------------------------------------------------------

    @overload
    def iter_fire_many(
        self,
        commands: Iterable[Command],
        ctx: Context | None = ...,
        batch_size: int = ...,
        *,
        errors: Literal["raise"] = ...,
    ) -> Iterator[Outcome]: ...

    @overload
    def iter_fire_many(
        self,
        commands: Iterable[Command],
        ctx: Context | None = ...,
        batch_size: int = ...,
        *,
        errors: Literal["return"],
    ) -> Iterator[Outcome | CommandFailed]: ...

    def iter_fire_many(
        self,
        commands: Iterable[Command],
        ctx: Context | None = None,
        batch_size: int = 500,
        *,
        errors: Literal["raise", "return"] = "raise",
    ) -> Iterator[Outcome | CommandFailed]:
        """Fire many commands, ``batch_size`` per transaction, yielding outcomes as batches commit.

        Commands for one terminal are applied in the order given, each seeing the
        result of the one before (also within a batch). Every outcome is yielded
        only after its batch committed. A batch that loses a race is retried
        whole under the retry policy.

        Args:
            commands: the commands (any iterable; read batch by batch).
            ctx: the shared context (ports, clock, policy, default payload and actor).
            batch_size: commands per transaction.
            errors: ``"raise"`` (default): a command that cannot be applied (unknown
                terminal, input that cannot be stored) rolls back its batch and
                raises; earlier batches stay committed. ``"return"``: it is
                skipped and a :class:`CommandFailed` is yielded in its place; the
                rest of its batch commits.
        """
        if batch_size < 1:
            raise InvalidInput("must be at least 1", field="batch_size")
        if ctx is None:
            ctx = Context()
        batch: list[Command] = []
        for command in commands:
            batch.append(command)
            if len(batch) >= batch_size:
                yield from self._retrying(lambda b=batch: self._fire_batch(b, ctx, errors))  # type: ignore[misc]
                batch = []
        if batch:
            yield from self._retrying(lambda: self._fire_batch(batch, ctx, errors))

    @overload
    def fire_many(
        self,
        commands: Iterable[Command],
        ctx: Context | None = ...,
        batch_size: int = ...,
        *,
        errors: Literal["raise"] = ...,
    ) -> list[Outcome]: ...

    @overload
    def fire_many(
        self,
        commands: Iterable[Command],
        ctx: Context | None = ...,
        batch_size: int = ...,
        *,
        errors: Literal["return"],
    ) -> list[Outcome | CommandFailed]: ...

    def fire_many(
        self,
        commands: Iterable[Command],
        ctx: Context | None = None,
        batch_size: int = 500,
        *,
        errors: Literal["raise", "return"] = "raise",
    ) -> list[Outcome] | list[Outcome | CommandFailed]:
        """Like :meth:`iter_fire_many`, collected in a list (one entry per command, in order)."""
        return list(self.iter_fire_many(commands, ctx, batch_size, errors=errors))

    def _context_for(self, command: Command, ctx: Context) -> Context:
        if command.payload is None and command.actor is None:
            return ctx
        return Context(
            ctx.payload if command.payload is None else command.payload,
            ctx.actor if command.actor is None else command.actor,
            ctx.clock,
            ctx.ports,
            ctx.policy,
            ctx.at,
        )

    def _fire_batch(  # noqa: PLR0912, PLR0915 - the bulk hot path, inlined on purpose
        self, batch: Sequence[Command], ctx: Context, errors: str
    ) -> list[Outcome | CommandFailed]:
        results: list[Outcome | CommandFailed] = []
        fire = self._lifecycle.fire
        record_refusals = self._record_refusals
        shared = ctx.payload
        with self._store.transaction() as tx:
            # ids and keys no store can hold are left out here and refused one by one below
            ids: set[str] = set()
            keyed: list[tuple[str, str]] = []
            unkeyable = False  # a key no store can hold: the loop below checks keys again
            for c in batch:
                tid = c.terminal_id
                if storable(tid):
                    ids.add(tid)
                    key = c.idempotency_key
                    if key is not None:
                        if storable(key):
                            keyed.append((tid, key))
                        else:
                            unkeyable = True
            loaded = tx.load_many(ids)
            pairs = {pair for pair in keyed if pair[0] in loaded}
            priors: dict[tuple[str, str], Prior] = tx.find_keys(pairs) if pairs else {}
            masks = masked_payload(shared)
            encode_record = tx.encode_record
            encode_data = tx.encode_data
            record_row = getattr(tx, "record_row", None)  # a store's fast path, when it has one
            # per terminal, the write it builds up: current terminal, data, rows and
            # plain (its data reads back exactly as it is; a SQL store's loads are)
            work: dict[str, Write] = {}
            seen: dict[tuple[str, str], Outcome] = {}
            checked: set[str] = set()
            for command in batch:
                try:
                    tid = command.terminal_id
                    base = loaded.get(tid) if tid.__class__ is str else None
                    if base is None:
                        check_id(tid)
                        raise TerminalNotFound(tid)
                    event = command.event
                    if event not in checked:
                        checked.add(check_text(event, "event"))
                    w = work.get(tid)
                    if w is None:
                        w = work[tid] = Write(base, base.terminal, None, [], True)
                    key = command.idempotency_key
                    if key is not None:
                        if unkeyable:
                            check_id(key, "idempotency_key")
                        pair = (tid, key)
                        earlier = seen.get(pair)
                        if earlier is not None:
                            results.append(_again(earlier))
                            continue
                        prior = priors.get(pair) if priors else None
                        if prior is not None:
                            loaded_now = Loaded(w.terminal, base.seq + len(w.rows))
                            results.append(_duplicate(loaded_now, prior, ctx))
                            continue
                    payload: Mapping[str, Any] | None = masks
                    if command.payload is None and command.actor is None:
                        c_ctx = ctx
                    else:
                        if command.actor is not None:
                            check_text(command.actor, "actor")
                        c_ctx = self._context_for(command, ctx)
                        payload = masks if c_ctx.payload is shared else None
                    before = w.terminal
                    out = fire(before, event, c_ctx, idempotency_key=key)
                    if out.reasons and not record_refusals:
                        results.append(out)
                        continue
                    rows = w.rows
                    seq = base.seq + len(rows)
                    if record_row is not None:
                        row, plain = record_row(out, seq, payload)
                    else:
                        row = encode_record(record_of(out, seq, payload), seq, out.reasons)
                        plain = False  # only a store with record_row keeps plain terminals
                    after = out.terminal
                    if after.data is before.data:
                        data = w.data
                        plain = w.plain
                    else:
                        data = encode_data(after)
                        plain = plain and w.plain
                except (InvalidInput, TerminalNotFound, CorruptRecord) as exc:
                    if errors == "raise":
                        raise
                    results.append(CommandFailed(command, exc))
                    continue
                # only now, when nothing can fail any more, does the command join the batch
                w.terminal = after
                w.data = data
                w.plain = plain
                rows.append(row)
                if key is not None:
                    seen[pair] = out
                results.append(out)
            writes = [w for w in work.values() if w.rows]
            if writes:
                tx.save(writes)
        return results

    # -- reads -----------------------------------------------------------------------------

    def get(self, terminal_id: str) -> Terminal:
        """The stored terminal; ``TerminalNotFound`` if there is none.

        An id no store can hold (see ``MAX_ID_LENGTH``) is ``InvalidInput``.
        """
        return self._store.get(terminal_id)

    def history(self, terminal_id: str) -> list[HistoryRecord]:
        """The terminal's history, oldest first; ``TerminalNotFound`` if there is none.

        An id no store can hold (see ``MAX_ID_LENGTH``) is ``InvalidInput``.
        """
        return self._store.history(terminal_id)

    def counts(self) -> dict[str, int]:
        """How many terminals are in each state (states with none are absent)."""
        return self._store.counts()

    @overload
    def explain(
        self, terminal_id: str, ctx: Context | None = ..., event: None = ...
    ) -> dict[str, Verdict]: ...

    @overload
    def explain(self, terminal_id: str, ctx: Context | None, event: str) -> Verdict: ...

    def explain(
        self, terminal_id: str, ctx: Context | None = None, event: str | None = None
    ) -> Verdict | dict[str, Verdict]:
        """Why the stored terminal may or may not take ``event`` now (every event when ``None``).

        Nothing is written: this is ``Lifecycle.check`` / ``available`` on what is stored.
        """
        terminal = self._store.get(terminal_id)
        if event is None:
            return self._lifecycle.available(terminal, ctx)
        return self._lifecycle.check(terminal, event, ctx)

    # -- work sharing ----------------------------------------------------------------------

    def drain(
        self,
        run_id: str,
        state: str,
        event: str,
        ctx: Context | None = None,
        *,
        worker: str = "worker",
        batch_size: int = 100,
        limit: int | None = None,
    ) -> DrainReport:
        """Fire ``event`` at every terminal in ``state``, sharing the work with other workers.

        Start the same call (same ``run_id``) in as many processes as you like.
        Each batch claims terminals still in ``state`` that have no history
        record keyed ``"{run_id}:{terminal_id}"``, fires the event under that
        key and commits. On PostgreSQL claimed rows are locked and other workers
        skip them (``FOR UPDATE SKIP LOCKED``); on SQLite one writer runs at a
        time. A worker that dies loses only its open batch, which the others (or
        a rerun with the same ``run_id``) take. Refusals are always recorded in
        a drain: the record is what marks the terminal done for the run.

        Returns:
            what this worker did; the run is complete when every worker returned.
        """
        check_text(run_id, "run_id", MAX_RUN_ID_LENGTH)
        check_text(event, "event")
        if batch_size < 1:
            raise InvalidInput("must be at least 1", field="batch_size")
        if ctx is None:
            ctx = Context()
        prefix = f"{run_id}:"
        fired = refused = batches = 0
        codes: dict[str, int] = {}
        while limit is None or fired + refused < limit:
            size = batch_size if limit is None else min(batch_size, limit - fired - refused)
            claimed, outs = self._retrying(
                lambda n=size: self._drain_batch(state, event, ctx, prefix, n)  # type: ignore[misc]
            )
            if not claimed:
                break
            batches += 1
            for out in outs:
                if out.reasons:
                    refused += 1
                    for code in out.codes:
                        codes[code] = codes.get(code, 0) + 1
                else:
                    fired += 1
        return DrainReport(run_id, worker, batches, fired, refused, codes)

    def _drain_batch(
        self, state: str, event: str, ctx: Context, prefix: str, size: int
    ) -> tuple[int, list[Outcome]]:
        """One drain transaction: how many terminals it claimed, and the outcomes it saved."""
        fire = self._lifecycle.fire
        outs: list[Outcome] = []
        writes: list[Write] = []
        masks = masked_payload(ctx.payload)
        with self._store.transaction() as tx:
            claimed = tx.claim(state, prefix, size)
            if not claimed:
                return 0, outs
            # a worker that committed between our snapshot and our lock is seen only now
            done = tx.find_keys([(c.terminal.id, prefix + c.terminal.id) for c in claimed])
            for loaded in claimed:
                if (loaded.terminal.id, prefix + loaded.terminal.id) in done:
                    continue
                before = loaded.terminal
                key = prefix + before.id
                out = fire(before, event, ctx, idempotency_key=key)
                row = _row(tx, out, loaded.seq, masks)
                after = out.terminal
                data = None if after.data is before.data else tx.encode_data(after)
                writes.append(Write(loaded, after, data, [row]))
                outs.append(out)
            if writes:
                tx.save(writes)
        return len(claimed), outs

    # -- verification ------------------------------------------------------------------------

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


def _row(tx: StoreTx, out: Outcome, seq: int, payload: Mapping[str, Any] | None) -> object:
    """The stored history row of ``out`` at ``seq`` (the store's fast path when it has one)."""
    record_row = getattr(tx, "record_row", None)
    if record_row is not None:
        return record_row(out, seq, payload)[0]
    return tx.encode_record(record_of(out, seq, payload), seq, out.reasons)


def _duplicate(loaded: Loaded, prior: Prior, ctx: Context) -> DuplicateOutcome:
    """The first attempt's outcome, rebuilt from its record (nothing is decided again)."""
    rec = prior.record
    now = loaded.terminal
    accepted = rec.to_state is not None
    before_version = rec.version - 1 if accepted else rec.version
    previous = Terminal(now.id, rec.from_state, before_version, now.data)
    after = (
        now
        if now.version == rec.version and now.state == (rec.to_state or rec.from_state)
        else Terminal(now.id, rec.to_state or rec.from_state, rec.version, now.data)
    )
    return DuplicateOutcome(
        after,
        previous,
        rec.event,
        prior.reasons,
        ctx,
        rec.at,
        rec.idempotency_key,
        rec.changes,
        rec,
    )


def _again(out: Outcome) -> DuplicateOutcome:
    """A second command with a key already used earlier in the same batch."""
    return DuplicateOutcome(
        out.terminal,
        out.previous,
        out.event,
        out.reasons,
        out._ctx,
        out.at,
        out.idempotency_key,
        out._changes,
        out.record,
    )
