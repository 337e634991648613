"""Parity results in the control store: counts per route and minute, mismatch counts per JSON path,
a bounded set of (already redacted) samples per difference signature, learned noise, retention."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .schema import parity_counts, parity_noise, parity_paths, parity_samples

# Not an outcome of a comparison but an event beside one, counted the same way: a write mirrored under
# the rollback policy whose answer lacked the rolled-back marker, so the service may have kept it.
WRITES_KEPT = "writes_kept"
OUTCOMES = ("match", "equivalent", "mismatch", "skipped", "dropped", "error", WRITES_KEPT)


def minute(ts: float) -> int:
    return int(ts) // 60 * 60


@dataclass(frozen=True, slots=True)
class Comparison:
    """One finished comparison, ready to store (samples already redacted); or, with outcome `WRITES_KEPT`,
    one mirrored write the service did not say it rolled back."""

    route: str
    at: float
    outcome: str
    signature: str | None = None
    paths: tuple[tuple[str, str], ...] = ()      # (generalised path, kind) of each regression
    sample: dict | None = None                   # {"method","target","request","legacy","extracted","diff"}


@dataclass(frozen=True, slots=True)
class RouteParity:
    route: str
    counts: dict[str, int]
    top_paths: list[tuple[str, str, int]]
    noise: list[tuple[str, int]]

    @property
    def compared(self) -> int:
        return self.counts["match"] + self.counts["equivalent"] + self.counts["mismatch"]

    @property
    def writes_kept(self) -> int:
        """Writes mirrored under the rollback policy that the service did not say it rolled back."""
        return self.counts[WRITES_KEPT]

    @property
    def parity_rate(self) -> float | None:
        """Share of compared exchanges that match or are equivalent; None before any comparison."""
        return None if self.compared == 0 else (self.counts["match"] + self.counts["equivalent"]) / self.compared

    def as_dict(self) -> dict:
        return {"route": self.route, "compared": self.compared, "parity_rate": self.parity_rate, **self.counts,
                "top_paths": [{"path": p, "kind": k, "count": c} for p, k, c in self.top_paths],
                "noise": [{"path": p, "count": c} for p, c in self.noise]}


class ParityStore:
    """Writes batches from the router's recorder thread; reads for reports, the admin API and gates."""

    def __init__(self, control_store, samples_per_signature: int = 5, retention_days: float = 7.0):
        self.control = control_store
        self.samples_per_signature = samples_per_signature
        self.retention = timedelta(days=retention_days)

    @property
    def engine(self):
        return self.control.engine

    def _insert(self, table):
        return (postgresql if self.control.is_postgres else sqlite).insert(table)

    def write(self, comparisons: list[Comparison], noise: dict[str, dict[str, int]] | None = None) -> None:
        counts: dict[tuple, int] = {}
        paths: dict[tuple, int] = {}
        for c in comparisons:
            counts[(c.route, minute(c.at), c.outcome)] = counts.get((c.route, minute(c.at), c.outcome), 0) + 1
            for path, kind in c.paths:
                key = (c.route, minute(c.at), path, kind)
                paths[key] = paths.get(key, 0) + 1
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            if counts:
                stmt = self._insert(parity_counts)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["route", "bucket", "outcome"], set_={"count": parity_counts.c.count + stmt.excluded.count}),
                    [{"route": r, "bucket": b, "outcome": o, "count": n} for (r, b, o), n in counts.items()])
            if paths:
                stmt = self._insert(parity_paths)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["route", "bucket", "path", "kind"], set_={"count": parity_paths.c.count + stmt.excluded.count}),
                    [{"route": r, "bucket": b, "path": p, "kind": k, "count": n} for (r, b, p, k), n in paths.items()])
            newest: dict[tuple[str, str], list[Comparison]] = {}
            for c in comparisons:
                if c.sample is not None:
                    newest.setdefault((c.route, c.signature or ""), []).append(c)
            for (route, signature), group in newest.items():
                self._keep_samples(conn, route, signature, group[-self.samples_per_signature:])
            for route, learned in (noise or {}).items():
                stmt = self._insert(parity_noise)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["route", "path"], set_={"count": parity_noise.c.count + stmt.excluded.count,
                                                            "updated_at": stmt.excluded.updated_at}),
                    [{"route": route, "path": p, "count": n, "updated_at": now} for p, n in learned.items()])

    def _keep_samples(self, conn, route: str, signature: str, group: list[Comparison]) -> None:
        """Insert a batch's newest samples of one signature, then trim the signature to the newest few:
        enough to see a difference, bounded whatever the traffic."""
        conn.execute(parity_samples.insert(), [{
            "route": route, "signature": signature, "at": datetime.fromtimestamp(c.at, UTC), "verdict": c.outcome,
            "method": c.sample["method"], "target": c.sample["target"], "request": json.dumps(c.sample["request"]),
            "legacy": json.dumps(c.sample["legacy"]), "extracted": json.dumps(c.sample["extracted"]),
            "diff": json.dumps(c.sample["diff"]),
        } for c in group])
        keep = select(parity_samples.c.id).where(parity_samples.c.route == route, parity_samples.c.signature == signature) \
            .order_by(parity_samples.c.id.desc()).limit(self.samples_per_signature)
        conn.execute(delete(parity_samples).where(
            parity_samples.c.route == route, parity_samples.c.signature == signature, parity_samples.c.id.not_in(keep)))

    def prune(self, now: float | None = None) -> None:
        """Drop samples and buckets older than the retention."""
        cutoff = (now or time.time()) - self.retention.total_seconds()
        with self.engine.begin() as conn:
            conn.execute(delete(parity_samples).where(parity_samples.c.at < datetime.fromtimestamp(cutoff, UTC)))
            conn.execute(delete(parity_counts).where(parity_counts.c.bucket < minute(cutoff)))
            conn.execute(delete(parity_paths).where(parity_paths.c.bucket < minute(cutoff)))

    # -- reads ---------------------------------------------------------------------------------------
    def summary(self, *, since: float, route: str | None = None, top: int = 3) -> list[RouteParity]:
        since_bucket = minute(since)
        with self.engine.connect() as conn:
            q = select(parity_counts.c.route, parity_counts.c.outcome, func.sum(parity_counts.c.count)) \
                .where(parity_counts.c.bucket >= since_bucket).group_by(parity_counts.c.route, parity_counts.c.outcome)
            if route:
                q = q.where(parity_counts.c.route == route)
            counts: dict[str, dict[str, int]] = {}
            for r, outcome, n in conn.execute(q):
                counts.setdefault(r, dict.fromkeys(OUTCOMES, 0))[outcome] = int(n)
            result = []
            for r in sorted(counts):
                pq = select(parity_paths.c.path, parity_paths.c.kind, func.sum(parity_paths.c.count).label("n")) \
                    .where(parity_paths.c.route == r, parity_paths.c.bucket >= since_bucket) \
                    .group_by(parity_paths.c.path, parity_paths.c.kind).order_by(func.sum(parity_paths.c.count).desc()).limit(top)
                nq = select(parity_noise.c.path, parity_noise.c.count).where(parity_noise.c.route == r) \
                    .order_by(parity_noise.c.count.desc()).limit(top)
                result.append(RouteParity(r, counts[r], [(p, k, int(n)) for p, k, n in conn.execute(pq)],
                                          [(p, int(n)) for p, n in conn.execute(nq)]))
        return result

    def noise_paths(self, route: str) -> list[str]:
        with self.engine.connect() as conn:
            return [p for (p,) in conn.execute(select(parity_noise.c.path).where(parity_noise.c.route == route))]

    def samples(self, *, route: str | None = None, limit: int = 20) -> list[dict]:
        q = select(parity_samples.c.id, parity_samples.c.route, parity_samples.c.signature, parity_samples.c.at,
                   parity_samples.c.verdict, parity_samples.c.method, parity_samples.c.target) \
            .order_by(parity_samples.c.id.desc()).limit(limit)
        if route:
            q = q.where(parity_samples.c.route == route)
        with self.engine.connect() as conn:
            return [{"id": i, "route": r, "signature": s, "at": _iso(a), "verdict": v, "method": m, "target": t}
                    for i, r, s, a, v, m, t in conn.execute(q)]

    def sample(self, sample_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(parity_samples).where(parity_samples.c.id == sample_id)).first()
        if row is None:
            return None
        return {"id": row.id, "route": row.route, "signature": row.signature, "at": _iso(row.at), "verdict": row.verdict,
                "method": row.method, "target": row.target, "request": json.loads(row.request),
                "legacy": json.loads(row.legacy), "extracted": json.loads(row.extracted), "diff": json.loads(row.diff)}


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
