"""Router traffic as evidence: per route, target (legacy | extracted) and minute, how many requests, 5xx
answers, fallbacks, and a fixed-bounds latency histogram (so p50/p99 can be estimated in any process).

`TrafficCounter` lives in the router process: one dict update per request under a lock, nothing else on
the request path. The recorder thread drains it (`take`) about once a second into `TrafficStore.write`.
"""

import bisect
import json
import threading
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from .schema import traffic_counts

# 20 upper bounds from 1 ms to 10 s, evenly spaced on a log scale; slower answers land in the last one.
BOUNDS: tuple[float, ...] = tuple(round(0.001 * 10 ** (4 * i / 19), 6) for i in range(20))
TARGETS = ("legacy", "extracted")


def minute(ts: float) -> int:
    return int(ts) // 60 * 60


def bucket_index(seconds: float) -> int:
    return min(bisect.bisect_left(BOUNDS, seconds), len(BOUNDS) - 1)


class TrafficCounter:
    """In-memory counts of one router process since the last `take`."""

    def __init__(self, clock=None):
        import time

        self._clock = clock or time.time
        self._lock = threading.Lock()
        self._data: dict[tuple[str, str, int], list] = {}

    def _entry(self, route: str, target: str) -> list:
        key = (route, target, minute(self._clock()))
        entry = self._data.get(key)
        if entry is None:
            entry = self._data[key] = [0, 0, 0, [0] * len(BOUNDS)]
        return entry

    def observe(self, route: str, target: str, status: int, seconds: float) -> None:
        index = bucket_index(seconds)
        with self._lock:
            entry = self._entry(route, target)
            entry[0] += 1
            if status >= 500:
                entry[1] += 1
            entry[3][index] += 1

    def fallback(self, route: str) -> None:
        """The extracted side failed and legacy answered instead (counted against extracted)."""
        with self._lock:
            self._entry(route, "extracted")[2] += 1

    def take(self) -> dict[tuple[str, str, int], list]:
        with self._lock:
            data, self._data = self._data, {}
        return data


@dataclass(frozen=True, slots=True)
class RouteTraffic:
    route: str
    target: str
    requests: int
    errors: int
    fallbacks: int
    histogram: tuple[int, ...]

    @property
    def error_rate(self) -> float | None:
        return None if self.requests == 0 else self.errors / self.requests

    def quantile(self, q: float) -> float | None:
        """Upper bound of the histogram bucket holding the q-quantile (seconds); None without requests."""
        total = sum(self.histogram)
        if total == 0:
            return None
        rank, seen = q * total, 0
        for bound, n in zip(BOUNDS, self.histogram):
            seen += n
            if seen >= rank:
                return bound
        return BOUNDS[-1]

    def as_dict(self) -> dict:
        return {"route": self.route, "target": self.target, "requests": self.requests, "errors": self.errors,
                "error_rate": self.error_rate, "fallbacks": self.fallbacks,
                "p50_ms": _ms(self.quantile(0.5)), "p99_ms": _ms(self.quantile(0.99))}


def merge(rows: list[RouteTraffic], route: str, target: str) -> RouteTraffic:
    """One RouteTraffic summing several (e.g. all routes of a group)."""
    hist = [0] * len(BOUNDS)
    for r in rows:
        for i, n in enumerate(r.histogram):
            hist[i] += n
    return RouteTraffic(route, target, sum(r.requests for r in rows), sum(r.errors for r in rows),
                        sum(r.fallbacks for r in rows), tuple(hist))


class TrafficStore:
    def __init__(self, control_store, retention_days: float = 7.0):
        self.control = control_store
        self.retention_seconds = retention_days * 86400

    @property
    def engine(self):
        return self.control.engine

    def write(self, data: dict[tuple[str, str, int], list]) -> None:
        """Add drained counts to the stored buckets (read-modify-write per row, in one transaction)."""
        if not data:
            return
        dialect = postgresql if self.control.is_postgres else sqlite
        with self.engine.begin() as conn:
            for (route, target, bucket), (requests, errors, fallbacks, hist) in data.items():
                c = traffic_counts.c
                row = conn.execute(select(traffic_counts).where(
                    c.route == route, c.target == target, c.bucket == bucket).with_for_update()).first()
                if row is not None:
                    old = json.loads(row.latency)
                    hist = [a + b for a, b in zip(old, hist)]
                    requests, errors, fallbacks = requests + row.requests, errors + row.errors, fallbacks + row.fallbacks
                stmt = dialect.insert(traffic_counts).values(
                    route=route, target=target, bucket=bucket, requests=requests, errors=errors,
                    fallbacks=fallbacks, latency=json.dumps(hist))
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["route", "target", "bucket"],
                    set_={"requests": stmt.excluded.requests, "errors": stmt.excluded.errors,
                          "fallbacks": stmt.excluded.fallbacks, "latency": stmt.excluded.latency}))

    def prune(self, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(traffic_counts).where(traffic_counts.c.bucket < minute(now - self.retention_seconds)))

    def summary(self, *, since: float, routes: list[str] | None = None, target: str | None = None) -> list[RouteTraffic]:
        """Per route and target since `since` (minute resolution: the bucket holding `since` counts whole)."""
        c = traffic_counts.c
        q = select(traffic_counts).where(c.bucket >= minute(since))
        if routes is not None:
            q = q.where(c.route.in_(list(routes)))
        if target:
            q = q.where(c.target == target)
        acc: dict[tuple[str, str], list] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(q):
                entry = acc.setdefault((row.route, row.target), [0, 0, 0, [0] * len(BOUNDS)])
                entry[0] += row.requests
                entry[1] += row.errors
                entry[2] += row.fallbacks
                for i, n in enumerate(json.loads(row.latency)):
                    entry[3][i] += n
        return [RouteTraffic(r, t, e[0], e[1], e[2], tuple(e[3])) for (r, t), e in sorted(acc.items())]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
