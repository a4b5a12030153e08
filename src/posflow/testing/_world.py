"""A world in which every guard of the default lifecycle passes (ports that fail: ``_ports``).

Nothing here imports hypothesis: the pytest plugin builds its fixtures from this
module, and the plugin is loaded wherever posflow is installed next to pytest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import attrs

from posflow._context import Context
from posflow._default import default_lifecycle
from posflow._lifecycle import Lifecycle
from posflow._mask import redact
from posflow._outcome import Outcome, Verdict
from posflow._terminal import Terminal
from posflow.errors import InvalidInput
from posflow.policy import Policy
from posflow.ports import (
    Device,
    DeviceModel,
    Document,
    DocumentKind,
    FrozenClock,
    InMemoryDocumentVault,
    InMemoryHostLink,
    InMemoryInventory,
    InMemoryMerchantFile,
    InMemoryOperatorDirectory,
    InMemoryRiskRegistry,
    InMemorySettlementAccounts,
    Ports,
    SettlementAccount,
)

__all__ = ["EPOCH", "HAPPY_PAYLOADS", "World", "destination", "shortest_path"]

EPOCH: Final = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
"""The time a :class:`World`'s frozen clock starts at (a Monday morning, UTC)."""

_MERCHANT_ID: Final = "M-world"
_SN: Final = "SN-world-0001"
_MODEL: Final = "P300"
_ACCOUNT: Final = "6222020200112233445"
_OPERATOR: Final = "01"
_SECRET: Final = "0000"  # noqa: S105 - the test operator's password in a made-up world

HAPPY_PAYLOADS: Final[Mapping[str, Mapping[str, Any]]] = {
    "ship": {"model": _MODEL, "sn": _SN},
    "receive": {"sn": _SN},
    "activate": {"install_address": "1 Nanjing Road"},
    "sign_in": {"operator": _OPERATOR, "password": _SECRET, "software_version": "2.1.0"},
    "record_sale": {"amount": 1200},
    "sign_out": {"password": _SECRET},
    "suspend": {"cause": "relocation"},
    "close": {"device_returned": True, "penalty_paid": True},
}
"""The payload each event of the default lifecycle needs in a :class:`World`."""


def _merchant() -> dict[str, Any]:
    return {
        "id": _MERCHANT_ID,
        "name": "Ming's Noodles",
        "contact_phone": "13812345678",
        "shop_address": "1 Nanjing Road",
        "type": "enterprise",
        "credit_code": "91310000MA1FL0001X",
        "legal_rep_id_number": "110101199001011234",
        "acquirer_code": "48020000",
        "merchant_code": "898310000000001",
        "settlement_account": _ACCOUNT,
        "region": "310000",
    }


def _masked(merchant: Mapping[str, Any]) -> str:
    return repr(redact(merchant))


_KINDS_ON_FILE: Final = (
    DocumentKind.BUSINESS_LICENCE,
    DocumentKind.ID_CARD_FRONT,
    DocumentKind.ID_CARD_BACK,
    DocumentKind.SETTLEMENT_ACCOUNT,
    DocumentKind.STOREFRONT_PHOTO,
    DocumentKind.CLOSE_REQUEST,
    DocumentKind.SERVICE_CONTRACT,
)


