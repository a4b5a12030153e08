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

from pg_support import PG_URL, require_postgres

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "dev",
    max_examples=100,
    deadline=None,
    # a loaded developer machine must not fail a run for slow data generation
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL; skips (fails with ``CI=true``) when the server is unreachable."""
    return require_postgres(PG_URL, ci=os.environ.get("CI") == "true")


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
