"""Reading captures into records: the recorded mitmproxy flow file, hand-built HAR files, bad files.

tests/fixtures/capture/echo.flow was recorded once by `strangler parity record` (mitmproxy 11.0.2) in
front of the echo upstream (tests/support/echo_app.py), with made-up tokens:
    GET  /api/inventory/stock/?warehouse=BER   Authorization: Token fixture-staff-token
    GET  /api/inventory/stock/TG-MCU-00001/    (anonymous)
    POST /api/inventory/adjustments/           Token fixture-staff-token, a JSON body
    GET  /api/inventory/stock/                 Token fixture-customer-token
"""

import base64
import gzip
import json
from pathlib import Path

import pytest

from strangler.capture import CaptureError, read_capture
from strangler.capture.flows import parse_flows
from strangler.capture.records import decode_body
from tests.unit.test_capture_tnetstring import dumps

FLOW_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "capture" / "echo.flow"


def test_reads_every_http_flow_of_a_recorded_flow_file():
    capture = read_capture(FLOW_FIXTURE)
    assert capture.format == "mitmproxy" and capture.skipped == 0
    assert [(e.request.method, e.request.target) for e in capture.exchanges] == [
        ("GET", "/api/inventory/stock/?warehouse=BER"), ("GET", "/api/inventory/stock/TG-MCU-00001/"),
        ("POST", "/api/inventory/adjustments/"), ("GET", "/api/inventory/stock/")]
    first, _, post, _ = capture.exchanges
    assert (first.request.scheme, first.request.host) == ("http", "127.0.0.1")
    assert first.request.path == "/api/inventory/stock/"
    assert first.request.header("authorization") == "Token fixture-staff-token"
    assert first.response.status == 200 and first.response.header("Content-Type") == "application/json"
    assert json.loads(first.response.body)["query"] == "warehouse=BER"
    assert json.loads(post.request.body) == {"sku": "TG-MCU-00001", "warehouse": "BER", "quantity": 5}
    assert not post.request.is_safe and first.request.is_safe


def _flow(**overrides) -> dict:
    state = {
        "version": 21, "type": "http", "metadata": {},
        "request": {"method": b"GET", "scheme": b"http", "host": "shop.example", "port": 8001, "path": b"/a/?q=1",
                    "http_version": b"HTTP/1.1", "headers": [[b"Accept", b"*/*"]], "content": b""},
        "response": {"status_code": 200, "reason": b"OK", "headers": [[b"content-type", b"application/json"]],
                     "content": b"{}"},
    }
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            state[section][field] = value
        else:
            state[section] = value
    return state


def test_flows_of_other_protocols_are_skipped_and_counted():
    data = dumps(_flow()) + dumps({"version": 21, "type": "tcp", "messages": []}) + dumps(_flow(response=None))
    capture = parse_flows(data, "x.flow")
    assert capture.skipped == 1
    assert [e.response is None for e in capture.exchanges] == [False, True]


def test_a_gzip_response_body_is_decoded_and_a_request_body_kept_as_sent():
    body = gzip.compress(b'{"a": 1}')
    flow = _flow(response__headers=[[b"Content-Encoding", b"gzip"]], response__content=body,
                 request__content=body, request__headers=[[b"Content-Encoding", b"gzip"]])
    exchange = parse_flows(dumps(flow), "x.flow").exchanges[0]
    assert exchange.response.body == b'{"a": 1}'
    assert exchange.request.body == body


def test_a_request_without_host_gets_one_so_both_sides_are_sent_the_same():
    http2 = parse_flows(dumps(_flow(request__authority=b"shop.example")), "x.flow").exchanges[0]
    assert http2.request.headers == (("Host", "shop.example"), ("Accept", "*/*"))
    bare = parse_flows(dumps(_flow(request__authority=b"")), "x.flow").exchanges[0]
    assert bare.request.header("host") == "shop.example:8001"


def test_decode_body_leaves_what_it_cannot_undo():
    assert decode_body(b"raw", "br") == b"raw"
    assert decode_body(b"not gzip", "gzip") == b"not gzip"


@pytest.mark.parametrize("state, problem", [
    (_flow(version=[0, 18]), "mitmproxy 3 or older"),
    (_flow(version=3), "unsupported flow format version 3"),
    (_flow(request__method=None), "request.method: expected text"),
    (_flow(request__port="80"), "request.port: expected an integer"),
    (_flow(request__headers=[[b"only-a-name"]]), r"request.headers\[0\]: expected a \[name, value\] pair"),
    (_flow(request__path=b"example.com:443"), "expected a path starting with '/'"),
    (_flow(response__status_code=b"200"), "response.status_code: expected an integer"),
    ([1, 2], "expected a flow"),
])
def test_a_malformed_flow_is_refused_naming_the_flow_and_field(state, problem):
    data = dumps(_flow()) + dumps(state)
    with pytest.raises(CaptureError, match=problem) as caught:
        parse_flows(data, "bad.flow")
    assert str(caught.value).startswith(f"bad.flow: flow 2 (byte {len(dumps(_flow()))})")


