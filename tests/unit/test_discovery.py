"""Discovery (`strangler discover`): endpoints, couplings and extraction order, on the real monolith this
session runs (in-process) and on a small fake project (tests/fixtures/discovery_project, in a process of
its own since this one is set up with the monolith's settings); the pure parts on constructed values."""

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.urls import get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from typer.testing import CliRunner

from migration_plan.discovery import survey
from migration_plan.discovery.endpoints import Endpoint
from migration_plan.discovery.import_links import ImportLink
from migration_plan.discovery.model_links import ModelLink
from migration_plan.discovery.order import extraction_order
from migration_plan.discovery.patterns import convert, join
from migration_plan.discovery.route_drafts import draft_routes
from router.config import load_config, parse_config
from router.matching import pattern_shape
from strangler import exits
from strangler.cli import app as cli

ROOT = Path(__file__).resolve().parents[2]
FAKE_SETTINGS = "tests.fixtures.discovery_project.settings"
FAKE = "tests.fixtures.discovery_project"
runner = CliRunner()


# -- patterns: Django's pattern objects in strangler.yaml syntax ---------------------------------------------

@pytest.mark.parametrize("pattern, text, params", [
    (RegexPattern(r"^inventory/stock/(?P<sku>[^/]+)/$"), "inventory/stock/{sku}/", ("sku",)),
    (RegexPattern(r"^a/(?P<code>(?:[A-Z]{2})-\d+)/b\.c/$"), "a/{code}/b.c/", ("code",)),
    (RegexPattern(r"^x/(?P<odd>[)(]+)/$"), "x/{odd}/", ("odd",)),
    (RoutePattern("orders/<int:pk>/cancel/"), "orders/{pk}/cancel/", ("pk",)),
    (RoutePattern("api/"), "api/", ()),
])
def test_patterns_become_strangler_syntax(pattern, text, params):
    piece = convert(pattern)
    assert (piece.text, piece.params, piece.problems) == (text, params, ())


@pytest.mark.parametrize("pattern, problem", [
    (RegexPattern(r"^feed/?$"), "'?' outside a named group"),
    (RegexPattern(r"^year/\d+/$"), "\\d outside a named group"),
    (RoutePattern("files/<path:rest>"), "<path:rest> can span several segments"),
    (RegexPattern(r"^archive/(?P<y>[0-9]{4})-(?P<m>[0-9]{2})/$"), "filling a whole segment"),
])
def test_patterns_strangler_yaml_cannot_express_are_noted(pattern, problem):
    _path, _params, problems = join([convert(RoutePattern("api/")), convert(pattern)])
    assert any(problem in p for p in problems), problems


# -- the order: pure ranking with reasons ---------------------------------------------------------------------

def _fk(source, field, target):
    return ModelLink(source, field, "ForeignKey", target, source.split(".")[0], target.split(".")[0])


def _imp(importer, imported):
    return ImportLink(f"p.{importer}", f"p.{imported}", importer.split(".")[0], imported.split(".")[0], 1)


def test_order_puts_fewest_inbound_couplings_first_and_says_why():
    order = extraction_order(
        ["hub", "leaf", "mid"],
        [_fk("leaf.A", "hub", "hub.H"), _fk("mid.M", "hub", "hub.H"), _fk("leaf.A", "mid", "mid.M")],
        [_imp("leaf.views", "hub.models")],
        {"hub": 3, "leaf": 2, "mid": 1})
    assert [s.app for s in order] == ["leaf", "mid", "hub"]
    assert [s.rank for s in order] == [1, 2, 3]
    hub = order[2]
    assert (hub.inbound, hub.outbound) == (3, 0)
    assert hub.reason.startswith("2 inbound FKs (leaf.A.hub, mid.M.hub), 1 inbound import (from leaf ×1)")
    assert order[1].reason.startswith("1 inbound FK (leaf.A.mid), no inbound imports; outbound: 1 FK (to hub.H ×1)")


