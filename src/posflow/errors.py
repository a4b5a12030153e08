"""Every exception posflow raises, in one tree.

A refused transition is *not* an exception: it is an :class:`~posflow.Outcome`
whose ``ok`` is false. Callers who prefer exceptions call
``outcome.raise_for_blocked()``, which raises :class:`TransitionBlocked`.

The tree::

    PosflowError
    ├── DefinitionError                  (raised while a lifecycle is built or loaded)
    │   ├── InvalidDefinition (ValueError)   every problem of a definition, with locations
    │   ├── UnknownGuard (LookupError)       a guard name no registry knows
    │   └── InvalidPolicy (ValueError)       a policy document that does not validate
    └── RuntimeFailure                   (raised while terminals are driven)
        ├── TransitionBlocked                a refusal turned into an exception
        ├── InvalidInput (ValueError)        a malformed terminal, context or payload
        ├── UnknownReasonCode (LookupError)  a reason code missing from the catalogue
        ├── PortUnavailable                  a port that failed; guards turn it into a reason
        ├── ReplayError (ValueError)         a history the lifecycle could not have produced
        ├── StoreError                       persistence failures
        │   ├── TerminalNotFound (LookupError)
        │   ├── TerminalExists (ValueError)
        │   ├── ConcurrencyConflict          a lost optimistic-concurrency race
        │   ├── CorruptRecord (ValueError)   a stored row or a database file that cannot be
        │   │                                read back; retrying cannot help
        │   ├── SchemaMismatch               no schema, or one this version does not know
        │   └── StoreUnavailable             a database that cannot be reached or named
        └── (more are added by later modules, always under this root)

Structured fields (``terminal_id``, ``event``, ``state``, ``reasons``) are
keyword-only so that handlers can act on them without parsing messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from posflow._reasons import Reason

__all__ = [
    "ConcurrencyConflict",
    "CorruptRecord",
    "DefinitionError",
    "DefinitionProblem",
    "InvalidDefinition",
    "InvalidInput",
    "InvalidPolicy",
    "PortUnavailable",
    "PosflowError",
    "ReplayError",
    "RuntimeFailure",
    "SchemaMismatch",
    "StoreError",
    "StoreUnavailable",
    "TerminalExists",
    "TerminalNotFound",
    "TransitionBlocked",
    "UnknownGuard",
    "UnknownReasonCode",
]


class PosflowError(Exception):
    """Root of every exception raised by posflow."""


class DefinitionError(PosflowError):
    """A lifecycle, guard set or policy could not be built from what was given."""


class DefinitionProblem:
    """One problem found in a definition, with where it is.

    Attributes:
        where: a dotted location such as ``transitions[3].dest`` or ``states``.
        message: what is wrong there, in one sentence.
        kind: a short machine-readable tag such as ``unknown_state``.
    """

    __slots__ = ("kind", "message", "where")

    def __init__(self, where: str, message: str, kind: str) -> None:
        self.where = where
        self.message = message
        self.kind = kind

    def __repr__(self) -> str:
        return f"DefinitionProblem({self.kind!r} at {self.where!r}: {self.message!r})"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DefinitionProblem):
            return NotImplemented
        return (self.where, self.message, self.kind) == (other.where, other.message, other.kind)

    def __hash__(self) -> int:
        return hash((self.where, self.message, self.kind))


class InvalidDefinition(DefinitionError, ValueError):
    """A lifecycle definition has one or more problems; all are listed.

    Attributes:
        problems: every problem found, each with its location.
    """

    def __init__(self, problems: Sequence[DefinitionProblem], *, source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"invalid lifecycle definition{f' in {source}' if source else ''}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head} ({len(self.problems)} problem(s)):\n{lines}")

    @property
    def kinds(self) -> frozenset[str]:
        """The set of problem kinds, convenient for assertions and dispatch."""
        return frozenset(p.kind for p in self.problems)


class UnknownGuard(DefinitionError, LookupError):
    """A guard was named that no registry knows."""

    def __init__(self, name: str, *, known: Sequence[str] = ()) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown guard {name!r}")


class InvalidPolicy(DefinitionError, ValueError):
    """A policy document failed validation; ``problems`` names each field."""

    def __init__(self, problems: Sequence[DefinitionProblem], *, source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        where = f" in {source}" if source else ""
        super().__init__(f"invalid policy{where} ({len(self.problems)} problem(s)):\n{lines}")


class RuntimeFailure(PosflowError):
    """Something went wrong while terminals were being driven."""


class TransitionBlocked(RuntimeFailure):
    """A transition was refused; raised only by ``Outcome.raise_for_blocked()``.

    Attributes:
        terminal_id: the terminal that stayed where it was.
        event: the event that was refused.
        state: the state the terminal is (still) in.
        reasons: every reason for the refusal.
    """

    def __init__(
        self, *, terminal_id: str, event: str, state: str, reasons: Sequence[Reason]
    ) -> None:
        self.terminal_id = terminal_id
        self.event = event
        self.state = state
        self.reasons = tuple(reasons)
        codes = ", ".join(r.code for r in self.reasons)
        super().__init__(f"{event!r} refused for terminal {terminal_id!r} in {state!r}: {codes}")


class InvalidInput(RuntimeFailure, ValueError):
    """A terminal, context, payload or document given to posflow is malformed.

    Attributes:
        field: the dotted name of the offending field, when one can be named.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class UnknownReasonCode(RuntimeFailure, LookupError):
    """A reason code was used that the catalogue does not define."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"reason code {code!r} is not in the catalogue")


class PortUnavailable(RuntimeFailure):
    """A port could not answer; the engine turns this into a ``port.unavailable`` reason.

    Attributes:
        port: the port's name, such as ``documents`` or ``host``.
    """

    def __init__(self, port: str, detail: str = "") -> None:
        self.port = port
        self.detail = detail
        super().__init__(f"port {port!r} unavailable{': ' + detail if detail else ''}")


class ReplayError(RuntimeFailure, ValueError):
    """A history record could not have been produced by the lifecycle.

    Attributes:
        index: the position of the offending record in the replayed sequence.
    """

    def __init__(self, message: str, *, index: int, terminal_id: str | None = None) -> None:
        self.index = index
        self.terminal_id = terminal_id
        super().__init__(f"record {index}: {message}")


class StoreError(RuntimeFailure):
    """A persistence operation failed."""


class TerminalNotFound(StoreError, LookupError):
    """No terminal with this id is stored."""

    def __init__(self, terminal_id: str) -> None:
        self.terminal_id = terminal_id
        super().__init__(f"no terminal with id {terminal_id!r}")


class TerminalExists(StoreError, ValueError):
    """A terminal with this id is already stored."""

    def __init__(self, terminal_id: str) -> None:
        self.terminal_id = terminal_id
        super().__init__(f"a terminal with id {terminal_id!r} already exists")


class ConcurrencyConflict(StoreError):
    """Another writer changed the terminal first; reload and try again.

    Attributes:
        terminal_id: the contested terminal.
        expected_version: the version this writer read.
    """

    def __init__(self, *, terminal_id: str, expected_version: int) -> None:
        self.terminal_id = terminal_id
        self.expected_version = expected_version
        super().__init__(
            f"terminal {terminal_id!r} changed after version {expected_version} was read"
        )


class CorruptRecord(StoreError, ValueError):
    """Stored data cannot be read back: a row, or the database file itself.

    A row that does not decode into a terminal or history record names its
    ``terminal_id``; a database file that is damaged or is not a database at all
    (SQLite's ``SQLITE_CORRUPT`` and ``SQLITE_NOTADB``, PostgreSQL's ``XX001`` and
    ``XX002``) has none. Either way retrying cannot help: the data must be
    repaired or restored, which is why this is not a :class:`StoreUnavailable`.
    """

    def __init__(self, message: str, *, terminal_id: str | None = None) -> None:
        self.terminal_id = terminal_id
        super().__init__(message)


class SchemaMismatch(StoreError):
    """The database schema version is not one this posflow knows how to use."""

    def __init__(self, *, found: int | None, expected: int) -> None:
        self.found = found
        self.expected = expected
        if found is None:
            message = (
                f"no posflow schema in the database (version {expected} expected); "
                "run `store.create_schema()` first"
            )
        elif found < expected:
            message = (
                f"database schema version {found} found, {expected} expected; "
                "run `store.upgrade_schema()` first"
            )
        else:
            message = f"database schema version {found} is newer than this posflow ({expected})"
        super().__init__(message)


class StoreUnavailable(StoreError):
    """The database could not be reached, or its URL or driver is not usable.

    Attributes:
        url: the database URL with any password hidden, when one was given.
    """

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(f"{message} ({url})" if url else message)
