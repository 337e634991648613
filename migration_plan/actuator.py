"""Does what a step says: flag changes for a group's reads / writes / all routes in the control store
(audited, with the step as the reason) and sync commands through the sync's Python functions."""

from __future__ import annotations

from router.flags import parse_flag_change

from .engine import flag_plan
from .evidence import scope_routes
from .playbook import Playbook


class StoreActuator:
    def __init__(self, control, config, *, actor: str, databases=None):
        self.control, self.config, self.actor, self.databases = control, config, actor, databases

    def _set(self, playbook: Playbook, scope: str, mode: str, percent, reason: str) -> list[str]:
        snapshot = self.control.snapshot()
        changed = []
        for name in scope_routes(self.config, playbook.group)[scope]:
            kind, target, state = parse_flag_change(name, mode, percent, None, self.config)
            current = snapshot.routes.get(name)
            if current is not None and (str(current.mode), current.percent) == (str(state.mode), state.percent):
                continue
            self.control.set_flag(scope=kind, name=target, state=state, actor=self.actor, reason=reason)
            changed.append(name)
        pct = f" {percent:g}%" if mode == "canary" else ""
        return [f"{scope} routes → {mode}{pct}: {len(changed)} changed"]

    def run_step(self, playbook: Playbook, index: int) -> list[str]:
        step = playbook.steps[index]
        notes = []
        for action in step.actions:
            reason = f"plan {playbook.capability}: {step.name}"
            if action.kind == "flag":
                notes += self._set(playbook, action.routes, action.mode, action.percent, reason)
            else:
                notes.append(self._sync(playbook, action.command, action.to, reason))
        return notes

    def roll_back(self, playbook: Playbook, current: int, to: int) -> list[str]:
        notes = []
        handed = any(a.kind == "sync" and a.command == "handover" and a.to == "service"
                     for s in playbook.steps[to + 1:current + 1] for a in s.actions)
        reason = f"plan {playbook.capability}: roll back to {playbook.steps[to].name if to >= 0 else 'the start'}"
        if handed:
            notes.append(self._sync(playbook, "handover", "legacy", reason))
        for scope, (mode, percent) in flag_plan(playbook, to).items():
            notes += self._set(playbook, scope, mode, percent, reason)
        return notes

    def _sync(self, playbook: Playbook, command: str, to: str | None, reason: str) -> str:
        if command == "run":
            return ("relays are separate processes: start `strangler sync run "
                    f"{playbook.capability}` (the sync_lag gate checks they keep up)")
        if self.databases is None:
            return f"sync {command} skipped: no databases configured (--service-db / --legacy-db)"
        monolith, service = self.databases
        if command == "verify":
            from extracted.inventory.sync.verify import verify
            report = verify(monolith, service, examples=0)
            return f"verify: {'clean' if report.clean else 'drift'}"
        if command == "backfill":
            return f"backfill: run `strangler sync backfill {playbook.capability}` (not run by the engine)"
        from extracted.inventory.sync.handover import hand_back_to_legacy, handover_to_service

        def flip(mode: str) -> list[str]:
            self._set(playbook, "writes", mode, None, f"sync handover to {to}: {reason}")
            return scope_routes(self.config, playbook.group)["writes"]

        if to == "service":
            report = handover_to_service(monolith, service, flip_write_routes=flip, by=self.actor, reason=reason)
        else:
            report = hand_back_to_legacy(monolith, service, flip_write_routes=flip, by=self.actor, reason=reason)
        return f"handover: {report.previous_owner} → {report.owner}"
