"""Shared test configuration: hypothesis profiles (bounded in CI) and database fixtures.

PostgreSQL tests use the server at ``POSFLOW_TEST_PG_URL`` (default: the local
server, user postgres, database test). When it cannot be reached they skip, except
with ``CI=true``, where an unreachable server fails them: CI must test it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

PG_URL = os.environ.get("POSFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server the tests use."""

STORE_KINDS = ("memory", "sqlite", "postgresql")


def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` when it answers."""
    try:
        import psycopg
        import sqlalchemy
    except ImportError as exc:  # pragma: no cover - the dev extra installs both
        return f"driver missing: {exc}"
    url = sqlalchemy.engine.make_url(PG_URL)
    try:
        with psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or None,
            dbname=url.database or "postgres",
            connect_timeout=5,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL; skips (fails with ``CI=true``) when the server is unreachable."""
    problem = _postgres_problem()
    if problem is not None:
        message = f"PostgreSQL at {PG_URL} is unreachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: PostgreSQL tests are mandatory)")
        pytest.skip(message)
    return PG_URL


@pytest.fixture(scope="module")
def pg_schema(postgres_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL schema name of this test module's own, dropped afterwards."""
    from posflow.store import SQLStore

    module = re.sub(r"[^a-z0-9]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    name = f"t_{module[:30]}_{uuid.uuid4().hex[:8]}"
    yield name
    store = SQLStore(postgres_url, schema=name)
    try:
        store.drop_schema()
    finally:
        store.close()


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """A fresh, empty store of ``kind`` (memory, sqlite or postgresql) with its schema."""
    from posflow.store import MemoryStore, SQLStore

    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        store = SQLStore(f"sqlite:///{tmp_path / 'posflow.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        store = SQLStore(url, schema=request.getfixturevalue("pg_schema"))
        store.drop_schema()  # fresh tables for every test of the module
    store.create_schema()
    return store


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh store of each kind: memory, SQLite file, PostgreSQL schema."""
    made = make_store(request.param, request, tmp_path)
    yield made
    made.close()  # type: ignore[attr-defined]


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh SQL store: SQLite file and PostgreSQL schema."""
    made = make_store(request.param, request, tmp_path)
    yield made
    made.close()  # type: ignore[attr-defined]


@pytest.fixture(
    params=[pytest.param("memory"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def concurrent_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh store that lets a second writer commit while a first one is deciding."""
    made = make_store(request.param, request, tmp_path)
    yield made
    made.close()  # type: ignore[attr-defined]
