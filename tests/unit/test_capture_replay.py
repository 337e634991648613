"""Replaying a capture: the plan (pure), then the sending, over httpx MockTransports instead of sockets."""

import asyncio
import json

import httpx
import pytest

from extracted.common.shadow import verify_marker
from router.config import parse_config
from router.parity import Verdict
from strangler.capture.records import Capture, CapturedExchange, CapturedRequest, CapturedResponse
from strangler.capture.replay import Replayer, UpstreamUnreachable, plan_replay, replay_headers

SECRET = b"test-secret"
CONFIG = parse_config({
    "version": 1,
    "upstreams": {"legacy": {"url": "http://127.0.0.1:8001"}, "inventory": {"url": "http://127.0.0.1:8101"}},
    "groups": {"inventory": {"upstream": "inventory"}},
    "routes": [
        {"name": "stock.list", "group": "inventory", "methods": ["GET"], "path": "/api/stock/",
         "parity": {"ignore_paths": ["body.generated_at"]}},
        {"name": "adjust", "group": "inventory", "methods": ["POST"], "path": "/api/adjust/"},
    ],
})


def exchange(method="GET", target="/api/stock/?page=2", headers=(), body=b"", response=None) -> CapturedExchange:
    request = CapturedRequest(method, "http", "127.0.0.1", 8001, target,
                              (("Host", "shop.example"), ("Authorization", "Token k"), *headers), body)
    return CapturedExchange(request, response)


def capture(*exchanges) -> Capture:
    return Capture("t.flow", "mitmproxy", tuple(exchanges))


RECORDED = CapturedResponse(201, (("Content-Type", "application/json"),), b'{"id": 7}')


def test_the_plan_replays_reads_under_their_route_rules_and_counts_what_it_leaves_out():
    plan = plan_replay(capture(exchange(), exchange(target="/elsewhere/"), exchange("POST", "/api/adjust/", response=RECORDED)),
                       CONFIG.routes)
    assert [(i.number, i.route, i.write) for i in plan.items] == [(1, "stock.list", False), (2, "unmatched", False)]
    assert plan.items[0].rules.ignore_paths == ("body.generated_at",)
    assert plan.items[1].rules.ignore_paths == ()
    assert plan.skipped == {"write (replayed only with --writes)": 1}


def test_writes_are_planned_only_when_asked_and_only_with_a_recorded_answer():
    plan = plan_replay(capture(exchange("POST", "/api/adjust/", response=RECORDED), exchange("POST", "/api/adjust/")),
                       CONFIG.routes, writes=True)
    assert [(i.route, i.write) for i in plan.items] == [("adjust", True)]
    assert plan.skipped == {"write without a recorded answer": 1}


@pytest.mark.parametrize("only, kept", [("stock.list", [1]), ("inventory", [1]), ("unmatched", [2]), ("adjust", [])])
def test_the_plan_keeps_one_route_group_or_the_unmatched(only, kept):
    plan = plan_replay(capture(exchange(), exchange(target="/elsewhere/")), CONFIG.routes, only=only)
    assert [i.number for i in plan.items] == kept


def test_replayed_headers_keep_credentials_and_host_and_drop_connection_headers():
    captured = exchange(headers=(("Connection", "keep-alive"), ("Accept-Encoding", "br"), ("Content-Length", "0"),
                                 ("X-Strangler-Shadow", "forged"), ("X-Request-ID", "old"), ("Accept", "*/*")))
    assert replay_headers(captured) == [("Host", "shop.example"), ("Authorization", "Token k"), ("Accept", "*/*")]


class Side:
    """A fake upstream: records what it was sent, answers with `answer(request)`."""

    def __init__(self, answer):
        self.answer, self.seen = answer, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.answer(request)


def json_answer(payload, **headers):
    return lambda request: httpx.Response(200, json=payload, headers=headers)


def run(plan, legacy, extracted, **options):
    replayer = Replayer("http://legacy:8001", "http://extracted:8101", marker_secret=SECRET,
                        transports={"legacy": httpx.MockTransport(legacy), "extracted": httpx.MockTransport(extracted)},
                        **options)
    return asyncio.run(replayer.run(plan))


