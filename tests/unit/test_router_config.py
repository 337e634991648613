"""router.config: strangler.yaml becomes frozen values, and every mistake names the file, the key and the fix."""

import copy
import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from router.config import ConfigError, Route, load_config, parse_config, upstream_env_var
from router.matching import RouteTable, pattern_segments

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "strangler.yaml"

BASE = {
    "version": 1,
    "upstreams": {"legacy": {"url": "http://127.0.0.1:8001"}, "inventory": {"url": "http://127.0.0.1:8101"}},
    "groups": {"inventory": {"upstream": "inventory"}},
    "routes": [
        {"name": "stock.list", "group": "inventory", "methods": ["GET"], "path": "/api/stock/"},
        {"name": "stock.detail", "group": "inventory", "methods": ["GET"], "path": "/api/stock/{sku}/"},
        {"name": "warehouses", "group": "inventory", "methods": ["GET", "POST"], "path": "/api/warehouses/"},
    ],
}


def config_with(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def with_route(index, **fields):
    data = copy.deepcopy(BASE)
    data["routes"][index].update(fields)
    return data


def error_for(data, environ=None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="strangler.yaml", environ=environ or {})
    return info.value


def example_path(pattern: str) -> tuple[str, dict[str, str]]:
    params = {name: f"{name}-42" for name, is_param in pattern_segments(pattern) if is_param}
    return re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], pattern), params


# -- the shipped file ------------------------------------------------------------------------------

def test_shipped_config_loads_with_legacy_and_the_inventory_group():
    config = load_config(SHIPPED, environ={})

    assert config.upstreams["legacy"].url == "http://127.0.0.1:8001"
    assert config.upstreams["inventory"].url == "http://127.0.0.1:8101"
    assert config.groups["inventory"].upstream == "inventory"
    assert {r.group for r in config.routes} == {"inventory"}
    assert len(config.routes) == 13
    safe = {"GET", "HEAD", "OPTIONS"}
    assert all(r.methods <= safe or not (r.methods & safe) for r in config.routes), "a route mixes reads and writes"
    assert all("HEAD" in r.methods for r in config.routes if "GET" in r.methods)


def test_every_shipped_route_matches_its_own_example_path_for_each_of_its_methods():
    config = load_config(SHIPPED, environ={})
    table = RouteTable(config.routes)

    for route in config.routes:
        path, params = example_path(route.path)
        for method in route.methods:
            found = table.match(method, path)
            assert found is not None and found.route == route, (method, path)
            assert dict(found.params) == params


def test_shipped_routes_are_real_monolith_endpoints_with_exactly_the_methods_they_serve():
    # Reads the monolith's URLconf (no database): routing a path the monolith does not serve, or a
    # method it answers with 405, to an extracted service would change behaviour by moving it.
    from django.urls import resolve

    config = load_config(SHIPPED, environ={})
    routed: dict[str, set[str]] = {}  # reads and writes of one path are separate routes: compare their union
    for route in config.routes:
        routed.setdefault(route.path, set()).update(route.methods - {"HEAD"})
    for pattern, methods in routed.items():
        path, _ = example_path(pattern)
        view = resolve(path).func
        # DRF adds 'head' to a view's actions at its first request, so HEAD is left out on both sides.
        served = ({m.upper() for m in view.actions} & {m.upper() for m in view.cls.http_method_names}) - {"HEAD"}
        assert methods == served, pattern


# -- reading the file -------------------------------------------------------------------------------

def test_missing_file_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})

    assert str(path) in str(info.value)
    assert "cannot read" in str(info.value) and info.value.source == str(path)


