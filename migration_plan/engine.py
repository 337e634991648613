"""The plan engine: where a capability stands in its playbook, whether the current step's gates hold,
and what to do next (advance, hold, roll back). `decide` is pure; `PlanEngine` wires it to three ports:
an evidence source, an actuator (flag changes, sync commands) and the plan state store (snapshot + audit).

State lives in the snapshot (strangler_plan_state): status, current step index, when each step was
entered. Every evaluation rewrites the snapshot; every step run, rollback, refusal and approval is audited
with the evidence that decided it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from .gates import Evidence, GateResult, evaluate
from .playbook import Playbook, Step

WAITING, READY, FAILED = "waiting", "ready", "failed"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The current step's gates now: ready to advance, failed (a gate says no), or still waiting."""

    state: str
    results: tuple[GateResult, ...]
    held_seconds: float
    hold_seconds: float

    @property
    def reasons(self) -> list[str]:
        why = [f"{r.name}: {r.verdict}: {r.figure} (needs {r.threshold})" + (f"; {r.detail}" if r.detail else "")
               for r in self.results if r.ok is not True]
        if self.held_seconds < self.hold_seconds:
            why.append(f"hold: {self.held_seconds:.0f} s of {self.hold_seconds:g} s")
        return why


def decide(step: Step, evidence: Evidence, entered_at: float, now: float) -> Verdict:
    results = tuple(evaluate(g, evidence, step.name) for g in step.gates)
    held = max(0.0, now - entered_at)
    if any(r.ok is False for r in results):
        return Verdict(FAILED, results, held, step.hold_seconds)
    if all(r.ok for r in results) and held >= step.hold_seconds:
        return Verdict(READY, results, held, step.hold_seconds)
    return Verdict(WAITING, results, held, step.hold_seconds)


def flag_plan(playbook: Playbook, upto: int) -> dict[str, tuple[str, float | None]]:
    """Desired (mode, percent) per route scope after steps 0..upto: every scope any step touches starts on
    legacy, then the flag actions are replayed in order (upto -1: the start, all legacy)."""
    state: dict[str, tuple[str, float | None]] = {}
    for step in playbook.steps:
        for a in step.actions:
            if a.kind == "flag":
                state.setdefault(a.routes, ("legacy", None))
    for step in playbook.steps[:upto + 1]:
        for a in step.actions:
            if a.kind == "flag":
                if a.routes == "all":
                    for scope in list(state):
                        state[scope] = (a.mode, a.percent)
                state[a.routes] = (a.mode, a.percent)
    return state