def test_reads_go_to_both_sides_as_captured_and_are_compared_under_the_route_rules():
    legacy = Side(json_answer({"count": 1, "generated_at": "a"}))
    extracted = Side(json_answer({"count": 1, "generated_at": "b"}))
    [outcome] = run(plan_replay(capture(exchange()), CONFIG.routes), legacy, extracted)
    assert outcome.result.verdict is Verdict.MATCH  # generated_at is ignored by the route's rules
    sent_legacy, sent_extracted = legacy.seen[0], extracted.seen[0]
    assert str(sent_legacy.url) == "http://legacy:8001/api/stock/?page=2"
    assert str(sent_extracted.url) == "http://extracted:8101/api/stock/?page=2"
    for sent in (sent_legacy, sent_extracted):
        assert sent.headers["authorization"] == "Token k" and sent.headers["host"] == "shop.example"
        assert "x-strangler-shadow" not in sent.headers
    assert sent_legacy.headers["x-request-id"] == sent_extracted.headers["x-request-id"]


def test_a_difference_is_a_mismatch():
    [outcome] = run(plan_replay(capture(exchange()), CONFIG.routes), Side(json_answer({"count": 1})),
                    Side(json_answer({"count": 2})))
    assert outcome.result.verdict is Verdict.MISMATCH
    assert [d.path for d in outcome.result.differences] == ["body.count"]


def test_a_write_goes_only_to_the_extracted_side_signed_and_is_compared_with_the_recorded_answer():
    legacy, extracted = Side(json_answer({})), Side(lambda r: httpx.Response(201, json={"id": 7}))
    write = exchange("POST", "/api/adjust/?dry=0", headers=(("Content-Type", "application/json"),), body=b'{"q": 1}',
                     response=RECORDED)
    [outcome] = run(plan_replay(capture(write), CONFIG.routes, writes=True), legacy, extracted)
    assert legacy.seen == []  # writes are never replayed into the monolith
    [sent] = extracted.seen
    assert sent.content == b'{"q": 1}'
    check = verify_marker(sent.headers["x-strangler-shadow"], SECRET, method="POST", target="/api/adjust/?dry=0")
    assert check.valid and check.request_id == sent.headers["x-request-id"]
    assert outcome.result.verdict is Verdict.MATCH


def test_writes_without_the_secret_are_refused_before_anything_is_sent():
    plan = plan_replay(capture(exchange("POST", "/api/adjust/", response=RECORDED)), CONFIG.routes, writes=True)
    replayer = Replayer("http://l", "http://e", transports={"extracted": httpx.MockTransport(json_answer({}))})
    with pytest.raises(ValueError, match="secret"):
        asyncio.run(replayer.run(plan))


def test_a_side_that_refuses_connections_stops_the_replay():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UpstreamUnreachable, match="extracted side unreachable at http://extracted:8101"):
        run(plan_replay(capture(exchange(), exchange()), CONFIG.routes), Side(json_answer({})), refuse)


def test_a_timeout_fails_that_request_and_the_replay_goes_on():
    calls = []

    def slow_once(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={})

    outcomes = run(plan_replay(capture(exchange(), exchange()), CONFIG.routes), Side(json_answer({})), slow_once,
                   concurrency=1)
    assert [o.error for o in outcomes] == ["extracted: ReadTimeout: timed out", None]
    assert outcomes[1].result.verdict is Verdict.MATCH


def test_cookies_set_by_one_answer_are_not_sent_with_the_next_request():
    def set_cookie(request):
        return httpx.Response(200, json={}, headers={"Set-Cookie": "sessionid=abc; Path=/"})

    legacy = Side(set_cookie)
    run(plan_replay(capture(exchange(), exchange()), CONFIG.routes), legacy, Side(set_cookie), concurrency=1)
    assert [r.headers.get("cookie") for r in legacy.seen] == [None, None]


def test_progress_is_reported_as_each_request_finishes():
    seen = []
    replayer = Replayer("http://l", "http://e", transports={"legacy": httpx.MockTransport(json_answer({})),
                                                            "extracted": httpx.MockTransport(json_answer({}))})
    plan = plan_replay(capture(exchange(), exchange(), exchange()), CONFIG.routes)
    asyncio.run(replayer.run(plan, seen.append))
    assert sorted(o.item.number for o in seen) == [1, 2, 3]
    assert json.dumps([o.result.verdict for o in seen])  # plain values
