"""Draft strangler.yaml routes for one app, from its discovered endpoints, written as strangler.yaml writes them.

One route per (path, reads) and one per (path, writes): GET of a path is its read route, every unsafe
method of it (POST, PUT, PATCH, DELETE) its write route, so writes can move apart from reads. Names are
`<app>.<resource>.<kind>`: the resource is the path's literal segments after `/api/` and the app's
own prefix (`inventory.stock`); the kind is `list` / `detail` for a viewset's list / retrieve, `create`
for its create, `update` for update / partial_update (and destroy with them), `delete` for destroy
alone, and `read` / `write` for anything else (extra actions, APIViews). DRF's `{pk}` is written
`{id}`, as the shipped strangler.yaml writes it. Function views (methods not declared) and patterns
strangler.yaml cannot express are left out, each with the reason. The group takes DRF's format suffixes
when any routed endpoint has them in the URLconf: matching a suffix the monolith does not serve sends a
404 to the service, while missing one would leave that spelling of a write on legacy after a handover.
"""

from __future__ import annotations

from dataclasses import dataclass

from .endpoints import UNDECLARED, Endpoint

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_KINDS_OF_READS = {frozenset({"list"}): "list", frozenset({"retrieve"}): "detail"}
_KINDS_OF_WRITES = {frozenset({"create"}): "create", frozenset({"destroy"}): "delete"}
_UPDATES = frozenset({"update", "partial_update", "destroy"})


@dataclass(frozen=True, slots=True)
class RouteDrafts:
    """The routes (plain dicts in strangler.yaml's key order) and the endpoints left out, with why."""

    routes: tuple[dict, ...]
    left_out: tuple[str, ...]
    format_suffixes: bool = False  # the group's `format_suffixes` in strangler.yaml

    @property
    def has_writes(self) -> bool:
        return any(set(r["methods"]) & set(WRITE_METHODS) for r in self.routes)


def draft_routes(app: str, endpoints: list[Endpoint] | tuple[Endpoint, ...]) -> RouteDrafts:
    """Routes of group `app` covering `endpoints` (the app's own, tooling excluded), in resolver order."""
    by_path: dict[str, list[Endpoint]] = {}
    left_out = []
    for e in endpoints:
        if e.method == UNDECLARED:
            left_out.append(f"{e.path} ({e.view}): a function view declares no methods; add a route by hand")
        elif e.note:
            left_out.append(f"{e.method} {e.path} ({e.view}): {e.note}")
        else:
            by_path.setdefault(e.path, []).append(e)
    routes: list[dict] = []
    taken: set[str] = set()
    for path, served in by_path.items():
        reads = [e for e in served if e.method == "GET"]
        writes = [e for e in served if e.method in WRITE_METHODS]
        resource = _resource(app, path)
        for side, kinds, fallback in ((reads, _KINDS_OF_READS, "read"), (writes, None, "write")):
            if not side:
                continue
            actions = frozenset(e.action for e in side)
            kind = _kind(actions, kinds, fallback)
            methods = sorted({e.method for e in side}, key=_method_rank)
            routes.append({"name": _unique(".".join([app, *resource, kind]), taken), "group": app,
                           "methods": methods, "path": _route_path(path)})
    suffixes = any(e.format_suffixes for served in by_path.values() for e in served)
    return RouteDrafts(tuple(routes), tuple(left_out), suffixes)


def _kind(actions: frozenset[str], kinds: dict | None, fallback: str) -> str:
    if kinds is not None:
        return kinds.get(actions, fallback)
    if actions in _KINDS_OF_WRITES:
        return _KINDS_OF_WRITES[actions]
    if actions and actions <= _UPDATES:
        return "update"
    return fallback


def _resource(app: str, path: str) -> list[str]:
    """Literal segments naming the resource: `/api/inventory/stock/{sku}/` -> ["stock"] for app inventory."""
    literal = [s for s in path.strip("/").split("/") if s and not s.startswith("{")]
    if literal[:1] == ["api"]:
        literal = literal[1:]
    if literal[:1] == [app]:
        literal = literal[1:]
    return [s.replace(".", "-") for s in literal]


def _route_path(path: str) -> str:
    return path.replace("{pk}", "{id}") if "{id}" not in path else path


def _method_rank(method: str) -> int:
    order = ("GET", *WRITE_METHODS)
    return order.index(method) if method in order else len(order)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate
