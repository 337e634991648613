"""The demo logins: ``admin``/``admin`` (superuser) and ``customer``/``customer``, with API tokens.

Password salts and token keys derive from the seed, so two runs with the same seed store the same
hashes and hand out the same tokens (``Authorization: Token <key>``). Demo data only: never seed a
production database.
"""

import hashlib
from datetime import timedelta

from django.contrib.auth.hashers import make_password

from .config import RECEIPT_AT
from .rows import TokenRow, UserRow

ADMIN_USERNAME = ADMIN_PASSWORD = "admin"
CUSTOMER_USERNAME = CUSTOMER_PASSWORD = "customer"


def token_key(seed: int, username: str) -> str:
    """40 hex characters, the length of a DRF token key."""
    return hashlib.sha1(f"techgoods-{seed}-{username}".encode()).hexdigest()


def _salt(seed: int, purpose: str) -> str:
    return hashlib.sha256(f"techgoods-{seed}-{purpose}-salt".encode()).hexdigest()[:22]


def password_hashes(rng, seed: int) -> dict[str, str]:
    """One hash per distinct password: admin, customer, and the one all other contacts share."""
    shared = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(20))
    return {
        "admin": make_password(ADMIN_PASSWORD, salt=_salt(seed, "admin")),
        "customer": make_password(CUSTOMER_PASSWORD, salt=_salt(seed, "customer")),
        "contact": make_password(shared, salt=_salt(seed, "contact")),
    }


def build_admin(password_hash: str) -> UserRow:
    return UserRow(
        id=1, username=ADMIN_USERNAME, password=password_hash, first_name="Ada", last_name="Admin",
        email="admin@techgoods.example", is_staff=True, is_superuser=True, is_active=True,
        date_joined=RECEIPT_AT - timedelta(days=2000),
    )


def build_tokens(seed: int, users: list[UserRow]) -> list[TokenRow]:
    """Tokens for the two demo logins among `users`."""
    return [
        TokenRow(key=token_key(seed, user.username), user_id=user.id, created=user.date_joined)
        for user in users
        if user.username in (ADMIN_USERNAME, CUSTOMER_USERNAME)
    ]
