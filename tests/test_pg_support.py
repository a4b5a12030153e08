"""PostgreSQL tests skip locally when the server is away, and fail in CI."""

from __future__ import annotations

import pytest

from pg_support import require_postgres

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def test_an_unreachable_server_skips_locally() -> None:
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        require_postgres(NOWHERE, ci=False)


def test_an_unreachable_server_fails_in_ci() -> None:
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_postgres(NOWHERE, ci=True)


@pytest.mark.postgres
def test_a_reachable_server_is_used(postgres_url: str) -> None:
    assert require_postgres(postgres_url, ci=True) == postgres_url
