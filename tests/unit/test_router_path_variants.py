"""No spelling of a routed URL stays on legacy: every path variant the monolith's URLconf resolves to the
view of a shipped route (DRF format suffixes, percent-encodings) the router matches to that route, and
every variant the monolith does not resolve to it (no trailing slash, '//', case, dot segments, double
encoding) the router does not match to it either. After a handover no write of the group is reachable
on legacy through the router by another spelling of its URL."""

from pathlib import Path

import pytest

from router.config import load_config
from router.matching import RouteTable
from tests.support.path_variants import django_match, example_path, renderer_formats, router_path, spellings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "strangler.yaml", environ={})
TABLE = RouteTable(CONFIG.routes)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# The formats the monolith renders, and formats it has no renderer for: Django resolves those too (DRF then
# answers 404 from inside the view), so they must not reach legacy either.
FORMATS = (*renderer_formats(), "xml", "openapi", "2")


def test_the_monolith_renders_json_and_its_browsable_api():
    assert set(renderer_formats()) == {"json", "api"}


@pytest.mark.parametrize("route", CONFIG.group_routes("inventory"), ids=lambda r: r.name)
def test_every_spelling_django_resolves_to_the_routes_view_is_matched_to_the_route_and_no_other(route):
    canonical = example_path(route.path)
    view = django_match(canonical)
    assert view is not None, canonical
    resolved = []
    for target in spellings(canonical, FORMATS):
        match = django_match(target)
        same_view = match is not None and match.func is view.func
        for method in sorted(route.methods):
            found = TABLE.match(method, router_path(target))
            if same_view:
                assert found is not None and found.route == route, (method, target, match.kwargs)
            elif found is not None and found.route == route:
                # Only a lookup value with a '.', which `{id}` takes and DRF's `[^/.]+` lookup does not: a
                # 404 on both sides (the service answers Django's 404 page), never another view.
                assert match is None and any("." in value for value in found.params.values()), (method, target)
        if same_view:
            resolved.append(target)

    base = canonical.rstrip("/")
    assert {f"{base}.json", f"{base}.json/", f"{base}.api", f"{base}.xml/"} <= set(resolved)
    assert any("%" in target for target in resolved)
    assert base not in resolved and canonical.upper() not in resolved


def test_the_group_has_write_routes_so_the_proof_covers_writes():
    writes = {r.name for r in CONFIG.group_routes("inventory") if r.methods & UNSAFE}

    assert writes == {"inventory.warehouses.create", "inventory.warehouses.update", "inventory.adjustments.create"}
