"""The fleet simulation: agents, rounds and batches, on one or several worker processes.

A run walks simulated days from :data:`~posflow.cli._world.START`. Each day,
the terminals whose application day it is are created; then, round by round
(:data:`~posflow.cli._agents.ROUNDS`), every live terminal proposes at most
one event and the proposals go to the store in batches
(``TerminalService.iter_fire_many``), all decided at the round's time. Each
agent reads its outcome and plans its next step.

Terminals never influence each other (the world is a pure function of the
seed), so the fleet can be split between worker processes by index, and the
results are the same whatever the split. Each worker takes one contiguous run
of indices, so that its batches touch neighbouring rows of the database and the
workers' writes seldom share a page.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import gc
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import attrs

import posflow
from posflow._outcome import Outcome
from posflow._reasons import LANGUAGES, Reason
from posflow.cli._agents import ROUNDS, Agent
from posflow.cli._plan import START, Params
from posflow.cli._world import World

__all__ = ["Progress", "Service", "Tally", "run_shard", "share", "simulate"]

BATCH_SIZE = 2000

_YOUNG_THRESHOLD = 50_000
"""Allocations between young collections while a shard runs (CPython's default is 700).

A batch keeps thousands of outcomes, terminals and records alive until it commits;
with the default the collector runs every few commands, promotes them all, and its
full collections then walk them again and again: a quarter of a run's CPU time.
"""


class Service(Protocol):
    """What the simulation needs from :class:`posflow.store.TerminalService`."""

    def create_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Create terminals in the initial state."""
        ...

    def iter_fire_many(
        self, commands: Iterable[Any], ctx: posflow.Context, batch_size: int = ...
    ) -> Iterator[Outcome]:
        """Decide and store ``commands`` in batches, yielding each outcome in order."""
        ...


Progress = Callable[[int], None]
"""Called after each round with the number of events it decided (a round may decide none)."""


@attrs.frozen
class Sample:
    """An example refusal reason, rendered in every language (plain data, picklable)."""

    terminal: str
    retryable: bool
    messages: dict[str, str]
    remedies: dict[str, str]

    @classmethod
    def of(cls, terminal: str, reason: Reason) -> Sample:
        """The example ``reason`` met by ``terminal``."""
        return cls(
            terminal,
            reason.retryable,
            {lang: reason.message(lang) for lang in LANGUAGES},
            {lang: reason.remedy(lang) for lang in LANGUAGES},
        )


@attrs.define
class Tally:
    """What a run (or one worker's share of it) did."""

    accepted: int = 0
    refused: int = 0
    created: int = 0
    by_event: collections.Counter[str] = attrs.field(factory=collections.Counter)
    refusals_by_event: collections.Counter[str] = attrs.field(factory=collections.Counter)
    reasons: collections.Counter[str] = attrs.field(factory=collections.Counter)
    states: collections.Counter[str] = attrs.field(factory=collections.Counter)
    samples: dict[str, Sample] = attrs.field(factory=dict)
    """One example of each reason code: the one met first by the lowest terminal id,
    so that the example does not depend on how the fleet was split."""

    @property
    def events(self) -> int:
        """Every event decided, accepted or refused."""
        return self.accepted + self.refused

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        self.accepted += other.accepted
        self.refused += other.refused
        self.created += other.created
        self.by_event.update(other.by_event)
        self.refusals_by_event.update(other.refusals_by_event)
        self.reasons.update(other.reasons)
        self.states.update(other.states)
        for code, sample in other.samples.items():
            known = self.samples.get(code)
            if known is None or sample.terminal < known.terminal:
                self.samples[code] = sample


def run_shard(
    params: Params,
    service: Service,
    command_type: type,
    *,
    shard: int = 0,
    shards: int = 1,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> Tally:
    """Simulate the ``shard``-th of ``shards`` runs of the fleet (see :func:`share`), storing it."""
    world = World(params)
    tally = Tally()
    arrivals: dict[int, list[Agent]] = collections.defaultdict(list)
    for i in share(params.terminals, shard, shards):
        plan = world.plan(i)
        arrivals[plan.apply_day].append(Agent(params.seed, plan))
    with _collector_tuned():
        _run_days(params, service, command_type, world, arrivals, tally, progress, batch_size)
    tally.accepted = sum(tally.by_event.values())
    tally.refused = sum(tally.refusals_by_event.values())
    return tally


def share(terminals: int, shard: int, shards: int) -> range:
    """The indices of the ``shard``-th of ``shards`` contiguous, near-equal parts of a fleet."""
    return range(terminals * shard // shards, terminals * (shard + 1) // shards)


@contextlib.contextmanager
def _collector_tuned() -> Iterator[None]:
    """Run the rounds with the cyclic garbage collector set for a long batch job.

    What exists when the rounds start (agents, plans, the world) lives to the end, so
    it is frozen out of every collection; young collections run less often. Both
    settings are the process's, so they are put back as they were on the way out.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run_days(
    params: Params,
    service: Service,
    command_type: type,
    world: World,
    arrivals: dict[int, list[Agent]],
    tally: Tally,
    progress: Progress | None,
    batch_size: int,
) -> None:
    """Every simulated day: create the day's newcomers, then play its rounds."""
    clock = world.clock
    ctx = world.context()
    live: list[Agent] = []
    everyone: list[Agent] = []
    for day in range(params.days):
        today = START + dt.timedelta(days=day)
        newcomers = arrivals.pop(day, [])
        if newcomers:
            clock.set(today + ROUNDS[0])
            applied_at = clock.now().isoformat()
            tally.created += service.create_many(
                (a.id, {"merchant": {"id": a.plan.merchant_id}, "applied_at": applied_at})
                for a in newcomers
            )
            live.extend(newcomers)
            everyone.extend(newcomers)
        for slot, offset in enumerate(ROUNDS):
            clock.set(today + offset)
            done = _round(service, command_type, world, ctx, live, day, slot, tally, batch_size)
            if progress is not None:
                progress(done)
        live = [a for a in live if not a.done]
    tally.states.update(a.state for a in everyone)


def _round(
    service: Service,
    command_type: type,
    world: World,
    ctx: posflow.Context,
    live: list[Agent],
    day: int,
    slot: int,
    tally: Tally,
    batch_size: int,
) -> int:
    """One round: every live agent's proposal, decided in batches; returns how many."""
    actors: list[Agent] = []
    commands: list[Any] = []
    for agent in live:
        proposal = agent.propose(world, day, slot)
        if proposal is not None:
            actors.append(agent)
            commands.append(command_type(agent.id, proposal[0], proposal[1]))
    if not commands:
        return 0
    accepted, refused = tally.by_event, tally.refusals_by_event
    reasons, samples = tally.reasons, tally.samples
    outcomes = service.iter_fire_many(commands, ctx, batch_size=batch_size)
    for agent, outcome in zip(actors, outcomes, strict=True):
        agent.observe(outcome, day)
        if outcome.ok:
            accepted[outcome.event] += 1
            continue
        refused[outcome.event] += 1
        for reason in outcome.reasons:
            reasons[reason.code] += 1
            known = samples.get(reason.code)
            if known is None or agent.id < known.terminal:
                samples[reason.code] = Sample.of(agent.id, reason)
    return len(commands)


@attrs.frozen
class RunResult:
    """A finished run: its parameters, what happened, and how long it took."""

    params: Params
    tally: Tally
    seconds: float
    workers: int

    @property
    def events_per_second(self) -> float:
        """Throughput: events decided and stored per second of wall time."""
        return self.tally.events / self.seconds if self.seconds > 0 else 0.0


ServiceFactory = Callable[[], tuple[Service, type]]


def _worker(factory: ServiceFactory, params: Params, shard: int, shards: int, queue: Any) -> Tally:
    service, command_type = factory()

    def report(n: int) -> None:
        queue.put(n)

    return run_shard(params, service, command_type, shard=shard, shards=shards, progress=report)


def simulate(
    params: Params,
    factory: ServiceFactory,
    *,
    workers: int = 1,
    progress: Progress | None = None,
) -> RunResult:
    """Run the simulation on ``workers`` processes (1: in this process)."""
    started = time.perf_counter()
    if workers <= 1:
        service, command_type = factory()
        tally = run_shard(params, service, command_type, progress=progress)
    else:
        tally = _simulate_parallel(params, factory, workers, progress)
    return RunResult(params, tally, time.perf_counter() - started, max(workers, 1))


def _simulate_parallel(
    params: Params, factory: ServiceFactory, workers: int, progress: Progress | None
) -> Tally:
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    queue = manager.Queue()
    tally = Tally()
    with context.Pool(workers) as pool:
        pending = [
            pool.apply_async(_worker, (factory, params, shard, workers, queue))
            for shard in range(workers)
        ]
        while not all(p.ready() for p in pending):
            _drain(queue, progress, timeout=0.2)
        _drain(queue, progress, timeout=0)
        for p in pending:
            tally.merge(p.get())
    manager.shutdown()
    return tally


def _drain(queue: Any, progress: Progress | None, timeout: float) -> None:
    import queue as queues  # noqa: PLC0415 - only the parallel path needs it

    try:
        n = queue.get(timeout=timeout) if timeout else queue.get_nowait()
    except queues.Empty:
        return
    if progress is not None:
        progress(n)
    while True:
        try:
            n = queue.get_nowait()
        except queues.Empty:
            return
        if progress is not None:
            progress(n)