def test_yaml_syntax_error_reports_the_line_and_column(tmp_path):
    path = tmp_path / "strangler.yaml"
    path.write_text("version: 1\nupstreams:\n  legacy: url: http://x\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})

    assert (info.value.line, info.value.column) == (3, 14)
    assert str(info.value).startswith(f"{path}:3:14: invalid YAML: mapping values are not allowed here")
    assert "expected well-formed YAML" in str(info.value)


def test_yaml_error_in_an_unclosed_bracket_also_names_where_it_started(tmp_path):
    path = tmp_path / "strangler.yaml"
    path.write_text("version: 1\nupstreams:\n  legacy:\n    url: [http://x\n  other: 1\n")
    with pytest.raises(ConfigError, match="started on line 4"):
        load_config(path, environ={})


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path):
    path = tmp_path / "strangler.yaml"
    path.write_text("version: 1\nupstreams:\n  legacy: {url: 'http://a'}\n  legacy: {url: 'http://b'}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})

    assert info.value.line == 4
    assert "duplicate key 'legacy'" in str(info.value)


def test_load_config_reads_a_file_and_overrides_from_os_environ_by_default(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(SHIPPED.read_text())
    monkeypatch.setenv("STRANGLER_UPSTREAM_INVENTORY_URL", "http://inventory:9000/")

    assert load_config(path).upstreams["inventory"].url == "http://inventory:9000"


def test_empty_file_is_an_error_asking_for_a_mapping(tmp_path):
    path = tmp_path / "strangler.yaml"
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match="expected a mapping with keys"):
        load_config(path, environ={})


# -- the messages ------------------------------------------------------------------------------------

def test_message_names_file_key_expectation_and_the_bad_value():
    err = error_for(with_route(2, path="api/x"))

    assert str(err) == "strangler.yaml: routes[2].path: expected a path starting with '/', got 'api/x'"
    assert (err.source, err.key, err.expected) == ("strangler.yaml", "routes[2].path", "a path starting with '/'")


def test_typo_in_a_route_key_is_caught_with_a_suggestion():
    data = copy.deepcopy(BASE)
    data["routes"][0]["metods"] = data["routes"][0].pop("methods")
    err = error_for(data)

    assert err.key == "routes[0]"
    assert "unknown key 'metods'" in str(err) and "did you mean 'methods'" in str(err)
    assert "expected one of group, methods, name, parity, path, write_policy" in str(err)


@pytest.mark.parametrize(("section", "typo", "key"), [
    (None, "upstream", ""),  # top level
    ("router", "sticky_headr", "router"),
    ("upstreams.legacy", "read_timout", "upstreams.legacy"),
    ("groups.inventory", "descripton", "groups.inventory"),
])
def test_typos_are_caught_in_every_section(section, typo, key):
    data = copy.deepcopy(BASE)
    data.setdefault("router", {})
    target = data
    for part in section.split(".") if section else ():
        target = target[part]
    target[typo] = 1
    err = error_for(data)

    assert err.key == key and f"unknown key {typo!r}" in str(err)


def test_missing_legacy_upstream_is_refused():
    data = copy.deepcopy(BASE)
    del data["upstreams"]["legacy"]
    err = error_for(data)

    assert err.key == "upstreams" and "missing upstream 'legacy'" in str(err)


@pytest.mark.parametrize(("data", "key", "fragment"), [
    (config_with(version=2), "version", "expected 1"),
    ({k: v for k, v in BASE.items() if k != "version"}, "", "missing key 'version'"),
    (config_with(upstreams=["legacy"]), "upstreams", "expected a mapping of names"),
    (config_with(routes={"a": 1}), "routes", "expected a list of routes"),
    (config_with(router={"max_body_bytes": "10MB"}), "router.max_body_bytes", "expected a positive integer"),
    (config_with(router={"max_body_bytes": True}), "router.max_body_bytes", "expected a positive integer"),
    (config_with(router={"flag_poll_interval": 0}), "router.flag_poll_interval", "positive number of seconds"),
    (config_with(router={"sticky_header": "X Customer"}), "router.sticky_header", "an HTTP header name"),
    (config_with(router={"session_cookie": ""}), "router.session_cookie", "a cookie name"),
    (config_with(router={"admin_token_env": "1TOKEN"}), "router.admin_token_env", "environment variable name"),
    (with_route(0, name=7), "routes[0].name", "a name made of letters"),
    (with_route(0, methods="GET"), "routes[0].methods", "a non-empty list of methods"),
    (with_route(0, methods=[]), "routes[0].methods", "a non-empty list of methods"),
    (with_route(0, methods=["GET", "FETCH"]), "routes[0].methods[1]", "a method (one of GET, HEAD, POST"),
    (with_route(0, write_policy="always"), "routes[0].write_policy", "one of skip, rollback, mirror"),
    (with_route(0, parity=["x"]), "routes[0].parity", "a mapping of parity rules"),
    (with_route(0, group="inventroy"), "routes[0].group", "a group (one of inventory), got 'inventroy'"),
])
def test_wrong_types_and_values_name_their_key(data, key, fragment):
    err = error_for(data)

    assert err.key == key and fragment in str(err), str(err)
    assert str(err).startswith("strangler.yaml: ")


@pytest.mark.parametrize(("timeout", "value"), [
    ("connect_timeout", -1), ("read_timeout", -0.5), ("read_timeout", 0), ("connect_timeout", "2s"),
    ("read_timeout", float("nan")),
])
def test_timeouts_must_be_positive_numbers(timeout, value):
    data = copy.deepcopy(BASE)
    data["upstreams"]["inventory"][timeout] = value
    err = error_for(data)

    assert err.key == f"upstreams.inventory.{timeout}" and "positive number of seconds" in str(err)


def test_pool_size_must_be_a_positive_integer():
    data = copy.deepcopy(BASE)
    data["upstreams"]["legacy"]["pool_size"] = 0

    assert error_for(data).key == "upstreams.legacy.pool_size"


@pytest.mark.parametrize("url", [
    "127.0.0.1:8001", "ftp://127.0.0.1", "http://127.0.0.1:8001/api", "http://x?debug=1", "http://x#top",
    "http://user:secret@x", "http://x:99999", "http://", "", 8001, None,
])
def test_bad_upstream_urls_are_refused(url):
    data = copy.deepcopy(BASE)
    data["upstreams"]["legacy"]["url"] = url
    err = error_for(data)

    assert err.key == "upstreams.legacy.url" and "http(s)://host[:port]" in err.expected


@pytest.mark.parametrize(("url", "clean"), [
    ("http://127.0.0.1:8001/", "http://127.0.0.1:8001"),
    ("HTTPS://svc.internal", "https://svc.internal"),
    ("http://[::1]:8001", "http://[::1]:8001"),
])
def test_good_upstream_urls_are_normalised(url, clean):
    data = copy.deepcopy(BASE)
    data["upstreams"]["legacy"]["url"] = url

    assert parse_config(data).upstreams["legacy"].url == clean


def test_upstream_defaults_and_given_values():
    data = copy.deepcopy(BASE)
    data["upstreams"]["inventory"].update(read_timeout=10, pool_size=20)
    upstreams = parse_config(data).upstreams

    assert (upstreams["legacy"].connect_timeout, upstreams["legacy"].read_timeout) == (2.0, 30.0)
    assert upstreams["inventory"].read_timeout == 10.0 and isinstance(upstreams["inventory"].read_timeout, float)
    assert upstreams["inventory"].pool_size == 20


# -- references and duplicates -----------------------------------------------------------------------

def test_group_must_name_an_existing_upstream():
    data = copy.deepcopy(BASE)
    data["groups"]["inventory"]["upstream"] = "inventorry"
    err = error_for(data)

    assert err.key == "groups.inventory.upstream" and "one of inventory" in str(err)


def test_group_cannot_be_extracted_to_legacy():
    data = copy.deepcopy(BASE)
    data["groups"]["inventory"]["upstream"] = "legacy"
    err = error_for(data)

    assert err.key == "groups.inventory.upstream" and "an extracted upstream" in str(err)


def test_groups_accept_drf_format_suffixes_unless_told_otherwise_and_their_routes_carry_it():
    assert parse_config(BASE).groups["inventory"].format_suffixes is True
    assert all(r.format_suffixes for r in parse_config(BASE).routes)
    data = copy.deepcopy(BASE)
    data["groups"]["inventory"]["format_suffixes"] = False
    config = parse_config(data)

    assert config.groups["inventory"].format_suffixes is False
    assert not any(r.format_suffixes for r in config.routes)
    assert RouteTable(config.routes).match("POST", "/api/warehouses.json") is None
    assert RouteTable(parse_config(BASE).routes).match("POST", "/api/warehouses.json").route.name == "warehouses"


def test_format_suffixes_must_be_a_boolean():
    data = copy.deepcopy(BASE)
    data["groups"]["inventory"]["format_suffixes"] = "yes"
    err = error_for(data)

    assert err.key == "groups.inventory.format_suffixes" and "true or false" in str(err)


def test_duplicate_route_names_are_refused():
    err = error_for(with_route(1, name="stock.list"))

    assert err.key == "routes[1].name" and "already used by routes[0]" in str(err)


def test_route_name_cannot_also_be_a_group_name():
    # flag changes target "a route or a group" by name, so the two must not collide
    assert error_for(with_route(0, name="inventory")).key == "routes[0].name"


def test_duplicate_method_and_path_is_refused_even_with_renamed_parameters():
    data = copy.deepcopy(BASE)
    data["routes"].append({"name": "stock.put", "group": "inventory", "methods": ["GET", "PUT"],
                           "path": "/api/stock/{code}/"})
    err = error_for(data)

    assert err.key == "routes[3]"
    assert "GET /api/stock/{code}/ is already routed by routes[1] (stock.detail)" in str(err)


def test_head_implied_by_get_counts_as_routed():
    data = copy.deepcopy(BASE)
    data["routes"].append({"name": "stock.head", "group": "inventory", "methods": ["HEAD"], "path": "/api/stock/"})

    assert "HEAD /api/stock/ is already routed by routes[0]" in str(error_for(data))


def test_same_path_with_different_methods_in_two_routes_is_fine():
    data = copy.deepcopy(BASE)
    data["routes"].append({"name": "stock.put", "group": "inventory", "methods": ["PUT"], "path": "/api/stock/{c}/"})

    assert parse_config(data).route("stock.put").methods == frozenset({"PUT"})


def test_upstream_names_whose_overrides_would_collide_are_refused():
    data = copy.deepcopy(BASE)
    data["upstreams"]["my-svc"] = {"url": "http://a"}
    data["upstreams"]["my_svc"] = {"url": "http://b"}
    err = error_for(data)

    assert err.key == "upstreams.my_svc" and "STRANGLER_UPSTREAM_MY_SVC_URL" in str(err)


# -- path patterns and methods ------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "fragment"), [
    ("api/x", "starting with '/'"),
    ("/api/x{id}/", "filling a whole segment"),
    ("/api/{id}x/", "filling a whole segment"),
    ("/api/{1d}/", "name an identifier"),
    ("/api/{}/", "name an identifier"),
    ("/api/{id}/{id}/", "{id} is repeated"),
    ("/api//x/", "empty segments"),
    ("/api/x/?page=2", "query string"),
    ("/api/x y/", "spaces"),
    (5, "starting with '/'"),
])
def test_bad_path_patterns_are_refused(path, fragment):
    err = error_for(with_route(0, path=path))

    assert err.key == "routes[0].path" and fragment in str(err), str(err)


