"""The PostgreSQL probe of bin/run-tests says why a server is not usable, without its password."""

import psycopg
import pytest

from tests.support.pgcheck import postgres_unreachable_reason

URL = "postgresql://app:s3cret-pw@127.0.0.1:1/techgoods"


def test_an_error_quoting_the_url_is_reported_without_the_password(monkeypatch):
    def connect(conninfo, **kwargs):  # as psycopg words a URI it cannot parse
        raise psycopg.ProgrammingError(f'end of string reached in URI: "{conninfo}"')

    monkeypatch.setattr(psycopg, "connect", connect)
    reason = postgres_unreachable_reason(URL)

    assert reason is not None and "s3cret-pw" not in reason
    assert "postgresql://app:***@127.0.0.1:1/postgres" in reason


@pytest.mark.parametrize("url", ["postgresql://app:s3cret-pw@[::1/techgoods", "postgresql://app:s3cret-pw@h:port/x"])
def test_a_url_that_cannot_be_split_is_a_reason_not_a_traceback(url):
    reason = postgres_unreachable_reason(url)

    assert reason is not None and "s3cret-pw" not in reason and "app:***@" in reason
