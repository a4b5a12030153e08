"""Engine benchmark: posflow against a hand-written dict table, transitions and python-statemachine.

Run it on demand::

    python benchmarks/bench_engine.py            # full run (about a minute on 2 cores)
    python benchmarks/bench_engine.py --quick    # fewer repetitions, 1,000 terminals

Every engine runs the same model: the states and events of
``posflow.default_lifecycle()``, with effects and built-in guards left out, and
exactly two guard functions (``merchant_on_file`` and ``device_bound``, the same
two function objects everywhere) on ``activate`` (``in_stock -> activated``).
What is timed is one accepted ``activate`` and one ``check`` of it:

* posflow: ``Lifecycle.fire(...).terminal`` (new frozen ``Terminal``, read from an
  ``Outcome`` that holds the system clock's reading; its ``HistoryRecord`` is built
  only when read, so one more line times ``fire(...).record``) and
  ``Lifecycle.check`` (a ``Verdict``);
* baseline: a plain ``{state: {event: (dest, guards)}}`` dict that runs both
  guards (each inside ``try``, collecting what they return) and returns a new
  immutable ``NamedTuple`` terminal with the next state and ``version + 1``;
* transitions: one shared ``Machine`` and one model; ``model.trigger`` and
  ``model.may_trigger``, the guards given as ``conditions`` through a one-line
  adapter (``not guard(terminal, ctx)``: a posflow guard answers with an empty
  result when it passes), state reset by one attribute store between fires;
* python-statemachine: one instance; ``sm.send`` and ``sm.enabled_events``,
  the same adapted guards as ``cond``, state reset through ``current_state_value``.

One more line times ``available()`` on ``default_lifecycle()`` itself (every
guard wired in, a plain ``Context``) for a terminal in ``signed_in``: a verdict for
each of its events, what a support screen asks for.

Each figure is the median of several repetitions of a timed loop
(``time.perf_counter_ns``), after a warm-up. Before timing, every engine is
checked to accept the event with both guards passing and to refuse it when one
fails, so no engine can skip its guards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import posflow
from posflow import GuardRegistry, Lifecycle, Terminal, Transition

EVENT = "activate"
AVAILABLE_FROM = "signed_in"
SOURCE = "in_stock"
DEST = "activated"

MERCHANT_MISSING = posflow.reason_spec(
    "documents.bench_merchant_missing",
    retryable=False,
    en="No merchant on file.",
    zh_cn="没有商户资料。",
    remedy_en="Record the merchant first.",
    remedy_zh_cn="请先登记商户资料。",
)
DEVICE_UNBOUND = posflow.reason_spec(
    "stock.bench_device_unbound",
    retryable=False,
    en="No device serial number is bound.",
    zh_cn="未绑定机具序列号。",
    remedy_en="Bind a device first.",
    remedy_zh_cn="请先绑定机具。",
)


def merchant_on_file(terminal: Any, ctx: Any) -> tuple[posflow.Reason, ...]:
    """Guard 1: the terminal's data names a merchant."""
    if "merchant" in terminal.data:
        return ()
    return (MERCHANT_MISSING.reason(),)


def device_bound(terminal: Any, ctx: Any) -> tuple[posflow.Reason, ...]:
    """Guard 2: a device serial number is bound."""
    if terminal.data.get("sn"):
        return ()
    return (DEVICE_UNBOUND.reason(),)


GUARDS: tuple[Callable[[Any, Any], tuple[posflow.Reason, ...]], ...] = (
    merchant_on_file,
    device_bound,
)
DATA: Mapping[str, Any] = {"merchant": {"name": "Ming's Noodles"}, "sn": "SN-0001"}
UNBOUND: Mapping[str, Any] = {"merchant": {"name": "Ming's Noodles"}}


# -- the model --------------------------------------------------------------------------


class Step(NamedTuple):
    trigger: str
    sources: tuple[str, ...]
    dest: str  # "=" means stay
    guards: tuple[Callable[[Any, Any], Any], ...]


@dataclass(frozen=True)
class Model:
    states: tuple[str, ...]
    initial: str
    steps: tuple[Step, ...]


