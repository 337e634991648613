"""The rollback marker: the router signs (router.shadow_marker), a service verifies
(extracted.common.shadow). The two sides share no code, so these tests hold them to one wire format, and
every tampering is refused with its reason. Also the service settings that carry the shared secret."""

import hashlib
import hmac
import re

import pytest
from pydantic import ValidationError

from extracted.common import shadow as service_side
from extracted.common.settings import DEV_IDENTITY_SECRET, DEV_SHADOW_SECRET, ServiceSettings
from extracted.common.shadow import verify_marker
from router import shadow_marker as router_side
from router.shadow_marker import sign_marker

SECRET = b"unit-test-shadow-secret"
NOW = 1_800_000_000
METHOD, TARGET, RID = "POST", "/api/inventory/adjustments/?dry=1&q=a%20b", "req-42.a:b_c"
BAD_SIGNATURE = "signature does not match this request"


def marker(*, secret=SECRET, method=METHOD, target=TARGET, request_id=RID, now=NOW) -> str:
    return sign_marker(secret, method=method, target=target, request_id=request_id, now=now)


def verify(value: str, *, method=METHOD, target=TARGET, now=NOW, max_age=30):
    return verify_marker(value, SECRET, method=method, target=target, now=now, max_age=max_age)


def with_field(value: str, key: str, new: str) -> str:
    return re.sub(rf"(?<=;{key}=)[^;]*", new, value)


# -- the contract --------------------------------------------------------------------------------------

def test_a_marker_signed_by_the_router_verifies_in_the_service():
    check = verify(marker())

    assert check.valid
    assert check.reason is None
    assert check.request_id == RID


def test_the_marker_has_the_documented_format_and_signature():
    value = marker()

    ts, rid, sig = re.fullmatch(r"v1;mode=rollback;ts=(\d+);rid=([^;]+);sig=([0-9a-f]{64})", value).groups()
    payload = f"v1|rollback|{NOW}|POST|{TARGET}|{RID}".encode()
    assert (int(ts), rid) == (NOW, RID)
    assert sig == hmac.new(SECRET, payload, hashlib.sha256).hexdigest()


def test_both_sides_name_the_same_headers():
    assert router_side.SHADOW_HEADER == service_side.SHADOW_HEADER == "X-Strangler-Shadow"
    assert router_side.SHADOW_RESULT_HEADER == service_side.SHADOW_RESULT_HEADER == "X-Strangler-Shadow-Result"
    assert router_side.ROLLED_BACK == service_side.ROLLED_BACK == "rolled-back"


def test_the_router_reads_the_result_header_the_service_writes():
    assert router_side.rolled_back([(b"content-type", b"application/json"), service_side._RESULT_HEADER])
    assert router_side.rolled_back([(b"X-Strangler-Shadow-Result", b"rolled-back")])
    assert not router_side.rolled_back([(b"content-type", b"application/json")])
    assert not router_side.rolled_back([(b"x-strangler-shadow-result", b"committed")])


@pytest.mark.parametrize(("raw_path", "query", "expected"), [
    (b"/api/notes/", b"", "/api/notes/"),
    (b"/api/notes/", b"a=1&b=%20", "/api/notes/?a=1&b=%20"),
    (b"/caf%C3%A9/", b"q=\xc3\xa9", "/caf%C3%A9/?q=\xc3\xa9"),
])
def test_both_sides_build_the_same_target_from_raw_path_and_query(raw_path, query, expected):
    assert router_side.request_target(raw_path, query) == service_side.request_target(raw_path, query) == expected


def test_the_method_is_compared_without_regard_to_case():
    assert verify(marker(method="post"), method="Post").valid


def test_a_timestamp_exactly_max_age_away_is_still_accepted():
    assert verify(marker(now=NOW - 30)).valid
    assert verify(marker(now=NOW + 30)).valid


def test_a_fractional_now_is_truncated_to_whole_seconds():
    value = marker(now=NOW + 0.9)

    assert ";ts=1800000000;" in value
    assert verify(value, now=NOW + 0.2).valid


# -- tampering ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "value", "verify_with"), [
    ("signature flipped", with_field(marker(), "sig", "0" * 64), {}),
    ("another secret", marker(secret=b"someone-elses-secret"), {}),
    ("another method", marker(method="DELETE"), {}),
    ("another target", marker(target="/api/inventory/adjustments/?dry=2"), {}),
    ("query dropped", marker(), {"target": "/api/inventory/adjustments/"}),
    ("request id changed", with_field(marker(), "rid", "req-43"), {}),
    ("timestamp moved", with_field(marker(), "ts", str(NOW + 1)), {}),
])
def test_a_tampered_marker_is_refused_as_a_signature_mismatch(case, value, verify_with):
    check = verify(value, **verify_with)

    assert not check.valid, case
    assert check.reason == BAD_SIGNATURE


def test_an_expired_marker_is_refused():
    check = verify(marker(now=NOW - 31))

    assert not check.valid
    assert check.reason == "expired, signed 31 s ago (limit 30 s)"


