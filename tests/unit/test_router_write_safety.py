"""The write-safety rule as a pure function: an unsafe request is resent only when nothing of it can
have been applied; safe requests after any failure; a body no longer held, never."""

import pytest

from router.write_safety import Failure, may_resend

UNSAFE = ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"]
SAFE = ["GET", "HEAD", "OPTIONS"]


@pytest.mark.parametrize("method", UNSAFE)
@pytest.mark.parametrize("failure", [Failure.REFUSED, Failure.WRITE_REFUSED])
def test_an_unsafe_request_that_provably_did_not_arrive_may_be_resent(method, failure):
    assert may_resend(method, failure, replayable=True)


@pytest.mark.parametrize("method", UNSAFE)
@pytest.mark.parametrize("failure", [Failure.DISCONNECTED, Failure.TIMEOUT, Failure.SERVER_ERROR])
def test_an_unsafe_request_that_may_have_arrived_is_never_resent(method, failure):
    assert not may_resend(method, failure, replayable=True)


@pytest.mark.parametrize("method", SAFE)
@pytest.mark.parametrize("failure", list(Failure))
def test_a_safe_request_may_be_resent_after_any_failure(method, failure):
    assert may_resend(method, failure, replayable=True)


@pytest.mark.parametrize("method", SAFE + UNSAFE)
@pytest.mark.parametrize("failure", list(Failure))
def test_a_streamed_body_the_router_no_longer_holds_is_never_resent(method, failure):
    assert not may_resend(method, failure, replayable=False)
