"""Hypothesis strategies for posflow's objects (needs the ``testing`` extra)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
from hypothesis import assume
from hypothesis import strategies as st

from posflow._context import Context
from posflow._history import HistoryRecord
from posflow._lifecycle import Lifecycle
from posflow._terminal import Terminal
from posflow.errors import InvalidInput
from posflow.policy import DocumentsByType, Limits, LimitsByType, Policy
from posflow.ports import PORT_NAMES, Document, DocumentKind, Ports
from posflow.testing._ports import FailingPort, MisbehavingPort, names_of
from posflow.testing._world import EPOCH, World, destination, shortest_path

__all__ = [
    "PORT_FAULTS",
    "Walk",
    "contexts",
    "documents",
    "event_sequences",
    "policies",
    "port_faults",
    "terminals",
    "walks",
]

PORT_FAULTS: Final = ("ok", "raise", "timeout", "misbehave")
"""How a port drawn by :func:`port_faults` behaves: answers properly, raises a
``ConnectionError``, raises a ``TimeoutError``, or answers nonsense."""

ContextFactory = Callable[[Terminal, str], Context]
"""Builds the context ``event`` is fired in for ``terminal``."""


@attrs.frozen
class Walk:
    """Where a random walk through a lifecycle ended, and how it got there.

    Attributes:
        terminal: the terminal at the end of the walk.
        history: the records of every attempt on the way (accepted and refused), with
            their sequence numbers; ``lifecycle.replay(walk.history)`` rebuilds the
            terminal's state and version.
        world: the world the walk took place in; fire further events through it.
    """

    terminal: Terminal
    history: tuple[HistoryRecord, ...]
    world: World


def _fire(
    world: World, context: ContextFactory | None, t: Terminal, event: str
) -> tuple[bool, Terminal, HistoryRecord]:
    world.prepare(t, event)
    ctx = context(t, event) if context is not None else world.context_for(event)
    outcome = world.lifecycle.fire(t, event, ctx)
    return outcome.ok, outcome.terminal, outcome.record


def walks(
    lifecycle: Lifecycle | None = None,
    *,
    context: ContextFactory | None = None,
    states: Iterable[str] | None = None,
    max_steps: int = 20,
    data: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[Walk]:
    """A terminal driven through random events of ``lifecycle``, with its history.

    Each step picks an event that has a transition from the current state and
    fires it; refused steps stay in the history but do not move the terminal.
    With ``states``, the walk then takes the shortest way to one of them (and,
    should that be refused, starts afresh along the shortest path from the
    initial state), so every drawn terminal is in one of ``states``.

    By default the walk takes place in a fresh :class:`World` (for the default
    lifecycle, one in which every guard passes); pass ``context`` to build each
    event's context yourself (for lifecycles with guards of your own).

    Args:
        lifecycle: the lifecycle to walk; the default lifecycle when ``None``.
        context: ``context(terminal, event) -> Context``; the world's happy context
            for the event when ``None``.
        states: the states the walk must end in (any state it reaches when ``None``).
        max_steps: the most random steps before heading for ``states``.
        data: the new terminal's data; the world's merchant when ``None``.
    """
    return _walks(lifecycle, context, None if states is None else tuple(states), max_steps, data)


@st.composite
def _walks(
    draw: st.DrawFn,
    lifecycle: Lifecycle | None,
    context: ContextFactory | None,
    states: tuple[str, ...] | None,
    max_steps: int,
    data: Mapping[str, Any] | None,
) -> Walk:
    world = World() if lifecycle is None else World(lifecycle=lifecycle)
    lc = world.lifecycle
    wanted = tuple(states) if states is not None else ()
    for s in wanted:
        shortest_path(lc, lc.initial, s)  # raises InvalidInput for a state that cannot be reached
    t = world.new_terminal() if data is None else lc.new_terminal(world.terminal_id, data)
    start = t
    records: list[HistoryRecord] = []
    for _ in range(draw(st.integers(0, max_steps), label="steps")):
        events = lc.allowed_events(t.state)
        if not events:
            break
        _ok, t, record = _fire(world, context, t, draw(st.sampled_from(events), label="event"))
        records.append(record)
    if wanted and t.state not in wanted:
        goal = draw(st.sampled_from(wanted), label="goal")
        t, records = _head_for(world, context, t, records, goal, start)
    history = tuple(r.with_seq(i) for i, r in enumerate(records))
    return Walk(t, history, world)


def _head_for(
    world: World,
    context: ContextFactory | None,
    t: Terminal,
    records: list[HistoryRecord],
    goal: str,
    start: Terminal,
) -> tuple[Terminal, list[HistoryRecord]]:
    lc = world.lifecycle
    for origin, trail in ((t, records), (start, [])):
        try:
            path = shortest_path(lc, origin.state, goal)
        except InvalidInput:  # not reachable from here: try from the start
            continue
        current, kept = origin, list(trail)
        for event in path:
            ok, current, record = _fire(world, context, current, event)
            kept.append(record)
            if not ok:
                break
        else:
            return current, kept
    assume(False)  # the guards refuse every way there in this world
    raise AssertionError  # pragma: no cover - assume(False) does not return


def terminals(
    lifecycle: Lifecycle | None = None,
    *,
    context: ContextFactory | None = None,
    states: Iterable[str] | None = None,
    max_steps: int = 20,
    data: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[Terminal]:
    """Terminals in states reached by driving random events; see :func:`walks` for the arguments.

    >>> from hypothesis import given
    >>> from posflow.testing import strategies as pst
    >>> @given(pst.terminals(states=["signed_in", "settled"]))
    ... def test_a_session_is_open(t):
    ...     assert t.data["operator"] == "01"
    >>> test_a_session_is_open()
    """
    return walks(lifecycle, context=context, states=states, max_steps=max_steps, data=data).map(
        _terminal_of
    )


def _terminal_of(walk: Walk) -> Terminal:
    return walk.terminal


@st.composite
def event_sequences(
    draw: st.DrawFn,
    lifecycle: Lifecycle,
    *,
    start: str | None = None,
    min_size: int = 0,
    max_size: int = 20,
) -> list[str]:
    """Events each of which has a transition from the state the ones before lead to.

    The sequence follows the lifecycle's table from ``start`` (the initial state
    by default); guards are not consulted, so firing it may still be refused. It
    stops early in a state with no way out.
    """
    state = start if start is not None else lifecycle.initial
    if state not in lifecycle.states:
        raise InvalidInput(f"{state!r} is not a state of {lifecycle.name!r}", field="start")
    size = draw(st.integers(min_size, max(min_size, max_size)), label="size")
    out: list[str] = []
    for _ in range(size):
        events = lifecycle.allowed_events(state)
        if not events:
            break
        event = draw(st.sampled_from(events), label="event")
        out.append(event)
        state = destination(lifecycle, state, event)
    return out


def documents(
    *,
    kinds: Iterable[DocumentKind | str] | None = None,
    on: dt.date | None = None,
    valid: bool | None = None,
) -> st.SearchStrategy[Document]:
    """A :class:`~posflow.ports.Document` with consistent dates.

    Args:
        kinds: the kinds to draw from (every kind when ``None``).
        on: the day validity is judged on (required with ``valid``).
        valid: ``True`` for a document that counts on ``on``, ``False`` for one
            that does not (expired or not yet issued), ``None`` for either.
    """
    known = {k.value for k in DocumentKind}
    names = [str(k) for k in (kinds if kinds is not None else DocumentKind)]
    unknown = sorted(set(names) - known)
    if unknown or not names:
        raise InvalidInput(f"not document kinds: {unknown or 'none given'}", field="kinds")
    if on is None and valid is not None:
        raise InvalidInput("valid= needs the day validity is judged on (on=)", field="on")
    return _documents(tuple(sorted(DocumentKind(n) for n in set(names))), on, valid)


@st.composite
def _documents(
    draw: st.DrawFn, pool: tuple[DocumentKind, ...], on: dt.date | None, valid: bool | None
) -> Document:
    kind = draw(st.sampled_from(pool), label="kind")
    day = on if on is not None else EPOCH.date()
    issued_offset = draw(st.integers(-3650, 30), label="issued")
    issued = day + dt.timedelta(days=issued_offset)
    expires: dt.date | None = None
    if draw(st.booleans(), label="expires"):
        expires = issued + dt.timedelta(days=draw(st.integers(0, 3650)))
    months = None
    if kind in {DocumentKind.UTILITY_BILLS, DocumentKind.BANK_STATEMENT}:
        months = draw(st.integers(1, 12), label="months")
    doc = Document(kind, issued=issued, expires=expires, months=months)
    if valid is not None:
        assume(doc.valid_on(day) is valid)
    return doc


_MONEY: Final = st.integers(0, 10**9)
_VERSION: Final = st.tuples(st.integers(0, 9), st.integers(0, 20), st.integers(0, 99)).map(
    lambda v: ".".join(map(str, v))
)
_CAUSES: Final = ("cash_out", "fraud", "money_laundering", "relocation", "data_leakage", "other")


@st.composite
def _limits(draw: st.DrawFn) -> Limits:
    per = draw(_MONEY)
    return Limits(per_transaction=per, daily=per + draw(_MONEY))


def _kinds(max_size: int = 4) -> st.SearchStrategy[tuple[DocumentKind, ...]]:
    return st.lists(st.sampled_from(list(DocumentKind)), max_size=max_size, unique=True).map(tuple)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """A valid :class:`~posflow.Policy` with every field varied (limits, documents, periods...)."""
    substitutes = draw(
        st.frozensets(
            st.sampled_from([k for k in DocumentKind if k is not DocumentKind.STOREFRONT_PHOTO]),
            min_size=1,
            max_size=4,
        ),
        label="substitutes",
    )
    causes = draw(st.frozensets(st.sampled_from(_CAUSES), min_size=1), label="causes")
    by_type = st.builds(DocumentsByType, enterprise=_kinds(), individual=_kinds(), micro=_kinds())
    regions = st.none() | st.frozensets(st.sampled_from(["110000", "310000", "440300", "510100"]))
    return Policy(
        limits=LimitsByType(
            enterprise=draw(_limits()), individual=draw(_limits()), micro=draw(_limits())
        ),
        review_documents=draw(by_type),
        reapply_documents=draw(by_type),
        activation_documents=draw(_kinds(2)),
        closing_documents=draw(_kinds()),
        storefront_substitutes=substitutes,
        substitutes_required=draw(st.integers(1, len(substitutes))),
        utility_bill_months=draw(st.integers(1, 12)),
        substitute_max_age_days=draw(st.integers(1, 730)),
        cooling_off_days=draw(st.integers(0, 365)),
        min_firmware_version=draw(_VERSION),
        min_software_version=draw(_VERSION),
        required_certification=draw(st.sampled_from(["unionpay", "emv", "pboc"])),
        min_credit_score=draw(st.integers(-100, 1000)),
        minimum_term_days=draw(st.integers(0, 1095)),
        early_termination_penalty=draw(_MONEY),
        device_recovery_fee=draw(_MONEY),
        suspension_causes=causes,
        fraud_causes=draw(st.frozensets(st.sampled_from(sorted(causes)))),
        served_regions=draw(regions),
        micro_merchant_code_limit=draw(st.integers(1, 5)),
    )


def port_faults(
    ports: Sequence[str] = PORT_NAMES, *, faults: Sequence[str] = PORT_FAULTS
) -> st.SearchStrategy[dict[str, str]]:
    """How each of ``ports`` behaves: a mapping of port name to one of :data:`PORT_FAULTS`."""
    names = names_of(ports)
    for f in faults:
        if f not in PORT_FAULTS:
            raise InvalidInput(f"{f!r} is not one of {', '.join(PORT_FAULTS)}", field="faults")
    return st.fixed_dictionaries({n: st.sampled_from(tuple(faults)) for n in names})


def faulty_ports(world: World, faults: Mapping[str, str]) -> Ports:
    """The world's ports with those named in ``faults`` made to fail as it says."""
    replaced: dict[str, Any] = {}
    for name, fault in faults.items():
        if fault == "raise":
            replaced[name] = FailingPort(name)
        elif fault == "timeout":
            replaced[name] = FailingPort(name, TimeoutError(f"{name} timed out"))
        elif fault == "misbehave":
            replaced[name] = MisbehavingPort(name)
    return world.ports.replace(**replaced)


@st.composite
def contexts(
    draw: st.DrawFn,
    world: World | None = None,
    *,
    event: str | None = None,
    ports: Sequence[str] = PORT_NAMES,
    faults: Sequence[str] = PORT_FAULTS,
) -> Context:
    """A context in ``world`` (a fresh :class:`World` by default) whose ports pass or fail.

    Each port in ``ports`` independently answers properly, raises, times out or
    answers nonsense (see :func:`port_faults`); the context carries the world's
    happy payload for ``event``, its clock and its policy. Which port does what is
    readable from the ports themselves (:class:`FailingPort`,
    :class:`MisbehavingPort`).
    """
    w = world if world is not None else World()
    chosen = draw(port_faults(ports, faults=faults), label="faults")
    payload = w.payload(event) if event is not None else {}
    return Context(payload, clock=w.clock, ports=faulty_ports(w, chosen), policy=w.policy)
