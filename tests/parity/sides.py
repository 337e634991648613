"""The extracted side of each route group in the parity suite: group -> a factory of its ASGI app.

The corpus test (test_corpus.py) sends every corpus request to the monolith and, for the group whose
route owns it, to the app built by the factory registered here, in-process through httpx's
ASGITransport, and compares the two answers with the route's parity rules from strangler.yaml.
A group with no factory yet has its requests skipped, saying so; registering one is how an
extracted service joins the suite, e.g.::

    SIDES = {"inventory": lambda: create_app(settings_for_tests())}

A factory returns an app ready to answer (ASGITransport does not run lifespan events), whose data
matches the monolith's seeded test database, and which accepts the requests as the router forwards
them (identity from the caller's token).
"""

from collections.abc import Callable
from typing import Any

ASGIApp = Callable[..., Any]

SIDES: dict[str, Callable[[], ASGIApp]] = {}


def extracted_app_factory(group: str) -> Callable[[], ASGIApp] | None:
    """The factory registered for a group, or None while its service is not extracted."""
    return SIDES.get(group)
