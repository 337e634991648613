"""Passwords in URLs and connection strings are masked wherever the toolkit prints them."""

import pytest

from router.masking import mask_secrets, mask_url


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://app:s3cret@db:5432/inventory", "postgresql://app:***@db:5432/inventory"),
    ("postgres://app:s3cret@db/inventory?sslmode=require", "postgres://app:***@db/inventory?sslmode=require"),
    ("postgresql+psycopg://app:s3cret@db/x", "postgresql+psycopg://app:***@db/x"),
    ("postgresql://:s3cret@db/x", "postgresql://:***@db/x"),
    ("postgresql://app:p@ss/w:rd@db/x", "postgresql://app:***@db/x"),          # unencoded @, / and :
    ("postgresql://app:s3cret@[::1]:5432/x", "postgresql://app:***@[::1]:5432/x"),
    ("postgresql://app@db/x?password=s3cret&sslmode=require", "postgresql://app@db/x?password=***&sslmode=require"),
])
def test_the_password_of_a_url_is_masked(url, shown):
    assert mask_url(url) == shown
    assert "s3cret" not in mask_url(url) and "p@ss" not in mask_url(url)


@pytest.mark.parametrize("url", [
    "postgresql://app@db:5432/inventory", "postgresql://db:5432/inventory", "sqlite:///var/control.sqlite3",
    "sqlite:////tmp/a:b@c.sqlite3", "http://127.0.0.1:8001", "https://user@example.com/a@b",
])
def test_a_url_without_a_password_is_unchanged(url):
    assert mask_url(url) == url


def test_masking_twice_changes_nothing_more():
    once = mask_url("postgresql://app:s3cret@db/x")
    assert mask_url(once) == once


@pytest.mark.parametrize(("text", "shown"), [
    ('end of string reached when looking for matching "]" in IPv6 host address in URI: '
     '"postgresql://u:s3cret@[::1/x"',
     'end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://u:***@[::1/x"'),
    ("could not parse 'postgresql://u:s3cret@db/x' (twice: postgres://v:s3cret@other/y)",
     "could not parse 'postgresql://u:***@db/x' (twice: postgres://v:***@other/y)"),
    ("host=db port=5432 password=s3cret dbname=x", "host=db port=5432 password=*** dbname=x"),
    ("host=db password = 'se cr\\'et' dbname=x", "host=db password = *** dbname=x"),
    ("PASSWORD=s3cret", "PASSWORD=***"),
    ("connection refused at db:5432", "connection refused at db:5432"),
])
def test_passwords_in_error_messages_are_masked(text, shown):
    assert mask_secrets(text) == shown