class PlanEngine:
    def __init__(self, playbook: Playbook, store, evidence, actuator, *, actor: str = "strangler-plan", clock=time.time):
        self.playbook, self.store, self.evidence, self.actuator = playbook, store, evidence, actuator
        self.actor, self.clock = actor, clock

    # -- state ---------------------------------------------------------------------------------------
    def state(self) -> dict:
        snap = self.store.snapshot(self.playbook.capability)
        if snap is None or snap.get("playbook") != self.playbook.source or len(snap.get("steps", [])) != len(self.playbook.steps):
            snap = {"capability": self.playbook.capability, "playbook": self.playbook.source, "status": "not started",
                    "current": None, "steps": [self._step_doc(s, "pending", None) for s in self.playbook.steps]}
        return snap

    def _step_doc(self, step: Step, status: str, entered_at, gates=()) -> dict:
        return {"name": step.name, "kind": step.kind, "status": status, "hold_seconds": step.hold_seconds,
                "entered_at": entered_at, "gates": [g.as_dict() for g in gates],
                "actions": [a.describe() for a in step.actions], "checklist": list(step.checklist)}

    def _save(self, snap: dict) -> dict:
        snap["updated_at"] = datetime.now(UTC).isoformat()
        self.store.save_snapshot(self.playbook.capability, snap)
        return snap

    def _audit(self, step: str, action: str, outcome: str, evidence, reason: str, actor: str | None = None) -> None:
        self.store.record(capability=self.playbook.capability, step=step, action=action, outcome=outcome,
                          evidence=evidence, actor=actor or self.actor, reason=reason)

    # -- evaluation ----------------------------------------------------------------------------------
    def evaluate(self) -> tuple[dict, Verdict | None]:
        """Evaluate the current step's gates over its window and save the snapshot."""
        snap = self.state()
        current = snap["current"]
        if current is None or snap["status"] == "done":
            return self._save(snap), None
        step = self.playbook.steps[current]
        entered = _ts(snap["steps"][current]["entered_at"]) or self.clock()
        verdict = decide(step, self.evidence(self.playbook, step, entered), entered, self.clock())
        doc = snap["steps"][current]
        doc["gates"] = [r.as_dict() for r in verdict.results]
        if snap["status"] != "rolled back":
            doc["status"] = "blocked" if verdict.state == FAILED else "current"
            snap["status"] = "blocked" if verdict.state == FAILED else "running"
        return self._save(snap), verdict

    def _enter(self, snap: dict, index: int, reason: str, actor: str | None, evidence) -> None:
        step = self.playbook.steps[index]
        notes = self.actuator.run_step(self.playbook, index)
        now = datetime.fromtimestamp(self.clock(), UTC).isoformat()
        for i, doc in enumerate(snap["steps"]):
            if i < index:
                doc["status"] = "done"
            elif i > index and doc["status"] != "rolled back":
                doc["status"] = "pending"
        snap["steps"][index].update(status="current", entered_at=now, gates=[])
        snap["current"], snap["status"] = index, "running"
        self._audit(step.name, "enter", "ok", {"previous_gates": evidence, "actions": notes}, reason, actor)

    def advance(self, *, reason: str = "gates held", actor: str | None = None) -> tuple[bool, list[str]]:
        """Run the next step when the current one's gates held for its hold time; else refuse with why."""
        snap, verdict = self.evaluate()
        if snap["status"] == "done":
            return False, ["the playbook is done"]
        current = snap["current"]
        if current is not None:
            step = self.playbook.steps[current]
            if verdict.state != READY:
                self._audit(step.name, "advance", "refused", [r.as_dict() for r in verdict.results],
                            "; ".join(verdict.reasons), actor)
                return False, verdict.reasons
            evidence = [r.as_dict() for r in verdict.results]
            if current + 1 == len(self.playbook.steps):
                snap["steps"][current]["status"] = "done"
                snap["status"], snap["current"] = "done", None
                self._audit(step.name, "done", "ok", evidence, reason, actor)
                self._save(snap)
                return True, [f"{self.playbook.capability}: playbook done"]
        else:
            evidence = []
        nxt = 0 if current is None else current + 1
        self._enter(snap, nxt, reason, actor, evidence)
        self._save(snap)
        return True, [f"entered step {nxt + 1}: {self.playbook.steps[nxt].name}"]

    def rollback(self, *, to: int | None = None, reason: str, actor: str | None = None, evidence=None) -> int:
        """Return to step `to` (-1: the start, all legacy; default: the step before the current one)."""
        snap = self.state()
        current = snap["current"]
        if current is None:
            current = len(self.playbook.steps) - 1 if snap["status"] == "done" else -1
        if to is None:
            to = self.playbook.steps[current].on_failure.target(current) if current >= 0 else -1
        failed = self.playbook.steps[current].name if current >= 0 else "(start)"
        notes = self.actuator.roll_back(self.playbook, current, to)
        now = datetime.fromtimestamp(self.clock(), UTC).isoformat()
        for i, doc in enumerate(snap["steps"]):
            if i < to:
                doc["status"] = "done"
            elif i == to:
                doc.update(status="current", entered_at=now)
            elif to < i <= current:
                doc["status"] = "rolled back"
            else:
                doc["status"] = "pending"
        snap["current"] = to if to >= 0 else None
        snap["status"] = "rolled back"
        self._audit(failed, "rollback", "ok", {"gates": evidence or [], "to": self.playbook.steps[to].name if to >= 0 else "start",
                                               "actions": notes}, reason, actor)
        self._save(snap)
        return to

    def approve(self, step_name: str, *, actor: str, reason: str) -> None:
        index = self.playbook.index(step_name)
        self._audit(self.playbook.steps[index].name, "approve", "ok", {}, reason, actor)

    # -- the loop --------------------------------------------------------------------------------------
    def watch(self, *, max_seconds: float, interval: float = 1.0, on_tick=None) -> str:
        """Advance after each hold, roll back on a failed gate (per on_failure). Returns done | rolled back |
        stopped | timeout."""
        deadline = self.clock() + max_seconds
        snap = self.state()
        if snap["status"] == "rolled back":   # watching again resumes from where the rollback left it
            snap["status"] = "running"
            self._save(snap)
        if snap["current"] is None and snap["status"] != "done":
            self.advance(reason="watch: start")
        while True:
            snap, verdict = self.evaluate()
            if on_tick:
                on_tick(snap, verdict)
            if snap["status"] == "done":
                return "done"
            step = self.playbook.steps[snap["current"]]
            if verdict is not None and verdict.state == FAILED:
                evidence = [r.as_dict() for r in verdict.results]
                failing = "; ".join(verdict.reasons)
                if step.on_failure.kind == "rollback":
                    self.rollback(reason=f"watch: gate failed: {failing}", evidence=evidence)
                    return "rolled back"
                self._audit(step.name, "stop", "failed", evidence, f"watch: gate failed: {failing}")
                return "stopped"
            if verdict is not None and verdict.state == READY:
                self.advance(reason="watch: gates held for the hold time")
                continue
            if self.clock() >= deadline:
                return "timeout"
            time.sleep(interval)


def _ts(value) -> float | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).timestamp()