def test_methods_are_upper_cased_and_get_implies_head():
    config = parse_config(with_route(2, methods=["get", "Post"]))

    assert config.route("warehouses").methods == frozenset({"GET", "HEAD", "POST"})
    assert config.route("stock.list").methods == frozenset({"GET", "HEAD"})


def test_route_defaults_and_parity_is_deeply_frozen():
    rules = {"ignore_paths": ["body.results[*].updated_at"], "unordered": {"body.results": "id"}}
    config = parse_config(with_route(0, parity=rules, write_policy="rollback"))
    route = config.route("stock.list")

    assert route.write_policy == "rollback" and config.route("stock.detail").write_policy == "skip"
    assert isinstance(route.parity, MappingProxyType) and isinstance(route.parity["unordered"], MappingProxyType)
    assert route.parity["ignore_paths"] == ("body.results[*].updated_at",)
    with pytest.raises(TypeError):
        route.parity["unordered"]["x"] = "y"
    assert config.route("stock.detail").parity == {}
    hash(route)  # routes stay hashable despite the parity mapping


# -- environment overrides ----------------------------------------------------------------------------

def test_env_override_replaces_the_url():
    config = parse_config(BASE, environ={"STRANGLER_UPSTREAM_LEGACY_URL": "http://monolith:8001/"})

    assert config.upstreams["legacy"].url == "http://monolith:8001"
    assert config.upstreams["inventory"].url == "http://127.0.0.1:8101"


