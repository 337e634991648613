import hashlib
import json

import pytest

from router.parity import Exchange, ParityRules, compare
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


def test_non_json_bodies_are_kept_only_as_a_keyed_digest_and_length():
    summary = Redactor().body(b"<html>secret page</html>")
    assert set(summary) == {"length", "hmac_sha256"} and summary["length"] == 24


# -- names: by pattern, whatever the spelling -----------------------------------------------------------

@pytest.mark.parametrize("name", ["new_password", "old_password", "Client_Secret", "auth_token", "jwt", "e-mail",
                                  "mobile", "customer_email", "API-Key", "refreshToken", "x-api-key", "pass%77ord"])
def test_secret_and_personal_names_are_found_by_pattern(name):
    redacted = Redactor().value({name: "hidden-value", "sku": "TG-1"})
    assert redacted == {name: REDACTED, "sku": "TG-1"}


@pytest.mark.parametrize("name", ["sku", "quantity", "keyboard", "monkey", "idempotency_key", "status"])
def test_ordinary_names_are_kept(name):
    assert Redactor().value({name: "shown"}) == {name: "shown"}


def test_configured_personal_fields_match_in_any_spelling():
    r = Redactor(personal_fields=["first_name", "vat_number"])
    assert r.value({"First-Name": "Ann", "VatNumber": "DE1", "last_name": "B"}) == {
        "First-Name": REDACTED, "VatNumber": REDACTED, "last_name": "B"}


def test_token_headers_by_pattern_are_redacted():
    out = Redactor().headers([("X-Auth-Token", "t1"), ("X-XSRF-Token", "t2"), ("X-Request-ID", "r1")])
    assert out == [["X-Auth-Token", REDACTED], ["X-XSRF-Token", REDACTED], ["X-Request-ID", "r1"]]


def test_percent_encoded_query_names_are_redacted():
    r = Redactor()
    assert r.target("/a/?pass%77ord=hunter2&api%5Fkey=k1&page=2") == \
        f"/a/?pass%77ord={REDACTED}&api%5Fkey={REDACTED}&page=2"
    assert r.target("/a/?New-Password=x&ok=1") == f"/a/?New-Password={REDACTED}&ok=1"


# -- differences: the name of the field that differs hides both values -----------------------------------

def json_exchange(payload, headers=()):
    return Exchange(200, (("content-type", "application/json"), *headers), json.dumps(payload).encode())


def test_a_difference_under_a_redacted_name_hides_both_values():
    r = Redactor(personal_fields=["email"])
    result = compare(
        json_exchange({"email": "ann@example.com", "token": "t1", "user": {"credentials": {"value": "c1"}}, "n": 1},
                      [("x-auth-token", "h1")]),
        json_exchange({"email": "bob@example.com", "token": "t2", "user": {"credentials": {"value": "c2"}}, "n": 2},
                      [("x-auth-token", "h2")]),
        ParityRules(headers=("x-auth-token",)))
    stored = r.result(result)
    text = json.dumps(stored)
    for secret in ("ann@example.com", "bob@example.com", "t1", "t2", "c1", "c2", "h1", "h2"):
        assert secret not in text
    by_path = {d["path"]: d for d in stored["differences"]}
    assert by_path["body.email"] == {"kind": "changed", "path": "body.email", "pattern": "body.email",
                                     "legacy": REDACTED, "extracted": REDACTED}
    assert by_path["headers.x-auth-token"]["legacy"] == REDACTED
    assert by_path["body.user.credentials.value"]["extracted"] == REDACTED
    assert (by_path["body.n"]["legacy"], by_path["body.n"]["extracted"]) == (1, 2)
    assert stored["signature"] == result.signature()


# -- body digests: never of the raw bytes ---------------------------------------------------------------

def test_a_json_body_is_hashed_after_redaction():
    r = Redactor()
    one, two = b'{"password": "hunter2", "user": "ann"}', b'{"password": "letmein", "user": "ann"}'
    first, second = r.body(one), r.body(two)
    assert first["sha256"] != hashlib.sha256(one).hexdigest()
    assert first["sha256"] == second["sha256"]  # the password is not in what is hashed
    assert first["json"] == {"password": REDACTED, "user": "ann"} and first["length"] == len(one)


def test_a_form_body_is_redacted_and_hashed_after_redaction():
    r = Redactor()
    raw = b"username=ann&password=hunter2&next=%2F"
    summary = r.body(raw)
    assert summary["form"] == f"username=ann&password={REDACTED}&next=%2F"
    assert summary["sha256"] == hashlib.sha256(summary["form"].encode()).hexdigest()
    assert "hunter2" not in json.dumps(summary)


def test_a_body_that_cannot_be_redacted_gets_a_keyed_digest_only():
    raw = b"<html>password hunter2</html>"
    one, other = Redactor(), Redactor()
    summary = one.body(raw)
    assert set(summary) == {"length", "hmac_sha256"}
    assert summary["hmac_sha256"] != hashlib.sha256(raw).hexdigest()
    assert summary == one.body(raw)                       # equal bodies look equal within one router
    assert summary["hmac_sha256"] != other.body(raw)["hmac_sha256"]  # but not against a guess made elsewhere


def test_a_list_item_named_by_a_hidden_key_field_has_that_value_hidden_in_the_path():
    rules = ParityRules(unordered={"body.users": "email"})
    result = compare(json_exchange({"users": [{"email": "ann@example.com", "n": 1}]}),
                     json_exchange({"users": [{"email": "ann@example.com", "n": 2}]}), rules)
    [difference] = Redactor(personal_fields=["email"]).result(result)["differences"]
    assert "ann@example.com" not in json.dumps(difference)
    assert difference["path"] == f'body.users[email="{REDACTED}"].n' and difference["pattern"] == "body.users[*].n"
    assert (difference["legacy"], difference["extracted"]) == (1, 2)
