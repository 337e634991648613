"""The identity header: the router signs (router.identity), a service verifies (extracted.common.identity).
The two sides share no code, so these tests hold them to one wire format, and every tampering (another
request, another body, the same header twice) is refused with its reason, never read as a user."""

import hashlib
import hmac
import re

import pytest

from extracted.common import identity as service_side
from extracted.common.identity import ANONYMOUS, Identity, IdentityError, verify_identity
from extracted.common.nonces import SeenNonces
from router import identity as router_side
from router.identity import Identity as RouterIdentity
from router.identity import body_digest, sign_identity

SECRET = b"unit-test-identity-secret"
NOW = 1_800_000_000
METHOD, TARGET = "POST", "/api/inventory/warehouses/?x=1&q=a%20b"
BODY = b'{"code": "BER", "name": "Berlin"}'
NONCE = "0123456789abcdef0123456789abcdef"
BAD_SIGNATURE = "signature does not match this request"
BAD_BODY = "body does not match the signed digest"
STAFF = {"user_id": 1, "username": "admin", "is_staff": True, "customer_id": None}
CUSTOMER = {"user_id": 42, "username": "buyer@acme.example", "is_staff": False, "customer_id": 7}


def header(*, secret=SECRET, method=METHOD, target=TARGET, body=BODY, now=NOW, nonce=None, **caller) -> str:
    return sign_identity(secret, method=method, target=target, body=body, now=now, nonce=nonce, **(caller or STAFF))


def verify(value: str, *, method=METHOD, target=TARGET, body=BODY, now=NOW, max_age=30, nonces=None) -> Identity:
    return verify_identity(value, SECRET, method=method, target=target, body=body, now=now, max_age=max_age,
                           nonces=nonces)


def with_field(value: str, key: str, new: str) -> str:
    return re.sub(rf"(?<=;{key}=)[^;]*", new, value)


# -- the contract --------------------------------------------------------------------------------------

@pytest.mark.parametrize("caller", [STAFF, CUSTOMER], ids=["staff", "customer"])
def test_an_identity_signed_by_the_router_verifies_in_the_service(caller):
    assert verify(header(**caller)) == Identity(**caller)


def test_an_anonymous_caller_round_trips_as_anonymous():
    value = header(user_id=None, username=None, is_staff=False, customer_id=None)

    assert value.startswith("v2;uid=-;user=-;staff=0;cust=-;")
    assert verify(value) is ANONYMOUS


def test_the_router_side_value_signs_the_same_header():
    caller = RouterIdentity(**CUSTOMER)

    assert caller.header_value(SECRET, method=METHOD, target=TARGET, body=BODY, now=NOW, nonce=NONCE) == \
        header(nonce=NONCE, **CUSTOMER)
    assert caller.is_authenticated and not router_side.ANONYMOUS.is_authenticated


def test_the_header_has_the_documented_format_and_signature():
    value = header(nonce=NONCE, **CUSTOMER)

    uid, user, staff, cust, ts, nonce, body, sig = re.fullmatch(
        r"v2;uid=(\d+);user=([^;]+);staff=([01]);cust=(\d+);ts=(\d+);nonce=([0-9a-f]{32});body=([0-9a-f]{64})"
        r";sig=([0-9a-f]{64})", value).groups()
    assert (uid, user, staff, cust, int(ts), nonce) == ("42", "buyer%40acme.example", "0", "7", NOW, NONCE)
    assert body == hashlib.sha256(BODY).hexdigest()
    payload = f"v2|42|buyer%40acme.example|0|7|{NOW}|{NONCE}|{body}|POST|{TARGET}".encode()
    assert sig == hmac.new(SECRET, payload, hashlib.sha256).hexdigest()


def test_every_header_gets_a_new_random_nonce():
    nonces = {re.search(r";nonce=([0-9a-f]{32});", header()).group(1) for _ in range(50)}

    assert len(nonces) == 50


async def _streamed():
    yield b"chunk"


@pytest.mark.parametrize(("body", "field"), [
    (None, "-"), (b"", "-"), (b"x", hashlib.sha256(b"x").hexdigest()), (bytearray(b"x"), hashlib.sha256(b"x").hexdigest()),
    ("streamed", "stream"),
])
def test_the_body_field_is_the_digest_of_the_bytes_forwarded(body, field):
    if body == "streamed":
        body = _streamed()
    assert body_digest(body) == field
    assert f";body={field};" in header(body=body)