def test_order_breaks_ties_on_outbound_then_name_and_ignores_relations_outside_the_candidates():
    order = extraction_order(
        ["d", "c", "b", "a", "t"],
        [_fk("b.B", "t", "t.T"), _fk("c.C", "t", "t.T"), _fk("a.A", "user", "auth.User"), _fk("a.A", "group", "auth.Group")],
        [_imp("c.views", "t.services")],
        {app: 1 for app in "abcdt"})
    # a and d: nothing in, nothing out (auth is not a candidate); b: one out; c: two out; t: three in.
    assert [s.app for s in order] == ["a", "d", "b", "c", "t"]
    assert [(s.inbound, s.outbound) for s in order] == [(0, 0), (0, 0), (0, 1), (0, 2), (3, 0)]
    assert order[0].external_fks == ("a.A.user", "a.A.group")
    assert "also needs auth.User ×1, auth.Group ×1" in order[0].reason


def test_apps_serving_no_endpoint_come_last():
    order = extraction_order(["outbox", "shop"], [_fk("outbox.E", "x", "shop.S")], [], {"shop": 4})
    assert [s.app for s in order] == ["outbox", "shop"][::-1]
    assert order[1].reason.startswith("serves no endpoint")


# -- route drafts: one read and one write route per path, named like strangler.yaml ------------------------

def _ep(method, path, action="", view="app.views.V"):
    return Endpoint(method=method, path=path, view=view, app="shop", action=action)


def test_route_drafts_split_reads_from_writes_and_name_them_by_kind():
    drafts = draft_routes("shop", [
        _ep("GET", "/api/shop/carts/", "list"), _ep("POST", "/api/shop/carts/", "create"),
        _ep("GET", "/api/shop/carts/{pk}/", "retrieve"), _ep("PATCH", "/api/shop/carts/{pk}/", "partial_update"),
        _ep("PUT", "/api/shop/carts/{pk}/", "update"), _ep("DELETE", "/api/shop/carts/{pk}/", "destroy"),
        _ep("POST", "/api/shop/carts/{pk}/checkout/", "checkout"),
        _ep("DELETE", "/api/shop/tokens/{pk}/", "destroy"),
        _ep("GET", "/api/shop/health/"), _ep("POST", "/api/shop/health/"),
        _ep("*", "/api/shop/ping/", view="app.views.ping"),
    ])
    assert [(r["name"], r["methods"], r["path"]) for r in drafts.routes] == [
        ("shop.carts.list", ["GET"], "/api/shop/carts/"),
        ("shop.carts.create", ["POST"], "/api/shop/carts/"),
        ("shop.carts.detail", ["GET"], "/api/shop/carts/{id}/"),
        ("shop.carts.update", ["PUT", "PATCH", "DELETE"], "/api/shop/carts/{id}/"),
        ("shop.carts.checkout.write", ["POST"], "/api/shop/carts/{id}/checkout/"),
        ("shop.tokens.delete", ["DELETE"], "/api/shop/tokens/{id}/"),
        ("shop.health.read", ["GET"], "/api/shop/health/"),
        ("shop.health.write", ["POST"], "/api/shop/health/"),
    ]
    assert all(r["group"] == "shop" for r in drafts.routes)
    assert drafts.left_out == ("/api/shop/ping/ (app.views.ping): a function view declares no methods; "
                               "add a route by hand",)
    assert drafts.format_suffixes is False


def test_route_drafts_take_format_suffixes_when_any_routed_endpoint_has_them():
    # Matching a suffix the monolith does not serve sends a 404 to the service; missing one leaves a write
    # on legacy.
    suffixed = Endpoint(method="POST", path="/api/shop/carts/", view="V", app="shop", action="create",
                        format_suffixes=True)

    assert draft_routes("shop", [_ep("GET", "/api/shop/health/"), suffixed]).format_suffixes is True
    assert draft_routes("shop", [_ep("GET", "/api/shop/health/")]).format_suffixes is False


# -- the real monolith (the Django this test session runs) ---------------------------------------------------

@pytest.fixture(scope="module")
def monolith():
    return survey(get_resolver(), apps)


def _served(discovery, app=None) -> dict[tuple[str, str], Endpoint]:
    return {(e.method, e.path): e for e in discovery.endpoints if app is None or e.app == app}


def test_monolith_candidate_apps_are_its_own_apps(monolith):
    assert monolith.apps == ("core", "catalog", "customers", "inventory", "orders", "shipping", "loyalty", "outbox")


