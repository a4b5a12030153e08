"""Finding the PostgreSQL server the tests use, and what to do when it is not there."""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("POSFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server the tests use (``POSFLOW_TEST_PG_URL`` overrides it)."""


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or ``None`` when it answers."""
    import psycopg
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(url)
    try:
        with psycopg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password or None,
            dbname=parsed.database or "postgres",
            connect_timeout=5,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    return None


def require_postgres(url: str, *, ci: bool) -> str:
    """``url`` when PostgreSQL answers there; else skip the test, or fail it in CI."""
    problem = postgres_problem(url)
    if problem is not None:
        message = f"PostgreSQL at {url} is unreachable: {problem}"
        if ci:
            pytest.fail(f"{message} (CI=true: PostgreSQL tests are mandatory)")
        pytest.skip(message)
    return url
