"""Fixtures of the parity suite: the seeded monolith in-process, the callers' credentials per role, and the
extracted services holding the same data."""

import io
from collections.abc import Callable
from contextlib import ExitStack

import httpx
import pytest

from tests.parity.seed_extras import add_parity_extras

# The role names of a corpus (strangler parity export --role-token ROLE=...) -> the seeded user who plays it.
ROLE_USERS = {"staff": "admin", "customer": "customer"}
# A role whose credential the monolith rejects (401 "Invalid token."): the router answers with that.
INVALID_TOKEN_ROLE = "invalid-token"
INVALID_TOKEN = "Token 0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def seeded_monolith(django_db_setup, django_db_blocker):
    """The test database seeded with `seed --size small` plus tests/parity/seed_extras.py, inside a
    transaction rolled back after the module.

    Yields {role: Authorization header value}. Rolling back keeps the seed out of every other test. Only
    tests marked `django_db` may use it: pytest-django creates the test database for those alone.
    Django's own test client does what is done here around its requests: `close_old_connections` would
    close the connection (and lose the open transaction) at the start of each request.
    """
    from django.core import signals
    from django.core.management import call_command
    from django.db import close_old_connections, connection, transaction
    from rest_framework.authtoken.models import Token

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            call_command("seed", "--size", "small", "--no-progress", stdout=io.StringIO())
            add_parity_extras()
            # Fire the seed's deferred foreign-key checks now, in the outer transaction: otherwise every
            # test's end-of-test constraint check (inside its rolled-back savepoint) fires all of them
            # again on PostgreSQL, ~0.4 s per test.
            connection.check_constraints()
            roles = {role: f"Token {Token.objects.get(user__username=user).key}" for role, user in ROLE_USERS.items()}
            yield roles | {INVALID_TOKEN_ROLE: INVALID_TOKEN}
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def legacy_client(seeded_monolith):
    """An httpx client for the monolith, in-process through its WSGI application."""
    from django.core.wsgi import get_wsgi_application

    from tests.parity.router_emulation import ServerLikeWSGITransport

    transport = ServerLikeWSGITransport(app=get_wsgi_application())
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="module")
def extracted_sides(seeded_monolith) -> Callable[[str], object]:
    """group -> the extracted service's app over its own database, backfilled from the seeded monolith
    (built on first use, torn down after the module); None for a group with no service yet."""
    from tests.parity.legacy_source import legacy_source
    from tests.parity.sides import extracted_side

    with ExitStack() as stack:
        built: dict[str, object] = {}

        def app_for(group: str):
            side = extracted_side(group)
            if side is None:
                return None
            if group not in built:
                source = stack.enter_context(legacy_source())
                built[group] = stack.enter_context(side(source))
            return built[group]

        yield app_for