def test_monolith_endpoints_come_from_the_router_viewsets_and_apiviews(monolith):
    served = _served(monolith)
    stock = served["GET", "/api/inventory/stock/{sku}/"]
    assert (stock.view, stock.action, stock.app) == ("legacy_monolith.inventory.views.StockViewSet", "retrieve", "inventory")
    assert served["POST", "/api/inventory/adjustments/"].view == "legacy_monolith.inventory.views.StockAdjustmentViewSet"
    assert served["POST", "/api/orders/{pk}/cancel/"].action == "cancel"
    assert served["GET", "/api/loyalty/balance/"].view == "legacy_monolith.loyalty.views.LoyaltyViewSet"
    assert served["POST", "/api/auth/introspect/"].app == "core"
    courier = {m for m, p in served if p == "/api/shipping/webhooks/courier/"}
    assert courier == {"POST"}  # an APIView answers the handlers it has, nothing else


def test_monolith_endpoints_respect_http_method_names(monolith):
    warehouse = {m for m, p in _served(monolith) if p == "/api/inventory/warehouses/{pk}/"}
    assert warehouse == {"GET", "PUT", "PATCH"}  # the router maps DELETE, the viewset refuses it
    order = {m for m, p in _served(monolith) if p == "/api/orders/{pk}/"}
    assert order == {"GET", "PATCH"}


def test_monolith_tooling_and_format_suffixes_are_set_apart(monolith):
    tooling = {e.path for e in monolith.endpoints if e.tooling}
    assert {"/api/", "/api/schema/", "/api/docs/", "/admin/"} <= tooling
    assert all(e.app == "admin" for e in monolith.endpoints if e.path.startswith("/admin/"))
    listed = monolith.as_dict()["endpoints"]
    assert listed and not any(e["tooling"] or e["path"].startswith("/admin/") for e in listed)
    assert monolith.format_suffix_patterns_skipped > 0
    served = _served(monolith)
    assert served["POST", "/api/inventory/adjustments/"].format_suffixes  # DefaultRouter: /adjustments.json too
    assert served["PATCH", "/api/inventory/warehouses/{pk}/"].format_suffixes
    assert not served["POST", "/api/auth/introspect/"].format_suffixes    # a plain path(): no suffix pattern
    assert not served["GET", "/api/loyalty/balance/"].format_suffixes
    assert not any("format" in e.path or "." in e.path for e in monolith.endpoints if not e.tooling)
    assert not any(e.method in ("HEAD", "OPTIONS") for e in monolith.endpoints)


def test_monolith_couplings_between_apps(monolith):
    fks = {(m.source, m.field, m.target) for m in monolith.model_links}
    assert ("inventory.StockItem", "product", "catalog.Product") in fks
    assert ("inventory.Reservation", "order", "orders.Order") in fks
    assert ("shipping.Shipment", "order", "orders.Order") in fks
    assert not any(m.source_app == m.target_app for m in monolith.model_links)
    imports = {(i.importer, i.imported) for i in monolith.import_links}
    assert ("legacy_monolith.orders.services", "legacy_monolith.inventory.models") in imports
    assert ("legacy_monolith.orders.services", "legacy_monolith.loyalty.services") in imports  # from x import module
    assert not any(".migrations" in i.importer for i in monolith.import_links)


def test_monolith_order_ranks_every_app_by_inbound_couplings_with_reasons(monolith):
    order = monolith.order
    assert sorted(s.app for s in order) == sorted(monolith.apps)
    serving = [s for s in order if s.endpoints]
    assert [(s.inbound, s.outbound) for s in serving] == sorted((s.inbound, s.outbound) for s in serving)
    assert order[-1].app == "outbox" and order[-1].reason.startswith("serves no endpoint")
    inventory = monolith.standing("inventory")
    assert "legacy_monolith.orders.services" in inventory.inbound_imports
    assert "orders ×1" in inventory.reason and "to catalog.Product ×4" in inventory.reason
    catalog = monolith.standing("catalog")
    assert "inventory.StockItem.product" in catalog.inbound_fks
    assert catalog.rank > inventory.rank  # everything points at the catalog: it cannot go before inventory


def test_shipped_inventory_routes_are_exactly_what_discovery_finds(monolith):
    config = load_config(ROOT / "strangler.yaml")
    shipped: dict[str, set[str]] = defaultdict(set)
    for route in config.group_routes("inventory"):
        shipped[pattern_shape(route.path)] |= route.methods - {"HEAD"}  # the parser adds HEAD to GET
    found: dict[str, set[str]] = defaultdict(set)
    for e in monolith.app_endpoints("inventory"):
        found[pattern_shape(e.path)].add(e.method)
    assert found == shipped


