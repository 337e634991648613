"""The inventory endpoints, with the monolith's paths, permissions and answers (legacy_monolith/inventory/
views.py): stock (any signed-in user), warehouses (everyone reads, staff write), adjustments,
reservations and movements (staff).

Each endpoint does what DRF does, in DRF's order: content negotiation (route dependency), then the
caller's permission, then filters / the object lookup, then the body, then the write. Endpoints
translate and delegate: filters parse in `filters`, reads in `selectors`, writes in `service`. Methods a
route does not serve answer 405 after the permission check, as DRF's dispatch does.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from extracted.common.database import SessionDep
from extracted.common.errors import method_not_allowed, no_match, not_found
from extracted.common.identity import Authenticated, Staff, StaffForWrites, require_authenticated, require_staff
from extracted.common.identity import require_staff_for_writes
from extracted.common.negotiation import Params, PkLookup, negotiate, negotiate_detail
from extracted.common.pagination import page_from_request, paginated_body
from extracted.common.parsers import Body, parse_body
from extracted.common.rendering import DRFJSONResponse
from extracted.common.shadow import shadow_rollback_requested
from extracted.inventory import filters, selectors, service
from extracted.inventory.filters import Criteria
from extracted.inventory.models import Warehouse
from extracted.inventory.schemas import (
    ADJUSTMENT_INPUT,
    WAREHOUSE_INPUT,
    AdjustmentCreate,
    AdjustmentRead,
    MovementRead,
    Paginated,
    ProductStockRead,
    ReservationRead,
    StockItemRead,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
    WriteContext,
    request_body_schema,
)
from extracted.inventory.selectors import Listing

router = APIRouter(prefix="/api/inventory", tags=["inventory"])
LIST = [Depends(negotiate)]
DETAIL = [Depends(negotiate_detail)]
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _page(request: Request, params, session: Session, listing: Listing, criteria: Criteria) -> DRFJSONResponse:
    count = listing.count(session, criteria)
    page = page_from_request(params, count)
    return DRFJSONResponse(paginated_body(request, page, listing.page(session, criteria, page)))


def _one(session: Session, listing: Listing, criteria: Criteria, lookup, model_name: str) -> dict:
    pk = selectors.detail_pk(lookup.value)
    if pk is None:
        raise not_found()
    row = listing.one(session, criteria, pk)
    if row is None:
        raise no_match(model_name)
    return row


# -- stock -------------------------------------------------------------------------------------------------
@router.get("/stock/", dependencies=LIST, response_model=Paginated[StockItemRead])
def stock_list(request: Request, params: Params, identity: Authenticated, session: SessionDep):
    return _page(request, params, session, selectors.STOCK_LIST, filters.STOCK.parse(params))


@router.get("/stock/{sku}/", dependencies=LIST, response_model=ProductStockRead)
def stock_detail(sku: str, identity: Authenticated, session: SessionDep):
    # The monolith's retrieve() looks the product up directly: no filter backends, no format suffix.
    summary = selectors.product_stock(session, sku)
    if summary is None:
        raise no_match("Product")
    return DRFJSONResponse(summary)


# -- warehouses --------------------------------------------------------------------------------------------
@router.get("/warehouses/", dependencies=LIST, response_model=Paginated[WarehouseRead])
def warehouse_list(request: Request, params: Params, identity: StaffForWrites, session: SessionDep):
    return _page(request, params, session, selectors.WAREHOUSE_LIST, filters.WAREHOUSES.parse(params))


@router.post("/warehouses/", dependencies=LIST, status_code=201, response_model=WarehouseRead,
             openapi_extra=request_body_schema(WarehouseCreate))
def warehouse_create(request: Request, identity: StaffForWrites, body: Body, session: SessionDep):
    data = parse_body(body)
    service.claim(session, dry_run=shadow_rollback_requested(request.scope))
    values = WAREHOUSE_INPUT.validate(data, context=WriteContext(session))
    warehouse = service.warehouse_create(session, values=values)
    return DRFJSONResponse(_warehouse(warehouse), status_code=201)


@router.get("/warehouses/{pk}/", dependencies=DETAIL, response_model=WarehouseRead)
def warehouse_detail(lookup: PkLookup, params: Params, identity: StaffForWrites, session: SessionDep):
    return DRFJSONResponse(_one(session, selectors.WAREHOUSE_LIST, filters.WAREHOUSES.parse(params), lookup,
                                "Warehouse"))


@router.put("/warehouses/{pk}/", dependencies=DETAIL, response_model=WarehouseRead,
            openapi_extra=request_body_schema(WarehouseCreate))
def warehouse_replace(request: Request, lookup: PkLookup, params: Params, identity: StaffForWrites, body: Body,
                      session: SessionDep):
    return _warehouse_update(request, lookup, params, body, session, partial=False)


@router.patch("/warehouses/{pk}/", dependencies=DETAIL, response_model=WarehouseRead,
              openapi_extra=request_body_schema(WarehouseUpdate))
def warehouse_patch(request: Request, lookup: PkLookup, params: Params, identity: StaffForWrites, body: Body,
                    session: SessionDep):
    return _warehouse_update(request, lookup, params, body, session, partial=True)


def _warehouse_update(request: Request, lookup, params, body, session: Session, *, partial: bool):
    row = _one(session, selectors.WAREHOUSE_LIST, filters.WAREHOUSES.parse(params), lookup, "Warehouse")
    data = parse_body(body)
    service.claim(session, dry_run=shadow_rollback_requested(request.scope))
    warehouse = session.get(Warehouse, row["id"])
    values = WAREHOUSE_INPUT.validate(data, context=WriteContext(session, warehouse), partial=partial)
    return DRFJSONResponse(_warehouse(service.warehouse_update(session, warehouse=warehouse, values=values)))


def _warehouse(warehouse: Warehouse) -> dict[str, Any]:
    return {"id": warehouse.id, "code": warehouse.code, "name": warehouse.name, "city": warehouse.city,
            "country": warehouse.country, "active": warehouse.active}


# -- adjustments -------------------------------------------------------------------------------------------
@router.get("/adjustments/", dependencies=LIST, response_model=Paginated[AdjustmentRead])
def adjustment_list(request: Request, params: Params, identity: Staff, session: SessionDep):
    return _page(request, params, session, selectors.ADJUSTMENT_LIST, filters.ADJUSTMENTS.parse(params))


@router.post("/adjustments/", dependencies=LIST, status_code=201, response_model=AdjustmentRead,
             openapi_extra=request_body_schema(AdjustmentCreate))
def adjustment_create(request: Request, identity: Staff, body: Body, session: SessionDep):
    data = parse_body(body)
    service.claim(session, dry_run=shadow_rollback_requested(request.scope))
    values = ADJUSTMENT_INPUT.validate(data, context=WriteContext(session))
    product, warehouse = values["sku"], values["warehouse"]
    adjustment = service.stock_adjust(session, product=product, warehouse=warehouse, kind=values["kind"],
                                      quantity=values["quantity"], reason=values["reason"], identity=identity)
    return DRFJSONResponse(selectors.adjustment_row((
        adjustment.id, product.sku, warehouse.code, adjustment.kind, adjustment.quantity, adjustment.reason,
        adjustment.created_by_username, adjustment.created_at)), status_code=201)


@router.get("/adjustments/{pk}/", dependencies=DETAIL, response_model=AdjustmentRead)
def adjustment_detail(lookup: PkLookup, params: Params, identity: Staff, session: SessionDep):
    return DRFJSONResponse(_one(session, selectors.ADJUSTMENT_LIST, filters.ADJUSTMENTS.parse(params), lookup,
                                "StockAdjustment"))


# -- reservations and movements ------------------------------------------------------------------------------
@router.get("/reservations/", dependencies=LIST, response_model=Paginated[ReservationRead])
def reservation_list(request: Request, params: Params, identity: Staff, session: SessionDep):
    return _page(request, params, session, selectors.RESERVATION_LIST, filters.RESERVATIONS.parse(params))


@router.get("/reservations/{pk}/", dependencies=DETAIL, response_model=ReservationRead)
def reservation_detail(lookup: PkLookup, params: Params, identity: Staff, session: SessionDep):
    return DRFJSONResponse(_one(session, selectors.RESERVATION_LIST, filters.RESERVATIONS.parse(params), lookup,
                                "Reservation"))


@router.get("/movements/", dependencies=LIST, response_model=Paginated[MovementRead])
def movement_list(request: Request, params: Params, identity: Staff, session: SessionDep):
    return _page(request, params, session, selectors.MOVEMENT_LIST, filters.MOVEMENTS.parse(params))


@router.get("/movements/{pk}/", dependencies=DETAIL, response_model=MovementRead)
def movement_detail(lookup: PkLookup, params: Params, identity: Staff, session: SessionDep):
    return DRFJSONResponse(_one(session, selectors.MOVEMENT_LIST, filters.MOVEMENTS.parse(params), lookup,
                                "StockMovement"))


# -- HEAD is GET without the body, as Django's views serve it (the server drops the body) ----------------------
def _serve_head_like_get() -> None:
    for route in [r for r in router.routes if isinstance(r, APIRoute) and "GET" in r.methods]:
        router.add_api_route(route.path[len(router.prefix):], route.endpoint, methods=["HEAD"],
                             dependencies=route.dependencies, include_in_schema=False, name=f"head:{route.name}")


_serve_head_like_get()


# -- methods a route does not serve: the permission first, then 405, as DRF's dispatch ---------------------
def _refuse_other_methods(path: str, allowed: Sequence[str], permission, negotiation) -> None:
    others = [method for method in _ALL_METHODS if method not in allowed]

    def not_allowed(request: Request) -> None:
        raise method_not_allowed(request.method)

    router.add_api_route(path, not_allowed, methods=others, include_in_schema=False,
                         dependencies=[Depends(negotiation), Depends(permission)],
                         name=f"not_allowed:{path}")


for _path, _allowed, _permission, _negotiation in (
    ("/stock/", ("GET",), require_authenticated, negotiate),
    ("/stock/{sku}/", ("GET",), require_authenticated, negotiate),
    ("/warehouses/", ("GET", "POST"), require_staff_for_writes, negotiate),
    ("/warehouses/{pk}/", ("GET", "PUT", "PATCH"), require_staff_for_writes, negotiate_detail),
    ("/adjustments/", ("GET", "POST"), require_staff, negotiate),
    ("/adjustments/{pk}/", ("GET",), require_staff, negotiate_detail),
    ("/reservations/", ("GET",), require_staff, negotiate),
    ("/reservations/{pk}/", ("GET",), require_staff, negotiate_detail),
    ("/movements/", ("GET",), require_staff, negotiate),
    ("/movements/{pk}/", ("GET",), require_staff, negotiate_detail),
):
    _refuse_other_methods(_path, _allowed, _permission, _negotiation)
