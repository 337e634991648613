"""router.decision: which side serves a request; canary stickiness; the caller's sticky key."""

import dataclasses
import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.config import Group, Route
from router.decision import (
    BUCKETS,
    Decision,
    FlagState,
    Mode,
    RequestFacts,
    Target,
    bucket,
    decide,
    sticky_key,
)

INVENTORY = Group("inventory", upstream="inventory-svc")
ORDERS = Group("orders", upstream="orders-svc")
STOCK_LIST = Route("inventory.stock.list", "inventory", frozenset({"GET", "HEAD"}), "/api/inventory/stock/")
STOCK_DETAIL = Route("inventory.stock.detail", "inventory", frozenset({"GET", "HEAD"}), "/api/inventory/stock/{sku}/")
ORDER_LIST = Route("orders.list", "orders", frozenset({"GET", "HEAD"}), "/api/orders/")

_rng = random.Random(7)
KEYS = [f"token:{_rng.getrandbits(256):064x}" for _ in range(2000)]  # 2000 callers, fixed for reproducibility


def canary(percent):
    return FlagState(Mode.CANARY, percent)


def extracted_keys(percent, group=INVENTORY, route=STOCK_LIST):
    flag = canary(percent)
    return {k for k in KEYS if decide(route, group, flag, RequestFacts(k)).primary is Target.EXTRACTED}


# -- modes ---------------------------------------------------------------------------------------------

def test_legacy_mode_sends_to_legacy_without_fallback():
    decision = decide(STOCK_LIST, INVENTORY, FlagState(), RequestFacts("addr:1.2.3.4"))

    assert decision == Decision(Target.LEGACY, "legacy", shadow=None, may_fall_back=False, reason="legacy")


def test_extracted_mode_sends_to_the_groups_upstream_with_fallback():
    decision = decide(STOCK_LIST, INVENTORY, FlagState(Mode.EXTRACTED, 100), RequestFacts("anonymous"))

    assert decision == Decision(Target.EXTRACTED, "inventory-svc", shadow=None, may_fall_back=True,
                                reason="extracted")


def test_shadow_mode_serves_from_legacy_and_mirrors_to_extracted():
    decision = decide(STOCK_LIST, INVENTORY, FlagState(Mode.SHADOW), RequestFacts("anonymous"))

    assert (decision.primary, decision.upstream, decision.shadow) == (Target.LEGACY, "legacy", Target.EXTRACTED)
    assert decision.may_fall_back is False and decision.reason == "shadow"


@pytest.mark.parametrize("mode", list(Mode))
def test_override_wins_over_every_mode(mode):
    flag = FlagState(mode, 50 if mode is Mode.CANARY else 0)
    to_extracted = decide(STOCK_LIST, INVENTORY, flag, RequestFacts("k", override=Target.EXTRACTED))
    to_legacy = decide(STOCK_LIST, INVENTORY, flag, RequestFacts("k", override=Target.LEGACY))

    assert to_extracted == Decision(Target.EXTRACTED, "inventory-svc", None, True, "override")
    assert to_legacy == Decision(Target.LEGACY, "legacy", None, False, "override")


def test_canary_at_0_and_100_percent_is_all_or_nothing():
    assert extracted_keys(0) == set()
    assert extracted_keys(100) == set(KEYS)


def test_canary_decisions_carry_fallback_only_when_extracted_and_a_low_cardinality_reason():
    flag = canary(50)
    for key in KEYS[:200]:
        d = decide(STOCK_LIST, INVENTORY, flag, RequestFacts(key))
        assert d.may_fall_back is (d.primary is Target.EXTRACTED)
        assert d.upstream == ("inventory-svc" if d.primary is Target.EXTRACTED else "legacy")
        assert d.reason == ("canary-in" if d.primary is Target.EXTRACTED else "canary-out")


# -- stickiness ----------------------------------------------------------------------------------------