def test_a_marker_from_the_future_beyond_max_age_is_refused():
    check = verify(marker(now=NOW + 120))

    assert not check.valid
    assert check.reason == "signed 120 s in the future (limit 30 s)"


def test_max_age_is_the_callers_choice():
    assert not verify(marker(now=NOW - 6), max_age=5).valid
    assert verify(marker(now=NOW - 600), max_age=900).valid


@pytest.mark.parametrize(("value", "reason"), [
    ("", "malformed marker"),
    ("garbage", "malformed marker"),
    ("v1", "malformed marker"),
    (marker().rsplit(";", 1)[0], "malformed marker"),                                # no sig
    (marker() + ";extra=1", "malformed marker"),
    (marker().replace(";mode=rollback;ts=", ";ts=").replace(";rid=", ";mode=rollback;rid="), "malformed marker"),
    (marker().replace("ts=", "ts"), "malformed marker"),
    (" " + marker(), "malformed marker"),
    (marker().replace("v1;", "v2;", 1), "unsupported version"),
    (with_field(marker(), "mode", "mirror"), "unsupported mode"),
    (with_field(marker(), "ts", "+1800000000"), "malformed timestamp"),
    (with_field(marker(), "ts", "1_800_000_000"), "malformed timestamp"),
    (with_field(marker(), "ts", ""), "malformed timestamp"),
    (with_field(marker(), "rid", "a|b"), "malformed request id"),
    (with_field(marker(), "rid", ""), "malformed request id"),
    (with_field(marker(), "sig", marker().rsplit("=", 1)[1].upper()), "malformed signature"),
    (with_field(marker(), "sig", "abc"), "malformed signature"),
])
def test_a_malformed_marker_is_refused_with_its_reason(value, reason):
    check = verify(value)

    assert not check.valid
    assert check.reason == reason


def test_a_reason_never_repeats_what_the_client_sent():
    check = verify("v1;mode=<script>;ts=1;rid=x;sig=" + "0" * 64)

    assert check.reason == "unsupported mode"


# -- signing refuses what could not be verified ---------------------------------------------------------

@pytest.mark.parametrize("request_id", ["", "a;b", "a|b", "a b", "x" * 129, "é"])
def test_signing_refuses_a_request_id_that_could_be_confused_with_the_separators(request_id):
    with pytest.raises(ValueError, match="request id"):
        marker(request_id=request_id)


def test_signing_refuses_an_empty_secret():
    with pytest.raises(ValueError, match="secret"):
        marker(secret=b"")


def test_the_middleware_refuses_an_empty_or_text_secret():
    for secret in (b"", "text-secret"):
        with pytest.raises(ValueError, match="non-empty bytes"):
            service_side.ShadowRollbackMiddleware(app=None, secret=secret)


# -- settings carrying the secret ----------------------------------------------------------------------

@pytest.fixture
def clean_env(monkeypatch):
    for name in ("SERVICE_ENVIRONMENT", "SERVICE_DATABASE_URL", "STRANGLER_SHADOW_SECRET", "STRANGLER_IDENTITY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_refuse_the_development_shadow_secret_in_production(clean_env):
    clean_env.setenv("STRANGLER_IDENTITY_SECRET", "identity-for-prod")

    with pytest.raises(ValidationError, match="STRANGLER_SHADOW_SECRET is the development default") as raised:
        ServiceSettings()
    assert "identity-for-prod" not in str(raised.value)


def test_settings_refuse_the_development_identity_secret_in_production(clean_env):
    clean_env.setenv("STRANGLER_SHADOW_SECRET", "shadow-for-prod")

    with pytest.raises(ValidationError, match="STRANGLER_IDENTITY_SECRET is the development default") as raised:
        ServiceSettings()
    assert "shadow-for-prod" not in str(raised.value)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_settings_accept_the_development_secrets_in_development_and_test(clean_env, environment):
    clean_env.setenv("SERVICE_ENVIRONMENT", environment)

    settings = ServiceSettings()

    assert settings.shadow_key() == DEV_SHADOW_SECRET.encode()
    assert settings.identity_secret.get_secret_value() == DEV_IDENTITY_SECRET
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("/var/service.sqlite3")


def test_settings_read_the_shared_secrets_by_their_own_names_and_the_rest_by_prefix(clean_env):
    clean_env.setenv("SERVICE_ENVIRONMENT", "production")
    clean_env.setenv("SERVICE_DATABASE_URL", "postgres://db/service")
    clean_env.setenv("STRANGLER_SHADOW_SECRET", "shadow-for-prod")
    clean_env.setenv("STRANGLER_IDENTITY_SECRET", "identity-for-prod")

    settings = ServiceSettings()

    assert (settings.environment, settings.database_url) == ("production", "postgres://db/service")
    assert settings.shadow_key() == b"shadow-for-prod"
    assert "shadow-for-prod" not in repr(settings)


def test_settings_refuse_an_empty_shadow_secret_even_in_development(clean_env):
    clean_env.setenv("SERVICE_ENVIRONMENT", "development")
    clean_env.setenv("STRANGLER_SHADOW_SECRET", "")

    with pytest.raises(ValidationError, match="STRANGLER_SHADOW_SECRET"):
        ServiceSettings()
