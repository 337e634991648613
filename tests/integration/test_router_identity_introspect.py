"""The monolith's introspection endpoint (the router's identity seam): who the caller is, and a failed
authentication answered exactly as on the monolith's other endpoints."""

import pytest
from rest_framework.test import APIClient

INTROSPECT = "/api/auth/introspect/"
CSRF_SECRET = "a" * 32  # a well-formed CSRF secret: Django accepts it as cookie and header alike


@pytest.fixture
def session_client(staff_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


def test_an_anonymous_caller_is_described_as_not_authenticated(db, anon_client):
    for method in ("get", "post"):
        response = getattr(anon_client, method)(INTROSPECT)
        assert response.status_code == 200
        assert response.json() == {"authenticated": False}
        assert response["Cache-Control"] == "no-store"


def test_a_staff_token_names_the_staff_user(staff_user, staff_client):
    response = staff_client.get(INTROSPECT)

    assert response.status_code == 200
    assert response.json() == {"authenticated": True, "user_id": staff_user.pk, "username": "staff",
                               "is_staff": True, "customer_id": None}


def test_a_contact_token_names_its_customer(make_customer, api_client_for):
    customer, user = make_customer()

    response = api_client_for(user).post(INTROSPECT)

    assert response.json() == {"authenticated": True, "user_id": user.pk, "username": user.username,
                               "is_staff": False, "customer_id": customer.pk}


def test_a_user_without_contact_has_no_customer(db, django_user_model, api_client_for):
    user = django_user_model.objects.create_user(username="loner", password="pw")

    assert api_client_for(user).get(INTROSPECT).json()["customer_id"] is None


@pytest.mark.parametrize("authorization", ["Token not-a-real-token", "Token", "Token two words"])
def test_a_bad_token_is_rejected_exactly_like_on_an_api_endpoint(db, anon_client, authorization):
    anon_client.credentials(HTTP_AUTHORIZATION=authorization)

    seam = anon_client.get(INTROSPECT)
    api = anon_client.get("/api/inventory/warehouses/")

    assert seam.status_code == api.status_code == 401
    assert seam.json() == api.json()
    assert seam["WWW-Authenticate"] == api["WWW-Authenticate"] == "Token"


def test_an_inactive_users_token_is_rejected(django_user_model, api_client_for):
    user = django_user_model.objects.create_user(username="gone", password="pw", is_active=False)

    response = api_client_for(user).get(INTROSPECT)

    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_a_session_user_reads_without_csrf(staff_user, session_client):
    response = session_client.get(INTROSPECT)

    assert response.status_code == 200
    assert response.json()["user_id"] == staff_user.pk


def test_a_session_users_post_without_csrf_gets_drfs_csrf_answer(session_client):
    seam = session_client.post(INTROSPECT)
    api = session_client.post("/api/inventory/warehouses/", {"code": "X1", "name": "X", "city": "Y"}, format="json")

    assert seam.status_code == api.status_code == 403
    assert seam.json() == api.json()
    assert seam.json()["detail"].startswith("CSRF Failed")


def test_a_session_users_post_with_the_csrf_token_is_described(staff_user, session_client):
    session_client.cookies["csrftoken"] = CSRF_SECRET

    response = session_client.post(INTROSPECT, HTTP_X_CSRFTOKEN=CSRF_SECRET)

    assert response.status_code == 200
    assert response.json()["username"] == staff_user.username


def test_a_foreign_origin_fails_the_csrf_check_like_on_an_api_endpoint(session_client):
    session_client.cookies["csrftoken"] = CSRF_SECRET
    headers = {"HTTP_X_CSRFTOKEN": CSRF_SECRET, "HTTP_ORIGIN": "http://evil.example"}

    seam = session_client.post(INTROSPECT, **headers)
    api = session_client.post("/api/inventory/warehouses/", {}, format="json", **headers)

    assert seam.status_code == api.status_code == 403
    assert seam.json() == api.json()
    assert "Origin checking failed" in seam.json()["detail"]


def test_the_answer_is_json_whatever_the_accept_header(db, anon_client):
    response = anon_client.get(INTROSPECT, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_the_endpoint_is_not_in_the_openapi_schema(db, staff_client):
    schema = staff_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    assert "/api/auth/introspect/" not in schema.json()["paths"]
