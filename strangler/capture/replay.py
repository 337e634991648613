"""Replaying a capture against both sides: which requests go where (a pure plan), then sending them.

`plan_replay` decides, per captured request, the route that owns it (its `ParityRules`; "unmatched"
with the default rules when none does) and how it is replayed:

* a safe request (GET, HEAD, OPTIONS) goes to legacy and to the extracted side, and the two live
  answers are compared;
* a write goes, only with `writes=True`, to the extracted side alone, signed with the rollback marker
  (router.shadow_marker) so the service runs it in a transaction and rolls it back, and its answer is
  compared with the answer legacy gave when the traffic was recorded. Writes are never replayed into
  the monolith.

`Replayer` sends the plan with httpx, a few requests at a time over keep-alive connections, with the
captured headers (Authorization and Host included: the replay must be the same request; hop-by-hop
headers, Content-Length, Accept-Encoding and client-sent X-Strangler-* are dropped) and a fresh
`X-Request-ID` shared by both sides. Cookies set by one answer are never sent with the next request.
A side that refuses the connection raises `UpstreamUnreachable`; other failures (a timeout, a broken
answer) are reported for that request and the replay goes on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from router.config import Route
from router.matching import RouteTable
from router.parity import DiffResult, Exchange, ParityRules, compare, parse_rules
from router.shadow_marker import SHADOW_HEADER, sign_marker
from strangler.capture.records import Capture, CapturedExchange, CapturedResponse

UNMATCHED = "unmatched"
REQUEST_ID_HEADER = "X-Request-ID"
# Not replayed: hop-by-hop (RFC 9110 §7.6.1), what httpx computes itself, and what only the toolkit may set.
_DROPPED = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "accept-encoding", "x-request-id",
})


@dataclass(frozen=True, slots=True)
class ReplayItem:
    """One captured request to replay: `number` is its 1-based place in the capture."""

    number: int
    exchange: CapturedExchange
    route: str
    rules: ParityRules
    write: bool = False  # extracted side only, compared with the recorded legacy answer


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    items: tuple[ReplayItem, ...]
    skipped: Mapping[str, int]  # why requests are not replayed -> how many


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What replaying one item gave: a comparison, or the `error` that prevented it."""

    item: ReplayItem
    result: DiffResult | None = None
    legacy: Exchange | None = None
    extracted: Exchange | None = None
    error: str | None = None


class UpstreamUnreachable(Exception):
    """A side refused or could not open a connection: the replay stops."""

    def __init__(self, side: str, url: str, reason: str) -> None:
        self.side, self.url, self.reason = side, url, reason
        super().__init__(f"{side} side unreachable at {url}: {reason}")


def plan_replay(capture: Capture, routes: Sequence[Route], *, only: str | None = None, writes: bool = False) -> ReplayPlan:
    """Which captured requests are replayed, under which route's rules; see the module docstring.

    `only` keeps the requests of one route, one group, or "unmatched". Route rules are parsed here, once
    per route (a config loaded by router.config has validated them already).
    """
    table = RouteTable(routes)
    rules: dict[str, ParityRules] = {UNMATCHED: ParityRules()}
    items: list[ReplayItem] = []
    skipped: Counter[str] = Counter()
    for number, exchange in enumerate(capture.exchanges, start=1):
        request = exchange.request
        match = table.match(request.method, request.path)
        route = match.route if match else None
        name = route.name if route else UNMATCHED
        if only is not None and only not in (name, route.group if route else UNMATCHED):
            skipped["not the chosen route"] += 1
            continue
        write = not request.is_safe
        if write and not writes:
            skipped["write (replayed only with --writes)"] += 1
            continue
        if write and exchange.response is None:
            skipped["write without a recorded answer"] += 1
            continue
        if name not in rules:
            rules[name] = parse_rules(route.parity, where=f"routes.{name}")
        items.append(ReplayItem(number, exchange, name, rules[name], write))
    return ReplayPlan(tuple(items), dict(skipped))


