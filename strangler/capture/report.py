"""What a replay found, per route, ready to print as a table or JSON; nothing secret in it. Pure.

Per route: how many requests were compared, how many matched, were equivalent or mismatched, how many
could not be compared (`skipped`: a body over the route's cap) or failed (`errors`), the parity rate
((match + equivalent) / (match + equivalent + mismatch)) and the paths that differ most. Then the
first few mismatches as examples: the target, both statuses and the differences, with credentials
and configured personal fields redacted by `Redactor.difference` (router.redaction) -- by the names on
the path of the field that differs as well as inside the values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from router.parity import Verdict
from router.redaction import Redactor
from strangler.capture.replay import ReplayOutcome, ReplayPlan

VERDICTS = tuple(str(v) for v in Verdict)  # match, equivalent, mismatch, skipped
MAX_DIFFERENCES_SHOWN = 10


@dataclass(slots=True)
class RouteReport:
    route: str
    counts: Counter[str] = field(default_factory=Counter)  # a verdict or "error" -> requests
    paths: Counter[tuple[str, str]] = field(default_factory=Counter)  # (pattern, kind) -> mismatching requests

    @property
    def compared(self) -> int:
        return sum(self.counts[v] for v in VERDICTS)

    @property
    def parity_rate(self) -> float | None:
        judged = self.counts["match"] + self.counts["equivalent"] + self.counts["mismatch"]
        return None if not judged else (self.counts["match"] + self.counts["equivalent"]) / judged

    def top_paths(self, limit: int = 5) -> list[tuple[str, str, int]]:
        return [(pattern, kind, n) for (pattern, kind), n in self.paths.most_common(limit)]

    def as_dict(self) -> dict[str, Any]:
        return {"route": self.route, "compared": self.compared, "parity_rate": self.parity_rate,
                **{v: self.counts[v] for v in VERDICTS}, "errors": self.counts["error"],
                "top_paths": [{"pattern": p, "kind": k, "count": n} for p, k, n in self.top_paths()]}


@dataclass(frozen=True, slots=True)
class ReplayReport:
    routes: tuple[RouteReport, ...]
    skipped: dict[str, int]
    examples: tuple[dict[str, Any], ...]
    errors: tuple[dict[str, Any], ...]

    @property
    def mismatches(self) -> int:
        return sum(r.counts["mismatch"] for r in self.routes)

    @property
    def failures(self) -> int:
        return sum(r.counts["error"] for r in self.routes)

    @property
    def judged(self) -> int:
        return sum(r.counts["match"] + r.counts["equivalent"] + r.counts["mismatch"] for r in self.routes)

    def as_dict(self) -> dict[str, Any]:
        return {"routes": [r.as_dict() for r in self.routes], "mismatches": self.mismatches, "errors": self.failures,
                "skipped": self.skipped, "examples": list(self.examples), "error_examples": list(self.errors)}


def build_report(plan: ReplayPlan, outcomes: Sequence[ReplayOutcome], redactor: Redactor, *, examples: int = 3) -> ReplayReport:
    """Aggregate outcomes per route (in order of first appearance); keep the first `examples` mismatches."""
    routes: dict[str, RouteReport] = {}
    shown: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for outcome in outcomes:
        item = outcome.item
        report = routes.setdefault(item.route, RouteReport(item.route))
        if outcome.result is None:
            report.counts["error"] += 1
            if len(errors) < examples:
                errors.append({**_request(item, redactor), "error": outcome.error})
            continue
        result = outcome.result
        report.counts[str(result.verdict)] += 1
        if result.verdict is Verdict.MISMATCH:
            report.paths.update({(d.pattern, str(d.kind)) for d in result.differences})
            if len(shown) < examples:
                shown.append({
                    **_request(item, redactor),
                    "legacy_status": outcome.legacy.status, "extracted_status": outcome.extracted.status,
                    "signature": result.signature(),
                    "differences": [redactor.difference(d) for d in result.differences[:MAX_DIFFERENCES_SHOWN]],
                    "more_differences": max(0, len(result.differences) - MAX_DIFFERENCES_SHOWN),
                })
    return ReplayReport(tuple(routes.values()), dict(plan.skipped), tuple(shown), tuple(errors))


def _request(item, redactor: Redactor) -> dict[str, Any]:
    request = item.exchange.request
    return {"number": item.number, "route": item.route, "method": request.method,
            "target": redactor.target(request.target), "write": item.write}