def test_a_truncated_flow_file_is_refused_naming_the_file(tmp_path):
    cut = tmp_path / "cut.flow"
    cut.write_bytes(FLOW_FIXTURE.read_bytes()[:-40])
    with pytest.raises(CaptureError, match=r"cut.flow: not a mitmproxy flow file: at byte \d+"):
        read_capture(cut)


def har(*entries) -> dict:
    return {"log": {"version": "1.2", "creator": {"name": "hand", "version": "1"}, "entries": list(entries)}}


def entry(method="GET", url="https://shop.example/api/x/?a=1&b=%20", request_extra=None, response=None) -> dict:
    return {
        "startedDateTime": "2026-11-23T10:00:00Z", "time": 1,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/2",
                    "headers": [{"name": ":authority", "value": "shop.example"}, {"name": "Accept", "value": "*/*"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0, **(request_extra or {})},
        "response": response if response is not None else {
            "status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "cookies": [], "redirectURL": "",
            "headers": [{"name": "content-type", "value": "application/json"}],
            "content": {"size": 8, "mimeType": "application/json", "text": '{"a": 1}'}, "headersSize": -1, "bodySize": 8},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0},
    }


def test_reads_a_har_file_into_the_same_records(tmp_path):
    binary = bytes(range(256))
    path = tmp_path / "browser.har"
    path.write_text(json.dumps(har(
        entry(),
        entry("POST", "http://127.0.0.1:8001/api/y/", {"postData": {"mimeType": "application/json", "text": '{"q": 1}'}},
              {"status": 201, "headers": [], "content": {"size": 256, "mimeType": "application/octet-stream",
                                                         "text": base64.b64encode(binary).decode(), "encoding": "base64"}}),
        entry("POST", "http://127.0.0.1/form/", {"postData": {"mimeType": "application/x-www-form-urlencoded",
                                                             "params": [{"name": "a", "value": "1 2"}]}}),
        entry(response={"status": 0, "headers": [], "content": {}}),  # blocked by the browser: no answer
    )), encoding="utf-8")
    capture = read_capture(path)
    assert capture.format == "har"
    first, post, form, blocked = capture.exchanges
    assert (first.request.scheme, first.request.host, first.request.port, first.request.target) == (
        "https", "shop.example", 443, "/api/x/?a=1&b=%20")
    assert first.request.headers == (("Host", "shop.example"), ("Accept", "*/*"))  # :authority -> Host
    assert first.response.body == b'{"a": 1}' and first.where == "log.entries[0]"
    assert (post.request.port, post.request.body, post.response.status, post.response.body) == (8001, b'{"q": 1}', 201, binary)
    assert form.request.body == b"a=1+2"
    assert blocked.response is None


def test_a_har_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.har"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(har(entry())).encode())
    assert len(read_capture(path).exchanges) == 1


@pytest.mark.parametrize("document, problem", [
    ({"entries": []}, "log: expected a HAR document"),
    ({"log": {"entries": {}}}, "log.entries: expected a list of entries"),
    (har(entry(url="/relative")), r"log.entries\[0\].request.url: expected an absolute http\(s\) URL"),
    (har(entry(url="ftp://x/")), r"log.entries\[0\].request.url"),
    (har(entry(), {"request": {"method": 1}}), r"log.entries\[1\].request.method: expected an HTTP method"),
    (har(entry(response={"status": "200"})), r"log.entries\[0\].response.status: expected an HTTP status code"),
    (har(entry(response={"status": 200, "content": {"text": "%%%", "encoding": "base64"}})), "invalid base64"),
    (har(entry(response={"status": 200, "content": {"text": "x", "encoding": "rot13"}})), "'base64' or no encoding"),
    (har(entry(request_extra={"headers": [{"name": "a"}]})), r"request.headers\[0\].value: expected a header value"),
])
def test_a_malformed_har_is_refused_naming_the_entry_and_key(tmp_path, document, problem):
    path = tmp_path / "bad.har"
    path.write_text(json.dumps(document))
    with pytest.raises(CaptureError, match=problem) as caught:
        read_capture(path)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    (b"   \n", "empty file"),
    (b"<html>", "neither a mitmproxy flow file nor a HAR file"),
    (b'{"log": ', "invalid JSON at line 1"),
    (b"{\xff}", "not UTF-8"),
])
def test_a_file_of_neither_format_is_refused_naming_it(tmp_path, content, problem):
    path = tmp_path / "capture.bin"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=problem) as caught:
        read_capture(path)
    assert str(caught.value).startswith(str(path))


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(CaptureError, match="nope.flow: cannot read the file"):
        read_capture(tmp_path / "nope.flow")


def test_the_mitmproxy_addon_imports_only_mitmproxy_and_the_standard_library():
    """It runs inside .venv-mitm, where the project is not installed (DESIGN.md §10)."""
    import ast
    import sys

    addon = Path(__file__).resolve().parents[2] / "strangler" / "mitm_addon.py"
    tree = ast.parse(addon.read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert roots - {"__future__"} <= set(sys.stdlib_module_names) | {"mitmproxy"}, roots