def test_env_override_is_validated_and_named_in_the_error():
    err = error_for(BASE, environ={"STRANGLER_UPSTREAM_LEGACY_URL": "monolith:8001"})

    assert err.key == "env STRANGLER_UPSTREAM_LEGACY_URL"
    assert str(err).startswith("strangler.yaml: env STRANGLER_UPSTREAM_LEGACY_URL: expected an http(s)://")


def test_env_variable_name_is_upper_cased_with_non_alphanumerics_as_underscores():
    assert upstream_env_var("legacy") == "STRANGLER_UPSTREAM_LEGACY_URL"
    assert upstream_env_var("order-svc.v2") == "STRANGLER_UPSTREAM_ORDER_SVC_V2_URL"


def test_parse_config_without_environ_applies_no_overrides(monkeypatch):
    monkeypatch.setenv("STRANGLER_UPSTREAM_LEGACY_URL", "http://elsewhere")

    assert parse_config(BASE).upstreams["legacy"].url == "http://127.0.0.1:8001"


# -- the Config object ----------------------------------------------------------------------------------

def test_config_looks_up_routes_and_group_routes_in_order():
    config = parse_config(BASE)

    assert config.route("stock.detail").path == "/api/stock/{sku}/"
    assert [r.name for r in config.group_routes("inventory")] == ["stock.list", "stock.detail", "warehouses"]
    with pytest.raises(KeyError):
        config.route("nope")
    with pytest.raises(KeyError):
        config.group_routes("orders")


