"""Playbook parsing: the shipped playbook and the discovery skeleton parse; errors name file and key path."""

import pytest
import yaml

from migration_plan.discovery.playbook_skeleton import playbook_skeleton
from migration_plan.playbook import PlaybookError, find_playbook, load_playbook, parse_playbook


def test_shipped_inventory_playbook_parses_with_every_read_canary_step():
    p = find_playbook("inventory")
    assert [s.kind for s in p.steps][:3] == ["backfill", "start_sync", "shadow_reads"]
    assert [a.percent for s in p.steps if s.kind == "canary_reads" for a in s.actions] == [1, 10, 50, None]
    assert p.steps[p.index("canary reads 10%")].on_failure.to == p.index("shadow reads")
    assert p.steps[-1].checklist and p.steps[-1].gates[0].kind == "approval"


def test_discovery_skeleton_is_a_valid_playbook():
    p = parse_playbook(playbook_skeleton("inventory", has_writes=True, endpoints=11), "inventory.yaml")
    assert {s.kind for s in p.steps} >= {"backfill", "start_sync", "shadow_reads", "canary_reads", "shadow_writes",
                                         "move_write_ownership", "canary_writes", "decommission"}


def base():
    return {"capability": "inventory", "steps": [{"name": "a", "kind": "shadow_reads",
                                                  "actions": [{"flag": {"routes": "reads", "mode": "shadow"}}],
                                                  "gates": [{"parity_rate": {"min": 0.99, "min_samples": 10}}]}]}


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["steps"][0]["gates"][0]["parity_rate"].update(min_samples=0),
     "inventory.yaml: steps[0].gates[0].min_samples: expected a positive integer"),
    (lambda d: d["steps"][0].update(kind="teleport"), "inventory.yaml: steps[0].kind: expected one of"),
    (lambda d: d["steps"][0]["gates"].append({"vibes": {}}), "inventory.yaml: steps[0].gates[1].vibes: unknown gate kind"),
    (lambda d: d["steps"][0]["actions"][0]["flag"].update(mode="canary"),
     "inventory.yaml: steps[0].actions[0].flag.percent: expected a number above 0"),
    (lambda d: d["steps"][0].update(hold="soon"), "inventory.yaml: steps[0].hold: expected a duration"),
    (lambda d: d["steps"][0].update(on_failure="rollback to nowhere"), "inventory.yaml: steps[0].on_failure: rollback to 'nowhere'"),
    (lambda d: d["steps"].append(dict(d["steps"][0])), "inventory.yaml: steps[1].name: 'a' is already"),
    (lambda d: d["steps"][0].update(actions=[{"sync": "handover"}]), "inventory.yaml: steps[0].actions[0].to: a handover needs"),
    (lambda d: d["steps"][0]["gates"][0]["parity_rate"].pop("min"), "inventory.yaml: steps[0].gates[0].min: required"),
    (lambda d: d.update(extra=1), "inventory.yaml: (top level).extra: unknown key"),
])
def test_errors_name_the_file_and_key_path(mutate, message):
    data = base()
    mutate(data)
    with pytest.raises(PlaybookError) as info:
        parse_playbook(data, "inventory.yaml")
    assert str(info.value).startswith(message), str(info.value)


def test_file_name_must_match_capability_and_bad_yaml_is_reported(tmp_path):
    (tmp_path / "orders.yaml").write_text(yaml.safe_dump(base()))
    with pytest.raises(PlaybookError, match="orders.yaml: capability: 'inventory' does not match"):
        load_playbook(tmp_path / "orders.yaml")
    (tmp_path / "inventory.yaml").write_text("steps: [\n")
    with pytest.raises(PlaybookError, match="inventory.yaml: not valid YAML"):
        load_playbook(tmp_path / "inventory.yaml")
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(base()))
    assert load_playbook(tmp_path / "inventory.yaml", hold_scale=0.5).steps[0].hold_seconds == 0
