"""The service's identity middleware checks the body the router signed, hands it on to the endpoint
unchanged, and accepts each signed header once."""

import asyncio

import httpx
import pytest

from router.identity import sign_identity
from tests.support.identity_service import create_app

SECRET = b"unit-test-identity-secret"
URL = "/api/inventory/warehouses/"
STAFF = {"user_id": 1, "username": "admin", "is_staff": True, "customer_id": None}


def signed(method="POST", body=None, **kwargs) -> dict[str, str]:
    return {"X-Strangler-Identity": sign_identity(SECRET, method=method, target=URL, body=body, **STAFF, **kwargs)}


async def _streamed():
    yield b""


def call(app, method, headers, content=None, chunks=None) -> httpx.Response:
    async def send():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            body = content
            if chunks is not None:
                async def stream():
                    for chunk in chunks:
                        yield chunk
                body = stream()
            return await client.request(method, URL, headers=headers, content=body)

    return asyncio.run(send())


@pytest.fixture
def app():
    return create_app(SECRET)


def test_a_signed_body_reaches_the_endpoint_whole(app):
    body = b'{"code": "BER", "name": "Berlin"}'
    response = call(app, "POST", signed(body=body), body)

    assert response.status_code == 201, response.text
    assert response.json()["body"] == body.decode() and response.json()["identity"]["username"] == "admin"


def test_a_body_sent_in_chunks_is_checked_whole(app):
    body = b"x" * 200_000
    response = call(app, "POST", signed(body=body), chunks=[body[:70_000], body[70_000:150_000], body[150_000:]])

    assert response.status_code == 201, response.text
    assert len(response.json()["body"]) == len(body)


@pytest.mark.parametrize(("signed_body", "sent"), [
    (b'{"quantity": 1}', b'{"quantity": 1000}'), (None, b'{"quantity": 1}'), (b'{"quantity": 1}', b""),
])
def test_a_header_signed_for_another_body_is_refused_before_the_endpoint(app, signed_body, sent):
    response = call(app, "POST", signed(body=signed_body), sent)

    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid identity header: body does not match the signed digest."}
    assert call(app, "GET", {}).status_code == 401  # the app still serves


def test_a_header_replayed_within_its_age_window_is_refused(app):
    body = b'{"code": "BER"}'
    headers = signed(body=body)

    assert call(app, "POST", headers, body).status_code == 201
    replayed = call(app, "POST", headers, body)
    assert replayed.status_code == 403
    assert replayed.json() == {"detail": "Invalid identity header: already used (a header is accepted once)."}


def test_a_streamed_body_is_accepted_unread_but_only_once(app):
    headers = signed(body=_streamed())
    body = b"y" * 3000

    first = call(app, "POST", headers, body)
    assert first.status_code == 201, first.text
    assert first.json()["body"] == body.decode()
    assert call(app, "POST", headers, body).status_code == 403


def test_the_nonce_table_is_per_app_and_bounded(app):
    small = create_app(SECRET, nonce_cache_size=2)
    headers = [signed(method="GET") for _ in range(3)]
    for h in headers:
        assert call(small, "GET", h).status_code == 200
    assert call(small, "GET", headers[2]).status_code == 403
    assert call(small, "GET", headers[0]).status_code == 200  # pushed out by newer ones: the bound's price
