"""Who may call the inventory service: the router's signed identity header is checked before anything
else, and callers get the monolith's own 401/403 answers. SQLite and PostgreSQL."""

import time

import pytest

from router.identity import sign_identity
from router.shadow_marker import sign_marker
from tests.support.inventory_service import CUSTOMER, STAFF, inventory, inventory_database_url  # noqa: F401

STOCK = "/api/inventory/stock/"
MOVEMENTS = "/api/inventory/movements/"


def _header(secret: bytes = b"strangler-dev-identity-secret-not-for-production", *, method="GET", target=STOCK,
            now=None, is_staff=True) -> str:
    return sign_identity(secret, user_id=1, username="admin", is_staff=is_staff, customer_id=None, method=method,
                         target=target, now=now)


@pytest.mark.parametrize(("value", "reason"), [
    (_header(b"not-the-shared-secret"), "signature does not match this request"),
    (_header(target="/api/inventory/warehouses/"), "signature does not match this request"),
    (_header(method="POST"), "signature does not match this request"),
    ("v2;uid=1;user=admin;staff=1;cust=-;ts=1;nonce=" + "0" * 32 + ";body=-;sig=" + "0" * 64,
     "signature does not match this request"),
    ("v1;uid=1;user=admin;staff=1;cust=-;ts=1;sig=" + "0" * 64, "unsupported version"),
    ("v3;whatever", "unsupported version"),
    ("staff=1", "malformed header"),
])
def test_a_forged_or_misdirected_identity_is_refused_before_the_endpoint(inventory, value, reason):
    response = inventory.call("GET", STOCK, caller=None, headers={"X-Strangler-Identity": value})
    assert response.status_code == 403
    assert response.json() == {"detail": f"Invalid identity header: {reason}."}


def test_an_identity_signed_too_long_ago_is_refused(inventory):
    stale = _header(now=time.time() - 120)
    response = inventory.call("GET", STOCK, caller=None, headers={"X-Strangler-Identity": stale})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Invalid identity header: expired, signed ")


def test_a_forged_identity_with_staff_rights_cannot_write(inventory):
    inventory.set_owner("service")
    forged = _header(b"guessed", method="POST", target="/api/inventory/warehouses/")
    response = inventory.call("POST", "/api/inventory/warehouses/", caller=None, json={"code": "X", "name": "X", "city": "X"},
                              headers={"X-Strangler-Identity": forged})
    assert response.status_code == 403
    assert inventory.outbox() == []


def test_anonymous_callers_get_401_with_the_token_challenge(inventory):
    response = inventory.call("GET", STOCK, caller=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_customers_read_stock_but_not_the_staff_ledgers(inventory):
    assert inventory.call("GET", STOCK, caller=CUSTOMER).status_code == 200
    assert inventory.call("GET", "/api/inventory/warehouses/", caller=CUSTOMER).status_code == 200
    for path in (MOVEMENTS, "/api/inventory/reservations/", "/api/inventory/adjustments/"):
        response = inventory.call("GET", path, caller=CUSTOMER)
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert inventory.call("POST", "/api/inventory/warehouses/", caller=CUSTOMER, json={}).status_code == 403
    assert inventory.call("GET", MOVEMENTS, caller=STAFF).status_code == 200


def test_a_forged_rollback_marker_is_refused_and_nothing_is_written(inventory):
    inventory.set_owner("service")
    body = {"sku": "TG-A-00001", "warehouse": "BER", "kind": "receive", "quantity": 1, "reason": "x"}
    marker = sign_marker(b"guessed", method="POST", target="/api/inventory/adjustments/", request_id="r")
    response = inventory.call("POST", "/api/inventory/adjustments/", json=body, headers={"X-Strangler-Shadow": marker})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Invalid shadow marker")
    assert inventory.outbox() == []
