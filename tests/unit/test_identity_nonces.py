"""The nonces a service remembers: each until its header expires, at most a fixed number, oldest out first."""

import pytest

from extracted.common.nonces import SeenNonces


def test_a_nonce_is_new_once_then_a_repeat_until_it_expires():
    seen = SeenNonces(10)

    assert seen.first_sighting("a", expires=100, now=50)
    assert not seen.first_sighting("a", expires=100, now=99)
    assert seen.first_sighting("b", expires=200, now=101)  # "a" expired: forgotten
    assert len(seen) == 1


def test_the_table_is_bounded_and_drops_the_oldest_first():
    seen = SeenNonces(3)
    for nonce in "abcd":
        assert seen.first_sighting(nonce, expires=100, now=0)

    assert len(seen) == 3
    assert seen.first_sighting("a", expires=100, now=0)      # dropped to make room, so new again
    assert not seen.first_sighting("d", expires=100, now=0)  # the newest are kept


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "10"])
def test_the_size_must_be_a_positive_integer(size):
    with pytest.raises(ValueError, match="max_entries"):
        SeenNonces(size)
