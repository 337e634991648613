"""Exporting a capture as a parity corpus: roles instead of credentials, and reading the corpus back."""

import json
from pathlib import Path

import pytest

from router.redaction import REDACTED, Redactor
from strangler.capture import read_capture
from strangler.capture.corpus import CorpusError, build_corpus, parse_role_tokens, read_corpus, write_corpus
from strangler.capture.records import Capture, CapturedExchange, CapturedRequest, CapturedResponse

FLOW_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "capture" / "echo.flow"
ROLES = {"fixture-staff-token": "staff", "fixture-customer-token": "customer"}


def request(method="GET", target="/a/", headers=(), body=b""):
    return CapturedExchange(CapturedRequest(method, "http", "h", 80, target, tuple(headers), body),
                            CapturedResponse(200, (("Content-Type", "application/json"),), b"{}"), "flow 1")


def capture(*exchanges):
    return Capture("t.flow", "mitmproxy", tuple(exchanges))


def test_a_recorded_capture_becomes_requests_with_roles_and_no_credentials():
    exported = build_corpus(read_capture(FLOW_FIXTURE), name="echo", role_tokens=ROLES)
    requests = exported.corpus["requests"]
    assert [(r["role"], r["method"], r["path"]) for r in requests] == [
        ("staff", "GET", "/api/inventory/stock/?warehouse=BER"), ("anonymous", "GET", "/api/inventory/stock/TG-MCU-00001/"),
        ("customer", "GET", "/api/inventory/stock/")]
    assert exported.skipped == {"write (exported only with --writes)": 1}
    assert requests[0]["headers"] == {"accept": "application/json"}  # Host, User-Agent, Authorization dropped
    assert requests[0]["recorded"] == {"status": 200, "content_type": "application/json"}
    assert "fixture-staff-token" not in json.dumps(exported.corpus)


def test_writes_are_exported_when_asked_with_their_bodies():
    exported = build_corpus(read_capture(FLOW_FIXTURE), name="echo", role_tokens=ROLES, writes=True)
    post = next(r for r in exported.corpus["requests"] if r["method"] == "POST")
    assert post["role"] == "staff" and json.loads(post["body"])["quantity"] == 5
    assert post["headers"] == {"accept": "*/*", "content-type": "application/json"}


def test_a_caller_no_role_names_is_refused_or_skipped_when_asked():
    unknown = request(headers=[("Authorization", "Bearer someone-else")])
    with pytest.raises(CorpusError, match=r"t.flow: flow 1: GET /a/ is made by a caller no --role-token names") as caught:
        build_corpus(capture(unknown), name="x", role_tokens=ROLES)
    assert "someone-else" not in str(caught.value)
    exported = build_corpus(capture(unknown, request()), name="x", role_tokens=ROLES, skip_unknown=True)
    assert [r["role"] for r in exported.corpus["requests"]] == ["anonymous"]
    assert exported.skipped == {"caller not named by --role-token": 1}


def test_a_session_cookie_is_an_unknown_caller_and_other_cookies_are_dropped():
    with pytest.raises(CorpusError):
        build_corpus(capture(request(headers=[("Cookie", "a=1; sessionid=s")])), name="x", role_tokens=ROLES)
    exported = build_corpus(capture(request(headers=[("Cookie", "theme=dark")])), name="x", role_tokens=ROLES)
    assert exported.corpus["requests"][0]["headers"] == {}


def test_repeats_are_kept_once_and_ids_stay_unique():
    exported = build_corpus(capture(request(), request(), request("OPTIONS"), request("POST", body=b"1"),
                                    request("POST", body=b"2")), name="x", role_tokens={}, writes=True)
    ids = [r["id"] for r in exported.corpus["requests"]]
    assert ids == ["anonymous GET /a/", "anonymous OPTIONS /a/", "anonymous POST /a/", "anonymous POST /a/ #2"]
    assert exported.skipped == {"repeated request": 1}


