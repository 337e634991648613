"""Shadowed writes with the `rollback` policy reach the extracted service signed, run there and are rolled
back (its database is unchanged); and noise learning: what legacy disagrees with itself on is reported
as noise, not as a regression."""

import json
import sqlite3
import time

import httpx
import pytest
from typer.testing import CliRunner

from strangler.cli import app as cli
from tests.support import processes

pytestmark = pytest.mark.slow
TOKEN, SECRET = "writes-admin-token-for-the-tests", "shadow-secret-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def report(store):
    result = CliRunner().invoke(cli, ["parity", "report", "--json", "--store", store])
    assert result.exit_code == 0, result.output
    return {r["route"]: r for r in json.loads(result.stdout)["routes"]}


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)
    return predicate()


def start_router(tmp_path, legacy_url, extracted_url, routes, **settings):
    settings_text = "".join(f"\n  {k}: {v}" for k, v in settings.items())
    config = tmp_path / "strangler.yaml"
    config.write_text(f"""
version: 1
router:
  flag_poll_interval: 0.1{settings_text}
upstreams:
  legacy: {{url: "{legacy_url}"}}
  notes: {{url: "{extracted_url}"}}
groups:
  notes: {{upstream: notes}}
routes:
{routes}
""")
    store = f"sqlite:///{tmp_path / 'control.sqlite3'}"
    router = processes.router(processes.free_port(), tmp_path, config, store,
                              {"STRANGLER_ADMIN_TOKEN": TOKEN, "STRANGLER_SHADOW_SECRET": SECRET})
    flip = httpx.post(router.url + "/_strangler/api/flags", headers=AUTH,
                      json={"target": "notes", "mode": "shadow", "reason": "watch", "actor": "test"})
    assert flip.status_code == 200, flip.text
    return router, store


def test_a_rollback_write_runs_on_the_service_and_leaves_its_database_unchanged(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    db_file = tmp_path / "notes.sqlite3"
    port = processes.free_port()
    service = processes.start("notes", [processes.sys.executable, "-m", "uvicorn", "--factory",
                                        "tests.support.rollback_service:create_app_from_env", "--port", str(port),
                                        "--log-level", "warning"], port, tmp_path,
                              {"ROLLBACK_DATABASE_URL": f"sqlite:///{db_file}", "ROLLBACK_ENVIRONMENT": "test",
                               "STRANGLER_SHADOW_SECRET": SECRET}, ready_path="/api/notes/")
    router, store = start_router(tmp_path, legacy.url, service.url,
                                 "  - {name: notes.create, group: notes, methods: [POST], path: /api/notes/, write_policy: rollback}")
    try:
        assert httpx.post(service.url + "/api/notes/", json={"text": "real note"}).status_code == 201
        count = lambda: sqlite3.connect(db_file).execute("select count(*) from notes").fetchone()[0]  # noqa: E731
        assert count() == 1

        answered = httpx.post(router.url + "/api/notes/", json={"text": "mirrored"})
        assert answered.json()["side"] == "legacy"           # legacy answered the client
        assert wait_for(lambda: report(store).get("notes.create", {}).get("compared") == 1)
        assert count() == 1                                   # the service ran it and rolled it back

        sample_id = httpx.get(router.url + "/_strangler/api/parity/samples", headers=AUTH).json()["samples"][0]["id"]
        sample = httpx.get(router.url + f"/_strangler/api/parity/samples/{sample_id}", headers=AUTH).json()
        assert sample["extracted"]["status"] == 201
        assert sample["extracted"]["body"]["json"]["text"] == "mirrored"
        assert ["x-strangler-shadow-result", "rolled-back"] in sample["extracted"]["headers"]

        # A client cannot forge the marker: the router strips it and the write goes to legacy only.
        forged = httpx.post(router.url + "/api/notes/", json={"text": "x"}, headers={"X-Strangler-Shadow": "v1;mode=rollback"})
        assert "x-strangler-shadow" not in forged.json()["headers"]
    finally:
        for process in (router, service, legacy):
            process.stop()


def test_a_write_the_service_kept_despite_the_marker_is_counted_and_reported(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    db_file = tmp_path / "notes.sqlite3"
    port = processes.free_port()
    service = processes.start("notes", [processes.sys.executable, "-m", "uvicorn", "--factory",
                                        "tests.support.rollback_service:create_app_from_env", "--port", str(port),
                                        "--log-level", "warning"], port, tmp_path,
                              {"ROLLBACK_DATABASE_URL": f"sqlite:///{db_file}", "ROLLBACK_ENVIRONMENT": "test",
                               "STRANGLER_SHADOW_SECRET": SECRET, "ROLLBACK_IGNORE_SHADOW_MARKER": "1"},
                              ready_path="/api/notes/")
    router, store = start_router(tmp_path, legacy.url, service.url,
                                 "  - {name: notes.create, group: notes, methods: [POST], path: /api/notes/, write_policy: rollback}")
    try:
        assert httpx.post(router.url + "/api/notes/", json={"text": "mirrored"}).json()["side"] == "legacy"
        assert wait_for(lambda: report(store).get("notes.create", {}).get("writes_kept") == 1)
        assert sqlite3.connect(db_file).execute("select count(*) from notes").fetchone()[0] == 1  # it was kept

        metrics = httpx.get(router.url + "/_strangler/metrics", headers=AUTH).text
        assert 'strangler_shadow_writes_kept_total{route="notes.create"} 1.0' in metrics
        admin = httpx.get(router.url + "/_strangler/api/parity", headers=AUTH).json()
        assert {r["route"]: r["writes_kept"] for r in admin["routes"]} == {"notes.create": 1}
        table = CliRunner().invoke(cli, ["parity", "report", "--store", store], env={"COLUMNS": "250"})
        assert table.exit_code == 0 and "writes kept" in table.stdout and "1 writes the service kept" in table.stdout
    finally:
        for process in (router, service, legacy):
            process.stop()


def test_paths_where_legacy_disagrees_with_itself_are_learned_as_noise(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    extracted = processes.echo("extracted", processes.free_port(), tmp_path)
    router, store = start_router(tmp_path, legacy.url, extracted.url,
                                 "  - {name: notes.list, group: notes, methods: [GET], path: /api/notes/}",
                                 noise_sample_rate=1.0)
    try:
        for _ in range(3):
            assert httpx.get(router.url + "/api/notes/?nonce=1").status_code == 200
        row = wait_for(lambda: (r := report(store).get("notes.list")) and r["compared"] == 3 and r["noise"] and r)
        assert [n["path"] for n in row["noise"]] == ["body.nonce"]
        # The real difference (body.side) is a regression; the nonce is not among the differing paths.
        assert {p["path"] for p in row["top_paths"]} == {"body.side"}
    finally:
        for process in (router, legacy, extracted):
            process.stop()