def test_canary_is_sticky_for_a_key():
    flag = canary(30)
    for key in KEYS[:100]:
        first = decide(STOCK_LIST, INVENTORY, flag, RequestFacts(key)).primary
        assert all(decide(STOCK_LIST, INVENTORY, flag, RequestFacts(key)).primary is first for _ in range(3))


def test_raising_the_percentage_never_moves_anyone_back():
    ten, fifty, ninety = extracted_keys(10), extracted_keys(50), extracted_keys(90)

    assert ten <= fifty <= ninety
    assert len(ten) < len(fifty) < len(ninety)


@pytest.mark.parametrize("percent", [1, 10, 25, 50, 90])
def test_canary_share_is_close_to_the_percentage(percent):
    share = len(extracted_keys(percent)) / len(KEYS)

    assert abs(share - percent / 100) < 0.035  # about 3.5 standard deviations at 50 % with 2000 keys


def test_all_routes_of_a_group_share_the_caller_s_side():
    assert extracted_keys(40, route=STOCK_LIST) == extracted_keys(40, route=STOCK_DETAIL)


def test_different_groups_are_independent():
    inventory = extracted_keys(50, group=INVENTORY, route=STOCK_LIST)
    orders = extracted_keys(50, group=ORDERS, route=ORDER_LIST)
    both = len(inventory & orders) / len(KEYS)

    assert inventory != orders
    assert abs(both - 0.25) < 0.04  # independent halves overlap on about a quarter


def test_bucket_is_in_range_and_pinned_to_blake2b():
    # pinned values: a change of hash function would silently reshuffle every canary in production
    digest = hashlib.blake2b(b"inventory\0token:abc", digest_size=8).digest()
    assert bucket("inventory", "token:abc") == int.from_bytes(digest, "big") % BUCKETS == 197
    assert bucket("orders", "token:abc") == 4303
    assert all(0 <= bucket("g", k) < BUCKETS for k in KEYS)


def test_bucket_is_the_same_in_another_process_with_another_hash_seed():
    code = "from router.decision import bucket; print(bucket('inventory', 'session:xyz'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True).stdout

    assert int(out) == bucket("inventory", "session:xyz")


@given(key=st.text(max_size=60), group=st.sampled_from(["inventory", "orders", "catalog"]),
       low=st.integers(0, 10_000), high=st.integers(0, 10_000))
def test_property_canary_is_monotone_in_the_percentage(key, group, low, high):
    low, high = sorted((low, high))
    g = Group(group, upstream="svc")
    route = Route("r", group, frozenset({"GET"}), "/r/")
    at_low = decide(route, g, canary(low / 100), RequestFacts(key)).primary
    at_high = decide(route, g, canary(high / 100), RequestFacts(key)).primary

    assert not (at_low is Target.EXTRACTED and at_high is Target.LEGACY)


@given(hundredths=st.integers(0, 10_000))
def test_property_a_percent_with_two_decimals_is_exactly_that_many_buckets(hundredths):
    # 0.29 * 100 is 28.999999999999996 in floating point: the threshold must still be 29 buckets
    assert round(canary(hundredths / 100).percent * 100) == hundredths


# -- FlagState validation --------------------------------------------------------------------------------

def test_flag_state_defaults_to_legacy():
    assert FlagState() == FlagState(Mode.LEGACY, 0.0, 0.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"percent": -1}, "percent must be between 0 and 100"),
    ({"percent": 100.5}, "percent must be between 0 and 100"),
    ({"percent": 12.345}, "at most 2 decimals"),
    ({"percent": float("nan")}, "percent must be a number"),
    ({"percent": "10"}, "percent must be a number"),
    ({"percent": True}, "percent must be a number"),
    ({"shadow_rate": 1.5}, "shadow_rate must be between 0 and 1"),
    ({"mode": "canery"}, "mode must be one of legacy, shadow, canary, extracted"),
])
def test_flag_state_refuses_bad_values_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FlagState(**kwargs)


