"""Passwords out of what is printed: database URLs and connection strings shown with ``***``.

    mask_url("postgresql://app:s3cret@db:5432/inventory")  ->  "postgresql://app:***@db:5432/inventory"
    mask_secrets('connection to "postgresql://app:s3cret@[db/x" failed; password=s3cret')
        ->  'connection to "postgresql://app:***@[db/x" failed; password=***'

`mask_url` is for a URL the toolkit prints itself (a store, a database); `mask_secrets` for text that may
hold URLs or libpq ``key=value`` connection strings anywhere, above all the messages of SQLAlchemy and
psycopg exceptions, which quote the URL or DSN they could not use. Both mask the password of every
``scheme://user:password@host`` and every ``password=`` parameter (query string or DSN keyword), and
leave everything else as it was, so the host, port and database still say which store was meant.

When a password holds an unencoded ``@`` the mask runs to the last ``@`` before the host: a few
characters too many may be hidden, never one of the password. Standard library only; the router and
the CLI (`strangler`) both use it.
"""

import re

MASK = "***"

# scheme://user:password@host: the password runs to the last "@" that is followed by a host (no "@",
# no "/"), so a password with an unencoded "@" or "/" is masked whole.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<password>[^\s'\"]*)(?=@[^\s@/'\"]*(?:[/?#\s'\"]|$))")
# password=... as a query parameter or a libpq keyword (password = 'quoted value' included).
_KEYWORD_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<password>'(?:[^'\\]|\\.)*'|[^\s&;,'\"]+)", re.IGNORECASE)

__all__ = ["MASK", "mask_secrets", "mask_url"]


def mask_url(url: str) -> str:
    """`url` with its password (userinfo or a ``password=`` parameter) replaced by ``***``."""
    return mask_secrets(url)


def mask_secrets(text: str) -> str:
    """`text` with the password of every URL and every ``password=`` parameter in it replaced by ``***``."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    return _KEYWORD_PASSWORD.sub(lambda m: m["head"] + MASK, text)