def test_inventory_draft_reproduces_the_shipped_routes(monolith):
    config = load_config(ROOT / "strangler.yaml")
    shipped = {(r.name, r.methods - {"HEAD"}, r.path) for r in config.group_routes("inventory")}
    drafted = {(r["name"], frozenset(r["methods"]), r["path"])
               for r in draft_routes("inventory", monolith.app_endpoints("inventory")).routes}
    assert drafted == shipped
    assert draft_routes("inventory", monolith.app_endpoints("inventory")).format_suffixes is True
    assert config.groups["inventory"].format_suffixes is True


# -- the CLI: in this process for the monolith, in a child process for the fake project ------------------------

def _cli(*args):
    # DJANGO_ENV given, so the command's default for it does not leak into this process's environment.
    return runner.invoke(cli, ["discover", *args], env={"COLUMNS": "200", "DJANGO_ENV": "test"})


def _child(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "strangler", "discover", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_write_drafts_the_inventory_group_and_a_playbook_then_refuses_to_overwrite(tmp_path):
    result = _cli("--write", "inventory", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    routes_file = tmp_path / "drafts" / "inventory.strangler.yaml"
    draft = yaml.safe_load(routes_file.read_text())
    shipped = yaml.safe_load((ROOT / "strangler.yaml").read_text())
    # The draft merges into strangler.yaml in place of the hand-written group: the router accepts it.
    merged = {**shipped, "upstreams": {**shipped["upstreams"], **draft["upstreams"]},
              "groups": draft["groups"], "routes": draft["routes"]}
    config = parse_config(merged, source="merged")
    assert {r.name for r in config.group_routes("inventory")} == \
        {r.name for r in load_config(ROOT / "strangler.yaml").group_routes("inventory")}
    playbook = yaml.safe_load((tmp_path / "playbooks" / "inventory.yaml").read_text())
    assert (playbook["capability"], playbook["group"]) == ("inventory", "inventory")
    assert [s["name"] for s in playbook["steps"]] == [
        "backfill", "start sync", "shadow reads", "canary reads 1%", "canary reads 10%", "canary reads 50%",
        "canary reads 100%", "shadow writes", "move write ownership", "canary writes", "decommission"]
    assert all(s["gates"] and s["hold"] for s in playbook["steps"])

    again = _cli("--write", "inventory", "--out", str(tmp_path))
    assert again.exit_code == exits.REFUSED and "--force" in again.stderr
    routes_file.write_text("# edited by hand\n")
    forced = _cli("--write", "inventory", "--out", str(tmp_path), "--force")
    assert forced.exit_code == 0 and "routes:" in routes_file.read_text()


def test_json_for_one_app_keeps_only_what_concerns_it():
    result = _cli("--app", "shipping", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["settings"] == "legacy_monolith.settings"
    assert {e["app"] for e in data["endpoints"]} == {"shipping"}
    assert [o["app"] for o in data["order"]] == ["shipping"]
    assert all("shipping" in (m["source_app"], m["target_app"]) for m in data["foreign_keys"])


@pytest.mark.parametrize("args, message", [
    (["--app", "warehouse"], "no app 'warehouse' in legacy_monolith.settings; apps: core, catalog"),
    (["--write", "nope"], "no app 'nope'"),
    (["--write", "outbox"], "app 'outbox' serves no endpoint"),
])
def test_bad_input_exits_2_with_the_reason(args, message):
    result = _cli(*args)
    assert result.exit_code == exits.BAD_INPUT
    assert message in " ".join(result.stderr.split())


def test_an_out_dir_that_cannot_be_written_exits_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _cli("--write", "inventory", "--out", str(blocker / "plans"))
    assert result.exit_code == exits.BAD_INPUT
    assert "cannot write the drafts under" in " ".join(result.stderr.split())


def test_an_unknown_settings_module_exits_2():
    result = _cli("--settings", "no_such_project.settings")
    assert result.exit_code == exits.BAD_INPUT
    assert "settings module 'no_such_project.settings' not found" in " ".join(result.stderr.split())


@pytest.fixture(scope="module")
def fake():
    result = _child("--settings", FAKE_SETTINGS, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_fake_project_endpoints(fake):
    served = {(e["method"], e["path"]): e for e in fake["endpoints"]}
    assert set(served) == {
        ("GET", "/api/warehouse/restock/"), ("POST", "/api/warehouse/restock/"),          # APIView
        ("*", "/api/billing/ping/"),                                                      # function view
        ("GET", "/api/billing/invoices/{number}/"),                                       # Django View, <int:>
        ("GET", "/api/billing/archive/{year}-{month}/"),                                  # re_path, noted
        ("GET", "/api/products/"), ("POST", "/api/products/"),                            # DefaultRouter
        ("GET", "/api/products/{pk}/"), ("PUT", "/api/products/{pk}/"), ("PATCH", "/api/products/{pk}/"),
        ("POST", "/api/products/{pk}/discontinue/"),                                      # @action
    }
    assert served["POST", "/api/products/{pk}/discontinue/"]["view"] == f"{FAKE}.products.views.ProductViewSet"
    assert served["GET", "/api/billing/archive/{year}-{month}/"]["note"]
    assert not served["GET", "/api/billing/invoices/{number}/"]["note"]
    assert {e["app"] for e in fake["endpoints"]} == {"products", "warehouse", "billing"}
    assert fake["format_suffix_patterns_skipped"] == 4
    assert served["POST", "/api/products/"]["format_suffixes"]
    assert served["PUT", "/api/products/{pk}/"]["format_suffixes"]
    assert not served["POST", "/api/warehouse/restock/"]["format_suffixes"]


def test_fake_project_couplings_and_order(fake):
    assert {(m["source"], m["field"], m["kind"], m["target"]) for m in fake["foreign_keys"]} == {
        ("warehouse.Bin", "product", "ForeignKey", "products.Product"),
        ("billing.Invoice", "product", "ForeignKey", "products.Product"),
        ("billing.Invoice", "bins", "ManyToManyField", "warehouse.Bin"),
        ("billing.Invoice", "created_by", "ForeignKey", "auth.User"),
    }
    assert {(i["importer"], i["imported"]) for i in fake["imports"]} == {
        (f"{FAKE}.warehouse.views", f"{FAKE}.products.models"),     # relative: from ..products.models
        (f"{FAKE}.billing.views", f"{FAKE}.warehouse.services"),    # from package import module
        (f"{FAKE}.products.services", f"{FAKE}.billing.models"),    # inside a function
    }
    assert [(o["app"], o["inbound"], o["outbound"]) for o in fake["order"]] == [
        ("billing", 1, 3), ("warehouse", 2, 2), ("products", 3, 1)]
    assert fake["order"][1]["reason"].startswith("1 inbound FK (billing.Invoice.bins), 1 inbound import (from billing ×1)")


def test_fake_project_tables_with_admin_and_drafts(tmp_path):
    tables = _child("--settings", FAKE_SETTINGS, "--include-admin")
    assert tables.returncode == 0, tables.stderr
    assert "/admin/" in tables.stdout and "Suggested extraction order" in tables.stdout
    written = _child("--settings", FAKE_SETTINGS, "--write", "products", "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    draft = yaml.safe_load((tmp_path / "drafts" / "products.strangler.yaml").read_text())
    assert [(r["name"], r["methods"], r["path"]) for r in draft["routes"]] == [
        ("products.list", ["GET"], "/api/products/"), ("products.create", ["POST"], "/api/products/"),
        ("products.detail", ["GET"], "/api/products/{id}/"), ("products.update", ["PUT", "PATCH"], "/api/products/{id}/"),
        ("products.discontinue.write", ["POST"], "/api/products/{id}/discontinue/")]
    assert draft["groups"] == {"products": {"upstream": "products",
                                            "description": "6 endpoints of the products app: products, discontinue",
                                            "format_suffixes": True}}
    written = _child("--settings", FAKE_SETTINGS, "--write", "warehouse", "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    draft = yaml.safe_load((tmp_path / "drafts" / "warehouse.strangler.yaml").read_text())
    assert draft["groups"]["warehouse"]["format_suffixes"] is False  # an APIView under path(): no suffixes
    assert "/api/billing/ping/" not in (tmp_path / "drafts" / "products.strangler.yaml").read_text()
