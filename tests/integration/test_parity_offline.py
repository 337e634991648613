"""`strangler parity record` with the real mitmdump (its own virtualenv), then `replay` of the recorded flow
file and of a HAR file against real upstreams: the echo app as legacy and as the extracted side.

The mitmproxy virtualenv is created by `make mitm-venv` when missing (about 20 s, needs the package
index). Without network that fails and these tests are skipped, saying why, except under CI=true, where
a recorder that cannot be installed is a failure.
"""

import fcntl
import json
import os
import socket
import subprocess
import time

import httpx
import pytest

from strangler.capture import read_capture
from strangler.capture.mitm import PROJECT_ROOT, mitmdump_path, venv_path
from tests.support import processes

pytestmark = pytest.mark.slow
STRANGLER = str(processes.BIN / "strangler")
SECRET = "offline-test-secret"


@pytest.fixture(scope="module")
def mitm_venv(tmp_path_factory):
    venv = venv_path()
    # One `make` at a time (xdist workers share the project's .venv-mitm).
    with open(tmp_path_factory.getbasetemp().parent / "mitm-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(["make", "-C", str(PROJECT_ROOT), "--no-print-directory", "mitm-venv", f"MITM_VENV={venv}"],
                                capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not mitmdump_path(venv).exists():
        reason = f"mitmproxy's virtualenv could not be created (`make mitm-venv`): {result.stderr.strip()[-300:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return venv


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    logs = tmp_path_factory.mktemp("upstreams")
    started = {name: processes.echo(name, processes.free_port(), logs)
               for name in ("legacy", "extracted")}
    same = [processes.echo("same", processes.free_port(), tmp_path_factory.mktemp("same")) for _ in range(2)]
    yield {**started, "same": same}
    for process in [*started.values(), *same]:
        process.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory, upstreams):
    return processes.write_router_config(tmp_path_factory.mktemp("config") / "strangler.yaml",
                                         upstreams["legacy"].url, upstreams["extracted"].url)


