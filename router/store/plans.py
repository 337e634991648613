"""Migration plan state in the control store: the engine's latest snapshot per capability and the audit
of every step, rollback and approval. Written by `migration_plan.engine`, read by the dashboard and CLI."""

import json
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from .schema import plan_audit, plan_state


class PlanStateStore:
    def __init__(self, control_store):
        self.control = control_store

    @property
    def engine(self):
        return self.control.engine

    # -- reads ---------------------------------------------------------------------------------------
    def snapshots(self) -> list[dict]:
        """Every capability's latest snapshot (see migration_plan.engine for its shape), by capability."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(plan_state).order_by(plan_state.c.capability)).all()
        return [json.loads(row.snapshot) for row in rows]

    def snapshot(self, capability: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(plan_state).where(plan_state.c.capability == capability)).first()
        return None if row is None else json.loads(row.snapshot)

    def audit(self, capability: str | None = None, limit: int = 100) -> list[dict]:
        """Newest first."""
        q = select(plan_audit).order_by(plan_audit.c.id.desc()).limit(limit)
        if capability:
            q = q.where(plan_audit.c.capability == capability)
        with self.engine.connect() as conn:
            return [{"id": r.id, "capability": r.capability, "step": r.step, "action": r.action, "outcome": r.outcome,
                     "evidence": json.loads(r.evidence), "actor": r.actor, "reason": r.reason, "at": _iso(r.at)}
                    for r in conn.execute(q)]

    # -- writes --------------------------------------------------------------------------------------
    def save_snapshot(self, capability: str, snapshot: dict) -> None:
        now = datetime.now(UTC)
        body = json.dumps(snapshot, sort_keys=True, default=str)
        with self.engine.begin() as conn:
            done = conn.execute(update(plan_state).where(plan_state.c.capability == capability)
                                .values(snapshot=body, updated_at=now)).rowcount
            if not done:
                conn.execute(insert(plan_state).values(capability=capability, snapshot=body, updated_at=now))

    def record(self, *, capability: str, step: str, action: str, outcome: str, evidence: dict | list,
               actor: str, reason: str, at: datetime | None = None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(insert(plan_audit).values(
                capability=capability, step=step, action=action, outcome=outcome,
                evidence=json.dumps(evidence, sort_keys=True, default=str), actor=actor, reason=reason,
                at=at or datetime.now(UTC)))
            return result.inserted_primary_key[0]


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
