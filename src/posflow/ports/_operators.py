"""The operator directory port: who may sign a terminal in and out (操作员)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from typing import Final, Protocol, runtime_checkable

from posflow.errors import InvalidInput
from posflow.ports._checks import as_text

__all__ = ["InMemoryOperatorDirectory", "OperatorCheck", "OperatorDirectory"]


class OperatorCheck(enum.StrEnum):
    """The answer to "may this operator, with this password, act on this terminal?"."""

    OK = "ok"
    """The operator is registered for the terminal and the password is right."""
    UNKNOWN_OPERATOR = "unknown_operator"
    """No such operator (teller number) for this terminal."""
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an answer code, not a password
    """The operator exists but the password is wrong."""


@runtime_checkable
class OperatorDirectory(Protocol):
    """Operators per terminal and their credentials; it verifies, it never reveals."""

    def verify(self, terminal_id: str, operator: str, password: str) -> OperatorCheck:
        """Check ``operator``'s ``password`` for ``terminal_id``."""
        ...


_SALT_BYTES: Final = 16
_KEY_BYTES: Final = 32
_R: Final = 8
_P: Final = 1
DEFAULT_COST: Final = 2**14
"""scrypt's CPU/memory cost ``n`` (about 16 MiB of memory per check)."""


class _Credential:
    __slots__ = ("cost", "digest", "salt")

    def __init__(self, salt: bytes, cost: int, digest: bytes) -> None:
        self.salt = salt
        self.cost = cost
        self.digest = digest

    def __repr__(self) -> str:
        return "<credential>"


def _hash(password: str, salt: bytes, cost: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=cost,
        r=_R,
        p=_P,
        maxmem=128 * _R * (cost + _P + 2) + (1 << 20),
        dklen=_KEY_BYTES,
    )


class InMemoryOperatorDirectory:
    """Operators kept in memory, passwords only as salted scrypt hashes.

    A password is hashed with a fresh random salt when it is set and never kept;
    checks compare hashes in constant time, and an unknown operator costs the
    same hash as a known one so that timing does not tell which operators exist.

    Args:
        cost: scrypt's work factor ``n`` (a power of two). Keep the default in
            production; tests may lower it to stay fast.
    """

    __slots__ = ("_cost", "_dummy", "_operators")

    def __init__(self, *, cost: int = DEFAULT_COST) -> None:
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 2 or cost & (cost - 1):
            raise InvalidInput("must be a power of two of at least 2", field="cost")
        self._cost = cost
        self._operators: dict[tuple[str, str], _Credential] = {}
        self._dummy: _Credential | None = None

    def add(self, terminal_id: str, operator: str, password: str) -> None:
        """Register ``operator`` for ``terminal_id`` with ``password`` (replacing an old one)."""
        key = (as_text(terminal_id, "terminal_id"), as_text(operator, "operator"))
        if not isinstance(password, str) or not password:
            raise InvalidInput("must be a non-empty string", field="password")
        salt = os.urandom(_SALT_BYTES)
        self._operators[key] = _Credential(salt, self._cost, _hash(password, salt, self._cost))

    def remove(self, terminal_id: str, operator: str) -> None:
        """Remove ``operator`` from ``terminal_id``."""
        self._operators.pop((terminal_id, operator), None)

    def operators(self, terminal_id: str) -> tuple[str, ...]:
        """The operator numbers registered for ``terminal_id``."""
        return tuple(sorted(op for tid, op in self._operators if tid == terminal_id))

    def verify(self, terminal_id: str, operator: str, password: str) -> OperatorCheck:
        """Check ``operator``'s ``password`` for ``terminal_id``, in constant time."""
        credential = self._operators.get((terminal_id, operator))
        known = credential is not None
        if credential is None:
            credential = self._dummy_credential()
        given = _hash(str(password), credential.salt, credential.cost)
        matches = hmac.compare_digest(given, credential.digest)
        if not known:
            return OperatorCheck.UNKNOWN_OPERATOR
        return OperatorCheck.OK if matches else OperatorCheck.WRONG_PASSWORD

    def _dummy_credential(self) -> _Credential:
        if self._dummy is None:
            salt = os.urandom(_SALT_BYTES)
            self._dummy = _Credential(
                salt, self._cost, _hash(os.urandom(8).hex(), salt, self._cost)
            )
        return self._dummy

    def __repr__(self) -> str:
        return f"InMemoryOperatorDirectory({len(self._operators)} operators)"
