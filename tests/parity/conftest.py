"""Fixtures of the parity suite: the seeded monolith in-process, and the callers' credentials per role."""

import io

import httpx
import pytest

# The role names of a corpus (strangler parity export --role-token ROLE=...) -> the seeded user who plays it.
ROLE_USERS = {"staff": "admin", "customer": "customer"}


@pytest.fixture(scope="module")
def seeded_monolith(django_db_setup, django_db_blocker):
    """The test database seeded with `seed --size small`, inside a transaction rolled back after the module.

    Yields {role: Authorization header value}. Rolling back keeps the seed out of every other test. Only
    tests marked `django_db` may use it: pytest-django creates the test database for those alone.
    Django's own test client does what is done here around its requests: `close_old_connections` would
    close the connection (and lose the open transaction) at the start of each request.
    """
    from django.core import signals
    from django.core.management import call_command
    from django.db import close_old_connections, transaction
    from rest_framework.authtoken.models import Token

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            call_command("seed", "--size", "small", "--no-progress", stdout=io.StringIO())
            yield {role: f"Token {Token.objects.get(user__username=user).key}" for role, user in ROLE_USERS.items()}
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def legacy_client(seeded_monolith):
    """An httpx client for the monolith, in-process through its WSGI application."""
    from django.core.wsgi import get_wsgi_application

    with httpx.Client(transport=httpx.WSGITransport(app=get_wsgi_application()), base_url="http://testserver") as client:
        yield client