def build_model() -> Model:
    """The default lifecycle's states and events; two guards on ``activate``, none elsewhere."""
    doc = posflow.default_lifecycle().to_dict()
    states = tuple(s if isinstance(s, str) else s["name"] for s in doc["states"])
    steps = tuple(
        Step(
            t["trigger"],
            tuple(t["source"]),
            t["dest"],
            GUARDS if t["trigger"] == EVENT else (),
        )
        for t in doc["transitions"]
    )
    return Model(states, doc["initial"], steps)


# -- the engines ---------------------------------------------------------------------------


def make_posflow(model: Model) -> Lifecycle:
    transitions = [
        Transition(s.trigger, s.sources, s.dest, conditions=s.guards) for s in model.steps
    ]
    return Lifecycle(model.states, transitions, model.initial, guards=GuardRegistry(), name="bench")


class BaseTerminal(NamedTuple):
    """The baseline's immutable terminal record."""

    id: str
    state: str
    version: int
    data: Mapping[str, Any]


class Baseline:
    """A hand-written dict table doing the same guarded step, with no library around it."""

    def __init__(self, model: Model) -> None:
        self.table: dict[str, dict[str, tuple[str, tuple[Callable[[Any, Any], Any], ...]]]] = {
            s: {} for s in model.states
        }
        for step in model.steps:
            for src in step.sources:
                dest = src if step.dest == "=" else step.dest
                self.table[src][step.trigger] = (dest, step.guards)

    def check(self, terminal: BaseTerminal, event: str, ctx: Any) -> tuple[str | None, list[Any]]:
        cell = self.table[terminal.state].get(event)
        if cell is None:
            return None, ["not allowed"]
        dest, guards = cell
        reasons: list[Any] = []
        for g in guards:
            try:
                r = g(terminal, ctx)
            except Exception as exc:  # noqa: BLE001 - equivalent work: errors become reasons
                r = (exc,)
            if r:
                reasons.extend(r)
        return dest, reasons

    def fire(self, terminal: BaseTerminal, event: str, ctx: Any) -> BaseTerminal | list[Any]:
        cell = self.table[terminal.state].get(event)
        if cell is None:
            return ["not allowed"]
        dest, guards = cell
        reasons: list[Any] = []
        for g in guards:
            try:
                r = g(terminal, ctx)
            except Exception as exc:  # noqa: BLE001 - equivalent work: errors become reasons
                r = (exc,)
            if r:
                reasons.extend(r)
        if reasons:
            return reasons
        return BaseTerminal(terminal.id, dest, terminal.version + 1, terminal.data)


class MachineModel:
    """What a ``transitions`` machine drives: the terminal's fields, mutated in place."""

    def __init__(self, terminal_id: str, state: str | None = None) -> None:
        self.id = terminal_id
        self.version = 0
        self.data: Mapping[str, Any] = {}
        if state is not None:
            self.state = state


