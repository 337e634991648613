"""Exit 0 when the PostgreSQL server of a database URL answers, else print why and exit 1.

Used by bin/run-tests and the test helpers to decide whether the PostgreSQL tests can run.
"""

import sys
from urllib.parse import urlsplit, urlunsplit

from router.masking import mask_secrets, mask_url


def postgres_unreachable_reason(url: str) -> str | None:
    """None when the server answers (connecting to its `postgres` maintenance database), else why not."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a pinned dependency
        return f"psycopg is not installed ({exc})"
    try:
        parts = urlsplit(url)
        host = f"{parts.hostname}:{parts.port or 5432}"
    except ValueError as exc:  # a broken IPv6 address, a port that is not a number
        return f"not a database URL: {mask_url(url)} ({exc})"
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    try:
        psycopg.connect(maintenance, connect_timeout=3).close()
    except Exception as exc:  # any failure means "not usable here"; say which
        # psycopg quotes a URL it cannot parse, password included.
        detail = mask_secrets(str(exc).strip()) or "no detail"
        return f"no PostgreSQL at {host} ({type(exc).__name__}: {detail})"
    return None


if __name__ == "__main__":
    why = postgres_unreachable_reason(sys.argv[1])
    if why:
        print(why)
        sys.exit(1)
