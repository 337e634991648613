"""Error answers as the monolith's DRF gives them: the same statuses, bodies and messages.

Endpoints raise `APIError` (or build one with the helpers below); `install_error_handlers` renders it,
turns FastAPI's own request validation failures into DRF-shaped 400s, answers unknown paths with
Django's 404 page, and installs the identity module's auth answers (401/403). The body shapes:

- ``{"detail": "..."}``: not found, method not allowed, parse errors, permission errors;
- ``{"field": ["message", ...], ...}``: validation errors, fields in the serializer's or filter set's
  order (``non_field_errors`` for errors about the whole body);
- ``["message"]``: a validation error of a lone field that DRF runs outside a serializer (search terms).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from extracted.common.identity import install_auth_errors
from extracted.common.rendering import DRFJSONResponse

NOT_FOUND = "Not found."
NON_FIELD_ERRORS = "non_field_errors"

# Django's own 404 page (DEBUG off), for URLs no route matches: DRF never sees those requests.
DJANGO_NOT_FOUND_PAGE = (
    b'\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    b"  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
)
# Django's 400 page, e.g. for a query string with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS.
DJANGO_BAD_REQUEST_PAGE = (
    b'\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n'
    b"  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n"
)


class APIError(Exception):
    """An answer other than success: status, JSON body, and extra headers."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None):
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, dict(headers or {})


def detail(status: int, message: str) -> APIError:
    """``{"detail": message}`` with `status`."""
    return APIError(status, {"detail": message})


def not_found(message: str = NOT_FOUND) -> APIError:
    """404 as DRF's NotFound (``"Not found."``), or Django's ``"No X matches the given query."``."""
    return detail(404, message)


def no_match(model_name: str) -> APIError:
    """404 as Django's get_object_or_404 words it for a lookup that found nothing."""
    return not_found(f"No {model_name} matches the given query.")


def method_not_allowed(method: str) -> APIError:
    return detail(405, f'Method "{method}" not allowed.')


def parse_error(message: str) -> APIError:
    return detail(400, message)


def unsupported_media_type(content_type: str) -> APIError:
    return detail(415, f'Unsupported media type "{content_type}" in request.')


def validation_error(errors: Mapping[str, Sequence[str]] | Sequence[str]) -> APIError:
    """400 with DRF's ValidationError body: ``{"field": ["message"]}`` or a bare list of messages."""
    if isinstance(errors, Mapping):
        return APIError(400, {name: list(messages) for name, messages in errors.items()})
    return APIError(400, list(errors))


class FieldErrors:
    """Collects messages per field in the order fields are checked, as DRF and django-filter report them."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_error(self.errors)


# Pydantic error types -> DRF's wording, for the (few) places FastAPI validates input itself.
_PYDANTIC_MESSAGES = {
    "missing": "This field is required.",
    "int_parsing": "A valid integer is required.",
    "int_type": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "bool_parsing": "Must be a valid boolean.",
    "bool_type": "Must be a valid boolean.",
    "string_type": "Not a valid string.",
    "json_invalid": "JSON parse error.",
}


def drf_errors_from_pydantic(errors: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """FastAPI's RequestValidationError details as a DRF field-error body (field = last location part)."""
    body: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = location[-1] if location else NON_FIELD_ERRORS
        message = _PYDANTIC_MESSAGES.get(error.get("type", ""), error.get("msg", "Invalid value."))
        body.setdefault(field, []).append(message)
    return body


def install_error_handlers(app: FastAPI) -> None:
    """Register the DRF-compatible answers on `app` (APIError, request validation, unknown URLs, auth)."""

    async def api_error(request: Request, exc: APIError) -> Response:
        return DRFJSONResponse(exc.body, status_code=exc.status, headers=exc.headers or None)

    async def request_validation(request: Request, exc: RequestValidationError) -> Response:
        return DRFJSONResponse(drf_errors_from_pydantic(exc.errors()), status_code=400)

    async def http_exception(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return Response(DJANGO_NOT_FOUND_PAGE, status_code=404, media_type="text/html; charset=utf-8")
        if exc.status_code == 400:
            return Response(DJANGO_BAD_REQUEST_PAGE, status_code=400, media_type="text/html; charset=utf-8")
        if exc.status_code == 405:
            return DRFJSONResponse({"detail": f'Method "{request.method}" not allowed.'}, status_code=405)
        return DRFJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_exception)
    install_auth_errors(app)
