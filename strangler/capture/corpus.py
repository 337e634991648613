"""A capture exported as a parity corpus: the requests a pytest suite sends to both sides, nothing secret.

A corpus is one JSON file (tests/parity/corpus/<name>.json)::

    {"format": "strangler-parity-corpus", "version": 1, "name": "inventory-reads", "source": "x.flow",
     "requests": [{"id": "staff GET /api/inventory/stock/", "method": "GET", "path": "/api/inventory/stock/",
                   "role": "staff", "headers": {"accept": "application/json"}, "body": null,
                   "recorded": {"status": 200, "content_type": "application/json"}}, ...]}

Credentials never reach the file. A request's Authorization header becomes a `role` ("staff",
"customer"... or "anonymous" without one), given by `role_tokens` (captured token -> role); the test
suite signs in as that role with its own token. Cookies and other secret headers are dropped; a request
carrying the session cookie counts as one whose caller is unknown. Query strings and bodies are written
through the same `Redactor` as stored parity samples: secret and personal fields become "[redacted]".
A body that cannot be redacted (neither JSON nor form-urlencoded) is refused, naming the request,
unless `allow_raw_bodies`. Headers that belong to one
connection (hop-by-hop, Host, Content-Length, Accept-Encoding, User-Agent, X-Request-ID) are dropped
too. Writes are left out unless asked for, and repeated requests are kept once. `recorded` is what
legacy answered when the traffic was captured (status and content type).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from router.redaction import Redactor
from strangler.capture.records import Capture, CapturedRequest

FORMAT = "strangler-parity-corpus"
VERSION = 1
ANONYMOUS = "anonymous"
_CONNECTION_HEADERS = frozenset({
    "host", "content-length", "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
    "proxy-connection", "accept-encoding", "user-agent", "x-request-id",
})


class CorpusError(ValueError):
    """A corpus cannot be exported or read; the message says which request or key, and why."""


@dataclass(frozen=True, slots=True)
class CorpusRequest:
    """One request of a corpus, as the parity suite sends it (signed in as `role`)."""

    id: str
    method: str
    path: str
    role: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    recorded_status: int | None = None
    recorded_content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Export:
    corpus: dict[str, Any]
    skipped: dict[str, int]  # why captured requests were left out -> how many


def parse_role_tokens(specs: Iterable[str]) -> dict[str, str]:
    """`["staff=KEY", ...]` -> {KEY: "staff"}; ValueError saying which spec is wrong (never echoing a key)."""
    roles: dict[str, str] = {}
    for i, spec in enumerate(specs, start=1):
        role, sep, token = spec.partition("=")
        role, token = role.strip(), token.strip()
        if not sep or not role or not token or not role.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"--role-token #{i}: expected ROLE=TOKEN, e.g. staff=<the staff user's API token>")
        if role == ANONYMOUS:
            raise ValueError(f"--role-token #{i}: {ANONYMOUS!r} is the role of requests without credentials")
        if roles.get(token, role) != role:
            raise ValueError(f"--role-token #{i}: this token is already given role {roles[token]!r}")
        roles[token] = role
    return roles


def build_corpus(capture: Capture, *, name: str, role_tokens: Mapping[str, str], session_cookie: str = "sessionid",
                 writes: bool = False, skip_unknown: bool = False, redactor: Redactor | None = None,
                 allow_raw_bodies: bool = False) -> Export:
    """The corpus of a capture; `CorpusError` for a caller no role names, unless `skip_unknown`, and for a
    body that cannot be redacted, unless `allow_raw_bodies`. `redactor` defaults to the built-in rules."""
    redactor = redactor or Redactor()
    requests: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    ids: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for exchange in capture.exchanges:
        request = exchange.request
        if not request.is_safe and not writes:
            skipped["write (exported only with --writes)"] += 1
            continue
        role = _role(request, role_tokens, session_cookie)
        if role is None:
            if skip_unknown:
                skipped["caller not named by --role-token"] += 1
                continue
            raise CorpusError(f"{capture.source}: {exchange.where}: {request.method} {request.path} is made by a "
                              "caller no --role-token names (a token or session cookie); add --role-token ROLE=TOKEN "
                              "or pass --skip-unknown")
        target = redactor.target(request.target)
        body = _body(request, redactor, allow_raw_bodies, f"{capture.source}: {exchange.where}")
        key = (request.method, target, role, tuple(body.items()))
        if key in seen:
            skipped["repeated request"] += 1
            continue
        seen.add(key)
        base_id = f"{role} {request.method} {target}"
        ids[base_id] += 1
        entry: dict[str, Any] = {
            "id": base_id if ids[base_id] == 1 else f"{base_id} #{ids[base_id]}",
            "method": request.method, "path": target, "role": role,
            "headers": _kept_headers(request, redactor), **body,
        }
        if exchange.response is not None:
            entry["recorded"] = {"status": exchange.response.status,
                                 "content_type": exchange.response.header("content-type")}
        requests.append(entry)
    corpus = {"format": FORMAT, "version": VERSION, "name": name, "source": Path(capture.source).name,
              "requests": requests}
    return Export(corpus, dict(skipped))


def write_corpus(path: Path, corpus: Mapping[str, Any]) -> None:
    """Write a corpus as stable, reviewable JSON (sorted keys, one request per block)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(corpus, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_corpus(path: str | Path) -> list[CorpusRequest]:
    """The requests of a corpus file; `CorpusError` naming the file and key for anything wrong."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(f"{source}: not a readable JSON corpus ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CorpusError(f"{source}: format: expected {FORMAT!r}")
    if data.get("version") != VERSION:
        raise CorpusError(f"{source}: version: expected {VERSION}, got {data.get('version')!r}")
    entries = data.get("requests")
    if not isinstance(entries, list):
        raise CorpusError(f"{source}: requests: expected a list")
    return [_request(entry, f"{source}: requests[{i}]") for i, entry in enumerate(entries)]


def _request(entry: Any, where: str) -> CorpusRequest:
    def field_(key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        value = entry.get(key, default) if isinstance(entry, dict) else ...
        if value is ... or not isinstance(value, kind):
            raise CorpusError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r:.60}")
        return value

    headers = field_("headers", dict, {})
    if not all(isinstance(v, str) for v in headers.values()):
        raise CorpusError(f"{where}.headers: expected text values")
    body = field_("body", (str, type(None)), None)
    raw = body.encode("utf-8") if body is not None else base64.b64decode(field_("body_base64", str, ""))
    recorded = field_("recorded", dict, {})
    path = field_("path", str)
    if not path.startswith("/"):
        raise CorpusError(f"{where}.path: expected a path starting with '/', got {path!r}")
    return CorpusRequest(
        id=field_("id", str), method=field_("method", str).upper(), path=path, role=field_("role", str),
        headers=tuple(headers.items()), body=raw, recorded_status=recorded.get("status"),
        recorded_content_type=recorded.get("content_type"),
    )


def _role(request: CapturedRequest, role_tokens: Mapping[str, str], session_cookie: str) -> str | None:
    """The caller's role: from the Authorization credential, "anonymous" without one, None when unknown."""
    cookie = request.header("cookie") or ""
    if any(part.strip().startswith(f"{session_cookie}=") for part in cookie.split(";")):
        return None
    authorization = request.header("authorization")
    if authorization is None:
        return ANONYMOUS
    credential = authorization.strip()
    _scheme, _, token = credential.partition(" ")  # "Token KEY", "Bearer KEY"; or the bare value
    return role_tokens.get(token.strip()) or role_tokens.get(credential)


def _body(request: CapturedRequest, redactor: Redactor, allow_raw: bool, where: str) -> dict[str, Any]:
    """The body entries of a request: redacted JSON or form text, the raw body only when allowed."""
    if not request.body:
        return {"body": None}
    redacted = redactor.redact_body(request.body)
    if redacted is None:
        if not allow_raw:
            raise CorpusError(f"{where}: {request.method} {request.path} has a body that is neither JSON nor "
                              f"form-urlencoded ({len(request.body)} bytes), so its secrets cannot be redacted; "
                              "check it holds none and pass --allow-raw-bodies, or leave writes out")
        try:
            return {"body": request.body.decode("utf-8")}
        except UnicodeDecodeError:
            return {"body": None, "body_base64": base64.b64encode(request.body).decode("ascii")}
    kind, value = redacted
    if kind == "form":
        return {"body": value}
    try:
        text = request.body.decode("utf-8")
        if json.loads(text) == value:
            return {"body": text}  # nothing hidden: keep it as written
    except (UnicodeDecodeError, ValueError):
        pass
    return {"body": json.dumps(value, ensure_ascii=False)}


def _kept_headers(request: CapturedRequest, redactor: Redactor) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in request.headers:
        lower = name.lower()
        if lower in _CONNECTION_HEADERS or redactor.hides(lower) or lower.startswith("x-strangler-"):
            continue
        value = redactor.text(value)
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    return kept
