"""Shared hypothesis strategies for posflow's own tests.

The central piece is a random but always *valid* lifecycle document whose guards
come from a fixed pool. Each pool guard is deterministic: what it does is read
from the context payload (``payload["outcomes"][guard_name]``), so a test draws
the guard outcomes together with the events and can replay them exactly, on the
posflow engine and on a ``transitions`` machine alike.
"""

from __future__ import annotations

import datetime as dt
import itertools
import string
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

import posflow
from posflow.errors import PortUnavailable
from posflow.testing import World

# -- the guard pool ---------------------------------------------------------------

POOL_RULE_FAILED = posflow.reason_spec(
    "compliance.pool_rule_failed",
    retryable=False,
    en="Pool rule {rule} does not hold.",
    zh_cn="规则 {rule} 不成立。",
    remedy_en="Make rule {rule} hold.",
    remedy_zh_cn="请使规则 {rule} 成立。",
)

OUTCOMES = (
    "pass",  # returns ()
    "none",  # returns None
    "true",  # returns True
    "reason",  # returns one reason
    "two_reasons",  # returns two reasons
    "false",  # returns False -> guard.refused
    "raise",  # raises ValueError -> guard.error
    "port",  # raises PortUnavailable -> port.unavailable
    "timeout",  # raises TimeoutError -> port.unavailable
    "not_a_reason",  # returns a list holding a string -> guard.error
    "zero",  # returns 0: falsy, but not a guard result -> guard.error
)
PASSING = frozenset({"pass", "none", "true"})

GUARD_NAMES = tuple(f"pool.g{i}" for i in range(5))
UNKNOWN_EVENT = "zz_not_an_event"


def _pool_guard(name: str) -> posflow.guards.Guard:
    def check(terminal: posflow.Terminal, ctx: posflow.Context) -> Any:
        outcome = ctx.payload.get("outcomes", {}).get(name, "pass")
        result: Any
        if outcome == "pass":
            result = ()
        elif outcome == "none":
            result = None
        elif outcome == "true":
            result = True
        elif outcome == "reason":
            result = (POOL_RULE_FAILED.reason(rule=name),)
        elif outcome == "two_reasons":
            result = [POOL_RULE_FAILED.reason(rule=name), POOL_RULE_FAILED.reason(rule="extra")]
        elif outcome == "false":
            result = False
        elif outcome == "raise":
            raise ValueError(f"{name} broke")
        elif outcome == "port":
            raise PortUnavailable("inventory", "down for the test")
        elif outcome == "timeout":
            raise TimeoutError(name)
        elif outcome == "zero":
            result = 0
        else:
            result = ["not a reason"]
        return result

    check.__qualname__ = check.__name__ = name.replace(".", "_")
    return posflow.guard(name)(check)


POOL = posflow.GuardRegistry.of(*(_pool_guard(n) for n in GUARD_NAMES))


def count(terminal: posflow.Terminal, ctx: posflow.Context) -> dict[str, Any]:
    """Counts accepted steps and remembers the last payload tag."""
    return {"steps": int(terminal.data.get("steps", 0)) + 1, "tag": ctx.payload.get("tag")}


def trail(terminal: posflow.Terminal, ctx: posflow.Context) -> dict[str, Any]:
    """Appends the state left to a trail (a list, to exercise nested data)."""
    return {"trail": [*terminal.data.get("trail", []), terminal.state]}


def nothing(terminal: posflow.Terminal, ctx: posflow.Context) -> None:
    return None


EFFECTS: Mapping[str, Callable[[posflow.Terminal, posflow.Context], Any]] = {
    # keyed by function name, which is how ``to_dict`` writes an effect back
    "count": count,
    "trail": trail,
    "nothing": nothing,
}


def guard_outcomes() -> st.SearchStrategy[dict[str, str]]:
    """An outcome for some pool guards (the others pass)."""
    return st.dictionaries(st.sampled_from(GUARD_NAMES), st.sampled_from(OUTCOMES), max_size=5)


