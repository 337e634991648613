"""The parity store on a real SQLite file: counts by minute, bounded samples per signature, retention."""

import time

from router.store import ControlStore
from router.store.parity import WRITES_KEPT, Comparison, ParityStore


def comparison(i, at, outcome="mismatch", signature="sig-a"):
    return Comparison(route="r", at=at, outcome=outcome, signature=signature, paths=(("body.x", "changed"),),
                      sample={"method": "GET", "target": f"/x/{i}", "request": {}, "legacy": {}, "extracted": {}, "diff": {}})


def test_counts_paths_and_only_the_newest_samples_per_signature_are_kept(tmp_path):
    store = ControlStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    store.migrate()
    parity = ParityStore(store, samples_per_signature=3)
    now = time.time()
    parity.write([comparison(i, now) for i in range(5)])
    parity.write([comparison(i, now) for i in range(5, 8)] + [comparison(99, now, signature="sig-b")])
    parity.write([Comparison(route="r", at=now, outcome="match")] * 4)

    [row] = parity.summary(since=now - 60)
    assert (row.counts["mismatch"], row.counts["match"], row.compared) == (9, 4, 13)
    assert round(row.parity_rate, 4) == round(4 / 13, 4)
    assert row.top_paths == [("body.x", "changed", 9)]
    targets = sorted(s["target"] for s in parity.samples(limit=50))
    assert targets == ["/x/5", "/x/6", "/x/7", "/x/99"]


def test_retention_prunes_old_samples_and_buckets(tmp_path):
    store = ControlStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    store.migrate()
    parity = ParityStore(store, retention_days=1)
    old, now = time.time() - 3 * 86400, time.time()
    parity.write([comparison(1, old), comparison(2, now, signature="sig-new")])
    parity.prune(now)
    assert [s["target"] for s in parity.samples()] == ["/x/2"]
    assert parity.summary(since=old - 60)[0].counts["mismatch"] == 1


def test_writes_the_service_kept_are_counted_per_route_apart_from_comparisons(tmp_path):
    store = ControlStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    store.migrate()
    parity = ParityStore(store)
    now = time.time()
    parity.write([Comparison(route="r", at=now, outcome="match"), Comparison(route="r", at=now, outcome=WRITES_KEPT),
                  Comparison(route="r", at=now, outcome=WRITES_KEPT), Comparison(route="s", at=now, outcome="match")])

    rows = {row.route: row for row in parity.summary(since=now - 60)}
    assert (rows["r"].writes_kept, rows["r"].compared, rows["r"].parity_rate) == (2, 1, 1.0)
    assert rows["s"].writes_kept == 0
    assert rows["r"].as_dict()["writes_kept"] == 2 and rows["s"].as_dict()["writes_kept"] == 0