def test_both_sides_name_the_same_header():
    assert router_side.IDENTITY_HEADER == service_side.IDENTITY_HEADER == "X-Strangler-Identity"


def test_the_method_is_signed_in_upper_case():
    assert verify(header(method="post")) == Identity(**STAFF)


@pytest.mark.parametrize("username", [
    "jörg.müller", "o'brien+test@example.com", "a b", "semi;colon|pipe=eq", "-", "--", "%41", "日本語ユーザー",
    "user_name.with-dots~", "x" * 150, "😀" * 150,
])
def test_usernames_with_odd_characters_survive_the_trip(username):
    value = header(user_id=5, username=username, is_staff=False, customer_id=None)

    user_field = re.search(r";user=([^;]*);", value).group(1)
    assert re.fullmatch(r"[A-Za-z0-9%._~\-]+", user_field)  # nothing that could split the header
    assert verify(value).username == username


def test_a_username_of_a_single_dash_is_not_read_as_none():
    value = header(user_id=5, username="-", is_staff=False, customer_id=None)

    assert ";user=%2D;" in value
    assert verify(value).username == "-"


def test_an_empty_username_is_sent_as_none():
    assert verify(header(user_id=5, username="", is_staff=False, customer_id=None)).username is None


# -- tampering: each is refused, with the reason --------------------------------------------------------

def test_an_identity_signed_for_another_method_is_refused():
    with pytest.raises(IdentityError, match=BAD_SIGNATURE):
        verify(header(method="GET"))


@pytest.mark.parametrize("target", [
    "/api/inventory/warehouses/", "/api/inventory/warehouses/?x=2&q=a%20b", "/api/inventory/stock/?x=1&q=a%20b",
    "/api/inventory/warehouses/?x=1&q=a b",
])
def test_an_identity_signed_for_another_target_is_refused(target):
    with pytest.raises(IdentityError, match=BAD_SIGNATURE):
        verify(header(), target=target)


def test_an_expired_identity_is_refused_with_its_age():
    with pytest.raises(IdentityError, match=r"expired, signed 31 s ago \(limit 30 s\)"):
        verify(header(), now=NOW + 31)
    assert verify(header(), now=NOW + 30) == Identity(**STAFF)


def test_an_identity_from_the_future_is_refused():
    with pytest.raises(IdentityError, match="in the future"):
        verify(header(), now=NOW - 31)


@pytest.mark.parametrize("received", [b'{"code": "BER", "name": "Berlin!"}', b"", None, BODY + b" "])
def test_an_identity_signed_for_another_body_is_refused(received):
    with pytest.raises(IdentityError, match=BAD_BODY):
        verify(header(), body=received)


@pytest.mark.parametrize("received", [b"", None])
def test_no_body_and_an_empty_body_are_the_same_and_a_body_where_none_was_signed_is_refused(received):
    for signed in (None, b""):
        assert verify(header(body=signed), body=received) == Identity(**STAFF)
    with pytest.raises(IdentityError, match=BAD_BODY):
        verify(header(body=None), body=b"{}")


def test_a_streamed_body_is_not_compared_and_the_nonce_keeps_the_header_single_use():
    value = header(body=_streamed())
    nonces = SeenNonces(10)

    assert ";body=stream;" in value
    assert verify(value, body=b"whatever arrived", nonces=nonces) == Identity(**STAFF)
    with pytest.raises(IdentityError, match="already used"):
        verify(value, body=b"whatever arrived", nonces=nonces)


def test_the_same_header_is_accepted_once():
    value, nonces = header(), SeenNonces(10)

    assert verify(value, nonces=nonces) == Identity(**STAFF)
    with pytest.raises(IdentityError, match=r"already used \(a header is accepted once\)"):
        verify(value, now=NOW + 29, nonces=nonces)
    assert verify(header(), nonces=nonces) == Identity(**STAFF)  # a new signing is a new nonce


def test_a_refused_header_does_not_use_up_its_nonce():
    value, nonces = header(), SeenNonces(10)

    with pytest.raises(IdentityError, match=BAD_BODY):
        verify(value, body=b"tampered", nonces=nonces)
    assert verify(value, nonces=nonces) == Identity(**STAFF)


