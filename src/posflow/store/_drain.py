"""Work sharing for :class:`~posflow.store.TerminalService`: ``drain`` across workers."""

from __future__ import annotations

from posflow._context import Context
from posflow._outcome import Outcome
from posflow.errors import InvalidInput
from posflow.store._base import MAX_RUN_ID_LENGTH, Write, check_text
from posflow.store._records import masked_payload
from posflow.store._servicebase import _row, _ServiceBase
from posflow.store._values import DrainReport


class _Drains(_ServiceBase):
    """``drain`` of :class:`~posflow.store.TerminalService`."""

    __slots__ = ()

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
        self._check_drainable(state, event)
        if batch_size < 1:
            raise InvalidInput("must be at least 1", field="batch_size")
        if ctx is None:
            ctx = Context()
        check_text(ctx.actor, "actor")
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

    def _check_drainable(self, state: str, event: str) -> None:
        """Refuse a drain that could only refuse, before anything is written.

        Every terminal a drain claims gets a history record that marks it done for
        the run, refusals included: a misspelt state or event would otherwise
        leave a refusal in every terminal's audit trail and use the run up.
        """
        lifecycle = self._lifecycle
        if state not in lifecycle.states:
            raise InvalidInput(
                f"{state!r} is not a state of lifecycle {lifecycle.name!r} "
                f"(its states: {', '.join(lifecycle.states)})",
                field="state",
            )
        if event not in lifecycle.events:
            raise InvalidInput(
                f"{event!r} is not an event of lifecycle {lifecycle.name!r} "
                f"(its events: {', '.join(lifecycle.events)})",
                field="event",
            )
        sources = lifecycle.sources_of(event)
        if state not in sources:
            raise InvalidInput(
                f"{event!r} has no transition from {state!r} "
                f"(it has from: {', '.join(sources) or 'none'})",
                field="event",
            )

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
