"""Answers the router never needs but a direct caller may get: methods a route does not serve (the
permission first, then 405, as DRF's dispatch), URLs no route matches (Django's 404 page), content
negotiation before authentication, and FastAPI's own validation errors in DRF's shape."""

import asyncio

import httpx
from fastapi import FastAPI

from extracted.common.errors import DJANGO_NOT_FOUND_PAGE, install_error_handlers
from tests.support.inventory_service import CUSTOMER, STAFF, inventory, inventory_database_url  # noqa: F401


def test_a_method_the_route_does_not_serve_is_405_after_the_permission_check(inventory):
    response = inventory.call("DELETE", "/api/inventory/warehouses/1/", caller=STAFF)
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert inventory.call("DELETE", "/api/inventory/warehouses/1/", caller=CUSTOMER).status_code == 403
    assert inventory.call("DELETE", "/api/inventory/warehouses/1/", caller=None).status_code == 401
    assert inventory.call("POST", "/api/inventory/stock/", caller=CUSTOMER).json() == {
        "detail": 'Method "POST" not allowed.'}
    assert inventory.call("PUT", "/api/inventory/movements/1/", caller=CUSTOMER).status_code == 403


def test_urls_no_route_matches_get_djangos_404_page(inventory):
    for target in ("/api/inventory/nothing/", "/api/inventory/warehouses/1.2.3/", "/api/inventory/stock"):
        response = inventory.call("GET", target)
        assert response.status_code == 404, target
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.content == DJANGO_NOT_FOUND_PAGE


def test_a_format_suffix_or_parameter_is_honoured_before_authentication(inventory):
    assert inventory.call("GET", "/api/inventory/warehouses/1.json/").json()["code"] == "BER"
    assert inventory.call("GET", "/api/inventory/warehouses/1.xml/", caller=None).json() == {"detail": "Not found."}
    assert inventory.call("GET", "/api/inventory/stock/?format=yaml", caller=None).status_code == 404
    unacceptable = inventory.call("GET", "/api/inventory/stock/", caller=None, headers={"Accept": "application/xml"})
    assert unacceptable.status_code == 406
    assert unacceptable.json() == {"detail": "Could not satisfy the request Accept header."}


def test_fastapi_validation_errors_are_answered_in_drfs_shape():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/numbers/")
    def numbers(n: int, flag: bool = False) -> dict:
        return {"n": n}

    async def get(target: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get(target)

    response = asyncio.run(get("/numbers/?n=x&flag=maybe"))
    assert response.status_code == 400
    assert response.json() == {"n": ["A valid integer is required."], "flag": ["Must be a valid boolean."]}
    assert asyncio.run(get("/numbers/")).json() == {"n": ["This field is required."]}