def test_an_identity_signed_with_another_secret_is_refused():
    with pytest.raises(IdentityError, match=BAD_SIGNATURE):
        verify(header(secret=b"somebody-elses-secret"))


@pytest.mark.parametrize(("key", "new"), [
    ("uid", "2"), ("uid", "-"), ("user", "root"), ("staff", "1"), ("cust", "8"), ("cust", "-"), ("ts", str(NOW + 1)),
    ("nonce", "f" * 32), ("body", "-"), ("body", "stream"), ("body", "0" * 64),
])
def test_a_forged_field_is_refused(key, new):
    value = header(**CUSTOMER)
    forged = with_field(value, key, new)
    assert forged != value

    with pytest.raises(IdentityError, match=BAD_SIGNATURE):
        verify(forged)


_REST = f";nonce={NONCE};body=-;sig=" + "0" * 64


@pytest.mark.parametrize("value", [
    "", "v2", "nonsense", "v2;uid=1", "v2;uid=1;user=a;staff=1;cust=-;ts=1;nonce=" + NONCE + ";body=-;sig=zz",
    "v2;user=a;uid=1;staff=1;cust=-;ts=1" + _REST,                    # fields out of order
    "v2;uid=1;user=a;staff=2;cust=-;ts=1" + _REST,                    # staff neither 0 nor 1
    "v2;uid=one;user=a;staff=1;cust=-;ts=1" + _REST,
    "v2;uid=1;user=a b;staff=1;cust=-;ts=1" + _REST,                  # an unencoded space
    "v2;uid=1;user=a;staff=1;cust=-;ts=1" + _REST + ";extra=1",
    "v2;uid=1;user;staff=1;cust=-;ts=1" + _REST,
    "v2;uid=1;user=a;staff=1;cust=-;ts=1;body=-;sig=" + "0" * 64,     # no nonce
    "v2;uid=1;user=a;staff=1;cust=-;ts=1;nonce=" + NONCE + ";sig=" + "0" * 64,  # no body
    "v2;uid=1;user=a;staff=1;cust=-;ts=1;nonce=abc;body=-;sig=" + "0" * 64,
    "v2;uid=1;user=a;staff=1;cust=-;ts=1;nonce=" + NONCE.upper() + ";body=-;sig=" + "0" * 64,
    "v2;uid=1;user=a;staff=1;cust=-;ts=1;nonce=" + NONCE + ";body=streamed;sig=" + "0" * 64,
    "v2;uid=1;user=a;staff=1;cust=-;ts=1;nonce=" + NONCE + ";body=" + "A" * 64 + ";sig=" + "0" * 64,
])
def test_a_malformed_header_is_refused(value):
    with pytest.raises(IdentityError, match="malformed header"):
        verify(value)


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_another_version_is_refused_as_unsupported(version):
    with pytest.raises(IdentityError, match="unsupported version"):
        verify(version + header()[2:])


def test_a_header_of_the_first_version_is_refused():
    v1 = "v1;uid=1;user=admin;staff=1;cust=-;ts=" + str(NOW) + ";sig=" + "0" * 64
    with pytest.raises(IdentityError, match="unsupported version"):
        verify(v1)


# -- what the router refuses to sign ------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"secret": b""}, "secret is empty"),
    ({"method": "GE T"}, "not an HTTP method"),
    ({"user_id": -1}, "user_id must be"),
    ({"user_id": True}, "user_id must be"),
    ({"customer_id": "7"}, "customer_id must be"),
    ({"user_id": 10**19}, "user_id must be"),
    ({"username": "x" * 1801}, "over 1800 characters"),
    ({"nonce": "not-hex"}, "nonce must be"),
    ({"nonce": "A" * 32}, "nonce must be"),
])
def test_the_router_refuses_to_sign_what_the_service_could_not_read(kwargs, message):
    caller = {**STAFF, **{k: v for k, v in kwargs.items() if k in STAFF}}
    options = {k: v for k, v in kwargs.items() if k not in STAFF}
    with pytest.raises(ValueError, match=message):
        sign_identity(options.get("secret", SECRET), method=options.get("method", METHOD), target=TARGET, now=NOW,
                      nonce=options.get("nonce"), **caller)


def test_the_development_secret_is_the_same_on_both_sides():
    from extracted.common.settings import DEV_IDENTITY_SECRET

    assert router_side.DEV_IDENTITY_SECRET == DEV_IDENTITY_SECRET
