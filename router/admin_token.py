"""The router's admin token: read from the environment, refused when short, kept in a private file.

The token guards every admin write and the X-Strangler-Target override, so it must not be guessable:
`admin_token_from_env` refuses one under `MIN_LENGTH` characters with a ConfigError naming the variable
(the router does not start). `python -m router.admin_token FILE` prints the token kept in FILE, making
a new random one when FILE is missing or empty; the file is readable by its owner only (0600), an
existing one included. `make run` (bin/run-stack) keeps its token in var/admin-token this way.
"""

import os
import secrets
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from router.config import ConfigError

MIN_LENGTH = 24
PRIVATE = stat.S_IRUSR | stat.S_IWUSR  # 0600

__all__ = ["MIN_LENGTH", "admin_token_from_env", "kept_admin_token", "new_admin_token"]


def admin_token_from_env(config, environ: Mapping[str, str] | None = None) -> str | None:
    """The token in the variable `router.admin_token_env` names; None when unset or empty (admin API off).

    Raises ConfigError for a token shorter than MIN_LENGTH characters."""
    environ = os.environ if environ is None else environ
    variable = config.router.admin_token_env
    token = environ.get(variable) or None
    if token is not None and len(token) < MIN_LENGTH:
        raise ConfigError(config.source, f"env {variable}",
                          f"at least {MIN_LENGTH} characters (e.g. python -c 'import secrets; "
                          f"print(secrets.token_urlsafe(24))')",
                          problem=f"the admin token is {len(token)} characters long")
    return token


def new_admin_token() -> str:
    """A random token of 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


def kept_admin_token(path: str | os.PathLike) -> str:
    """The token in `path`, made and written there first if the file is missing or empty; either way
    the file ends up readable and writable by its owner only."""
    path = Path(path)
    # O_CREAT with 0600: a new file is never readable by others, not even for an instant.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE)
    with os.fdopen(fd, "r+", encoding="utf-8") as file:
        os.fchmod(file.fileno(), PRIVATE)  # an existing file keeps its mode on open: tighten it
        token = file.read().strip()
        if not token:
            token = new_admin_token()
            file.seek(0)
            file.truncate()
            file.write(token + "\n")
    return token


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m router.admin_token FILE", file=sys.stderr)
        return 2
    print(kept_admin_token(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