def test_flag_state_normalises_mode_strings_and_float_noise():
    flag = FlagState("canary", 0.1 + 0.2, 1)

    assert flag.mode is Mode.CANARY and flag.percent == 0.3 and isinstance(flag.shadow_rate, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flag.percent = 5  # type: ignore[misc]


# -- sticky_key ------------------------------------------------------------------------------------------

def make_key(**overrides):
    args = {"authorization": None, "cookie_header": None, "session_cookie": "sessionid",
            "sticky_header_value": None, "client_host": None}
    return sticky_key(**{**args, **overrides})


def test_token_wins_and_is_hashed_never_raw():
    k = make_key(authorization="Token 9944b09199c62bcf9418ad846dd0e4bb", cookie_header="sessionid=abc",
            sticky_header_value="C-1", client_host="10.0.0.1")

    assert k.startswith("token:") and len(k) == len("token:") + 64
    assert "9944b09199c62bcf9418ad846dd0e4bb" not in k
    assert k == make_key(authorization="Token 9944b09199c62bcf9418ad846dd0e4bb")


def test_session_cookie_comes_next_and_is_hashed():
    k = make_key(cookie_header="csrftoken=x; sessionid=s3cr3t-session; theme=dark", sticky_header_value="C-1",
            client_host="10.0.0.1")

    assert k.startswith("session:") and "s3cr3t-session" not in k
    assert k == make_key(cookie_header="sessionid=s3cr3t-session")


def test_session_cookie_name_is_configurable():
    assert make_key(cookie_header="sid=abc", session_cookie="sid").startswith("session:")
    assert make_key(cookie_header="sid=abc") == "anonymous"


def test_then_the_sticky_header_then_the_client_address_then_anonymous():
    assert make_key(sticky_header_value="C-1", client_host="10.0.0.1") == "header:C-1"
    assert make_key(client_host="10.0.0.1") == "addr:10.0.0.1"
    assert make_key() == "anonymous"


def test_different_callers_get_different_keys():
    assert make_key(authorization="Token a") != make_key(authorization="Token b")
    assert make_key(cookie_header="sessionid=a") != make_key(cookie_header="sessionid=b")


@pytest.mark.parametrize("cookie", ["", ";;;", "garbage", "sessionid", "sessionid=", "=; =x", 'a="unterminated; b'])
def test_malformed_or_empty_cookies_are_tolerated(cookie):
    assert make_key(cookie_header=cookie, client_host="h") == "addr:h"


def test_session_cookie_is_found_among_malformed_pairs():
    assert make_key(cookie_header='a="broken; junk; sessionid=abc; x') == make_key(cookie_header="sessionid=abc")


def test_blank_authorization_and_sticky_header_are_ignored():
    assert make_key(authorization="  ", sticky_header_value=" ", client_host="h") == "addr:h"


@pytest.mark.parametrize(("mode", "percent", "key_in", "expected"), [
    (Mode.EXTRACTED, 100, True, (Target.EXTRACTED, Target.LEGACY)),
    (Mode.CANARY, 100, True, (Target.EXTRACTED, Target.LEGACY)),
    (Mode.CANARY, 0, False, (Target.LEGACY, Target.EXTRACTED)),
    (Mode.SHADOW, 0, False, (Target.LEGACY, Target.EXTRACTED)),
])
def test_a_shadow_rate_mirrors_to_the_other_side(mode, percent, key_in, expected):
    route = Route("r", "inventory", frozenset({"GET"}), "/x/")
    group = Group("inventory", "inventory")
    watched = decide(route, group, FlagState(mode, percent, 0.5), RequestFacts("token:abc"))
    assert (watched.primary, watched.shadow) == expected
    if mode is not Mode.SHADOW:
        unwatched = decide(route, group, FlagState(mode, percent, 0.0), RequestFacts("token:abc"))
        assert unwatched.shadow is None
