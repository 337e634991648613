"""Other spellings of a URL path and what each side reads in them: for the tests proving that the router
routes every spelling the monolith resolves to a routed view.

`spellings` writes a path the ways a client could (DRF format suffixes, slashes, case, dot segments, path
parameters, percent-encodings, control characters); `django_match` is the view the monolith resolves a
raw request target to, read through Django's own request handling (the path is percent-decoded once,
as gunicorn and runserver do); `router_path` is the path the router matches, as an ASGI server gives it
(`scope["path"]`: uvicorn's h11 and httptools protocols both decode the raw path once with
`urllib.parse.unquote`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_PARAM = re.compile(r"\{(\w+)\}")
EXAMPLE_VALUES = {"sku": "TG-MCU-00001"}  # any other parameter gets "1", a primary key


def example_path(pattern: str) -> str:
    """`/api/inventory/warehouses/{id}/` -> `/api/inventory/warehouses/1/`."""
    return _PARAM.sub(lambda m: EXAMPLE_VALUES.get(m.group(1), "1"), pattern)


def renderer_formats() -> tuple[str, ...]:
    """The format suffixes the monolith renders (DRF's renderer classes: json, api)."""
    from rest_framework.settings import api_settings

    return tuple(renderer.format for renderer in api_settings.DEFAULT_RENDERER_CLASSES)


def spellings(path: str, formats: tuple[str, ...]) -> list[str]:
    """Raw request targets that spell `path` (ending in '/') otherwise, `path` itself first."""
    base = path.rstrip("/")
    found = [path]
    suffixed = []
    for fmt in formats:
        suffixed += [f"{base}.{fmt}", f"{base}.{fmt}/"]
        found += [f"{base}.{fmt.upper()}", f"{base}.{fmt}//", f"{base}/.{fmt}", f"{base}.{fmt}.{fmt}"]
    found += suffixed
    found += [base, path + "/", "/" + path, path.replace("/", "//", 2), path.upper(), base + ".", base + ".a-b"]
    segments = path.strip("/").split("/")
    for i in range(len(segments)):
        head, tail = "/" + "/".join(segments[:i]), "/".join(segments[i:]) + "/"
        found += [f"{head}/./{tail}".replace("//", "/"), f"{head}/x/../{tail}".replace("//", "/"),
                  "/" + "/".join([*segments[:i], segments[i].upper(), *segments[i + 1:]]) + "/",
                  "/" + "/".join([*segments[:i], segments[i] + ";x", *segments[i + 1:]]) + "/"]
    for spelled in [path, *suffixed]:
        found += [spelled + "%0A", spelled + "%20", spelled + "%00"]
        for i, char in enumerate(spelled):
            if i == 0:
                continue
            code = f"{ord(char):02X}"
            found += [spelled[:i] + "%" + code + spelled[i + 1:],            # decoded once by both sides
                      spelled[:i] + "%" + code.lower() + spelled[i + 1:],
                      spelled[:i] + "%25" + code + spelled[i + 1:]]          # decoded once: still "%xx"
    return list(dict.fromkeys(found))


def django_match(target: str):
    """The ResolverMatch of the view the monolith runs for this raw target, or None (404 or redirect)."""
    from django.test import RequestFactory
    from django.urls import Resolver404, resolve

    try:
        return resolve(RequestFactory().generic("POST", target).path_info)
    except Resolver404:
        return None


def router_path(target: str) -> str:
    """`scope["path"]` for this raw target, as uvicorn builds it: percent-decoded once."""
    return unquote(target)
