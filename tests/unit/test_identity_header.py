"""The identity header: the router signs (router.identity), a service verifies (extracted.common.identity).
The two sides share no code, so these tests hold them to one wire format, and every tampering is refused
with its reason, never read as a user."""

import hashlib
import hmac
import re

import pytest

from extracted.common import identity as service_side
from extracted.common.identity import ANONYMOUS, Identity, IdentityError, verify_identity
from router import identity as router_side
from router.identity import Identity as RouterIdentity
from router.identity import sign_identity

SECRET = b"unit-test-identity-secret"
NOW = 1_800_000_000
METHOD, TARGET = "POST", "/api/inventory/warehouses/?x=1&q=a%20b"
BAD_SIGNATURE = "signature does not match this request"
STAFF = {"user_id": 1, "username": "admin", "is_staff": True, "customer_id": None}
CUSTOMER = {"user_id": 42, "username": "buyer@acme.example", "is_staff": False, "customer_id": 7}


def header(*, secret=SECRET, method=METHOD, target=TARGET, now=NOW, **caller) -> str:
    return sign_identity(secret, method=method, target=target, now=now, **(caller or STAFF))


def verify(value: str, *, method=METHOD, target=TARGET, now=NOW, max_age=30) -> Identity:
    return verify_identity(value, SECRET, method=method, target=target, now=now, max_age=max_age)


def with_field(value: str, key: str, new: str) -> str:
    return re.sub(rf"(?<=;{key}=)[^;]*", new, value)


# -- the contract --------------------------------------------------------------------------------------

@pytest.mark.parametrize("caller", [STAFF, CUSTOMER], ids=["staff", "customer"])
def test_an_identity_signed_by_the_router_verifies_in_the_service(caller):
    assert verify(header(**caller)) == Identity(**caller)


def test_an_anonymous_caller_round_trips_as_anonymous():
    value = header(user_id=None, username=None, is_staff=False, customer_id=None)

    assert value.startswith("v1;uid=-;user=-;staff=0;cust=-;")
    assert verify(value) is ANONYMOUS


def test_the_router_side_value_signs_the_same_header():
    caller = RouterIdentity(**CUSTOMER)

    assert caller.header_value(SECRET, method=METHOD, target=TARGET, now=NOW) == header(**CUSTOMER)
    assert caller.is_authenticated and not router_side.ANONYMOUS.is_authenticated


def test_the_header_has_the_documented_format_and_signature():
    value = header(**CUSTOMER)

    uid, user, staff, cust, ts, sig = re.fullmatch(
        r"v1;uid=(\d+);user=([^;]+);staff=([01]);cust=(\d+);ts=(\d+);sig=([0-9a-f]{64})", value).groups()
    assert (uid, user, staff, cust, int(ts)) == ("42", "buyer%40acme.example", "0", "7", NOW)
    payload = f"v1|42|buyer%40acme.example|0|7|{NOW}|POST|{TARGET}".encode()
    assert sig == hmac.new(SECRET, payload, hashlib.sha256).hexdigest()


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


def test_an_identity_signed_with_another_secret_is_refused():
    with pytest.raises(IdentityError, match=BAD_SIGNATURE):
        verify(header(secret=b"somebody-elses-secret"))


@pytest.mark.parametrize(("key", "new"), [
    ("uid", "2"), ("uid", "-"), ("user", "root"), ("staff", "1"), ("cust", "8"), ("cust", "-"), ("ts", str(NOW + 1)),
])
def test_a_forged_field_is_refused(key, new):
    value = header(**CUSTOMER)
    forged = with_field(value, key, new)
    assert forged != value

    with pytest.raises(IdentityError, match=BAD_SIGNATURE):
        verify(forged)


@pytest.mark.parametrize("value", [
    "", "v1", "nonsense", "v1;uid=1", "v1;uid=1;user=a;staff=1;cust=-;ts=1;sig=zz",
    "v1;user=a;uid=1;staff=1;cust=-;ts=1;sig=" + "0" * 64,            # fields out of order
    "v1;uid=1;user=a;staff=2;cust=-;ts=1;sig=" + "0" * 64,            # staff neither 0 nor 1
    "v1;uid=one;user=a;staff=1;cust=-;ts=1;sig=" + "0" * 64,
    "v1;uid=1;user=a b;staff=1;cust=-;ts=1;sig=" + "0" * 64,          # an unencoded space
    "v1;uid=1;user=a;staff=1;cust=-;ts=1;sig=" + "0" * 64 + ";extra=1",
    "v1;uid=1;user;staff=1;cust=-;ts=1;sig=" + "0" * 64,
])
def test_a_malformed_header_is_refused(value):
    with pytest.raises(IdentityError, match="malformed header"):
        verify(value)


def test_another_version_is_refused_as_unsupported():
    with pytest.raises(IdentityError, match="unsupported version"):
        verify("v2" + header()[2:])


# -- what the router refuses to sign ------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"secret": b""}, "secret is empty"),
    ({"method": "GE T"}, "not an HTTP method"),
    ({"user_id": -1}, "user_id must be"),
    ({"user_id": True}, "user_id must be"),
    ({"customer_id": "7"}, "customer_id must be"),
    ({"user_id": 10**19}, "user_id must be"),
    ({"username": "x" * 1801}, "over 1800 characters"),
])
def test_the_router_refuses_to_sign_what_the_service_could_not_read(kwargs, message):
    caller = {**STAFF, **{k: v for k, v in kwargs.items() if k in STAFF}}
    options = {k: v for k, v in kwargs.items() if k not in STAFF}
    with pytest.raises(ValueError, match=message):
        sign_identity(options.get("secret", SECRET), method=options.get("method", METHOD), target=TARGET, now=NOW, **caller)


def test_the_development_secret_is_the_same_on_both_sides():
    from extracted.common.settings import DEV_IDENTITY_SECRET

    assert router_side.DEV_IDENTITY_SECRET == DEV_IDENTITY_SECRET
