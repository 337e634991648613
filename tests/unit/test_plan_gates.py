"""Every gate kind on constructed evidence: pass, fail, not enough evidence."""

from datetime import UTC, datetime

import pytest

from migration_plan.gates import Approval, Evidence, evaluate
from migration_plan.playbook import Gate
from router.store.traffic import RouteTraffic


def gate(kind, routes="all", **params):
    return Gate(kind, tuple(sorted(params.items())), routes)


def side(requests, errors=0, fallbacks=0, bucket=3):
    hist = [0] * 20
    hist[bucket] = requests
    return RouteTraffic("g", "x", requests, errors, fallbacks, tuple(hist))


def ev(**kw):
    return Evidence(window_seconds=60, **kw)


@pytest.mark.parametrize("parity,ok", [((100, 100, 0), True), ((100, 90, 0), False), ((5, 5, 0), None)])
def test_parity_rate(parity, ok):
    r = evaluate(gate("parity_rate", min=0.99, min_samples=50), ev(parity={"all": parity}), "s")
    assert r.ok is ok and r.threshold.startswith("at least 99.00%")


@pytest.mark.parametrize("errors,requests,ok", [(0, 100, True), (5, 100, False), (0, 3, None)])
def test_error_rate(errors, requests, ok):
    e = ev(traffic={"reads": {"extracted": side(requests, errors)}})
    assert evaluate(gate("error_rate", routes="reads", max=0.01, min_requests=10), e, "s").ok is ok


def test_error_rate_with_no_minimum_passes_without_traffic():
    assert evaluate(gate("error_rate", max=0.01, min_requests=0), ev(), "s").ok is True


@pytest.mark.parametrize("legacy_bucket,extracted_bucket,n,ok", [(5, 5, 10, True), (3, 10, 10, False), (3, 3, 1, None)])
def test_latency_p99_ratio(legacy_bucket, extracted_bucket, n, ok):
    e = ev(traffic={"all": {"legacy": side(n, bucket=legacy_bucket), "extracted": side(n, bucket=extracted_bucket)}})
    assert evaluate(gate("latency_p99_ratio", max=1.5, min_requests=5), e, "s").ok is ok


@pytest.mark.parametrize("fallbacks,requests,ok", [(0, 100, True), (10, 90, False), (0, 0, None)])
def test_fallbacks(fallbacks, requests, ok):
    e = ev(traffic={"all": {"extracted": side(requests, fallbacks=fallbacks)}})
    r = evaluate(gate("fallbacks", max_rate=0.01), e, "s")
    assert r.ok is ok


@pytest.mark.parametrize("lag,ok", [(0.5, True), (30.0, False), (None, None)])
def test_sync_lag(lag, ok):
    assert evaluate(gate("sync_lag", max_seconds=5), ev(sync_lag_seconds=lag), "s").ok is ok


@pytest.mark.parametrize("drift,ok", [(0, True), (3, False), (None, None)])
def test_drift(drift, ok):
    assert evaluate(gate("drift", max=0), ev(drift=drift), "s").ok is ok


def test_approval_names_who_and_when_and_waits_without_one():
    g = gate("approval", required=True)
    assert evaluate(g, ev(), "decommission").ok is None
    other = Approval("another step", "ann", "ok", datetime(2024, 1, 1, tzinfo=UTC))
    assert evaluate(g, ev(approvals=(other,)), "decommission").ok is None
    mine = Approval("decommission", "ann", "checked the list", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    r = evaluate(g, ev(approvals=(mine,)), "decommission")
    assert r.ok is True and "ann" in r.figure and "2024-01-02 03:04:05" in r.figure