def as_condition(g: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    """A posflow guard as a boolean condition: true when it gives no reason.

    ``transitions`` compares a condition's result with ``True`` (``unless`` with
    ``False``), so an empty tuple would not pass; this adapter is the one extra
    call per guard the other libraries pay.
    """

    def condition(terminal: Any, ctx: Any) -> bool:
        return not g(terminal, ctx)

    condition.__name__ = g.__name__
    return condition


def _transitions_spec(model: Model) -> list[dict[str, Any]]:
    return [
        {
            "trigger": s.trigger,
            "source": list(s.sources),
            "dest": s.dest,
            "conditions": [as_condition(g) for g in s.guards],
        }
        for s in model.steps
    ]


def make_transitions(model: Model, obj: object, spec: list[dict[str, Any]] | None = None) -> Any:
    from transitions import Machine

    return Machine(
        model=obj,
        states=list(model.states),
        transitions=spec if spec is not None else _transitions_spec(model),
        initial=model.initial,
        auto_transitions=False,
    )


def make_statemachine_class(model: Model) -> type[Any]:
    from statemachine import State, StateMachine

    states = {n: State(n, value=n, initial=n == model.initial) for n in model.states}
    namespace: dict[str, Any] = dict(states)
    for step in model.steps:
        joined: Any = None
        for src in step.sources:
            dst = states[src] if step.dest == "=" else states[step.dest]
            conds = [as_condition(g) for g in step.guards]
            t = states[src].to(dst, cond=conds) if conds else states[src].to(dst)
            joined = t if joined is None else joined | t
        namespace[step.trigger] = joined
    return type("BenchMachine", (StateMachine,), namespace)


# -- sanity checks ---------------------------------------------------------------------------


class BenchmarkInvalid(RuntimeError):
    """An engine did not do the work the benchmark times; its figures would mean nothing."""


def expect(condition: object, what: str) -> None:
    if not condition:
        raise BenchmarkInvalid(what)


def verify(model: Model) -> None:
    """Every engine accepts with both guards passing and refuses when one fails."""
    ctx = posflow.Context()
    good, bad = Terminal("T1", SOURCE, 3, DATA), Terminal("T1", SOURCE, 3, UNBOUND)

    lc = make_posflow(model)
    ok = lc.fire(good, EVENT, ctx)
    expect(ok.ok, "posflow accepts")
    expect(ok.terminal.state == DEST and ok.terminal.version == 4, "posflow moves, v4")
    expect(ok.record.to_state == DEST, "posflow records the step")
    expect(lc.fire(bad, EVENT, ctx).codes == (DEVICE_UNBOUND.code,), "posflow refuses")
    expect(lc.check(good, EVENT, ctx).allowed, "posflow check allows")
    expect(not lc.check(bad, EVENT, ctx).allowed, "posflow check refuses")

    base = Baseline(model)
    bgood, bbad = BaseTerminal("T1", SOURCE, 3, DATA), BaseTerminal("T1", SOURCE, 3, UNBOUND)
    new = base.fire(bgood, EVENT, ctx)
    expect(new == BaseTerminal("T1", DEST, 4, DATA), "baseline moves to activated, v4")
    expect(base.check(bgood, EVENT, ctx) == (DEST, []), "baseline check allows")
    refusal = base.fire(bbad, EVENT, ctx)
    expect(isinstance(refusal, list) and len(refusal) == 1, "baseline refuses with one reason")
    expect(base.check(bbad, EVENT, ctx)[1] == refusal, "baseline check refuses")

    m: Any = MachineModel("T1", SOURCE)
    make_transitions(model, m)
    m.state = SOURCE
    expect(m.may_trigger(EVENT, good, ctx), "transitions may_trigger allows")
    expect(m.trigger(EVENT, good, ctx) and m.state == DEST, "transitions moves")
    m.state = SOURCE
    expect(not m.may_trigger(EVENT, bad, ctx), "transitions may_trigger refuses")
    expect(not m.trigger(EVENT, bad, ctx) and m.state == SOURCE, "transitions refuses")

    sm = make_statemachine_class(model)()
    sm.current_state_value = SOURCE
    expect([e.id for e in sm.enabled_events(good, ctx)] == [EVENT], "statemachine allows")
    sm.send(EVENT, good, ctx)
    expect(sm.current_state_value == DEST, "statemachine moves")
    sm.current_state_value = SOURCE
    expect(sm.enabled_events(bad, ctx) == [], "statemachine refuses")


# -- timing ------------------------------------------------------------------------------------

Loop = Callable[[int], int]


def loops(model: Model) -> dict[tuple[str, str], Loop]:  # noqa: PLR0915 - one loop each
    """One timed loop per (engine, operation); each returns the nanoseconds it took."""
    ctx = posflow.Context()
    lc = make_posflow(model)
    term = Terminal("T1", SOURCE, 3, DATA)
    base = Baseline(model)
    bterm = BaseTerminal("T1", SOURCE, 3, DATA)
    m = MachineModel("T1")
    make_transitions(model, m)
    sm = make_statemachine_class(model)()
    clock = time.perf_counter_ns

    def posflow_fire(n: int) -> int:
        fire = lc.fire
        t0 = clock()
        for _ in range(n):
            fire(term, EVENT, ctx).terminal  # noqa: B018 - the new terminal is what a caller wants
        return clock() - t0

    def posflow_check(n: int) -> int:
        check = lc.check
        t0 = clock()
        for _ in range(n):
            check(term, EVENT, ctx)
        return clock() - t0

    def posflow_fire_and_record(n: int) -> int:
        fire = lc.fire
        t0 = clock()
        for _ in range(n):
            _ = fire(term, EVENT, ctx).record
        return clock() - t0

    default = posflow.default_lifecycle()
    signed_in = Terminal("T1", AVAILABLE_FROM, 3, DATA)

    def posflow_available(n: int) -> int:
        available = default.available
        t0 = clock()
        for _ in range(n):
            available(signed_in, ctx)
        return clock() - t0

    def baseline_fire(n: int) -> int:
        fire = base.fire
        t0 = clock()
        for _ in range(n):
            fire(bterm, EVENT, ctx)
        return clock() - t0

    def baseline_check(n: int) -> int:
        check = base.check
        t0 = clock()
        for _ in range(n):
            check(bterm, EVENT, ctx)
        return clock() - t0

    def transitions_fire(n: int) -> int:
        trigger = m.trigger  # type: ignore[attr-defined]
        t0 = clock()
        for _ in range(n):
            m.state = SOURCE
            trigger(EVENT, term, ctx)
        return clock() - t0

    def transitions_check(n: int) -> int:
        may = m.may_trigger  # type: ignore[attr-defined]
        m.state = SOURCE
        t0 = clock()
        for _ in range(n):
            may(EVENT, term, ctx)
        return clock() - t0

    def statemachine_fire(n: int) -> int:
        send = sm.send
        t0 = clock()
        for _ in range(n):
            sm.current_state_value = SOURCE
            send(EVENT, term, ctx)
        return clock() - t0

    def statemachine_check(n: int) -> int:
        enabled = sm.enabled_events
        sm.current_state_value = SOURCE
        t0 = clock()
        for _ in range(n):
            enabled(term, ctx)
        return clock() - t0

    return {
        ("posflow", "fire"): posflow_fire,
        ("posflow", "check"): posflow_check,
        ("posflow", "fire+record"): posflow_fire_and_record,
        ("posflow", "available"): posflow_available,
        ("baseline", "fire"): baseline_fire,
        ("baseline", "check"): baseline_check,
        ("transitions", "fire"): transitions_fire,
        ("transitions", "check"): transitions_check,
        ("python-statemachine", "fire"): statemachine_fire,
        ("python-statemachine", "check"): statemachine_check,
    }


def time_all(
    table: Mapping[tuple[str, str], Loop], *, iterations: int | None, repeats: int, target_s: float
) -> dict[tuple[str, str], float]:
    """Median µs per operation for every loop.

    Each loop is warmed up and sized to run about ``target_s`` (or exactly
    ``iterations`` times); then the loops take turns, ``repeats`` rounds, so that a
    busy moment on the machine falls on every engine rather than on one.
    """
    sizes = {}
    for key, loop in table.items():
        probe = loop(200)  # warm-up, and a first estimate of the cost
        sizes[key] = iterations or max(200, int(target_s * 1e9 / max(probe / 200, 1.0)))
        loop(max(1, sizes[key] // 10))
    runs: dict[tuple[str, str], list[float]] = {key: [] for key in table}
    for _ in range(repeats):
        for key, loop in table.items():
            n = sizes[key]
            gc.collect()
            runs[key].append(loop(n) / n / 1000)
    return {key: statistics.median(values) for key, values in runs.items()}


# -- memory ------------------------------------------------------------------------------------


def _traced(build: Callable[[], list[Any]]) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    per = (after - before) / len(kept)
    del kept
    gc.collect()
    return per


def memory(model: Model, count: int, machine_count: int) -> dict[str, tuple[int, float]]:
    """Bytes per terminal: (terminals measured, bytes each)."""
    ids = [f"T{i:06d}" for i in range(max(count, machine_count))]
    lc = make_posflow(model)
    spec = _transitions_spec(model)
    sm_class = make_statemachine_class(model)
    return {
        "posflow": (count, _traced(lambda: [lc.new_terminal(i) for i in ids[:count]])),
        "baseline": (
            count,
            _traced(lambda: [BaseTerminal(i, model.initial, 0, DATA) for i in ids[:count]]),
        ),
        "transitions": (
            machine_count,
            _traced(
                lambda: [
                    (m, make_transitions(model, m, spec))
                    for m in (MachineModel(i) for i in ids[:machine_count])
                ]
            ),
        ),
        "python-statemachine": (
            machine_count,
            _traced(lambda: [sm_class() for _ in ids[:machine_count]]),
        ),
    }


# -- report ------------------------------------------------------------------------------------

ENGINES = ("posflow", "baseline", "transitions", "python-statemachine")
GOALS = (
    ("posflow fire / baseline fire", "fire", "baseline", "<=", 4.0),
    ("transitions fire / posflow fire", "fire", "transitions", ">=", 15.0),
    ("posflow check / baseline check", "check", "baseline", "<=", 2.0),
)


def ratios(us: Mapping[tuple[str, str], float]) -> list[tuple[str, float, str]]:
    rows = []
    for label, op, other, cmp, goal in GOALS:
        p, o = us["posflow", op], us[other, op]
        value = p / o if other == "baseline" else o / p
        met = value <= goal if cmp == "<=" else value >= goal
        rows.append((label, value, f"goal {cmp} {goal:g}: {'met' if met else 'MISSED'}"))
    p = us["posflow", "fire"]
    rows.append(
        ("python-statemachine fire / posflow fire", us["python-statemachine", "fire"] / p, "")
    )
    pc = us["posflow", "check"]
    rows.append(("transitions check / posflow check", us["transitions", "check"] / pc, ""))
    rows.append(
        ("python-statemachine check / posflow check", us["python-statemachine", "check"] / pc, "")
    )
    return rows


def report(
    us: Mapping[tuple[str, str], float],
    mem: Mapping[str, tuple[int, float]],
    repeats: int,
) -> str:
    import statemachine
    import transitions

    lines = [
        f"posflow engine benchmark, {dt.date.today().isoformat()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}),"
        f" {platform.machine()}, posflow {posflow.__version__},"
        f" transitions {transitions.__version__}, python-statemachine {statemachine.__version__}",
        f"model: default_lifecycle() states and events; two guards"
        f" ({', '.join(g.__name__ for g in GUARDS)}) on {EVENT!r} ({SOURCE} -> {DEST}),"
        " none elsewhere, no effects",
        f"median of {repeats} timed loops after warm-up, µs per operation",
        "",
        f"{'engine':<22}{'fire µs':>10}{'check µs':>10}{'fire x base':>13}{'check x base':>14}",
    ]
    bf, bc = us["baseline", "fire"], us["baseline", "check"]
    for e in ENGINES:
        f, c = us[e, "fire"], us[e, "check"]
        lines.append(f"{e:<22}{f:>10.3f}{c:>10.3f}{f / bf:>13.2f}{c / bc:>14.2f}")
    lines.append(
        f"{'(posflow fire, then':<22}{us['posflow', 'fire+record']:>10.3f}"
        "  µs: reading outcome.record, what a service that keeps history pays)"
    )
    lines.append(
        f"{'(posflow available()':<22}{us['posflow', 'available']:>10.3f}"
        f"  µs: default_lifecycle(), all {len(posflow.default_lifecycle().events)} events"
        f" from {AVAILABLE_FROM})"
    )
    lines += ["", "ratios"]
    lines += [f"  {label:<44}{value:>8.2f}  {note}" for label, value, note in ratios(us)]
    if mem:
        lines += ["", "memory per terminal (tracemalloc)"]
        for e, (n, per) in mem.items():
            lines.append(f"  {e:<22}{per:>10,.0f} bytes   ({n:,} terminals)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure")
    parser.add_argument(
        "--iterations", type=int, default=None, help="operations per timed run (default: ~0.2 s)"
    )
    parser.add_argument("--terminals", type=int, default=10_000, help="for memory; 0 skips it")
    parser.add_argument(
        "--machine-terminals",
        type=int,
        default=None,
        help="per-object machines built for memory (default: same as --terminals)",
    )
    parser.add_argument("--quick", action="store_true", help="3 repeats, 1,000 terminals")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    count = min(args.terminals, 1_000) if args.quick else args.terminals
    machine_count = args.machine_terminals if args.machine_terminals is not None else count

    model = build_model()
    verify(model)
    target = 0.05 if args.quick else 0.2
    us = time_all(loops(model), iterations=args.iterations, repeats=repeats, target_s=target)
    mem = memory(model, count, machine_count) if count > 0 else {}
    print(report(us, mem, repeats))
    return {"us": us, "memory": mem, "ratios": ratios(us)}


if __name__ == "__main__":
    main(sys.argv[1:])
