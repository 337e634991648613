"""The dashboard at /_strangler/ in a real browser (headless Chromium through Playwright), against a
real router process on a SQLite control store in front of two echo upstreams.

The page must show the inventory group on legacy, refuse a flip without a reason, make a flip typed into
it (token and reason too) that the CLI then reads back from the control store, and show a parity
difference side by side once shadowed traffic has produced one (the echo upstreams name themselves, so
every comparison differs at body.served_by or wherever the name sits).
"""

import json
import subprocess

import httpx
import pytest

from tests.support import processes
from tests.support.browser import browser_page  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "dashboard-e2e-admin-token-for-tests"
STRANGLER = str(processes.BIN / "strangler")
REASON = "dashboard e2e: shadow inventory reads"


@pytest.fixture
def stack(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    inventory = processes.echo("inventory", processes.free_port(), tmp_path)
    config = processes.write_router_config(tmp_path / "strangler.yaml", legacy.url, inventory.url)
    store_url = f"sqlite:///{tmp_path / 'control.sqlite3'}"
    router = processes.router(processes.free_port(), tmp_path, config, store_url,
                              env={"STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN})
    env = {**processes.os.environ, "STRANGLER_CONFIG": str(config), "STRANGLER_STORE_URL": store_url}
    save_plan_snapshot(store_url)
    yield router, env
    for process in (router, inventory, legacy):
        process.stop()


def save_plan_snapshot(store_url: str) -> None:
    """A playbook's state as the plan engine writes it: one step done, the current one blocked by a gate."""
    from router.store import ControlStore
    from router.store.plans import PlanStateStore

    store = ControlStore(store_url)
    try:
        store.migrate()
        PlanStateStore(store).save_snapshot("inventory", {
            "capability": "inventory", "status": "blocked", "current": "canary-reads-10", "updated_at": "2026-01-01T00:00:00+00:00",
            "steps": [
                {"name": "shadow-reads", "kind": "shadow_reads", "status": "done",
                 "gates": [{"name": "parity_rate", "ok": True, "figure": 0.998, "threshold": 0.99, "detail": "412 compared"}]},
                {"name": "canary-reads-10", "kind": "canary_reads", "status": "blocked",
                 "gates": [{"name": "latency_p99_ratio", "ok": False, "figure": 1.9, "threshold": 1.5, "detail": "p99 38 ms vs 20 ms"}]},
            ]})
    finally:
        store.close()


def cli(env, *args) -> dict:
    result = subprocess.run([STRANGLER, *args], cwd=processes.ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"strangler {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


def test_dashboard_shows_routes_flips_with_a_reason_seen_by_the_cli_and_shows_differences_side_by_side(
        browser_page, stack, tmp_path):
    # Waits go through locators and expect(): wait_for_function's string predicates are eval, which the
    # page's Content-Security-Policy refuses (as it should).
    from playwright.sync_api import expect  # installed: the browser_page fixture checked

    router, env = stack
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The browser logs every refused request as an error too: the one 400 below is made on purpose.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)

    # The files are served with their types, revalidation headers and a policy allowing only 'self'.
    for name, kind in (("", "text/html"), ("app.js", "text/javascript"), ("app.css", "text/css")):
        answer = httpx.get(f"{router.url}/_strangler/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-cache" and answer.headers["etag"]
        assert httpx.get(f"{router.url}/_strangler/{name}", headers={"If-None-Match": answer.headers["etag"]}).status_code == 304
    # The data stays behind the token, like every other admin read.
    assert httpx.get(f"{router.url}/_strangler/api/plans").status_code == 401

    page.goto(f"{router.url}/_strangler/")
    page.get_by_text("The admin API answers only with the admin token").wait_for()
    page.fill("#token", ADMIN_TOKEN)
    page.click("#token-form button[type=submit]")

    row = page.locator('tr[data-route="inventory.stock.list"]')
    row.wait_for()
    assert page.locator('[data-group="inventory"] h3').inner_text().startswith("inventory")
    assert row.locator(".mode").inner_text() == "legacy"

    plan = page.locator('[data-capability="inventory"]')
    expect(plan.locator(".step.status-blocked")).to_contain_text("canary-reads-10")
    expect(plan.locator(".gates li.bad")).to_contain_text("latency_p99_ratio 1.9 (threshold 1.5)")
    expect(plan.locator(".gates li.good")).to_contain_text("parity_rate")

    # No reason: the page refuses, and nothing reaches the store.
    page.select_option("#flip-target", "inventory")
    page.select_option("#flip-mode", "shadow")
    page.click("#flip-submit")
    assert "needs a reason" in page.locator("#flip-result").inner_text()
    assert cli(env, "routes", "history", "--json")["events"] == []

    # The API's own refusals are shown too: canary without a percent.
    page.select_option("#flip-mode", "canary")
    page.fill("#flip-reason", "no percent")
    page.click("#flip-submit")
    expect(page.locator("#flip-result")).to_contain_text("Refused (400)")
    assert "percent" in page.locator("#flip-result").inner_text()

    page.select_option("#flip-mode", "shadow")
    page.fill("#flip-reason", REASON)
    page.click("#flip-submit")
    expect(page.locator("#flip-result")).to_contain_text("Done")
    # The page re-reads the routes after the flip (the watcher of this router applied it at once).
    expect(row.locator(".mode")).to_have_text("shadow")

    listed = {r["name"]: r for r in cli(env, "routes", "list", "--json")["routes"]}
    assert listed["inventory.stock.list"]["mode"] == "shadow"
    (event,) = cli(env, "routes", "history", "--json")["events"]
    assert event["reason"] == REASON and event["name"] == "inventory" and event["after"]["mode"] == "shadow"

    # Shadowed reads: legacy answers, the inventory echo is compared, and the two name themselves.
    for sku in ("TG-1", "TG-2", "TG-3"):
        assert httpx.get(f"{router.url}/api/inventory/stock/{sku}/").status_code == 200
    page.locator("#side-by-side").wait_for(timeout=20_000)
    legacy_side, extracted_side = page.locator("#side-by-side .side").all()
    assert legacy_side.locator("h4").inner_text() == "legacy"
    assert extracted_side.locator("h4").inner_text() == "extracted"
    assert "legacy" in legacy_side.locator(".line.diff").first.inner_text()
    assert "inventory" in extracted_side.locator(".line.diff").first.inner_text()
    page.locator("#history td.reason", has_text=REASON).wait_for()

    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert not errors, errors  # a CSP violation or a script error would show here
