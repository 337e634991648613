"""What the shadow runner hands to the recorder, in-process over a fake transport: stored samples hold
no secret or personal value (not in the differences, not as a digest of the raw body), and a mirrored
write under the `rollback` policy whose answer lacks the rolled-back marker is counted as kept."""

import hashlib
import json
from types import SimpleNamespace

import pytest

from router.config import parse_config
from router.decision import FlagState, Mode, Target
from router.metrics import RouterMetrics
from router.redaction import REDACTED, Redactor
from router.shadow import ShadowRunner
from router.shadow_marker import ROLLED_BACK, SHADOW_HEADER, SHADOW_RESULT_HEADER
from router.store.parity import WRITES_KEPT
from router.transport import Transport, UpstreamResponse

SECRET = b"shadow-records-test-secret"
CONFIG = parse_config({
    "version": 1,
    "upstreams": {"legacy": {"url": "http://legacy:1"}, "notes": {"url": "http://notes:2"}},
    "groups": {"notes": {"upstream": "notes"}},
    "routes": [
        {"name": "notes.list", "group": "notes", "methods": ["GET"], "path": "/api/notes/"},
        {"name": "notes.create", "group": "notes", "methods": ["POST"], "path": "/api/notes/", "write_policy": "rollback"},
    ],
})
LIST, CREATE = CONFIG.routes
JSON = (b"content-type", b"application/json")


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Service(Transport):
    """The extracted side: answers `payload`, with the rolled-back marker when `honours_marker` and the
    request carried a rollback marker."""

    def __init__(self, payload, honours_marker=True):
        self.payload, self.honours_marker, self.calls = payload, honours_marker, []

    async def start(self): ...

    async def close(self): ...

    async def send(self, upstream, method, target, headers, body):
        self.calls.append((upstream, method, target, headers))
        extra = []
        if self.honours_marker and any(n == SHADOW_HEADER for n, _ in headers):
            extra.append((SHADOW_RESULT_HEADER.lower().encode(), ROLLED_BACK.encode()))
        return UpstreamResponse(200, [JSON, *extra], body=json.dumps(self.payload).encode())


class Identity:
    async def identity_header(self, method, target, headers, **_):
        return ("x-strangler-identity", "signed")


class Recorder:
    def __init__(self):
        self.comparisons = []

    def put(self, comparison):
        self.comparisons.append(comparison)

    def learn_noise(self, route, paths): ...


async def shadow_once(route, method, primary_payload, service, body=b"", redactor=None):
    metrics, recorder = RouterMetrics(), Recorder()
    runner = ShadowRunner(CONFIG, service, metrics, recorder, redactor or Redactor(["email"]), SECRET,
                          identity=Identity())
    capture = runner.mirror(route, SimpleNamespace(shadow=Target.EXTRACTED), FlagState(Mode.SHADOW, 0, 1.0), method,
                            "/api/notes/", [("content-type", "application/json")], body, True, "req-1")
    assert capture is not None
    capture.feed(json.dumps(primary_payload).encode())
    capture.finish(200, [JSON])
    await runner.drain()
    return metrics, recorder


@pytest.mark.anyio
async def test_a_sample_stores_no_differing_secret_or_personal_value():
    legacy = {"email": "ann@example.com", "token": "tok-legacy", "auth_token": "at-1", "n": 1}
    extracted = {"email": "bob@example.com", "token": "tok-service", "auth_token": "at-2", "n": 2}

    _, recorder = await shadow_once(LIST, "GET", legacy, Service(extracted))

    [comparison] = recorder.comparisons
    sample = comparison.sample
    text = json.dumps(sample)
    for secret in ("ann@example.com", "bob@example.com", "tok-legacy", "tok-service", "at-1", "at-2"):
        assert secret not in text
    by_path = {d["path"]: d for d in sample["diff"]["differences"]}
    assert by_path["body.email"]["legacy"] == by_path["body.token"]["extracted"] == REDACTED
    assert (by_path["body.n"]["legacy"], by_path["body.n"]["extracted"]) == (1, 2)
    assert sample["legacy"]["body"]["sha256"] != hashlib.sha256(json.dumps(legacy).encode()).hexdigest()


@pytest.mark.anyio
async def test_a_request_body_password_cannot_be_recovered_from_the_stored_digest():
    body = json.dumps({"password": "hunter2", "text": "note"}).encode()

    _, recorder = await shadow_once(CREATE, "POST", {"id": 1}, Service({"id": 2}), body=body)

    request = recorder.comparisons[0].sample["request"]["body"]
    assert request["json"] == {"password": REDACTED, "text": "note"}
    for guess in (b"hunter2", b"letmein"):
        guessed = json.dumps({"password": guess.decode(), "text": "note"}).encode()
        assert request["sha256"] != hashlib.sha256(guessed).hexdigest()


@pytest.mark.anyio
async def test_a_rollback_write_answered_without_the_marker_is_counted_as_kept():
    metrics, recorder = await shadow_once(CREATE, "POST", {"id": 1}, Service({"id": 1}, honours_marker=False),
                                          body=b'{"text": "x"}')

    assert metrics.registry.get_sample_value("strangler_shadow_writes_kept_total", {"route": "notes.create"}) == 1
    assert [c.outcome for c in recorder.comparisons].count(WRITES_KEPT) == 1


@pytest.mark.anyio
async def test_a_rollback_write_the_service_rolled_back_is_not_counted():
    metrics, recorder = await shadow_once(CREATE, "POST", {"id": 1}, Service({"id": 1}), body=b'{"text": "x"}')

    assert metrics.registry.get_sample_value("strangler_shadow_writes_kept_total", {"route": "notes.create"}) in (None, 0)
    assert WRITES_KEPT not in [c.outcome for c in recorder.comparisons]