def _guard_doc(depth: int = 2) -> st.SearchStrategy[Any]:
    name = st.sampled_from(GUARD_NAMES)
    if depth == 0:
        return name
    inner = _guard_doc(depth - 1)
    return st.one_of(
        name,
        st.builds(lambda gs: {"any_of": gs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda gs: {"all_of": gs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda g: {"not": g}, inner),
    )


_GUARD_DOC = _guard_doc()
_CONDITIONS = st.lists(_GUARD_DOC, max_size=2)
_UNLESS = st.lists(_GUARD_DOC, max_size=1)


def guard_docs() -> st.SearchStrategy[Any]:
    """A condition as a document holds it: a name or a nested any_of/all_of/not."""
    return _GUARD_DOC


# -- random valid lifecycle documents ---------------------------------------------


@st.composite
def lifecycle_docs(draw: st.DrawFn, *, guards: bool = True, effects: bool = True) -> dict[str, Any]:
    """A valid lifecycle document over states ``s0..`` and events ``e0..``.

    Every state is reachable from ``s0`` (a spanning tree is laid first), every
    non-final state has a way out, and no (state, event) pair is used twice.
    """
    n = draw(st.integers(1, 6))
    states = [f"s{i}" for i in range(n)]
    final = {s for s in states if draw(st.booleans()) and draw(st.booleans())}
    if n == 1:
        final = {"s0"}
    events = [f"e{i}" for i in range(draw(st.integers(1, 5)))]
    used: set[tuple[str, str]] = set()
    edges: list[tuple[str, list[str], str]] = []

    def free_event(sources: list[str]) -> str:
        options = [e for e in events if all((s, e) not in used for s in sources)]
        if not options:
            events.append(f"e{len(events)}")
            options = [events[-1]]
        return draw(st.sampled_from(options))

    def add(sources: list[str], dest: str) -> None:
        event = free_event(sources)
        used.update((s, event) for s in sources)
        edges.append((event, sources, dest))

    for i in range(1, n):  # spanning tree: every state reachable from s0
        add([states[draw(st.integers(0, i - 1))]], states[i])
    for s in states:  # every non-final state gets a way out to another state
        leaves = any(s in src and dest not in {s, "="} for _, src, dest in edges)
        if s not in final and not leaves:
            add([s], draw(st.sampled_from([x for x in states if x != s])))
    for _ in range(draw(st.integers(0, 6))):  # extra random transitions
        sources = draw(st.lists(st.sampled_from(states), min_size=1, max_size=3, unique=True))
        add(sources, draw(st.sampled_from([*states, "="])))
    if not edges:  # a single final state still needs one transition
        add(["s0"], "=")

    transitions: list[Any] = []
    for event, sources, dest in edges:
        conditions = draw(_CONDITIONS) if guards else []
        unless = draw(_UNLESS) if guards else []
        effect = draw(st.sampled_from(sorted(EFFECTS))) if effects and draw(st.booleans()) else None
        plain = not (conditions or unless or effect)
        if plain and len(sources) == 1 and draw(st.booleans()):
            transitions.append([event, sources[0], dest])  # the list form
            continue
        doc: dict[str, Any] = {
            "trigger": event,
            "source": sources[0] if len(sources) == 1 and draw(st.booleans()) else sources,
            "dest": dest,
        }
        if conditions:
            doc["conditions"] = conditions
        if unless:
            doc["unless"] = unless
        if effect:
            doc["effect"] = effect
        transitions.append(doc)
    order = draw(st.permutations(range(len(transitions))))
    return {
        "name": "random",
        "initial": "s0",
        "states": [
            {"name": s, "final": True} if s in final else s for s in draw(st.permutations(states))
        ],
        "transitions": [transitions[i] for i in order],
    }


def build(doc: Mapping[str, Any]) -> posflow.Lifecycle:
    """The lifecycle of a document from :func:`lifecycle_docs`."""
    return posflow.Lifecycle.from_dict(doc, guards=POOL, effects=EFFECTS)


@st.composite
def event_steps(
    draw: st.DrawFn, events: tuple[str, ...], *, max_size: int = 12
) -> list[tuple[str, dict[str, Any]]]:
    """A sequence of (event, payload) pairs; payloads carry the guard outcomes."""
    pick = st.sampled_from([*events, UNKNOWN_EVENT]) if events else st.just(UNKNOWN_EVENT)
    step = st.tuples(
        pick,
        st.fixed_dictionaries(
            {"outcomes": guard_outcomes(), "tag": st.integers(0, 3)},
        ),
    )
    return draw(st.lists(step, max_size=max_size))


# -- documents that may be malformed ------------------------------------------------

_KEYS = (
    "name",
    "initial",
    "states",
    "transitions",
    "trigger",
    "source",
    "dest",
    "conditions",
    "unless",
    "effect",
    "final",
    "description",
    "any_of",
    "all_of",
    "not",
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.sampled_from(["s0", "s1", "e0", "=", "", " ", "pool.g0", "nope.x", "count"]),
    st.text(max_size=4),
)
_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    """A valid document with one part replaced, dropped or added."""
    doc: Any = draw(lifecycle_docs())
    path: list[Any] = []
    node = doc
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        key = draw(
            st.sampled_from(sorted(node))
            if isinstance(node, dict)
            else st.integers(0, len(node) - 1)
        )
        path.append(key)
        node = node[key]
    if not path:
        return draw(_values)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "replace":
        parent[path[-1]] = draw(_values)
    elif action == "drop":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(_KEYS) | st.text(max_size=3))] = draw(_values)
    else:
        parent.append(draw(_values))
    return doc


def documents() -> st.SearchStrategy[Any]:
    """Anything a caller might hand to ``from_dict``: valid, broken or nonsense."""
    return st.one_of(
        lifecycle_docs(),
        _mutated(),
        st.fixed_dictionaries(
            {}, optional=dict.fromkeys(("name", "initial", "states", "transitions"), _values)
        ),
        _values,
    )


