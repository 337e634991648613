"""The baseline proxy of the router benchmark: the straightforward one a team writes in an afternoon.

    python bench/naive_aiohttp_proxy.py --port 9000 --upstream http://127.0.0.1:8001

A raw ASGI callable on uvicorn (uvloop, httptools, no access log). Every request goes through one shared
aiohttp ClientSession (default pool) to the single upstream: request headers copied except hop-by-hop
and Host, the whole request body read, the whole response body read with `await resp.read()`, and all
response headers copied except hop-by-hop. No routing, flags, metrics, streaming, limits or error
mapping: that is what the router adds, and what `make bench-router` prices.
"""

from __future__ import annotations

import argparse

import aiohttp
import uvicorn

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
    b"transfer-encoding", b"upgrade", b"proxy-connection",
})


class NaiveProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k not in HOP_BY_HOP and k != b"host"]
        url = self.upstream + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        async with self.session.request(scope["method"], url, headers=headers, data=body or None,
                                        allow_redirects=False) as resp:
            content = await resp.read()
            out = [(k.lower(), v) for k, v in resp.raw_headers if k.lower() not in HOP_BY_HOP]
        await send({"type": "http.response.start", "status": resp.status, "headers": out})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = aiohttp.ClientSession(auto_decompress=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the naive aiohttp proxy (benchmark baseline).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:8001")
    args = parser.parse_args()
    uvicorn.run(NaiveProxy(args.upstream), host=args.host, port=args.port, loop="uvloop", http="httptools",
                lifespan="on", access_log=False, log_level="warning",
                server_header=False, date_header=False)  # as the router: the upstream's own headers pass


if __name__ == "__main__":
    main()
