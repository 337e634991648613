"""Traffic evidence: the in-memory counter, the store's sums over minute buckets, quantile estimates."""

from router.store.control import ControlStore
from router.store.traffic import BOUNDS, RouteTraffic, TrafficCounter, TrafficStore, bucket_index, merge


def test_bounds_span_one_millisecond_to_ten_seconds():
    assert len(BOUNDS) == 20 and BOUNDS[0] == 0.001 and BOUNDS[-1] == 10.0
    assert bucket_index(0.0001) == 0 and bucket_index(99) == 19


def test_counter_and_store_sum_across_flushes(tmp_path):
    control = ControlStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    control.migrate()
    store = TrafficStore(control)
    counter = TrafficCounter(clock=lambda: 1_000_000.0)
    for _ in range(98):
        counter.observe("r1", "extracted", 200, 0.002)
    counter.observe("r1", "extracted", 503, 2.0)
    counter.observe("r1", "legacy", 200, 0.01)
    counter.fallback("r1")
    store.write(counter.take())
    counter.observe("r1", "extracted", 200, 0.002)
    store.write(counter.take())
    assert counter.take() == {}
    rows = {(r.route, r.target): r for r in store.summary(since=1_000_000.0 - 30)}
    ext = rows[("r1", "extracted")]
    assert (ext.requests, ext.errors, ext.fallbacks) == (100, 1, 1)
    assert ext.error_rate == 0.01
    assert ext.quantile(0.5) == BOUNDS[bucket_index(0.002)]
    assert ext.quantile(1.0) == BOUNDS[bucket_index(2.0)]
    assert rows[("r1", "legacy")].requests == 1
    assert store.summary(since=1_000_000.0 + 3600) == []
    assert [r.target for r in store.summary(since=0, target="legacy")] == ["legacy"]


def test_quantile_is_none_without_requests_and_merge_sums():
    empty = RouteTraffic("r", "legacy", 0, 0, 0, (0,) * 20)
    assert empty.quantile(0.99) is None and empty.error_rate is None
    one = RouteTraffic("a", "legacy", 2, 1, 0, (2,) + (0,) * 19)
    both = merge([one, one], "group", "legacy")
    assert (both.requests, both.errors, both.histogram[0]) == (4, 2, 4)
