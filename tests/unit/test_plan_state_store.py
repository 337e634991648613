from router.store.control import ControlStore
from router.store.plans import PlanStateStore


def test_snapshot_is_replaced_and_audit_is_newest_first(tmp_path):
    control = ControlStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    control.migrate()
    plans = PlanStateStore(control)
    plans.save_snapshot("inventory", {"capability": "inventory", "status": "running", "current": 0})
    plans.save_snapshot("inventory", {"capability": "inventory", "status": "done", "current": None})
    assert plans.snapshots() == [{"capability": "inventory", "status": "done", "current": None}]
    plans.record(capability="inventory", step="a", action="enter", outcome="ok", evidence={"x": 1}, actor="me", reason="r")
    plans.record(capability="inventory", step="b", action="rollback", outcome="ok", evidence=[], actor="me", reason="r")
    audit = plans.audit("inventory", limit=10)
    assert [a["step"] for a in audit] == ["b", "a"] and audit[1]["evidence"] == {"x": 1}
    assert plans.audit("other") == []
