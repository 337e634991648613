"""Identity at the edge on real processes: the seeded monolith under gunicorn, the router, and a small
service built on extracted.common.identity (tests/support/identity_service.py) serving the monolith's
warehouse list URL. With the inventory group flipped to extracted, every kind of caller gets through the
router what the monolith answers directly, the service sees the caller the monolith names, and nothing
a client sends can pose as an identity."""

import hashlib
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support import processes
from tests.support.monolith_process import start_monolith

pytestmark = pytest.mark.slow
SECRET = "identity-integration-secret"
ADMIN_TOKEN = "identity-admin-token-for-the-tests"
URL = "/api/inventory/warehouses/"


def write_config(path: Path, legacy_url: str, service_url: str) -> Path:
    path.write_text(f"""
version: 1
router:
  flag_poll_interval: 0.1
  identity_cache_seconds: 30
upstreams:
  legacy: {{url: "{legacy_url}", read_timeout: 5, connect_timeout: 1}}
  inventory: {{url: "{service_url}", read_timeout: 5, connect_timeout: 1}}
groups:
  inventory: {{upstream: inventory}}
routes:
  - {{name: inventory.warehouses.list, group: inventory, methods: [GET], path: {URL}}}
  - {{name: inventory.warehouses.create, group: inventory, methods: [POST], path: {URL}}}
""")
    return path


