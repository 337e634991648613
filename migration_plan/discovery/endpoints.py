"""Every endpoint the monolith serves, found by walking Django's URL resolver: (method, path, view, app).

For whoever plans an extraction: which URLs a capability owns and which methods each one answers. The
walk follows nested includes and reads each view the way Django and DRF dispatch to it:

- a DRF viewset route (`as_view(actions)`, e.g. from a DefaultRouter) answers the methods of its
  `.actions` that the viewset's `http_method_names` allows (a router maps DELETE to `destroy` even
  when the viewset refuses DELETE: that method answers 405, so it is not listed);
- a class-based view (a DRF APIView or a Django View) answers the methods it has a handler for among
  its `http_method_names`;
- a plain function view declares no methods: it is listed once with method `*`.

HEAD and OPTIONS are not listed: strangler.yaml routes HEAD with GET, and OPTIONS always goes to legacy.
DRF's format-suffix patterns (`/stock.json`, `/stock/{sku}.json`) are not listed on their own: they are
counted, and the endpoint of the pattern they follow (the same view) says `format_suffixes`, so a draft's
group routes them with it (strangler.yaml's `format_suffixes`). Tooling endpoints -- the Django admin,
the API root of a DefaultRouter and the schema/docs views -- are listed under their own app (`admin` for everything under
an AdminSite's URL namespace, else the view's app: `rest_framework`, `drf_spectacular`) with `tooling`
set, so callers can leave them out (`strangler discover` does unless `--include-admin`). An endpoint whose pattern
strangler.yaml cannot express keeps a best-effort path and a `note` saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver

from . import patterns

UNDECLARED = "*"  # the method of a function view: it may answer anything
_NOT_LISTED = frozenset({"head", "options"})
_TOOLING_NAMESPACES = frozenset({"admin", "admindocs"})
_TOOLING_MODULES = ("django.contrib.admin", "django.contrib.admindocs", "drf_spectacular",
                    "rest_framework.routers", "rest_framework.schemas")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method of one URL pattern and the view answering it."""

    method: str          # GET, POST, ... or "*" for a function view
    path: str            # strangler.yaml syntax: /api/inventory/stock/{sku}/
    view: str            # dotted name of the view class or function
    app: str             # label of the installed app holding the view's module ("" if none)
    action: str = ""     # the viewset action (list, retrieve, create, cancel, ...), if any
    url_name: str = ""   # the pattern's name, if any (`stock-detail`)
    tooling: bool = False
    note: str = ""       # why strangler.yaml cannot route this pattern as written, if it cannot
    format_suffixes: bool = False  # the URLconf also serves its DRF format-suffix variants (`/stock.json`)

    def as_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "view": self.view, "app": self.app,
                "action": self.action, "url_name": self.url_name, "tooling": self.tooling, "note": self.note,
                "format_suffixes": self.format_suffixes}


@dataclass(frozen=True, slots=True)
class EndpointList:
    """The endpoints in resolver order, and how many format-suffix patterns were skipped."""

    endpoints: tuple[Endpoint, ...]
    format_suffix_patterns_skipped: int = 0


def list_endpoints(resolver, registry) -> EndpointList:
    """Walk `resolver` (django.urls.get_resolver()) and name each view's app through `registry` (apps)."""
    found: list[Endpoint] = []
    walked = list(_walk(resolver, [], ()))
    # DRF's format_suffix_patterns gives each variant the view of the pattern it follows.
    suffixed = [pattern.callback for pieces, _, pattern in walked if _has_format_suffix(pieces)]
    for pieces, namespaces, pattern in walked:
        if _has_format_suffix(pieces):
            continue
        path, _params, problems = patterns.join(pieces)
        callback = pattern.callback
        view, app, tooling = _view_identity(callback, registry)
        if _TOOLING_NAMESPACES.intersection(namespaces):
            # Everything an AdminSite serves (its ModelAdmin views live in each app's admin.py).
            app, tooling = "admin", True
        for method, action in _methods(callback):
            found.append(Endpoint(method=method, path=path, view=view, app=app, action=action or "",
                                  url_name=pattern.name or "", tooling=tooling, note="; ".join(problems),
                                  format_suffixes=any(callback is other for other in suffixed)))
    return EndpointList(tuple(found), len(suffixed))


def _has_format_suffix(pieces: list[patterns.Piece]) -> bool:
    return any(patterns.FORMAT_GROUP in piece.params for piece in pieces)


def _walk(resolver: URLResolver, prefix: list, namespaces: tuple[str, ...]):
    """(converted pieces root first, app namespaces of the enclosing includes, URLPattern) in resolver order."""
    for entry in resolver.url_patterns:
        pieces = [*prefix, patterns.convert(entry.pattern)]
        if isinstance(entry, URLResolver):
            yield from _walk(entry, pieces, (*namespaces, entry.app_name or ""))
        elif isinstance(entry, URLPattern):
            yield pieces, namespaces, entry


def _view_class(callback):
    """The class behind an as_view() callable: DRF sets `.cls`, Django sets `.view_class`."""
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def _methods(callback) -> list[tuple[str, str | None]]:
    """(METHOD, action) pairs the view really answers, HEAD and OPTIONS left out."""
    cls = _view_class(callback)
    actions = getattr(callback, "actions", None)
    if cls is not None and actions:
        allowed = set(getattr(cls, "http_method_names", ()))
        pairs = [(m, a) for m, a in actions.items() if m in allowed and hasattr(cls, a)]
    elif cls is not None:
        pairs = [(m, None) for m in cls.http_method_names if hasattr(cls, m)]
    else:
        return [(UNDECLARED, None)]
    return [(m.upper(), a) for m, a in pairs if m not in _NOT_LISTED]


def _view_identity(callback, registry) -> tuple[str, str, bool]:
    """(dotted view name, app label, is tooling) of a resolver callback."""
    target = _view_class(callback) or getattr(callback, "__wrapped__", None) or callback
    module = getattr(target, "__module__", "") or ""
    name = f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"
    config = registry.get_containing_app_config(module) if module else None
    tooling = any(module == m or module.startswith(m + ".") for m in _TOOLING_MODULES)
    return name, config.label if config else "", tooling
