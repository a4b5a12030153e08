"""The context an event is decided in: payload, actor, time, ports and policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

import attrs

from posflow._mask import redact
from posflow._terminal import data_dict, mapping_copy
from posflow.errors import InvalidInput
from posflow.policy import Policy, default_policy
from posflow.ports import Clock, FrozenClock, Ports, SystemClock
from posflow.ports._clock import aware
from posflow.ports._container import picklable

__all__ = ["Context"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_SYSTEM_CLOCK = SystemClock()


# A context is built per event in bulk work: each check below is a class compare or
# an isinstance on the common path, and says what is wrong only when it fails.


def _payload(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return _EMPTY
    fresh = mapping_copy(value, "payload")
    return MappingProxyType(fresh) if fresh else _EMPTY


def _refuse_clock(clock: object) -> None:
    """Raise unless ``clock`` has a ``now()`` (see :class:`~posflow.ports.Clock`).

    ``isinstance(clock, Clock)`` would say the same, at the price of a
    runtime-checkable protocol's check (microseconds).
    """
    if not callable(getattr(clock, "now", None)):
        raise InvalidInput(
            f"must be a Clock (an object with a now() method), got {type(clock).__name__}",
            field="clock",
        )


def _payload_repr(value: Mapping[str, Any]) -> str:
    return repr(redact(value))


def _refuse_ports(ports: object) -> None:
    raise InvalidInput(
        f"must be posflow Ports (or None), got {type(ports).__name__}", field="ports"
    )


def _policy(value: Any) -> Policy:
    """A :class:`~posflow.Policy` as given, one validated from a mapping, or the default."""
    if isinstance(value, Policy):
        return value
    if value is None:  # as Context(policy=None) takes it (an attrs subclass converts here)
        return default_policy()
    if isinstance(value, Mapping):
        return Policy.from_dict(value)
    raise InvalidInput(
        f"must be a posflow Policy or a mapping, got {type(value).__name__}", field="policy"
    )


class _ContextSlots:
    """The storage of a :class:`Context`, without attrs' frozen ``__setattr__``.

    As for terminals (see ``posflow._terminal._TerminalSlots``): ``Context(...)``
    fills a bare ``_ContextSlots`` with plain attribute stores and then gives it
    the ``Context`` class, which shares this layout. attrs' frozen ``__init__``
    would set each field through a bound ``object.__setattr__``, which cost about
    twice as much as everything else a context's construction does.
    """

    __slots__ = (
        "__weakref__",
        "_frozen",
        "_system_time",
        "actor",
        "at",
        "clock",
        "payload",
        "policy",
        "ports",
    )

    # Not a field of Context: whether now() is the system clock's reading (no fixed
    # time, the system clock, exactly the Context class), so that Lifecycle.fire reads
    # time.time_ns() itself. It is derived from the fields, so it is declared here,
    # where attrs does not look: not in attrs.fields, asdict, repr, ==, evolve or a
    # pickle. Every way of making a context sets it (Context.__new__, _subclass_new,
    # __attrs_post_init__, and unpickling).
    _system_time: bool
    # Likewise: the FrozenClock whose time now() is (no fixed time, exactly a FrozenClock,
    # exactly the Context class), else None, so that Lifecycle.fire reads its time
    # without the two calls now() makes
    _frozen: FrozenClock | None


_new_slots = _ContextSlots


@attrs.frozen(slots=True, init=False)
class Context(_ContextSlots):
    """Everything a decision may look at besides the terminal itself.

    A context is cheap to build; make one per event (the payload differs) or
    share one across events that carry no payload.

    Attributes:
        payload: the event's data (amount, operator, document ids, ...). Masked in reprs
            and in history.
        actor: who asked for the event: a user, an operator, a system.
        clock: where "now" comes from; a frozen clock makes tests deterministic.
        ports: the outside systems guards may consult; ``None`` (the default) gives
            each context empty in-memory ports of its own.
        policy: the acquirer's rules as data (limits, cooling-off, ...); a mapping is
            validated into a :class:`~posflow.Policy` (``InvalidPolicy`` if it is not one);
            ``None`` (the default) is :func:`~posflow.policy.default_policy`.
        at: a fixed time for the event; when ``None`` the clock is asked. A naive
            datetime is taken as UTC, as :class:`~posflow.FrozenClock` takes one, so
            that it compares with the clocks' times (which are UTC).

    A subclass (one that overrides :meth:`now`, say) takes the same arguments; an
    attrs subclass may add fields of its own.

    A context pickles, for handing to another process, as long as its ports and
    clock do (posflow's own always do). The copy is of the same class, with the
    same payload, actor, time and policy and copies of the clock and ports; it
    carries the payload as it is, secrets included (unlike an outcome's history
    record, which is masked). A port or clock that cannot go (one holding a lock or
    a connection) raises :class:`pickle.PicklingError` naming it.

    Raises:
        InvalidInput: naming ``payload`` (not a mapping), ``clock`` (nothing with a
            ``now()``), ``ports`` (not a :class:`~posflow.Ports`), ``policy`` or ``at``
            (not a datetime), when it is built rather than when a guard first reads it.
    """

    # the fields, for comparison, repr and attrs.evolve; __new__ sets them (and is the
    # constructor's signature), with the converters and checks an attrs subclass's own
    # __init__ would run too
    payload: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_payload, repr=_payload_repr)
    actor: str = "system"
    clock: Clock = _SYSTEM_CLOCK
    ports: Ports = attrs.field(factory=Ports)
    policy: Policy = attrs.field(factory=default_policy, converter=_policy, repr=False)
    at: dt.datetime | None = None

    def __new__(
        cls,
        payload: Mapping[str, Any] | None = None,
        actor: str = "system",
        clock: Clock = _SYSTEM_CLOCK,
        ports: Ports | None = None,
        policy: Policy | Mapping[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> Context:
        # each check is a class compare on the common path: contexts are built per
        # event in bulk work, and say what is wrong only when one fails
        payload = _EMPTY if payload is None or payload is _EMPTY else _payload(payload)
        if clock.__class__ is not SystemClock and clock.__class__ is not FrozenClock:
            _refuse_clock(clock)
        if ports is None:
            ports = Ports()
        elif ports.__class__ is not Ports and not isinstance(ports, Ports):
            _refuse_ports(ports)
        if policy is None:
            policy = default_policy()
        elif policy.__class__ is not Policy:
            policy = _policy(policy)
        if at is not None and (at.__class__ is not dt.datetime or at.tzinfo is None):
            at = aware(at, "at")  # naive: UTC, as FrozenClock
        if cls is Context:
            new: Any = _new_slots()
            new.payload = payload
            new.actor = actor
            new.clock = clock
            new.ports = ports
            new.policy = policy
            new.at = at
            new._system_time = at is None and clock.__class__ is SystemClock
            new._frozen = clock if at is None and clock.__class__ is FrozenClock else None
            new.__class__ = Context
            return cast(Context, new)
        # a subclass's own __new__ calling this one: as its class's would have
        return _subclass_new(cls, payload, actor, clock, ports, policy, at)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give a subclass a ``__new__`` that takes any arguments (see ``_subclass_new``).

        ``Context.__new__`` takes exactly the six fields, and Python passes a
        subclass's arguments to ``__new__`` as well as to ``__init__``: an attrs
        subclass's own fields (``Sub(extra=1)``, ``attrs.evolve``) would be refused
        there, as they were not when attrs' ``__init__`` built every context.
        """
        super().__init_subclass__(**kwargs)
        if cls.__new__ is Context.__new__:
            type.__setattr__(cls, "__new__", staticmethod(_subclass_new))

    def __attrs_post_init__(self) -> None:
        """The checks for an attrs subclass's own ``__init__`` (``Context`` itself has none).

        attrs' ``__init__`` takes ``None`` for ports as given: it gets the default
        here, as it does from ``Context(ports=None)``.
        """
        clock = self.clock
        if clock.__class__ is not SystemClock and clock.__class__ is not FrozenClock:
            _refuse_clock(clock)
        ports = self.ports
        if ports is None:
            object.__setattr__(self, "ports", Ports())
        elif not isinstance(ports, Ports):
            _refuse_ports(ports)
        at = self.at
        if at is not None and (at.__class__ is not dt.datetime or at.tzinfo is None):
            object.__setattr__(self, "at", aware(at, "at"))
        object.__setattr__(self, "_system_time", False)
        object.__setattr__(self, "_frozen", None)

    def __reduce__(self) -> tuple[Any, ...]:
        # the payload's read-only view cannot be pickled: a plain dict goes instead. The
        # copy is made without a constructor (see _context_of), as attrs' own pickling
        # would, so a subclass with an __init__ of its own pickles too
        fields = _fields_of(self)
        fields["payload"] = data_dict(self.payload)
        clock = fields["clock"]
        if clock.__class__ is not SystemClock and clock.__class__ is not FrozenClock:
            picklable("clock", clock)  # a failure names the clock (ports check their own)
        return (_context_of, (self.__class__, fields, _instance_dict(self)))

    def __copy__(self) -> Context:
        # without this, copy.copy would take the pickling path above and its checks
        return _context_of(self.__class__, _fields_of(self), _instance_dict(self))

    def now(self) -> dt.datetime:
        """The time of this event: ``at`` when given, else the clock's now."""
        return self.at if self.at is not None else self.clock.now()

    def with_payload(self, payload: Mapping[str, Any] | None = None, /, **values: Any) -> Context:
        """Return a copy carrying another payload (the rest is shared)."""
        merged = {**(payload or {}), **values}
        return Context(merged, self.actor, self.clock, self.ports, self.policy, self.at)


def _fields_of(ctx: Context) -> dict[str, Any]:
    """Every attrs field of ``ctx`` (a subclass's own too), by name."""
    return {f.name: getattr(ctx, f.name) for f in attrs.fields(ctx.__class__)}


def _instance_dict(ctx: Context) -> dict[str, Any] | None:
    """What a subclass without ``__slots__`` keeps in its instance ``__dict__``, if anything."""
    return dict(getattr(ctx, "__dict__", None) or {}) or None


def _context_of(
    cls: type[Context], fields: dict[str, Any], extra: dict[str, Any] | None
) -> Context:
    """A context of class ``cls`` with ``fields``: a pickled or copied one, made again.

    The fields were checked when the original was made, so they are set as they
    are, without a constructor; only the payload is made read-only again, and
    whether ``now()`` is the system clock's reading is worked out again, as
    ``Context.__new__`` works it out.
    """
    made = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(made, name, value)
    payload = fields["payload"]
    if payload.__class__ is not MappingProxyType:
        object.__setattr__(made, "payload", MappingProxyType(payload) if payload else _EMPTY)
    own = cls is Context and made.at is None
    clock = made.clock
    object.__setattr__(made, "_system_time", own and clock.__class__ is SystemClock)
    object.__setattr__(made, "_frozen", clock if own and clock.__class__ is FrozenClock else None)
    if extra:
        made.__dict__.update(extra)
    return made


def _subclass_new(cls: type[Context], *args: Any, **kwargs: Any) -> Context:
    """A subclass's ``__new__`` (see ``Context.__init_subclass__``).

    A subclass with an ``__init__`` (an attrs subclass's, say) sets the fields in
    it; one without is given them here, checked as ``Context(...)`` checks them.
    A subclass may override :meth:`Context.now`, so its time is never taken for
    the system clock's.
    """
    made = object.__new__(cls)
    object.__setattr__(made, "_system_time", False)
    object.__setattr__(made, "_frozen", None)
    if cls.__init__ is object.__init__:
        fields = Context(*args, **kwargs)
        for name in ("payload", "actor", "clock", "ports", "policy", "at"):
            object.__setattr__(made, name, getattr(fields, name))
    return made