def start_service(log_dir: Path) -> processes.Process:
    port = processes.free_port()
    argv = [sys.executable, "-m", "uvicorn", "tests.support.identity_service:create_app_from_env", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    return processes.start("identity-service", argv, port, log_dir, {"STRANGLER_IDENTITY_SECRET": SECRET})


def start_router(log_dir: Path, config: Path) -> tuple[processes.Process, str]:
    store = f"sqlite:///{log_dir / 'control.sqlite3'}"
    # Production on purpose: with a real secret the router starts; the development default is refused.
    router = processes.router(processes.free_port(), log_dir, config, store, {
        "STRANGLER_ENV": "production", "STRANGLER_IDENTITY_SECRET": SECRET, "STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN})
    return router, store


def flip_to_extracted(router_url: str, store: str, config: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "strangler", "routes", "set", "inventory", "--mode", "extracted",
                             "--reason", "identity test", "--actor", "test", "--store", store, "--config", str(config)],
                            capture_output=True, text=True, timeout=60, cwd=processes.ROOT)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx.get(router_url + URL).headers.get("x-strangler-served-by") == "extracted":
            return
        time.sleep(0.05)
    raise AssertionError("the router never served the flip")


def metric(router_url: str, name: str, labels: dict | None = None) -> float:
    wanted = [f'{k}="{v}"' for k, v in (labels or {}).items()]
    total = 0.0
    for line in httpx.get(router_url + "/_strangler/metrics").text.splitlines():
        if re.match(rf"{name}(\{{|\s)", line) and all(w in line for w in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("identity")
    monolith = start_monolith(tmp / "var")
    service = start_service(tmp)
    config = write_config(tmp / "strangler.yaml", monolith.url, service.url)
    router, store = start_router(tmp, config)
    try:
        flip_to_extracted(router.url, store, config)
        yield monolith, service, router
    finally:
        for process in (router, service, monolith.process):
            process.stop()


@pytest.fixture(scope="module")
def session(stack):
    """Cookies of a staff session, logged in through the monolith's admin form."""
    monolith, _, _ = stack
    with httpx.Client(base_url=monolith.url, follow_redirects=False, timeout=30) as client:
        client.get("/admin/login/")
        response = client.post("/admin/login/", data={"username": "admin", "password": "admin", "next": "/admin/",
                                                      "csrfmiddlewaretoken": client.cookies["csrftoken"]})
        assert response.status_code == 302, response.text[:300]
        return {"sessionid": client.cookies["sessionid"], "csrftoken": client.cookies["csrftoken"]}


def credentials(kind: str, monolith, session) -> tuple[dict, dict]:
    """(headers, cookies) of one kind of caller."""
    cookie_header = lambda names: {"Cookie": "; ".join(f"{n}={session[n]}" for n in names)}  # noqa: E731
    return {
        "staff token": {"Authorization": f"Token {monolith.staff_token}"},
        "customer token": {"Authorization": f"Token {monolith.customer_token}"},
        "invalid token": {"Authorization": "Token not-a-real-token"},
        "malformed token": {"Authorization": "Token two words"},
        "no credentials": {},
        "staff session": cookie_header(["sessionid", "csrftoken"]),
        "staff session with csrf": {**cookie_header(["sessionid", "csrftoken"]), "X-CSRFToken": session["csrftoken"]},
    }[kind]


def introspect(monolith, headers: dict) -> dict:
    return httpx.get(monolith.url + "/api/auth/introspect/", headers=headers, timeout=30).json()


KINDS = ["staff token", "customer token", "invalid token", "malformed token", "no credentials", "staff session",
         "staff session with csrf"]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_caller_gets_through_the_router_what_the_monolith_answers(stack, session, kind, method):
    monolith, _, router = stack
    headers = credentials(kind, monolith, session)
    payload = {"code": f"T{uuid.uuid4().hex[:8]}", "name": "Test", "city": "Kiel"} if method == "POST" else None
    with httpx.Client(timeout=30) as client:
        direct = client.request(method, monolith.url + URL, headers=headers, json=payload)
        routed = client.request(method, router.url + URL, headers=headers, json=payload)

    assert routed.status_code == direct.status_code, (direct.text[:300], routed.text[:300])
    if direct.status_code >= 400:
        # Refused: the very same answer, whether the service or the monolith's rejection gave it.
        assert routed.json() == direct.json()
        assert routed.headers["content-type"] == direct.headers["content-type"]
        assert routed.headers.get("www-authenticate") == direct.headers.get("www-authenticate")
        return
    # Served by the service, which saw the caller the monolith names.
    assert routed.headers["x-strangler-served-by"] == "extracted"
    expected = introspect(monolith, headers)
    assert expected["authenticated"] is True
    assert routed.json()["identity"] == {k: expected[k] for k in ("user_id", "username", "is_staff", "customer_id")}
    assert routed.json()["identity_headers"] == 1


def test_the_cases_cover_refusals_and_successes(stack, session):
    """The parametrised comparison above means something only if both outcomes occur; pin them."""
    monolith, _, router = stack
    outcomes = {}
    for kind in KINDS:
        for method in ("GET", "POST"):
            response = httpx.request(method, router.url + URL, headers=credentials(kind, monolith, session),
                                     json={"code": f"C{uuid.uuid4().hex[:8]}", "name": "x", "city": "y"} if method == "POST" else None)
            outcomes[kind, method] = (response.status_code, response.headers["x-strangler-served-by"])
    assert outcomes == {
        ("staff token", "GET"): (200, "extracted"), ("staff token", "POST"): (201, "extracted"),
        ("customer token", "GET"): (200, "extracted"), ("customer token", "POST"): (403, "extracted"),
        ("invalid token", "GET"): (401, "legacy"), ("invalid token", "POST"): (401, "legacy"),
        ("malformed token", "GET"): (401, "legacy"), ("malformed token", "POST"): (401, "legacy"),
        ("no credentials", "GET"): (401, "extracted"), ("no credentials", "POST"): (401, "extracted"),
        ("staff session", "GET"): (200, "extracted"), ("staff session", "POST"): (403, "legacy"),  # CSRF
        ("staff session with csrf", "GET"): (200, "extracted"), ("staff session with csrf", "POST"): (201, "extracted"),
    }


def test_the_customer_is_named_with_its_account(stack, session):
    monolith, _, router = stack
    seen = httpx.get(router.url + URL, headers=credentials("customer token", monolith, session)).json()["identity"]

    assert seen["username"] == "customer" and seen["is_staff"] is False and isinstance(seen["customer_id"], int)


def test_a_client_sent_identity_header_is_stripped(stack, session):
    monolith, _, router = stack
    forged = "v2;uid=1;user=admin;staff=1;cust=-;ts=1;nonce=" + "0" * 32 + ";body=-;sig=" + "0" * 64
    response = httpx.get(router.url + URL, headers={**credentials("customer token", monolith, session),
                                                    "X-Strangler-Identity": forged})

    assert response.status_code == 200
    assert response.json()["identity_headers"] == 1
    assert response.json()["identity"]["username"] == "customer"
    # Anonymous with a forged header: still anonymous (401), not the admin the header names.
    anonymous = httpx.post(router.url + URL, headers={"X-Strangler-Identity": forged}, json={})
    assert anonymous.status_code == 401


def test_a_forged_header_sent_straight_to_the_service_is_refused(stack):
    _, service, _ = stack
    forged = ("v2;uid=1;user=admin;staff=1;cust=-;ts=" + str(int(time.time())) + ";nonce=" + "0" * 32
              + ";body=" + hashlib.sha256(b"{}").hexdigest() + ";sig=" + "0" * 64)

    response = httpx.post(service.url + URL, headers={"X-Strangler-Identity": forged}, json={})

    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid identity header: signature does not match this request."}
    assert httpx.get(service.url + URL).status_code == 401  # and no header at all is anonymous


def test_a_second_request_within_the_ttl_does_not_ask_the_monolith_again(stack, session):
    monolith, _, router = stack
    # Fresh credentials (an asked header no other test sends), so the first lookup is a miss.
    headers = {**credentials("staff token", monolith, session), "Referer": f"http://example.test/{uuid.uuid4().hex}"}
    refused = {"Authorization": f"Token {uuid.uuid4().hex}"}
    before = {r: metric(router.url, "strangler_identity_lookups_total", {"result": r}) for r in ("hit", "miss", "rejected")}

    assert httpx.get(router.url + URL, headers=headers).status_code == 200
    assert httpx.get(router.url + URL, headers=refused).status_code == 401
    after_first = {r: metric(router.url, "strangler_identity_lookups_total", {"result": r}) for r in before}
    assert httpx.get(router.url + URL, headers=headers).status_code == 200
    assert httpx.get(router.url + URL, headers=refused).status_code == 401
    after_second = {r: metric(router.url, "strangler_identity_lookups_total", {"result": r}) for r in before}

    assert (after_first["miss"] - before["miss"], after_first["rejected"] - before["rejected"]) == (1, 1)
    assert after_second["miss"] == after_first["miss"] and after_second["rejected"] == after_first["rejected"]
    assert after_second["hit"] - after_first["hit"] == 2
    assert metric(router.url, "strangler_identity_lookup_seconds_count") >= 2


def test_legacy_requests_never_look_anybody_up(stack, session):
    monolith, _, router = stack
    calls = lambda: sum(metric(router.url, "strangler_identity_lookups_total", {"result": r})  # noqa: E731
                        for r in ("hit", "miss", "rejected", "error"))
    before = calls()

    assert httpx.get(router.url + "/api/orders/", headers=credentials("staff token", monolith, session)).status_code == 200
    assert httpx.get(router.url + "/api/orders/", headers={"Authorization": "Token nope"}).status_code == 401

    assert calls() == before


def test_without_the_monolith_nothing_reaches_the_service(stack, tmp_path):
    _, service, _ = stack
    config = write_config(tmp_path / "strangler.yaml", f"http://127.0.0.1:{processes.free_port()}", service.url)
    router, store = start_router(tmp_path, config)
    try:
        subprocess.run([sys.executable, "-m", "strangler", "routes", "set", "inventory", "--mode", "extracted",
                        "--reason", "monolith down", "--store", store, "--config", str(config)],
                       check=True, capture_output=True, timeout=60, cwd=processes.ROOT)
        seen_before = httpx.get(service.url + "/_identity/seen").json()["requests"]
        deadline, response = time.monotonic() + 5, None
        while time.monotonic() < deadline:
            response = httpx.get(router.url + URL, headers={"X-Request-ID": "rid-down"})
            if response.status_code != 502 or "identity" in response.json().get("detail", ""):
                break  # 502 naming legacy is the unmatched-flip answer; wait for the flip
            time.sleep(0.05)
        body = response.json()
        assert response.status_code == 502, body
        assert (body["error"], body["upstream"], body["request_id"]) == ("bad_gateway", "legacy", "rid-down")
        assert "identity could not be looked up" in body["detail"]
        assert httpx.get(service.url + "/_identity/seen").json()["requests"] == seen_before
        assert metric(router.url, "strangler_identity_lookups_total", {"result": "error"}) >= 1
    finally:
        router.stop()


def test_production_refuses_to_start_on_the_development_secret(tmp_path):
    config = write_config(tmp_path / "strangler.yaml", "http://127.0.0.1:1", "http://127.0.0.1:2")
    with pytest.raises(RuntimeError, match="STRANGLER_IDENTITY_SECRET"):
        processes.router(processes.free_port(), tmp_path, config, f"sqlite:///{tmp_path / 'c.sqlite3'}",
                         {"STRANGLER_ENV": "production", "STRANGLER_IDENTITY_SECRET": ""})
