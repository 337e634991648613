"""A tiny ASGI upstream for router tests: answers JSON naming itself (ECHO_NAME) and echoing the
request. `?status=N` answers with that status, `?sleep=S` waits first, `?refuse=1` adds the header a service
sends with a write it refused for not owning it (X-Strangler-Write-Refused); with `&on=NAME` only the upstream
of that name does so (the same request reaches both sides in a fallback). As legacy it also answers the
router's identity lookups (/api/auth/introspect/): every caller is anonymous, and lookups are not counted.
The X-Strangler-Identity header, which only requests to extracted upstreams carry, is left out of the
echoed headers, so both sides of a shadow echo the same ones (tests/support/identity_service.py checks it). Run:
    python -m uvicorn tests.support.echo_app:app --port P"""

import asyncio
import json
import os
import uuid
from urllib.parse import parse_qs

NAME = os.environ.get("ECHO_NAME", "echo")
SEEN: dict[str, int] = {}   # requests seen per method; GET /_echo/stats reads it


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/api/auth/introspect/":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"authenticated": false}'})
        return
    if scope["path"] == "/_echo/stats":
        payload = json.dumps(SEEN).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
        return
    SEEN[scope["method"]] = SEEN.get(scope["method"], 0) + 1
    query = parse_qs(scope["query_string"].decode())
    if query.get("on", [NAME])[0] != NAME:
        query = {}
    if "sleep" in query:
        await asyncio.sleep(float(query["sleep"][0]))
    status = int(query.get("status", ["200"])[0])
    payload = json.dumps({
        # ?nonce=1 adds a value that differs on every call: what noise learning must recognise.
        **({"nonce": uuid.uuid4().hex} if "nonce" in query else {}),
        "side": NAME, "method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k != b"x-strangler-identity"},
        "body_length": len(body),
    }).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if "refuse" in query:
        headers.append((b"x-strangler-write-refused", NAME.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