def strangler(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([STRANGLER, "parity", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"record exited early: {process.communicate()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the recorder did not listen on {port}")


@pytest.fixture(scope="module")
def recorded(mitm_venv, upstreams, tmp_path_factory):
    """A flow file recorded by `strangler parity record --duration` in front of the legacy echo."""
    flow = tmp_path_factory.mktemp("capture") / "traffic.flow"
    port = processes.free_port()
    started = time.monotonic()
    recorder = subprocess.Popen(
        [STRANGLER, "parity", "record", "--upstream", upstreams["legacy"].url, "--listen-port", str(port),
         "--out", str(flow), "--duration", "4", "--quiet"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, recorder)
        staff = {"Authorization": "Token staff-token-123", "Accept": "application/json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            answers = [
                client.get("/api/inventory/stock/?warehouse=BER", headers=staff),
                client.get("/api/inventory/stock/TG-MCU-00001/", headers=staff),
                client.get("/api/inventory/stock/TG-MCU-00002/"),
                client.post("/api/inventory/adjustments/", headers=staff, json={"sku": "TG-MCU-00001", "quantity": 2}),
                client.get("/health/"),
            ]
        assert [a.json()["side"] for a in answers] == ["legacy"] * 5  # the proxy forwards to the legacy upstream
        stdout, stderr = recorder.communicate(timeout=30)
    finally:
        if recorder.poll() is None:
            recorder.kill()
    assert recorder.returncode == 0, stderr
    assert "5 flows written to" in stdout
    assert time.monotonic() - started < 30
    return flow


def test_record_writes_a_flow_file_the_project_reads_without_mitmproxy(recorded):
    capture = read_capture(recorded)
    assert [(e.request.method, e.request.target) for e in capture.exchanges] == [
        ("GET", "/api/inventory/stock/?warehouse=BER"), ("GET", "/api/inventory/stock/TG-MCU-00001/"),
        ("GET", "/api/inventory/stock/TG-MCU-00002/"), ("POST", "/api/inventory/adjustments/"), ("GET", "/health/")]
    assert json.loads(capture.exchanges[3].request.body) == {"sku": "TG-MCU-00001", "quantity": 2}
    assert all(e.response.status == 200 and json.loads(e.response.body)["side"] == "legacy" for e in capture.exchanges)


def test_replay_against_a_different_extracted_side_reports_the_mismatch_and_exits_1(recorded, upstreams, config):
    result = strangler("replay", str(recorded), "--legacy", upstreams["legacy"].url,
                       "--extracted", upstreams["extracted"].url, "--config", str(config), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    routes = {r["route"]: r for r in report["routes"]}
    assert {name: (r["compared"], r["mismatch"]) for name, r in routes.items()} == {
        "inventory.stock.list": (1, 1), "inventory.stock.detail": (2, 2), "unmatched": (1, 1)}
    assert routes["inventory.stock.detail"]["top_paths"] == [{"pattern": "body.side", "kind": "changed", "count": 2}]
    assert report["skipped"] == {"write (replayed only with --writes)": 1}
    example = report["examples"][0]
    assert example["differences"] == [{"kind": "changed", "path": "body.side", "pattern": "body.side",
                                       "legacy": "legacy", "extracted": "extracted"}]
    assert "staff-token-123" not in result.stdout
    table = strangler("replay", str(recorded), "--legacy", upstreams["legacy"].url,
                      "--extracted", upstreams["extracted"].url, "--config", str(config))
    assert table.returncode == 1
    assert "body.side (changed) ×2" in table.stdout and "4 compared: 4 mismatching, 0 failed" in table.stdout


def test_replay_against_two_identical_upstreams_exits_0(recorded, upstreams, config):
    first, second = upstreams["same"]
    result = strangler("replay", str(recorded), "--legacy", first.url, "--extracted", second.url, "--config", str(config),
                       "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["mismatches"] == 0 and report["errors"] == 0
    assert all(r["parity_rate"] == 1.0 for r in report["routes"])


def test_writes_are_replayed_to_the_extracted_side_only_with_the_marker(recorded, upstreams, config):
    def posts(process):
        return httpx.get(process.url + "/_echo/stats").json().get("POST", 0)

    legacy_posts, extracted_posts = posts(upstreams["legacy"]), posts(upstreams["extracted"])
    refused = strangler("replay", str(recorded), "--legacy", upstreams["legacy"].url,
                        "--extracted", upstreams["extracted"].url, "--config", str(config), "--writes",
                        env={"STRANGLER_SHADOW_SECRET": ""})
    assert refused.returncode == 2 and "STRANGLER_SHADOW_SECRET" in refused.stderr
    result = strangler("replay", str(recorded), "--legacy", upstreams["legacy"].url,
                       "--extracted", upstreams["extracted"].url, "--config", str(config), "--writes",
                       "--route", "inventory.adjustments.create", "--json", env={"STRANGLER_SHADOW_SECRET": SECRET})
    assert result.returncode == 1, result.stderr
    [example] = json.loads(result.stdout)["examples"]
    assert example["write"] is True
    paths = {d["path"]: d for d in example["differences"]}
    assert paths["body.headers.x-strangler-shadow"]["extracted"] == "[redacted]"  # the marker was sent, not shown
    assert (posts(upstreams["legacy"]), posts(upstreams["extracted"])) == (legacy_posts, extracted_posts + 1)


def test_replay_of_a_har_file(upstreams, config, tmp_path):
    def entry(url, method="GET"):
        return {"startedDateTime": "2026-11-23T10:00:00Z", "time": 1, "cache": {}, "timings": {},
                "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "queryString": [],
                            "headers": [{"name": "Accept", "value": "application/json"}], "headersSize": -1, "bodySize": 0},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                             "content": {"size": 0, "mimeType": "application/json", "text": "{}"},
                             "redirectURL": "", "headersSize": -1, "bodySize": 0}}

    har = tmp_path / "browser.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [
        entry("https://shop.example/api/inventory/stock/?page=2"), entry("https://shop.example/api/inventory/stock/TG-1/"),
        entry("https://shop.example/api/inventory/adjustments/", "POST")]}}))
    result = strangler("replay", str(har), "--legacy", upstreams["legacy"].url, "--extracted", upstreams["extracted"].url,
                       "--config", str(config), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert {r["route"]: r["mismatch"] for r in report["routes"]} == {"inventory.stock.list": 1, "inventory.stock.detail": 1}
    assert {p["pattern"] for r in report["routes"] for p in r["top_paths"]} == {"body.side"}
    first, second = upstreams["same"]
    same = strangler("replay", str(har), "--legacy", first.url, "--extracted", second.url, "--config", str(config))
    assert same.returncode == 0, same.stdout
    assert "2 compared: full parity" in same.stdout
