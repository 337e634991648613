"""router.flags: snapshot resolution (route over group over legacy) and parsing of requested flag changes."""

import pytest

from router.config import parse_config
from router.decision import FlagState, Mode
from router.flags import EMPTY, FlagChange, FlagSnapshot, parse_flag_change

CONFIG = parse_config({
    "version": 1,
    "upstreams": {"legacy": {"url": "http://127.0.0.1:8001"}, "inventory": {"url": "http://127.0.0.1:8101"},
                  "orders": {"url": "http://127.0.0.1:8102"}},
    "groups": {"inventory": {"upstream": "inventory"}, "orders": {"upstream": "orders"}},
    "routes": [
        {"name": "inventory.stock.list", "group": "inventory", "methods": ["GET"], "path": "/api/inventory/stock/"},
        {"name": "inventory.stock.detail", "group": "inventory", "methods": ["GET"],
         "path": "/api/inventory/stock/{sku}/"},
        {"name": "orders.list", "group": "orders", "methods": ["GET"], "path": "/api/orders/"},
    ],
}, source="strangler.yaml")
STOCK_LIST, STOCK_DETAIL, ORDERS = CONFIG.routes


# -- snapshot resolution -----------------------------------------------------------------------------

def test_empty_snapshot_serves_everything_from_legacy():
    assert EMPTY.version == 0
    assert all(EMPTY.effective(r) == FlagState() for r in CONFIG.routes)
    assert EMPTY.effective(STOCK_LIST).mode is Mode.LEGACY


def test_group_flag_applies_to_all_its_routes_only():
    snapshot = FlagSnapshot(3, routes={}, groups={"inventory": FlagState(Mode.CANARY, 10)})

    assert snapshot.effective(STOCK_LIST) == FlagState(Mode.CANARY, 10)
    assert snapshot.effective(STOCK_DETAIL) == FlagState(Mode.CANARY, 10)
    assert snapshot.effective(ORDERS) == FlagState()


def test_route_flag_overrides_its_group_flag():
    snapshot = FlagSnapshot(4, routes={"inventory.stock.detail": FlagState(Mode.LEGACY)},
                            groups={"inventory": FlagState(Mode.EXTRACTED, 100)})

    assert snapshot.effective(STOCK_DETAIL).mode is Mode.LEGACY
    assert snapshot.effective(STOCK_LIST).mode is Mode.EXTRACTED


def test_snapshot_is_a_frozen_copy_of_what_it_was_built_from():
    groups = {"inventory": FlagState(Mode.SHADOW)}
    snapshot = FlagSnapshot(5, routes={}, groups=groups)
    groups["inventory"] = FlagState(Mode.EXTRACTED, 100)

    assert snapshot.effective(STOCK_LIST).mode is Mode.SHADOW
    with pytest.raises(TypeError):
        snapshot.groups["orders"] = FlagState()  # type: ignore[index]


# -- parse_flag_change ----------------------------------------------------------------------------------

def test_group_target_with_canary_percent():
    change = parse_flag_change("inventory", "canary", 10, None, CONFIG)

    assert change == FlagChange("group", "inventory", FlagState(Mode.CANARY, 10.0, 0.0))  # no reverse shadow unless asked
    kind, name, state = change  # unpacks like the (kind, name, state) tuple it is
    assert (kind, name, state.percent) == ("group", "inventory", 10.0)


def test_route_target():
    assert parse_flag_change("inventory.stock.detail", "shadow", None, 0.25, CONFIG) == (
        "route", "inventory.stock.detail", FlagState(Mode.SHADOW, 0.0, 0.25))


def test_mode_is_read_case_insensitively():
    assert parse_flag_change("orders", " Extracted ", None, None, CONFIG).state.mode is Mode.EXTRACTED


@pytest.mark.parametrize(("mode", "percent", "stored"), [
    ("legacy", None, 0.0), ("legacy", 40, 0.0), ("extracted", None, 100.0), ("extracted", 5, 100.0),
    ("shadow", 30, 0.0), ("canary", 0, 0.0), ("canary", 100, 100.0), ("canary", 12.5, 12.5),
])
def test_percent_is_kept_for_canary_only(mode, percent, stored):
    assert parse_flag_change("inventory", mode, percent, None, CONFIG).state.percent == stored


def test_unknown_target_lists_the_known_groups_and_suggests_a_close_name():
    with pytest.raises(ValueError) as info:
        parse_flag_change("inventroy", "canary", 10, None, CONFIG)
    message = str(info.value)

    assert "'inventroy' is neither a route nor a group in strangler.yaml" in message
    assert "known groups: inventory, orders" in message and "did you mean 'inventory'?" in message


def test_unknown_mode_lists_the_choices():
    with pytest.raises(ValueError, match="unknown mode 'canery'; choose one of legacy, shadow, canary, extracted"):
        parse_flag_change("inventory", "canery", 10, None, CONFIG)


def test_canary_without_a_percent_says_what_is_missing():
    with pytest.raises(ValueError, match="canary needs a percent"):
        parse_flag_change("inventory", "canary", None, None, CONFIG)


@pytest.mark.parametrize(("percent", "message"), [
    (150, "percent must be between 0 and 100, got 150"),
    (-5, "percent must be between 0 and 100"),
    (12.345, "at most 2 decimals"),
    ("ten", "percent must be a number between 0 and 100, got 'ten'"),
    (float("inf"), "percent must be a number"),
])
def test_bad_canary_percent_is_explained(percent, message):
    with pytest.raises(ValueError, match=message):
        parse_flag_change("inventory", "canary", percent, None, CONFIG)


def test_bad_shadow_rate_is_explained():
    with pytest.raises(ValueError, match="shadow_rate must be between 0 and 1, got 2"):
        parse_flag_change("inventory", "shadow", None, 2, CONFIG)


def test_non_string_target_is_a_value_error_not_a_crash():
    with pytest.raises(ValueError, match="neither a route nor a group"):
        parse_flag_change(["inventory"], "legacy", None, None, CONFIG)  # type: ignore[arg-type]


def test_shadow_rate_defaults_per_mode():
    assert parse_flag_change("inventory", "shadow", None, None, CONFIG).state.shadow_rate == 1.0
    assert parse_flag_change("inventory", "extracted", None, None, CONFIG).state.shadow_rate == 0.0
    assert parse_flag_change("inventory", "extracted", None, 0.25, CONFIG).state.shadow_rate == 0.25
    assert parse_flag_change("inventory", "legacy", None, 0.5, CONFIG).state.shadow_rate == 0.0
