"""The playbook skeleton `strangler discover --write APP` drafts next to the app's routes.

All of its shape lives in `playbook_skeleton()`, so that when the playbook format changes only that one
function changes. The steps follow DESIGN §7: backfill, start sync, shadow reads, canary reads at
1/10/50/100 %, then (when the app has write routes) shadow writes, move write ownership, watch the
writes on the service, and decommission with a human's approval. Thresholds and hold times are
conservative defaults meant to be read and tuned, not placeholders.
"""

from __future__ import annotations


def playbook_skeleton(app: str, *, has_writes: bool, endpoints: int) -> dict:
    """A playbook for moving `app` (group of the same name) from the monolith to its extracted service."""
    reads_healthy = [
        {"error_rate": {"max": 0.01}},
        {"latency_p99_ratio": {"max": 1.5}},
        {"fallbacks": {"max_rate": 0.01}},
    ]
    parity = {"parity_rate": {"min": 0.99, "min_samples": 500}}
    steps = [
        {"name": "backfill", "kind": "backfill",
         "actions": [{"sync": "backfill"}], "gates": [{"drift": {"max": 0}}], "hold": "0s", "on_failure": "stop"},
        {"name": "start sync", "kind": "start_sync",
         "actions": [{"sync": "run"}], "gates": [{"sync_lag": {"max_seconds": 5}}, {"drift": {"max": 0}}],
         "hold": "5m", "on_failure": "stop"},
        {"name": "shadow reads", "kind": "shadow_reads",
         "actions": [{"flag": {"routes": "reads", "mode": "shadow"}}],
         "gates": [parity, *reads_healthy], "hold": "30m", "on_failure": "rollback"},
    ]
    for percent, hold in ((1, "15m"), (10, "30m"), (50, "30m"), (100, "1h")):
        flag = {"routes": "reads", "mode": "extracted"} if percent == 100 else \
            {"routes": "reads", "mode": "canary", "percent": percent}
        steps.append({"name": f"canary reads {percent}%", "kind": "canary_reads", "actions": [{"flag": flag}],
                      "gates": [*reads_healthy, {"sync_lag": {"max_seconds": 5}}], "hold": hold,
                      "on_failure": "rollback"})
    if has_writes:
        steps += [
            {"name": "shadow writes", "kind": "shadow_writes",
             "actions": [{"flag": {"routes": "writes", "mode": "shadow"}}],
             "gates": [parity, {"error_rate": {"max": 0.01}}], "hold": "30m", "on_failure": "rollback"},
            {"name": "move write ownership", "kind": "move_write_ownership",
             "actions": [{"sync": "handover", "to": "service"}],
             "gates": [{"sync_lag": {"max_seconds": 5}}, {"drift": {"max": 0}}, {"approval": {"required": True}}],
             "hold": "0s", "on_failure": "rollback"},
            {"name": "canary writes", "kind": "canary_writes",
             "actions": [],  # the handover has flipped the write routes; this step watches them on the service
             "gates": [{"error_rate": {"max": 0.01}}, {"fallbacks": {"max_rate": 0.01}},
                       {"sync_lag": {"max_seconds": 5}}, {"drift": {"max": 0}}],
             "hold": "1h", "on_failure": "rollback"},
        ]
    steps.append({
        "name": "decommission", "kind": "decommission", "actions": [],
        "checklist": [
            f"no request of the {app} group has reached legacy for a week (routes report, fallbacks 0)",
            f"the monolith's {app} views are removed from its URLconf",
            f"the monolith's {app} tables are read-only, archived, then dropped",
            "the sync relays for this capability are stopped",
        ],
        "gates": [{"approval": {"required": True}}], "hold": "0s", "on_failure": "stop",
    })
    what = f"{endpoints} endpoint{'s' if endpoints != 1 else ''}"
    return {
        "capability": app,
        "group": app,
        "description": f"Move {app} ({what}) from the monolith to its extracted service: "
                       f"data first, then reads{', then writes' if has_writes else ''}, then retire the old code.",
        "steps": steps,
    }