def replay_headers(exchange: CapturedExchange) -> list[tuple[str, str]]:
    """The captured request headers that are replayed (see the module docstring)."""
    return [(name, value) for name, value in exchange.request.headers
            if name.lower() not in _DROPPED and not name.lower().startswith("x-strangler-")]


def recorded_exchange(response: CapturedResponse) -> Exchange:
    """A recorded answer as the diff engine reads it."""
    return Exchange(response.status, tuple((name.lower(), value) for name, value in response.headers), response.body)


class Replayer:
    """Sends a `ReplayPlan` to both sides and compares the answers.

    `transports` (side -> httpx transport) replaces the network in tests. `marker_secret` signs writes;
    a plan with writes needs it.
    """

    def __init__(self, legacy_url: str, extracted_url: str, *, concurrency: int = 4, timeout: float = 30.0,
                 marker_secret: bytes | None = None,
                 transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.urls = {"legacy": legacy_url.rstrip("/"), "extracted": extracted_url.rstrip("/")}
        self.concurrency, self.timeout, self.marker_secret = concurrency, timeout, marker_secret
        self.transports = dict(transports or {})

    async def run(self, plan: ReplayPlan, on_outcome: Callable[[ReplayOutcome], None] = lambda _: None) -> list[ReplayOutcome]:
        """Every item's outcome, in plan order; `on_outcome` is called as each finishes (progress bars)."""
        if any(item.write for item in plan.items) and not self.marker_secret:
            raise ValueError("replaying writes needs the shadow marker secret")
        gate = asyncio.Semaphore(self.concurrency)
        async with self._client("legacy") as legacy, self._client("extracted") as extracted:
            clients = {"legacy": legacy, "extracted": extracted}

            async def one(item: ReplayItem) -> ReplayOutcome:
                async with gate:
                    outcome = await self._replay(item, clients)
                on_outcome(outcome)
                return outcome

            tasks = [asyncio.create_task(one(item)) for item in plan.items]
            try:
                return list(await asyncio.gather(*tasks))
            finally:
                for task in tasks:
                    task.cancel()

    def _client(self, side: str) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        # A jar that accepts no cookie: a Set-Cookie from one answer must not ride along with the next request.
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        return httpx.AsyncClient(base_url=self.urls[side], timeout=self.timeout, limits=limits, cookies=jar,
                                 transport=self.transports.get(side), follow_redirects=False)

    async def _replay(self, item: ReplayItem, clients: Mapping[str, httpx.AsyncClient]) -> ReplayOutcome:
        request_id = f"replay-{uuid.uuid4().hex[:16]}"
        try:
            if item.write:
                legacy = recorded_exchange(item.exchange.response)
                extracted = await self._send(clients["extracted"], "extracted", item, request_id, marked=True)
            else:
                legacy, extracted = await asyncio.gather(
                    self._send(clients["legacy"], "legacy", item, request_id),
                    self._send(clients["extracted"], "extracted", item, request_id))
        except _SideFailed as exc:
            return ReplayOutcome(item, error=str(exc))
        return ReplayOutcome(item, compare(legacy, extracted, item.rules), legacy, extracted)

    async def _send(self, client: httpx.AsyncClient, side: str, item: ReplayItem, request_id: str,
                    marked: bool = False) -> Exchange:
        captured = item.exchange.request
        headers = [*replay_headers(item.exchange), (REQUEST_ID_HEADER, request_id)]
        request = client.build_request(captured.method, captured.target, headers=headers, content=captured.body or None)
        if marked:
            target = request.url.raw_path.decode("latin-1")  # exactly what goes on the wire, query included
            request.headers[SHADOW_HEADER] = sign_marker(self.marker_secret, method=captured.method, target=target,
                                                         request_id=request_id)
        try:
            response = await client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise UpstreamUnreachable(side, self.urls[side], _reason(exc)) from exc
        except httpx.HTTPError as exc:
            raise _SideFailed(f"{side}: {_reason(exc)}") from exc
        return Exchange(response.status_code, tuple(response.headers.multi_items()), response.content)


class _SideFailed(Exception):
    """One side failed for one request (timeout, broken answer): reported, and the replay goes on."""


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