def test_router_settings_defaults_and_values():
    config = parse_config(config_with(router={"sticky_header": "X-Customer-Id", "max_body_bytes": 1024}))

    assert config.router.sticky_header == "X-Customer-Id" and config.router.max_body_bytes == 1024
    assert config.router.session_cookie == "sessionid" and config.router.flag_poll_interval == 0.25
    assert parse_config(BASE).router.sticky_header is None


def test_config_values_are_frozen():
    config = parse_config(BASE)

    with pytest.raises(dataclasses.FrozenInstanceError):
        config.routes[0].path = "/elsewhere/"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.upstreams["evil"] = config.upstreams["legacy"]  # type: ignore[index]
    assert isinstance(config.routes, tuple) and isinstance(config.routes[0], Route)


def test_groups_and_routes_may_be_empty():
    config = parse_config({"version": 1, "upstreams": {"legacy": {"url": "http://x"}}, "groups": None})

    assert config.routes == () and dict(config.groups) == {}


def test_the_pure_core_imports_neither_the_monolith_nor_the_services_nor_django():
    code = ("import sys, router.config, router.matching, router.decision, router.flags; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'legacy_monolith', 'extracted', 'django'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"


def test_bad_parity_rules_stop_the_config_naming_the_route_key():
    with pytest.raises(ConfigError) as info:
        parse_config(with_route(0, parity={"ignore_paths": ["results[*].x"]}))
    assert "routes[0].parity.ignore_paths[0]" in str(info.value)
    with pytest.raises(ConfigError, match="routes\\[0\\].parity"):
        parse_config(with_route(0, parity={"ignroe_paths": []}))