@attrs.define
class World:
    """Ports, policy, clock and merchant in which the whole default lifecycle can be walked.

    Every document is on file, the device is in stock, the merchant is not listed,
    the account is active, the host answers and the operator exists. A test spoils
    exactly the part it is about (withdraw a document, cut the host off) and checks
    the reasons.

    >>> from posflow.testing import World
    >>> world = World()
    >>> t = world.walk_to("signed_in")
    >>> t.state, t.version
    ('signed_in', 5)
    >>> world.fire(t, "record_sale", amount=500).terminal.data["batch"]["total"]
    500

    Attributes:
        terminal_id: the id of the terminals the world makes.
        clock: a frozen clock, starting at :data:`EPOCH`.
        policy: the policy guards read (the default one).
        lifecycle: the lifecycle fired (the default one).
        documents, inventory, risk, accounts, host, operators, merchants: the in-memory
            ports (the merchant file is empty: terminals carry their whole record).
        merchant: the merchant record new terminals carry in ``data["merchant"]``.
    """

    terminal_id: str = "T-world"
    clock: FrozenClock = attrs.field(factory=lambda: FrozenClock(EPOCH))
    policy: Policy = attrs.field(factory=Policy)
    lifecycle: Lifecycle = attrs.field(factory=default_lifecycle)
    documents: InMemoryDocumentVault = attrs.field(factory=InMemoryDocumentVault)
    inventory: InMemoryInventory = attrs.field(factory=InMemoryInventory)
    risk: InMemoryRiskRegistry = attrs.field(factory=InMemoryRiskRegistry)
    accounts: InMemorySettlementAccounts = attrs.field(factory=InMemorySettlementAccounts)
    host: InMemoryHostLink = attrs.field(factory=InMemoryHostLink)
    operators: InMemoryOperatorDirectory = attrs.field(
        factory=lambda: InMemoryOperatorDirectory(cost=2**4)
    )
    merchants: InMemoryMerchantFile = attrs.field(factory=InMemoryMerchantFile)
    merchant: dict[str, Any] = attrs.field(factory=_merchant, repr=_masked)

    def __attrs_post_init__(self) -> None:
        today = self.clock.now().date()
        issued, expires = today - dt.timedelta(days=30), today + dt.timedelta(days=3650)
        self.documents.add(
            _MERCHANT_ID, *(Document(k, issued=issued, expires=expires) for k in _KINDS_ON_FILE)
        )
        self.inventory.add_model(DeviceModel(_MODEL, firmware="2.0.0"))
        self.inventory.add_device(Device(_SN, _MODEL))
        self.risk.set_score(_MERCHANT_ID, 720)
        self.accounts.add(SettlementAccount(_MERCHANT_ID, _ACCOUNT))
        self.enrol(self.terminal_id)

    def enrol(self, terminal_id: str) -> None:
        """Let the world's operator sign ``terminal_id`` in too (operators are per terminal)."""
        self.operators.add(terminal_id, _OPERATOR, _SECRET)

    @property
    def merchant_id(self) -> str:
        """The id of the world's merchant (the key its documents and account are filed under)."""
        return _MERCHANT_ID

    @property
    def ports(self) -> Ports:
        """The world's ports, as a context carries them."""
        return Ports(
            documents=self.documents,
            inventory=self.inventory,
            risk=self.risk,
            accounts=self.accounts,
            host=self.host,
            operators=self.operators,
            merchants=self.merchants,
        )

    def payload(self, event: str, **overrides: Any) -> dict[str, Any]:
        """The payload ``event`` needs in this world, with ``overrides`` merged in."""
        return {**HAPPY_PAYLOADS.get(event, {}), **overrides}

    def ctx(self, payload: Mapping[str, Any] | None = None, **values: Any) -> Context:
        """A context for one event in this world (its ports, policy and clock)."""
        return Context(
            {**(payload or {}), **values}, clock=self.clock, ports=self.ports, policy=self.policy
        )

    def context_for(self, event: str, **overrides: Any) -> Context:
        """The context ``event`` is fired in: its happy payload, overridden by ``overrides``."""
        return self.ctx(self.payload(event, **overrides))

    def new_terminal(self, **data: Any) -> Terminal:
        """A fresh application for the world's merchant (``data`` merged in)."""
        return self.lifecycle.new_terminal(self.terminal_id, {"merchant": self.merchant, **data})

    def prepare(self, terminal: Terminal, event: str) -> None:
        """Make the world ready for ``event``: a reapplication waits out the cooling-off."""
        if event == "reapply" and terminal.state in self.lifecycle.sources_of("reapply"):
            self.clock.advance(days=self.policy.cooling_off_days + 1)

    def fire(self, terminal: Terminal, event: str, **payload: Any) -> Outcome:
        """Fire ``event`` with its happy payload, overridden by ``payload``."""
        return self.lifecycle.fire(terminal, event, self.context_for(event, **payload))

    def check(self, terminal: Terminal, event: str, **payload: Any) -> Verdict:
        """Check ``event`` with its happy payload, overridden by ``payload``."""
        return self.lifecycle.check(terminal, event, self.context_for(event, **payload))

    def path_to(self, state: str, start: str | None = None) -> tuple[str, ...]:
        """The shortest sequence of events leading from ``start`` (initial) to ``state``.

        Raises:
            InvalidInput: when ``state`` is not declared or cannot be reached.
        """
        return shortest_path(self.lifecycle, start or self.lifecycle.initial, state)

    def walk_to(self, state: str, terminal: Terminal | None = None) -> Terminal:
        """Walk a terminal (a fresh one unless given) to ``state`` along the shortest path.

        Raises:
            TransitionBlocked: when a step is refused (the world was spoiled).
        """
        t = terminal or self.new_terminal()
        for event in self.path_to(state, t.state):
            self.prepare(t, event)
            t = self.fire(t, event).raise_for_blocked().terminal
        return t


def shortest_path(lifecycle: Lifecycle, start: str, goal: str) -> tuple[str, ...]:
    """The fewest events leading from ``start`` to ``goal`` in ``lifecycle`` (guards ignored).

    Raises:
        InvalidInput: when either state is not declared, or ``goal`` cannot be reached.
    """
    for name, state in (("start", start), ("goal", goal)):
        if state not in lifecycle.states:
            raise InvalidInput(f"{state!r} is not a state of {lifecycle.name!r}", field=name)
    paths: dict[str, tuple[str, ...]] = {start: ()}
    frontier = [start]
    while frontier and goal not in paths:
        following: list[str] = []
        for state in frontier:
            for event in lifecycle.allowed_events(state):
                dest = destination(lifecycle, state, event)
                if dest not in paths:
                    paths[dest] = (*paths[state], event)
                    following.append(dest)
        frontier = following
    if goal not in paths:
        raise InvalidInput(f"{goal!r} cannot be reached from {start!r}", field="goal")
    return paths[goal]


def destination(lifecycle: Lifecycle, state: str, event: str) -> str:
    """Where ``event`` leads from ``state`` (the transition's destination, guards ignored).

    Raises:
        InvalidInput: when ``event`` has no transition from ``state``.
    """
    dest = lifecycle.check(Terminal("T-probe", state), event, _NO_PAYLOAD).dest
    if dest is None:
        raise InvalidInput(f"{event!r} has no transition from {state!r}", field="event")
    return dest


_NO_PAYLOAD: Final = Context()
