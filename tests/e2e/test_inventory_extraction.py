"""Extracting inventory end to end, on loopback, with real processes and the CLI a team would use.

The monolith (gunicorn, seeded), the inventory service (uvicorn), the relay (`strangler sync run`)
and the router run as processes. A load loop of mixed reads and writes (staff and customer, stock lists
and details, warehouses, adjustments received and written off) goes through the router the whole time
while the inventory group is moved with the CLI:

    backfill -> relays -> shadow -> handover of the writes -> canary 50 % -> extracted -> hand back

No client may see an error, `strangler sync verify` must exit 0 at the end (both databases hold the
same rows), and `strangler parity report` must show the group's parity from the shadow phase. Runs on
SQLite files and on PostgreSQL databases.
"""

import json
import time

import httpx
import pytest

from tests.support.inventory_stack import LoadLoop, stack  # noqa: F401  (stack: fixture)
from tests.support.pg import postgres_database  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

PHASE_SECONDS = 4.0


def _hold(load: LoadLoop, phase: str, seconds: float = PHASE_SECONDS) -> None:
    load.begin(phase)
    time.sleep(seconds)


def test_inventory_moves_from_legacy_to_extracted_and_back_under_load_without_a_client_error(stack):
    reason = ["--reason", "e2e: extracting inventory"]

    def switch(*args: str) -> None:
        # The change takes effect while the command runs: answers meanwhile belong to no phase.
        load.begin("switching")
        stack.cli(*args)

    with LoadLoop(stack) as load:
        _hold(load, "legacy", 2)
        switch("routes", "set", "inventory", "--mode", "shadow", *reason)
        _hold(load, "shadow")
        switch("sync", "handover", "inventory", "--to", "service", *reason)
        _hold(load, "writes on the service")
        switch("routes", "set", "inventory", "--mode", "canary", "--percent", "50", *reason)
        _hold(load, "canary 50")
        switch("routes", "set", "inventory", "--mode", "extracted", *reason)
        _hold(load, "extracted")
        switch("sync", "handover", "inventory", "--to", "legacy", "--timeout", "30", *reason)
        switch("routes", "set", "inventory", "--mode", "legacy", *reason)
        _hold(load, "back on legacy", 2)

    assert load.failures == [], "clients saw errors:\n" + "\n".join(load.failures[:20])
    assert len(load.answers) > 200, f"the load loop hardly ran: {len(load.answers)} answers"
    # Each phase was served by the side it should have been.
    def sides(phase: str, settle: float = 1.0, only=None) -> set[str]:
        served = load.served_by(phase, settle)
        return {side for (what, side) in served if only is None or what in only}

    assert sides("legacy", settle=0) == {"legacy"}, load.served_by("legacy", 0)
    assert sides("shadow") == {"legacy"}, load.served_by("shadow")
    fallbacks = [line for line in httpx.get(stack.router.url + "/_strangler/metrics").text.splitlines()
                 if line.startswith("strangler_fallbacks_total{")]
    assert sides("writes on the service", only=("receive", "write off")) == {"extracted"}, (
        load.served_by("writes on the service"), fallbacks)
    assert sides("canary 50") <= {"legacy", "extracted"}, load.served_by("canary 50")
    assert sides("extracted") == {"extracted"}, load.served_by("extracted")
    assert sides("back on legacy") == {"legacy"}, load.served_by("back on legacy")

    verify = stack.cli("sync", "verify", "inventory", "--wait", "30", "--json", check=False)
    assert verify.returncode == 0, f"drift after the migration:\n{verify.stdout}\n{verify.stderr}"

    report = json.loads(stack.cli("parity", "report", "--group", "inventory", "--since", "1h", "--json").stdout)
    compared = {row["route"] for row in report["routes"] if row["compared"]}
    assert {"inventory.stock.list", "inventory.stock.detail", "inventory.warehouses.list"} <= compared, report
    [group] = report["groups"]
    assert group["group"] == "inventory" and group["compared"] == sum(r["compared"] for r in report["routes"])
    assert group["parity_rate"] is not None, report
    print(f"inventory parity during the shadow phase: {group['parity_rate']:.2%} of {group['compared']} comparisons")