def test_query_strings_and_bodies_are_written_with_their_secrets_redacted():
    exported = build_corpus(capture(
        request(target="/a/?api_key=k123&pass%77ord=p0&page=2", headers=[("X-Auth-Token", "h1"), ("Accept", "*/*")]),
        request("POST", body=b'{"password": "hunter2", "email": "ann@example.com", "text": "note"}'),
        request("POST", target="/login/", body=b"username=ann&password=p1&next=%2F"),
        request("POST", target="/plain/", body=b'{"text": "nothing secret"}'),
    ), name="x", role_tokens={}, writes=True, redactor=Redactor(["email"]))
    get, json_post, form_post, plain = exported.corpus["requests"]
    assert get["path"] == f"/a/?api_key={REDACTED}&pass%77ord={REDACTED}&page=2"
    assert get["id"] == f"anonymous GET /a/?api_key={REDACTED}&pass%77ord={REDACTED}&page=2"
    assert get["headers"] == {"accept": "*/*"}
    assert json.loads(json_post["body"]) == {"password": REDACTED, "email": REDACTED, "text": "note"}
    assert form_post["body"] == f"username=ann&password={REDACTED}&next=%2F"
    assert plain["body"] == '{"text": "nothing secret"}'  # a body with nothing to hide is kept as written
    dumped = json.dumps(exported.corpus)
    for secret in ("k123", "p0", "h1", "hunter2", "ann@example.com", "p1"):
        assert secret not in dumped


def test_a_body_that_cannot_be_redacted_is_refused_naming_the_request():
    binary = capture(request("POST", target="/upload/", body=b"\xff\x00 password hunter2"))
    with pytest.raises(CorpusError, match=r"t.flow: flow 1: POST /upload/ has a body that is neither JSON nor "
                                          r"form-urlencoded.*--allow-raw-bodies") as caught:
        build_corpus(binary, name="bin", role_tokens={}, writes=True)
    assert "hunter2" not in str(caught.value)


def test_a_binary_body_is_kept_as_base64_and_read_back_when_raw_bodies_are_allowed(tmp_path):
    exported = build_corpus(capture(request("POST", body=b"\xff\x00")), name="bin", role_tokens={}, writes=True,
                            allow_raw_bodies=True)
    write_corpus(tmp_path / "bin.json", exported.corpus)
    [read] = read_corpus(tmp_path / "bin.json")
    assert (read.method, read.body, read.role, read.recorded_status) == ("POST", b"\xff\x00", "anonymous", 200)


def test_the_example_corpus_reads_back():
    corpus = Path(__file__).resolve().parents[1] / "parity" / "corpus" / "inventory-reads.json"
    requests = read_corpus(corpus)
    assert {r.role for r in requests} == {"staff", "customer", "anonymous"}
    assert all(r.method == "GET" and r.path.startswith("/api/inventory/") for r in requests)
    assert "Token " not in corpus.read_text()


@pytest.mark.parametrize("specs, problem", [
    (["staff"], "#1: expected ROLE=TOKEN"),
    (["staff=k", "=k2"], "#2: expected ROLE=TOKEN"),
    (["anonymous=k"], "role of requests without credentials"),
    (["staff=k", "customer=k"], "#2: this token is already given role 'staff'"),
])
def test_bad_role_tokens_are_refused_without_echoing_the_token(specs, problem):
    with pytest.raises(ValueError, match=problem) as caught:
        parse_role_tokens(specs)
    assert "=k" not in str(caught.value)


def test_role_tokens_map_tokens_to_roles():
    assert parse_role_tokens(["staff=k1", "staff=k2", "customer=k3"]) == {"k1": "staff", "k2": "staff", "k3": "customer"}


@pytest.mark.parametrize("content, problem", [
    ("[]", "format: expected 'strangler-parity-corpus'"),
    ('{"format": "strangler-parity-corpus", "version": 2}', "version: expected 1"),
    ('{"format": "strangler-parity-corpus", "version": 1, "requests": [{"id": "x", "method": "GET", "role": "a"}]}',
     r"requests\[0\].path: expected str"),
    ('{"format": "strangler-parity-corpus", "version": 1, "requests": [{"id": "x", "method": "GET", "role": "a", '
     '"path": "x"}]}', "expected a path starting with '/'"),
    ("{", "not a readable JSON corpus"),
])
def test_a_bad_corpus_is_refused_naming_file_and_key(tmp_path, content, problem):
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(CorpusError, match=problem) as caught:
        read_corpus(path)
    assert str(caught.value).startswith(str(path))
