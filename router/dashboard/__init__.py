"""The dashboard at /_strangler/: one static page (index.html, app.js, app.css in this folder) over the
admin API, and the two reads it needs beyond the API's own (plan snapshots, this process's counters).

The files hold no data, so they are served without the token; every read the page makes goes through
the admin API's token rule like any other client. The files are read once, when the router starts, and
served with an ETag and a Content-Security-Policy that allows nothing but the router's own origin.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from router.asgi import send_bytes, send_json

HERE = Path(__file__).resolve().parent
FILES = {"index.html": b"text/html; charset=utf-8", "app.js": b"text/javascript; charset=utf-8",
         "app.css": b"text/css; charset=utf-8"}
CSP = (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       b"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: bytes
    etag: bytes


def load_files(folder: Path = HERE) -> dict[str, StaticFile]:
    files = {}
    for name, content_type in FILES.items():
        body = (folder / name).read_bytes()
        files[name] = StaticFile(body, content_type, b'"' + hashlib.sha256(body).hexdigest()[:16].encode() + b'"')
    return files


class Dashboard:
    """Handlers the admin API registers: the page's files, /api/plans and /api/counters."""

    def __init__(self, control_store, metrics):
        self.control, self.metrics = control_store, metrics
        self._files: dict[str, StaticFile] | None = None

    def routes(self) -> dict:
        """(method, path) -> (handler, needs_token), in the admin API's own table format."""
        table = {("GET", "/_strangler"): (self.page, False),
                 ("GET", "/_strangler/api/plans"): (self.plans, True),
                 ("GET", "/_strangler/api/counters"): (self.counters, True)}
        for name in FILES:
            table[("GET", f"/_strangler/{name}")] = (self.page, False)
        return table

    async def page(self, scope, receive, send):
        if self._files is None:
            self._files = load_files()
        name = scope["path"].rstrip("/").rsplit("/", 1)[-1]
        file = self._files.get(name) or self._files["index.html"]
        # no-cache: the browser keeps the file but asks every time; the ETag makes that question cheap.
        headers = [(b"cache-control", b"no-cache"), (b"etag", file.etag), (b"content-security-policy", CSP),
                   (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                   (b"x-frame-options", b"DENY")]
        if dict(scope["headers"]).get(b"if-none-match") == file.etag:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        await send_bytes(send, 200, file.body, file.content_type, headers)

    async def plans(self, scope, receive, send):
        try:
            from router.store.plans import PlanStateStore
        except ImportError:
            return await send_json(send, 200, {"plans": [], "available": False})
        await send_json(send, 200, {"plans": PlanStateStore(self.control).snapshots(), "available": True})

    async def counters(self, scope, receive, send):
        """Requests this router process has served since it started, by route and target."""
        rows: dict[tuple[str, str], dict] = {}
        for metric in self.metrics.requests.collect():
            for sample in metric.samples:
                if not sample.name.endswith("_total"):
                    continue
                labels = sample.labels
                row = rows.setdefault((labels["route"], labels["target"]),
                                      {"route": labels["route"], "target": labels["target"], "requests": 0, "errors": 0})
                row["requests"] += int(sample.value)
                if labels["status"] == "5xx":
                    row["errors"] += int(sample.value)
        await send_json(send, 200, {"scope": "this router process since it started", "routes": list(rows.values())})
