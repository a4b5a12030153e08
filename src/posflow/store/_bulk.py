"""The bulk path of :class:`~posflow.store.TerminalService`: many commands per transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, Literal, overload

from posflow._context import Context
from posflow._lifecycle import Lifecycle
from posflow._outcome import Outcome
from posflow.errors import CorruptRecord, InvalidInput, TerminalNotFound
from posflow.store._base import (
    MAX_ID_LENGTH,
    KeyTaken,
    Loaded,
    Prior,
    StaleRead,
    Write,
    check_id,
    check_key,
    check_text,
    storable,
)
from posflow.store._records import masked_payload, record_of
from posflow.store._servicebase import _duplicate, _ServiceBase
from posflow.store._values import Command, CommandFailed, DuplicateOutcome

_new = object.__new__


class _BulkFires(_ServiceBase):
    """``fire_many`` and ``iter_fire_many`` of :class:`~posflow.store.TerminalService`."""

    __slots__ = ()

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
        if ctx is None:
            ctx = Context()
        check_text(ctx.actor, "actor")  # once: a command's own actor is checked with it
        for batch in _batches(commands, batch_size, errors):
            yield from self._retrying(lambda b=batch: self._fire_batch(b, ctx, errors))  # type: ignore[misc]

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
        # iter_fire_many's loop, with each batch's outcomes added at once rather than
        # passed one by one through a generator
        if ctx is None:
            ctx = Context()
        check_text(ctx.actor, "actor")  # once: a command's own actor is checked with it
        results: list[Outcome | CommandFailed] = []
        for batch in _batches(commands, batch_size, errors):
            results += self._retrying(lambda b=batch: self._fire_batch(b, ctx, errors))  # type: ignore[misc]
        return results

    def _context_for(self, command: Command, ctx: Context) -> Context:
        """The context of a command that brings its own payload or actor."""
        return Context(
            ctx.payload if command.payload is None else command.payload,
            ctx.actor if command.actor is None else command.actor,
            ctx.clock,
            ctx.ports,
            ctx.policy,
            ctx.at,
        )

    def _fire_batch(
        self, batch: Sequence[Command], ctx: Context, errors: str
    ) -> list[Outcome | CommandFailed]:
        """One batch in one transaction, decided again while the store finds it decided stale.

        A store may hand out terminals it saved itself without reading them (see
        :class:`~posflow.store._base.StaleRead`); when one of them had changed
        meanwhile, nothing was written and the store forgot what it kept, so the
        next attempt reads what is stored now. Each such round needs another
        writer to have saved one of the batch's terminals in between. A store
        may also leave the keys to its unique index (see
        :class:`~posflow.store._base.KeyTaken`): when a key was taken, the batch
        is decided again with every key looked up first.
        """
        look_up = False
        while True:
            try:
                return self._decide_batch(batch, ctx, errors, look_up)
            except StaleRead:
                continue
            except KeyTaken:
                look_up = True

    def _decide_batch(  # noqa: PLR0912, PLR0915 - the bulk hot path, inlined on purpose
        self, batch: Sequence[Command], ctx: Context, errors: str, look_up: bool
    ) -> list[Outcome | CommandFailed]:
        results: list[Outcome | CommandFailed] = []
        fire = self._lifecycle.fire
        record_refusals = self._record_refusals
        shared = ctx.payload
        with self._store.transaction() as tx:
            # the ids to load: those that are text. One no store can hold (NUL, too
            # long, whitespace alone) is not stored, so it is not loaded (the store
            # does not look for it), and check_id refuses it below, as it does an
            # id that is no text at all
            ids: set[str] = set()
            # the terminals with more than one command in the batch: only their keys
            # can meet again in it (a key is one terminal's), so only theirs are kept
            # in `seen` below
            repeated: set[str] = set()
            for c in batch:
                tid = c.terminal_id
                if tid.__class__ is str:
                    if tid in ids:
                        repeated.add(tid)
                    else:
                        ids.add(tid)
            loaded = tx.load_many(ids)
            defer = None if look_up else getattr(tx, "defer_key_lookups", None)
            priors: dict[tuple[str, str], Prior] | None
            if defer is not None and defer():
                # keys are left to the store's unique index (KeyTaken at save), and looked
                # up here only for a command that writes no row (see `unlooked` below)
                priors = None
            else:
                pairs = _stored_pairs(batch, loaded)
                priors = tx.find_keys(pairs) if pairs else {}
            masks = masked_payload(shared)
            encode_record = tx.encode_record
            encode_data = tx.encode_data
            # a store's encoder for data known to be plain JSON, when it has one. Known
            # when posflow's own engine decided: its new data is the old with the changes
            # merged in. A wrapped or subclassed lifecycle might return other data, which
            # is encoded and checked as any other (a datetime in it refused, not written
            # as text) and not taken for plain
            encode_plain_data = getattr(tx, "encode_plain_data", encode_data)
            plain_bytes = getattr(tx, "plain_bytes", None)
            merged = self._lifecycle.__class__ is Lifecycle
            record_row = getattr(tx, "record_row", None)  # a store's fast path, when it has one
            # per terminal, the write it builds up: current terminal, data, rows and
            # plain (its data reads back exactly as it is; a SQL store's loads are)
            work: dict[str, Write] = {}
            # the outcome under each (terminal id, key) of a repeated terminal so far
            seen: dict[tuple[str, str], Outcome] = {}
            checked: set[str] = set()
            for command in batch:
                # a key not looked up, once the command got past where it would have been:
                # if the command then writes no row, the index cannot tell, so it is looked
                # up after all, and a key used before answers as it would have
                unlooked = None
                pair = None
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
                        # Write(base, base.terminal, None, [], True) without the call into
                        # its __init__ (a Python frame entered from C): once per terminal
                        w = work[tid] = _new(Write)
                        w.loaded = base
                        w.terminal = base.terminal
                        w.data = None
                        w.rows = []
                        w.plain = True
                    key = command.idempotency_key
                    if key is not None:
                        # storable(), its common case inlined; a key no store can hold raises
                        if not (
                            (
                                key.__class__ is str and 0 < len(key) <= MAX_ID_LENGTH
                                and key.isascii() and "\x00" not in key
                            ) or storable(key)
                        ):  # fmt: skip
                            check_key(key)
                        if repeated and tid in repeated:
                            pair = (tid, key)
                            earlier = seen.get(pair)
                            if earlier is not None:
                                results.append(_again(earlier))
                                continue
                        if priors is None:
                            unlooked = key
                        elif priors:
                            prior = priors.get((tid, key))
                            if prior is not None:
                                results.append(_duplicate_in(w, prior, ctx))
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
                    # by keyword: a wrapped or subclassed lifecycle may take the key only so
                    out = fire(before, event, c_ctx, idempotency_key=key)
                    if out.reasons and not record_refusals:
                        if unlooked is not None and (prior := _prior(tx, tid, unlooked)):
                            results.append(_duplicate_in(w, prior, ctx))
                            continue
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
                    elif plain and w.plain and merged:  # plain changes merged into plain data
                        # encode_plain_data(after)'s common case, inlined: the store's own
                        # serializer, a C call; its limits (or a store without it) go the
                        # long way, which decides as encode_data would
                        try:
                            data = plain_bytes(after.data.copy()).decode()  # type: ignore[attr-defined, misc]
                        except (TypeError, ValueError, RecursionError):
                            data = encode_plain_data(after)
                    else:
                        data = encode_data(after)
                        plain = False
                except Exception as exc:
                    if (
                        unlooked is not None
                        and w is not None  # set with unlooked: for the type checker
                        and (prior := _prior(tx, tid, unlooked))
                    ):
                        results.append(_duplicate_in(w, prior, ctx))
                        continue
                    if errors == "raise" or not isinstance(
                        exc, InvalidInput | TerminalNotFound | CorruptRecord
                    ):
                        raise
                    results.append(CommandFailed(command, exc))
                    continue
                # only now, when nothing can fail any more, does the command join the batch
                w.terminal = after
                w.data = data
                w.plain = plain
                rows.append(row)
                if pair is not None:
                    seen[pair] = out
                results.append(out)
            writes = [w for w in work.values() if w.rows]
            if writes:
                tx.save(writes)
        return results


def _batches(commands: Iterable[Command], size: int, errors: str) -> Iterator[list[Command]]:
    """``commands`` in lists of ``size`` (the last one shorter), read only as they are asked for.

    ``InvalidInput`` for a size under 1 or an ``errors`` mode it does not know, when
    the first batch is asked for, and for an item that is not a :class:`Command`,
    when its batch is (earlier batches are committed by then, as with any error).
    """
    if size < 1:
        raise InvalidInput("must be at least 1", field="batch_size")
    if errors not in ("raise", "return"):
        raise InvalidInput(f"must be 'raise' or 'return', got {errors!r}", field="errors")
    it = iter(commands)
    while batch := list(islice(it, size)):
        for c in batch:
            if c.__class__ is not Command and not isinstance(c, Command):
                raise InvalidInput(
                    f"must hold posflow.store.Command objects, got {type(c).__name__}",
                    field="commands",
                )
        yield batch


def _stored_pairs(batch: Sequence[Command], loaded: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Each ``(terminal_id, key)`` of the batch with a storable key, at a loaded terminal."""
    pairs: set[tuple[str, str]] = set()
    for c in batch:
        tid = c.terminal_id
        key = c.idempotency_key
        if key is not None and tid.__class__ is str and tid in loaded and storable(key):
            pairs.add((tid, key))
    return pairs


def _prior(tx: Any, terminal_id: str, key: str) -> Prior | None:
    """The attempt recorded under ``key`` at the terminal, looked up on its own."""
    pair = (terminal_id, key)
    prior: Prior | None = tx.find_keys([pair]).get(pair)
    return prior


def _duplicate_in(w: Write, prior: Prior, ctx: Context) -> DuplicateOutcome:
    """A used key's first outcome, with the terminal as this batch has made it so far."""
    return _duplicate(Loaded(w.terminal, w.loaded.seq + len(w.rows)), prior, ctx)


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
