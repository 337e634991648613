"""Engine decisions on fake evidence: refuse before the hold or on missing evidence, advance when gates
hold, roll back by itself on a failed gate (to the on_failure target, undoing flags), audit everything."""

from migration_plan.engine import FAILED, READY, WAITING, PlanEngine, decide, flag_plan
from migration_plan.gates import Evidence
from migration_plan.playbook import parse_playbook

PLAYBOOK = parse_playbook({"capability": "inv", "steps": [
    {"name": "shadow", "kind": "shadow_reads", "actions": [{"flag": {"routes": "reads", "mode": "shadow"}}],
     "gates": [{"parity_rate": {"min": 0.9, "min_samples": 10}}], "hold": "10s", "on_failure": "rollback to start"},
    {"name": "canary", "kind": "canary_reads", "actions": [{"flag": {"routes": "reads", "mode": "canary", "percent": 10}}],
     "gates": [{"parity_rate": {"min": 0.9, "min_samples": 10}}], "hold": "10s", "on_failure": "rollback"},
]}, "inv.yaml")


class FakeStore:
    def __init__(self):
        self.snap, self.audits = None, []

    def snapshot(self, capability):
        import copy
        return copy.deepcopy(self.snap)

    def save_snapshot(self, capability, snap):
        import copy
        self.snap = copy.deepcopy(snap)

    def record(self, **kw):
        self.audits.append(kw)


class FakeActuator:
    def __init__(self):
        self.calls = []

    def run_step(self, playbook, index):
        self.calls.append(("run", index))
        return []

    def roll_back(self, playbook, current, to):
        self.calls.append(("back", current, to))
        return []


def make(parity):
    clock = {"t": 1000.0}
    store, actuator = FakeStore(), FakeActuator()
    engine = PlanEngine(PLAYBOOK, store, lambda p, s, since: Evidence(60, parity={"reads": parity["v"]}),
                        actuator, clock=lambda: clock["t"])
    return engine, store, actuator, clock


def test_decide_waits_for_hold_and_evidence_and_fails_on_a_bad_gate():
    step = PLAYBOOK.steps[0]
    good, bad, few = Evidence(60, parity={"reads": (20, 20, 0)}), Evidence(60, parity={"reads": (20, 10, 0)}), Evidence(60)
    assert decide(step, good, 0, 5).state == WAITING
    assert decide(step, good, 0, 10).state == READY
    assert decide(step, few, 0, 100).state == WAITING
    assert decide(step, bad, 0, 1).state == FAILED


def test_advance_refuses_with_reasons_then_advances_after_the_hold():
    parity = {"v": (20, 20, 0)}
    engine, store, actuator, clock = make(parity)
    assert engine.advance()[0] is True and store.snap["current"] == 0
    ok, why = engine.advance()
    assert not ok and any("hold" in w for w in why)
    assert store.audits[-1]["outcome"] == "refused"
    clock["t"] += 11
    assert engine.advance()[0] is True and store.snap["current"] == 1
    clock["t"] += 11
    assert engine.advance() == (True, ["inv: playbook done"]) and store.snap["status"] == "done"
    assert actuator.calls == [("run", 0), ("run", 1)]


def test_watch_rolls_back_by_itself_on_a_failed_gate():
    parity = {"v": (20, 20, 0)}
    engine, store, actuator, clock = make(parity)
    engine.advance()
    clock["t"] += 11
    engine.advance()
    parity["v"] = (20, 5, 0)
    assert engine.watch(max_seconds=0, interval=0.01) == "rolled back"
    assert actuator.calls[-1] == ("back", 1, 0)      # "rollback": the step before
    assert store.snap["status"] == "rolled back" and store.snap["steps"][1]["status"] == "rolled back"
    rollback = [a for a in store.audits if a["action"] == "rollback"][0]
    assert rollback["evidence"]["gates"][0]["ok"] is False and "parity_rate" in rollback["reason"]


def test_flag_plan_replays_flag_actions_up_to_a_step():
    assert flag_plan(PLAYBOOK, -1) == {"reads": ("legacy", None)}
    assert flag_plan(PLAYBOOK, 1) == {"reads": ("canary", 10)}
