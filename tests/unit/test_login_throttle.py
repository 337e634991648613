"""Failed admin logins are counted per client address; too many within the window are refused until it
ends, and the table of addresses stays bounded."""

import pytest

from router.login_throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_address_is_refused_after_the_limit_until_its_window_ends():
    clock = Clock()
    throttle = LoginThrottle(limit=3, window=60, clock=clock)
    for _ in range(2):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") is None       # two failures: may still try

    throttle.failed("10.0.0.1")
    clock.now += 10.5
    assert throttle.retry_after("10.0.0.1") == 50          # 49.5 s left, rounded up
    assert throttle.retry_after("10.0.0.2") is None        # other addresses are not affected

    clock.now += 49.5
    assert throttle.retry_after("10.0.0.1") is None and len(throttle) == 0


def test_a_new_window_starts_with_the_first_failure_after_the_old_one():
    clock = Clock()
    throttle = LoginThrottle(limit=2, window=60, clock=clock)
    throttle.failed("a")
    clock.now += 61
    throttle.failed("a")

    assert throttle.retry_after("a") is None              # one failure in the new window


def test_the_table_is_bounded_dropping_the_least_recently_failing_address():
    throttle = LoginThrottle(limit=1, window=60, max_addresses=2, clock=Clock())
    for address in ("a", "b", "c"):
        throttle.failed(address)

    assert len(throttle) == 2
    assert throttle.retry_after("a") is None and throttle.retry_after("c") == 60


@pytest.mark.parametrize("options", [{"limit": 0}, {"window": 0}, {"max_addresses": 0}])
def test_the_bounds_must_be_positive(options):
    with pytest.raises(ValueError):
        LoginThrottle(**options)
