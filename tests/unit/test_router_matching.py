"""router.matching: (method, path) -> the configured route that owns it, by the documented precedence."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.config import Route
from router.matching import RouteTable, pattern_segments, pattern_shape


def route(name, path, *methods, group="inventory"):
    methods = set(methods or ("GET",))
    if "GET" in methods:
        methods.add("HEAD")  # what the config parser does
    return Route(name=name, group=group, methods=frozenset(methods), path=path)


STOCK_LIST = route("stock.list", "/api/inventory/stock/")
STOCK_DETAIL = route("stock.detail", "/api/inventory/stock/{sku}/")
WAREHOUSES = route("warehouses.list", "/api/inventory/warehouses/", "GET", "POST")
WAREHOUSE = route("warehouses.detail", "/api/inventory/warehouses/{id}/", "GET", "PUT", "PATCH")
LEVEL = route("stock.level", "/api/inventory/warehouses/{id}/stock/{sku}/")


@pytest.fixture
def table():
    return RouteTable([STOCK_LIST, STOCK_DETAIL, WAREHOUSES, WAREHOUSE, LEVEL])


def test_literal_route_matches_with_no_params(table):
    found = table.match("GET", "/api/inventory/stock/")

    assert found.route == STOCK_LIST and dict(found.params) == {}


def test_parameters_are_captured_by_name(table):
    found = table.match("GET", "/api/inventory/warehouses/7/stock/TG-MCU-00001/")

    assert found.route == LEVEL and dict(found.params) == {"id": "7", "sku": "TG-MCU-00001"}


def test_parameter_values_stay_percent_encoded(table):
    assert table.match("GET", "/api/inventory/stock/A%20B%2FC/").params == {"sku": "A%20B%2FC"}


def test_parameter_needs_a_non_empty_segment_and_never_spans_two(table):
    assert table.match("GET", "/api/inventory/stock//") is None
    assert table.match("GET", "/api/inventory/stock/a/b/") is None


def test_methods_of_the_route_are_required(table):
    assert table.match("POST", "/api/inventory/warehouses/").route == WAREHOUSES
    assert table.match("PATCH", "/api/inventory/warehouses/3/").route == WAREHOUSE
    assert table.match("POST", "/api/inventory/stock/") is None
    assert table.match("DELETE", "/api/inventory/warehouses/3/") is None


def test_head_is_served_where_get_is_and_methods_are_case_insensitive(table):
    assert table.match("HEAD", "/api/inventory/stock/X/").route == STOCK_DETAIL
    assert table.match("get", "/api/inventory/stock/").route == STOCK_LIST
    assert table.match("HEAD", "/api/inventory/stock/").route == STOCK_LIST


def test_unknown_paths_do_not_match(table):
    assert table.match("GET", "/api/orders/") is None
    assert table.match("GET", "/") is None
    assert table.match("GET", "") is None


def test_trailing_slash_is_exact(table):
    # Django does not resolve these either: CommonMiddleware redirects to the URL with the slash
    assert table.match("GET", "/api/inventory/stock") is None
    assert table.match("GET", "/api/inventory/stock/X") is None
    assert table.match("GET", "/api/inventory/stock/X/") is not None


def test_query_string_is_not_part_of_the_path(table):
    # the caller strips it; a path that still carries one is a different, unrouted path
    assert table.match("GET", "/api/inventory/stock/?page=2") is None
    assert table.match("GET", "/api/inventory/stock/X/?a=1") is None
    assert table.match("GET", "/api/inventory/stock/X/").params == {"sku": "X"}


def test_literal_segments_win_over_parameters_regardless_of_config_order():
    summary = route("stock.summary", "/api/inventory/stock/summary/")
    for routes in ([STOCK_DETAIL, summary], [summary, STOCK_DETAIL]):
        table = RouteTable(routes)

        assert table.match("GET", "/api/inventory/stock/summary/").route == summary
        assert table.match("GET", "/api/inventory/stock/other/").route == STOCK_DETAIL


def test_more_literal_segments_win_between_parameterised_patterns():
    by_warehouse = route("by.warehouse", "/api/{area}/warehouses/{id}/")
    generic = route("generic", "/api/{area}/{kind}/{id}/")
    table = RouteTable([generic, by_warehouse])

    assert table.match("GET", "/api/inventory/warehouses/3/").route == by_warehouse
    assert table.match("GET", "/api/inventory/movements/3/").route == generic


def test_equally_specific_patterns_fall_back_to_config_order():
    first = route("first", "/api/{a}/x/")
    second = route("second", "/api/y/{b}/")

    assert RouteTable([first, second]).match("GET", "/api/y/x/").route == first
    assert RouteTable([second, first]).match("GET", "/api/y/x/").route == second


def test_winning_pattern_owns_the_path_even_for_methods_it_does_not_list():
    # like Django: the URL is resolved first, then the view answers 405; the router leaves that to legacy
    special = route("stock.special", "/api/inventory/stock/special/")
    table = RouteTable([special, route("stock.write", "/api/inventory/stock/{sku}/", "PUT")])

    assert table.match("PUT", "/api/inventory/stock/special/") is None
    assert table.match("PUT", "/api/inventory/stock/other/").route.name == "stock.write"


def test_routes_of_one_shape_split_by_method_keep_their_own_parameter_names():
    read = route("read", "/api/x/{id}/", "GET")
    write = route("write", "/api/x/{pk}/", "PUT")
    table = RouteTable([read, write])

    assert table.match("GET", "/api/x/1/").params == {"id": "1"}
    assert table.match("PUT", "/api/x/1/").params == {"pk": "1"} and table.match("PUT", "/api/x/1/").route == write


def test_results_are_cached_and_immutable(table):
    first = table.match("GET", "/api/inventory/stock/X/")
    again = table.match("GET", "/api/inventory/stock/X/")

    assert first is again and table.cache_info().hits >= 1
    with pytest.raises(TypeError):
        first.params["sku"] = "Y"  # type: ignore[index]


def test_cache_is_bounded():
    table = RouteTable([STOCK_DETAIL], cache_size=10)
    for i in range(100):
        table.match("GET", f"/api/inventory/stock/{i}/")

    assert table.cache_info().currsize == 10


def test_matching_without_a_cache_gives_the_same_answers(table):
    uncached = RouteTable(table.routes, cache_size=0)
    for method, path in [("GET", "/api/inventory/stock/"), ("PUT", "/api/inventory/warehouses/2/"),
                         ("DELETE", "/api/inventory/warehouses/2/"), ("GET", "/nope/")]:
        assert uncached.match(method, path) == table.match(method, path)


def test_empty_table_matches_nothing():
    assert RouteTable([]).match("GET", "/api/inventory/stock/") is None


def test_pattern_helpers():
    assert pattern_segments("/a/{id}/") == (("a", False), ("id", True), ("", False))
    assert pattern_shape("/a/{id}/b/{pk}") == "/a/{}/b/{}"
    with pytest.raises(ValueError, match="starting with '/'"):
        pattern_segments("a/")


segment = st.text(st.characters(blacklist_characters="/?#", blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(sku=segment, warehouse=segment)
def test_any_single_segment_values_round_trip_through_the_parameters(sku, warehouse):
    table = RouteTable([LEVEL])
    found = table.match("GET", f"/api/inventory/warehouses/{warehouse}/stock/{sku}/")

    assert found is not None and dict(found.params) == {"id": warehouse, "sku": sku}


# -- DRF format suffixes: `/stock.json`, `/stock.json/`, `/warehouses/1.json` reach the view of `/stock/` ----

ADJUSTMENTS = route("adjustments.create", "/api/inventory/adjustments/", "POST")
NO_SUFFIXES = Route(name="plain.create", group="plain", methods=frozenset({"POST"}), path="/api/plain/",
                    format_suffixes=False)


@pytest.mark.parametrize("path", ["/api/inventory/adjustments.json", "/api/inventory/adjustments.json/",
                                  "/api/inventory/adjustments.api", "/api/inventory/adjustments.2"])
def test_format_suffix_variants_of_a_literal_route_match_it(path):
    found = RouteTable([ADJUSTMENTS]).match("POST", path)

    assert found is not None and found.route == ADJUSTMENTS and dict(found.params) == {}


@pytest.mark.parametrize("path, sku", [("/api/inventory/stock/X.json", "X"), ("/api/inventory/stock/X.json/", "X.json"),
                                       ("/api/inventory/stock/A.B.api", "A.B")])
def test_format_suffix_variants_of_a_parameterised_route_match_it(table, path, sku):
    # The whole-segment pattern is tried first, as Django tries a pattern before its suffix variant.
    found = table.match("GET", path)

    assert found is not None and found.route == STOCK_DETAIL and dict(found.params) == {"sku": sku}


def test_format_suffix_writes_match_their_write_route(table):
    assert table.match("PATCH", "/api/inventory/warehouses/1.json").route == WAREHOUSE
    assert table.match("PATCH", "/api/inventory/warehouses/1.json").params == {"id": "1"}
    assert table.match("POST", "/api/inventory/warehouses.json").route == WAREHOUSES
    assert table.match("POST", "/api/inventory/warehouses.api/").route == WAREHOUSES


@pytest.mark.parametrize("path", ["/api/inventory/adjustments.JSON", "/api/inventory/adjustments.",
                                  "/api/inventory/adjustments.a-b", "/api/inventory/adjustments.json//",
                                  "/api/inventory/adjustmentsjson", "/api/inventory/adjustments/.json",
                                  "/api/inventory/adjustments.json.json"])
def test_what_drf_does_not_read_as_a_format_suffix_does_not_match(path):
    # DRF's suffix is `\.(?P<format>[a-z0-9]+)/?$`: lower-case letters and digits, one optional slash.
    assert RouteTable([ADJUSTMENTS]).match("POST", path) is None


def test_format_suffixes_can_be_turned_off_per_route():
    table = RouteTable([NO_SUFFIXES])

    assert table.match("POST", "/api/plain/").route == NO_SUFFIXES
    assert table.match("POST", "/api/plain.json") is None


def test_a_more_literal_routes_suffix_variant_beats_a_less_literal_pattern():
    generic = route("generic", "/api/inventory/{kind}/", "POST")
    for routes in ([generic, ADJUSTMENTS], [ADJUSTMENTS, generic]):
        table = RouteTable(routes)

        assert table.match("POST", "/api/inventory/adjustments.json/").route == ADJUSTMENTS
        assert table.match("POST", "/api/inventory/other.json/").route == generic


def test_suffix_variant_of_a_winning_pattern_owns_the_path_for_every_method():
    # GET is routed with suffixes, POST of the same path is not (another group): POST stays on legacy.
    reads = route("reads", "/api/x/", "GET")
    writes = Route(name="writes", group="other", methods=frozenset({"POST"}), path="/api/x/", format_suffixes=False)
    table = RouteTable([reads, writes])

    assert table.match("GET", "/api/x.json").route == reads
    assert table.match("POST", "/api/x.json") is None
    assert table.match("POST", "/api/x/").route == writes


def test_a_route_without_a_trailing_slash_takes_the_suffix_after_its_last_segment():
    plain = route("plain", "/api/x/{id}", "PUT")
    table = RouteTable([plain])

    assert table.match("PUT", "/api/x/7.json/").params == {"id": "7"}
    assert table.match("PUT", "/api/x/7.json").params == {"id": "7.json"}  # the pattern itself matches it first
