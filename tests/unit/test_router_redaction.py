import json

from router.redaction import REDACTED, Redactor


def test_secret_headers_are_redacted_and_others_kept():
    r = Redactor()
    out = r.headers([("Authorization", "Token abc"), ("Cookie", "sessionid=s"), ("X-Strangler-Shadow", "v1;sig=x"),
                     ("X-Strangler-Shadow-Result", "rolled-back"), ("Content-Type", "application/json")])
    assert out == [["Authorization", REDACTED], ["Cookie", REDACTED], ["X-Strangler-Shadow", REDACTED],
                   ["X-Strangler-Shadow-Result", "rolled-back"], ["Content-Type", "application/json"]]


def test_json_fields_query_strings_and_links_are_redacted_at_any_depth():
    r = Redactor(personal_fields=["email", "phone"])
    body = json.dumps({"token": "t0k", "results": [{"email": "a@b.c", "Phone": "123", "sku": "TG-1"}],
                       "next": "http://h/api/?page=2&email=a%40b.c", "note": "password=hunter2"}).encode()
    redacted = r.body(body)
    text = json.dumps(redacted)
    for secret in ("t0k", "a@b.c", "a%40b.c", "123", "hunter2"):
        assert secret not in text
    assert redacted["json"]["results"][0]["sku"] == "TG-1"
    assert redacted["json"]["next"] == f"http://h/api/?page=2&email={REDACTED}"
    assert r.target("/api/x/?email=a@b.c&page=1") == f"/api/x/?email={REDACTED}&page=1"


def test_non_json_bodies_are_kept_only_as_hash_and_length():
    summary = Redactor().body(b"<html>secret page</html>")
    assert set(summary) == {"length", "sha256"} and summary["length"] == 24