# -- sensitive values ---------------------------------------------------------------

SENSITIVE_KEYS = {
    "phone": (
        "phone",
        "contact_phone",
        "mobile",
        "merchant_phone",
        "tel",
        "contact_tel",
        "mobile_no",
        "cellphone",
        "contactmobile",  # words run together in one case
        "手机号",
        "联系电话",
    ),
    "id": (
        "id_number",
        "legal_rep_id_number",
        "id_card",
        "passport",
        "id_no",
        "idcard",
        "idno",
        "id_card_no",
        "legalpersonidcard",
        "merchantidnumber",
        "身份证号码",
        "法人身份证号",
        "证件号码",
    ),
    "account": (
        "bank_account",
        "account_number",
        "card_number",
        "account_no",
        "iban",
        "acct",
        "card_no",
        "pan",
        "bank_account_no",
        "settlement_account",
        "bankaccountno",
        "settleacctno",
        "payeecardno",
        "银行卡号",
        "商户银行卡号",
        "结算账号",
    ),
    "secret": (
        "password",
        "operator_password",
        "pin",
        "secret",
        "token",
        "pwd",
        "passwd",
        "new_password",
        "pin_code",
        "master_key",
        "cvv",
        "loginpwd",
        "paytoken",
        "登录密码",
        "支付密码",
    ),
}
"""Sensitive keys by kind, in snake_case; :func:`styled_keys` writes them in other styles.

Some are words run together in one case and some Chinese: styles cannot split
them, only change their case.
"""

_SEPARATORS = ("_", "-", ".", " ", "__", "/", ":", "")


@st.composite
def styled_keys(draw: st.DrawFn, key: str) -> str:
    """``key`` (snake_case) rewritten in a random case style with random separators.

    Each word is lower, UPPER or Title case; the words are joined by any separator,
    or by none where a change of case still shows where a word starts (camelCase,
    PascalCase, ``IDNumber``): words run together in one case are one word.
    """
    words = [draw(st.sampled_from((w.lower(), w.upper(), w.title()))) for w in key.split("_")]
    out = words[0]
    for prev, word in itertools.pairwise(words):
        seps = _SEPARATORS
        glued_shows_a_start = word.istitle() or (word.isupper() and not prev.isupper())
        if not glued_shows_a_start:
            seps = seps[:-1]
        out += draw(st.sampled_from(seps)) + word
    return out


@st.composite
def sensitive_items(draw: st.DrawFn) -> tuple[str, str]:
    """A (key, clear value) pair that posflow must never show in clear.

    The key is a known sensitive one in any case style (:func:`styled_keys`).
    Values are long enough (8+ characters) that finding one inside a repr cannot
    be a coincidence with the rest of the text.
    """
    kind = draw(st.sampled_from(sorted(SENSITIVE_KEYS)))
    key = draw(styled_keys(draw(st.sampled_from(SENSITIVE_KEYS[kind]))))
    digits = string.digits
    if kind == "phone":
        value = "1" + draw(st.text(digits, min_size=10, max_size=10))
    elif kind == "id":
        value = draw(st.text(digits, min_size=17, max_size=17)) + draw(st.sampled_from("0123X"))
    elif kind == "account":
        value = draw(st.text(digits, min_size=12, max_size=19))
    else:
        value = "pw!" + draw(st.text(string.ascii_letters + digits + "#$%&", min_size=5))
    return key, value


# -- ids -------------------------------------------------------------------------------

WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""Every character Python's ``str.isspace`` (and so posflow) takes for whitespace."""

BLANKS = st.text(WHITESPACE, min_size=1, max_size=12)
"""Text of whitespace alone: never a terminal id, an event or an actor."""

TERMINAL_IDS = st.text(min_size=1, max_size=8).filter(lambda s: not s.isspace())
"""Short ids a terminal may have (any character; not whitespace only)."""


# -- contexts ----------------------------------------------------------------------------

_PAYLOAD_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_TIMES = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda at: at.replace(tzinfo=dt.UTC)
)


@st.composite
def contexts(draw: st.DrawFn) -> posflow.Context:
    """Contexts of every kind posflow makes: any payload, actor, clock, fixed time, ports."""
    keys = st.sampled_from(["amount", "operator_password", "sn", "contact_phone"])
    payload = draw(st.none() | st.dictionaries(keys | st.text(max_size=4), _PAYLOAD_VALUES))
    frozen = draw(st.booleans())
    return posflow.Context(
        payload,
        actor=draw(st.text(min_size=1, max_size=8)),
        clock=posflow.FrozenClock(draw(_TIMES)) if frozen else posflow.SystemClock(),
        ports=World().ports if draw(st.booleans()) else None,
        policy=draw(st.sampled_from([None, {"cooling_off_days": 3}])),
        at=draw(st.none() | _TIMES),
    )
