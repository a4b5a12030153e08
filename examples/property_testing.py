"""Property-testing your own workflow with hypothesis.

Your lifecycle is data plus guards, so its promises can be checked on thousands
of generated event sequences instead of a handful of hand-written ones. This
example checks four promises on the bank's lifecycle of
``examples/custom_lifecycle.py``, in a world where its guards can pass:

- the terminal is always in a declared state;
- a refused event changes nothing, and an accepted one bumps the version by one;
- ``check`` says exactly what ``fire`` then does, and ``available`` agrees;
- the history of attempts replays to the terminal's state and version.

It does so twice: with ``@given`` over a random list of events, and as a
hypothesis rule-based state machine that fires one event at a time and checks
the promises after every step. In your test suite the same functions are
ordinary pytest tests.

Run it with ``python examples/property_testing.py``.
"""

from __future__ import annotations

from typing import Any

from custom_lifecycle import branch_ports, load, merchant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

import posflow

LIFECYCLE, POLICY = load()
PORTS = branch_ports()
# derandomize: the same examples on every run, so that this example's output is
# stable; drop it in your own suite to explore new sequences each run.
EXAMPLES = settings(
    derandomize=True,
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Payloads the bank's guards read, with wrong values among the right ones.
payloads: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {},
    optional={
        "sn": st.sampled_from(["SN-42", "SN-404"]),
        "install_address": st.just("3 Gulou Road"),
        "operator": st.just("01"),
        "password": st.sampled_from(["2468", "0000"]),
        "amount": st.integers(min_value=-10, max_value=90_000),
        "cause": st.sampled_from(["fraud", "relocation", "tea"]),
    },
)
events = st.sampled_from(LIFECYCLE.events)
GOOD = {  # the payload each event needs when all is well
    "hand_over": {"sn": "SN-42"},
    "activate": {"install_address": "3 Gulou Road"},
    "sign_in": {"operator": "01", "password": "2468"},
    "record_sale": {"amount": 1_200},
    "sign_out": {"password": "2468"},
    "suspend": {"cause": "relocation"},
}
REACHED: set[str] = set()


def next_event(state: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Mostly an allowed event with the payload it needs; sometimes anything at all.

    Drawing only uniform events and payloads would rarely get past the review;
    leaning towards the events the state allows walks the terminal deep into
    its life, while the rest keeps testing refusals.
    """
    anything = st.tuples(events, payloads)
    if not LIFECYCLE.allowed_events(state):  # a final state: every event is refused
        return anything
    allowed = st.sampled_from(LIFECYCLE.allowed_events(state))
    good = allowed.map(lambda event: (event, GOOD.get(event, {})))
    return st.one_of(good, good, good, st.tuples(allowed, payloads), anything)


def context(payload: dict[str, Any]) -> posflow.Context:
    """The context one generated event is decided in."""
    return posflow.Context(payload, clock=posflow.FrozenClock(), ports=PORTS, policy=POLICY)


def fresh() -> posflow.Terminal:
    """A new application for the bank's merchant."""
    return LIFECYCLE.new_terminal("T-42", {"merchant": merchant("M-42", "350100")})


def step(terminal: posflow.Terminal, event: str, payload: dict[str, Any]) -> posflow.Outcome:
    """Fire one event, checking the promises that hold for a single step."""
    ctx = context(payload)
    verdict = LIFECYCLE.check(terminal, event, ctx)
    assert LIFECYCLE.available(terminal, ctx)[event].codes == verdict.codes
    outcome = LIFECYCLE.fire(terminal, event, ctx)
    assert outcome.ok == verdict.allowed
    assert outcome.codes == verdict.codes
    assert outcome.terminal.state in LIFECYCLE.states
    if outcome.ok:
        assert outcome.terminal.version == terminal.version + 1
    else:
        assert outcome.terminal is terminal
    return outcome


@EXAMPLES
@given(st.data(), st.integers(min_value=0, max_value=30))
def test_any_sequence_of_events_keeps_the_promises(data: st.DataObject, length: int) -> None:
    """Every promise holds along any sequence of events with any payloads."""
    t = fresh()
    records = []
    for _ in range(length):
        event, payload = data.draw(next_event(t.state))
        outcome = step(t, event, payload)
        records.append(outcome.record)
        t = outcome.terminal
        REACHED.add(t.state)
    replayed = LIFECYCLE.replay(records, terminal_id=t.id)
    assert (replayed.state, replayed.version) == (t.state, t.version)


class BankTerminal(RuleBasedStateMachine):
    """One terminal, driven one random event at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.terminal = fresh()
        self.records: list[posflow.HistoryRecord] = []
        self.seen: set[str] = {self.terminal.state}

    @rule(data=st.data())
    def fire(self, data: st.DataObject) -> None:
        event, payload = data.draw(next_event(self.terminal.state))
        outcome = step(self.terminal, event, payload)
        self.records.append(outcome.record)
        self.terminal = outcome.terminal
        self.seen.add(self.terminal.state)
        REACHED.add(self.terminal.state)

    @invariant()
    def history_replays_to_the_terminal(self) -> None:
        replayed = LIFECYCLE.replay(self.records, terminal_id=self.terminal.id)
        assert (replayed.state, replayed.version) == (self.terminal.state, self.terminal.version)

    @invariant()
    def a_returned_device_stays_returned(self) -> None:
        if "returned" in self.seen:
            assert self.terminal.state == "returned"


def main() -> None:
    """Run both property tests and say what they covered."""
    test_any_sequence_of_events_keeps_the_promises()
    print("random event sequences: every promise held")
    run_state_machine_as_test(BankTerminal, settings=EXAMPLES)
    print("rule-based state machine: every promise held")
    print("states reached:", ", ".join(s for s in LIFECYCLE.states if s in REACHED))


if __name__ == "__main__":
    main()
