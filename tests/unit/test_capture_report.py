"""The replay report: counts and parity per route, top paths, and examples with nothing secret in them."""

import json

from router.parity import Exchange, ParityRules, compare
from router.redaction import REDACTED, Redactor
from strangler.capture.records import CapturedExchange, CapturedRequest
from strangler.capture.replay import ReplayItem, ReplayOutcome, ReplayPlan
from strangler.capture.report import build_report

REDACTOR = Redactor(personal_fields=("email",))


def item(number, route="stock.list", target="/api/stock/"):
    request = CapturedRequest("GET", "http", "h", 80, target, (("Authorization", "Token secret-token"),))
    return ReplayItem(number, CapturedExchange(request, None), route, ParityRules())


def outcome(number, legacy_body, extracted_body, route="stock.list", target="/api/stock/"):
    legacy = Exchange(200, (("content-type", "application/json"),), json.dumps(legacy_body).encode())
    extracted = Exchange(200, (("content-type", "application/json"),), json.dumps(extracted_body).encode())
    return ReplayOutcome(item(number, route, target), compare(legacy, extracted, ParityRules()), legacy, extracted)


def test_counts_and_parity_per_route_with_the_paths_that_differ_most():
    outcomes = [
        outcome(1, {"a": 1}, {"a": 1}),
        outcome(2, {"a": 1, "b": [1, 2]}, {"a": 2, "b": [1, 3]}),
        outcome(3, {"a": 1}, {"a": 3}),
        outcome(4, {"x": 1}, {"x": 1}, route="unmatched"),
        ReplayOutcome(item(5), error="extracted: ReadTimeout"),
    ]
    report = build_report(ReplayPlan((), {"write (replayed only with --writes)": 2}), outcomes, REDACTOR, examples=1)
    stock, unmatched = report.routes
    assert (stock.route, stock.compared, stock.counts["match"], stock.counts["mismatch"], stock.counts["error"]) == (
        "stock.list", 3, 1, 2, 1)
    assert stock.parity_rate == 1 / 3 and unmatched.parity_rate == 1.0
    assert stock.top_paths() == [("body.a", "changed", 2), ("body.b[*]", "changed", 1)]
    assert (report.mismatches, report.failures, report.judged) == (2, 1, 4)
    assert [e["number"] for e in report.examples] == [2]
    assert report.errors == ({"number": 5, "route": "stock.list", "method": "GET", "target": "/api/stock/",
                              "write": False, "error": "extracted: ReadTimeout"},)
    as_json = report.as_dict()
    assert as_json["skipped"] == {"write (replayed only with --writes)": 2}
    assert as_json["routes"][0]["top_paths"][0] == {"pattern": "body.a", "kind": "changed", "count": 2}


def test_examples_hide_secret_and_personal_fields_by_name_and_inside_values():
    differing = outcome(1, {"email": "ann@example.com", "token": "t1", "next": "http://x/?page=2&token=t1",
                            "owner": {"password": "p1", "name": "A"}},
                        {"email": "bob@example.com", "token": "t2", "next": "http://x/?page=2&token=t2",
                         "owner": {"password": "p2", "name": "B"}},
                        target="/api/stock/?api_key=k123&page=2")
    [example] = build_report(ReplayPlan((), {}), [differing], REDACTOR).examples
    text = json.dumps(example)
    for secret in ("ann@example.com", "bob@example.com", "t1", "t2", "p1", "p2", "k123", "secret-token"):
        assert secret not in text
    by_path = {d["path"]: d for d in example["differences"]}
    assert by_path["body.email"]["legacy"] == REDACTED
    assert by_path["body.next"]["extracted"] == f"http://x/?page=2&token={REDACTED}"
    assert by_path["body.owner.name"] == {"kind": "changed", "path": "body.owner.name", "pattern": "body.owner.name",
                                          "legacy": "A", "extracted": "B"}
    assert example["target"] == f"/api/stock/?api_key={REDACTED}&page=2"


def test_a_whole_object_that_differs_has_its_secret_fields_hidden():
    differing = outcome(1, {"user": None}, {"user": {"token": "t9", "id": 3}})
    [example] = build_report(ReplayPlan((), {}), [differing], REDACTOR).examples
    assert example["differences"][0]["extracted"] == {"token": REDACTED, "id": 3}
