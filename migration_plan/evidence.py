"""Gathers Evidence for one step from the stores: router traffic and parity (control store), relay lag
and drift (the capability's databases, optional), approvals (plan audit). The only I/O of the gates."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from router.masking import mask_secrets
from router.store.parity import ParityStore
from router.store.plans import PlanStateStore
from router.store.traffic import TrafficStore, merge

from .gates import Approval, Evidence
from .playbook import Playbook, Step

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def scope_routes(config, group: str) -> dict[str, list[str]]:
    """reads / writes / all route names of a group; a write route has only unsafe methods."""
    routes = [r for r in config.routes if r.group == group]
    writes = [r.name for r in routes if set(r.methods) <= UNSAFE]
    return {"all": [r.name for r in routes], "writes": writes,
            "reads": [r.name for r in routes if r.name not in writes]}


class EvidenceSource:
    """`gather(playbook, step, since)` from the real stores; `databases` (monolith, service engines) is
    optional: without it sync lag and drift stay unknown (their gates say not enough evidence)."""

    def __init__(self, control, config, databases=None, verify_drift: bool = True):
        self.control, self.config, self.databases = control, config, databases
        self.traffic, self.parity, self.plans = TrafficStore(control), ParityStore(control), PlanStateStore(control)
        self.verify_drift = verify_drift

    def gather(self, playbook: Playbook, step: Step, since: float) -> Evidence:
        scopes = scope_routes(self.config, playbook.group)
        wanted = {g.routes for g in step.gates} | {step.scope}
        kinds = {g.kind for g in step.gates}
        traffic, parity = {}, {}
        if kinds & {"error_rate", "latency_p99_ratio", "fallbacks"}:
            rows = self.traffic.summary(since=since, routes=scopes["all"])
            for scope in wanted:
                names = set(scopes[scope])
                traffic[scope] = {t: merge([r for r in rows if r.route in names and r.target == t], scope, t)
                                  for t in ("legacy", "extracted")}
        if "parity_rate" in kinds:
            summary = self.parity.summary(since=since)
            for scope in wanted:
                names = set(scopes[scope])
                mine = [r for r in summary if r.route in names]
                parity[scope] = (sum(r.compared for r in mine),
                                 sum(r.counts["match"] + r.counts["equivalent"] for r in mine),
                                 sum(r.counts["error"] for r in mine))
        lag, detail, drift = None, "no databases given", None
        if self.databases is not None and kinds & {"sync_lag", "drift"}:
            lag, detail, drift = self._sync(kinds)
        approvals = tuple(
            Approval(a["step"], a["actor"], a["reason"], datetime.fromisoformat(a["at"]))
            for a in reversed(self.plans.audit(playbook.capability, limit=200))
            if a["action"] == "approve" and datetime.fromisoformat(a["at"]).timestamp() >= since - 1)
        return Evidence(window_seconds=time.time() - since, traffic=traffic, parity=parity, sync_lag_seconds=lag,
                        sync_detail=detail, drift=drift, approvals=approvals)

    def _sync(self, kinds):
        from extracted.inventory.sync.status import sync_status

        monolith, service = self.databases
        lag, detail, drift = None, "", None
        try:
            status = sync_status(monolith, service)
            lags = [d.lag_seconds or 0.0 for d in status.directions if d.outbox_exists]
            lag = max(lags) if lags else 0.0
            detail = ", ".join(f"{d.direction} backlog {d.backlog or 0}" for d in status.directions if d.outbox_exists)
        except Exception as exc:  # unknown is not zero: the gate says not enough evidence
            detail = f"sync status unreadable: {mask_secrets(str(exc))}"  # shown by `plan status`, stored
        if "drift" in kinds and self.verify_drift:
            try:
                drift = _settled_drift(monolith, service)
            except Exception:
                drift = None
        return lag, detail, drift


def _settled_drift(monolith, service, attempts: int = 3, wait: float = 5.0) -> int:
    """Rows that differ between the databases, not counting changes still on their way.

    Under traffic a verify can read a row the relay has not carried yet: each attempt first waits for the
    relays to pass what the outboxes hold (as `strangler sync verify --wait` does) and a clean attempt
    ends it. Real drift shows in every attempt; a write in flight in one does not in the next."""
    from extracted.inventory.sync.verify import verify, wait_for_relays

    drift = 0
    for _ in range(attempts):
        wait_for_relays(monolith, service, wait)
        report = verify(monolith, service, examples=0)
        drift = sum(t.missing_on_service + t.missing_on_monolith + t.differing for t in report.tables)
        if drift == 0:
            break
    return drift


def now() -> float:
    return datetime.now(UTC).timestamp()
