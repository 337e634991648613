"""Throwaway PostgreSQL databases for tests that need one of their own (control store, sync).

Skips with the reason when no server answers, except where PostgreSQL is required (CI=true or
REQUIRE_POSTGRES=1): there a missing server fails the test instead."""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.pgcheck import postgres_unreachable_reason

SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/techgoods")


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def require_postgres() -> None:
    reason = postgres_unreachable_reason(SERVER_URL)
    if reason is None:
        return
    if os.environ.get("CI") == "true" or os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here but {reason}")
    pytest.skip(f"needs PostgreSQL: {reason}")


@pytest.fixture
def postgres_database():
    """A fresh, empty PostgreSQL database URL, dropped afterwards."""
    require_postgres()
    import psycopg

    name = f"strangler_test_{uuid.uuid4().hex[:10]}"
    admin = _with_db(SERVER_URL, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(SERVER_URL, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
