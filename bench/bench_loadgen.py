"""A fixed-rate (open-loop) HTTP/1.1 load generator for added-latency measurements, like wrk2 -R.

    python bench/bench_loadgen.py --url http://127.0.0.1:8000/path --rate 500 --duration 10 [--warmup 1]

Request i is *scheduled* at t0 + i/rate whatever happened to earlier ones, and its latency is measured
from that scheduled time to the last byte of its response. A slow server therefore cannot hide its
stalls by slowing the generator down (coordinated omission): a request that waited for a free
connection is charged the wait. Connections are opened before the clock starts and kept alive.

Precision: asyncio's loop runs on a `select()` selector, whose timeout has microsecond resolution
(epoll and uvloop round timers to whole milliseconds, which would add up to 1 ms of noise to every
sample). How late the generator itself fired is reported (`dispatch_late_ms`) so that noise is visible.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import selectors
import sys
from collections import deque
from urllib.parse import urlsplit


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"count": len(ordered), "p50": percentile(ordered, 50), "p90": percentile(ordered, 90),
            "p99": percentile(ordered, 99), "p999": percentile(ordered, 99.9),
            "max": ordered[-1] if ordered else float("nan"),
            "mean": sum(ordered) / len(ordered) if ordered else float("nan")}


class _Response:
    """Incremental parser of one HTTP/1.1 response: Content-Length or chunked bodies."""

    __slots__ = ("buffer", "status", "remaining", "chunked", "headers_done", "keep_alive")

    def __init__(self):
        self.buffer = b""
        self.status = 0
        self.remaining = 0
        self.chunked = False
        self.headers_done = False
        self.keep_alive = True

    def feed(self, data: bytes) -> bool:
        """Add bytes; True when the response is complete."""
        self.buffer += data
        if not self.headers_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
            lines = head.split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    self.remaining = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
                elif name == "connection" and "close" in value:
                    self.keep_alive = False
            self.headers_done = True
        if not self.chunked:
            if len(self.buffer) >= self.remaining:
                self.buffer = self.buffer[self.remaining:]
                return True
            return False
        while True:  # chunked: size line, data, CRLF ... 0 CRLF CRLF (no trailers expected)
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(self.buffer[:line_end].split(b";")[0], 16)
            if size == 0:
                if len(self.buffer) < line_end + 4:
                    return False
                self.buffer = self.buffer[line_end + 4:]
                return True
            if len(self.buffer) < line_end + 2 + size + 2:
                return False
            self.buffer = self.buffer[line_end + 2 + size + 2:]


class _Connection(asyncio.Protocol):
    def __init__(self, generator: FixedRate):
        self.generator = generator
        self.transport = None
        self.parser: _Response | None = None
        self.current: tuple[int, float, float] | None = None  # (index, scheduled, sent)

    def connection_made(self, transport):
        self.transport = transport

    def send(self, index: int, scheduled: float, now: float) -> None:
        self.current = (index, scheduled, now)
        self.parser = _Response()
        self.transport.write(self.generator.request)

    def data_received(self, data: bytes) -> None:
        if self.parser is None or self.current is None:
            return
        if self.parser.feed(data):
            done = self.generator.loop.time()
            index, scheduled, sent = self.current
            status, keep = self.parser.status, self.parser.keep_alive
            self.current = self.parser = None
            self.generator.completed(self, index, scheduled, sent, done, status, keep)

    def connection_lost(self, exc):
        if self in self.generator.idle:  # the server closed an idle keep-alive connection
            self.generator.idle.remove(self)
            self.generator.loop.create_task(self.generator._replace())
        if self.current is not None:
            self.generator.failed(self)
            self.current = None


class FixedRate:
    def __init__(self, url: str, rate: float, duration: float, warmup: float, connections: int,
                 headers: list[str]):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        extra = "".join(f"{h}\r\n" for h in headers)
        self.request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{extra}\r\n".encode("latin-1")
        self.rate, self.duration, self.warmup, self.connections = rate, duration, warmup, connections
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self.idle: list[_Connection] = []
        self.backlog: deque[tuple[int, float]] = deque()
        self.samples: list[tuple[int, float, float, float, int]] = []  # index, scheduled, sent, done, status
        self.dispatch_late: list[float] = []
        self.errors = 0
        self.outstanding = 0
        self.all_done: asyncio.Future | None = None
        self.scheduling = True

    async def _open(self) -> _Connection:
        _, conn = await self.loop.create_connection(lambda: _Connection(self), self.host, self.port)
        return conn

    def _dispatch(self, index: int, scheduled: float) -> None:
        if self.idle:
            self.idle.pop().send(index, scheduled, self.loop.time())
        else:
            self.backlog.append((index, scheduled))  # waits for a connection; the wait is charged

    def completed(self, conn: _Connection, index, scheduled, sent, done, status, keep_alive) -> None:
        self.samples.append((index, scheduled, sent, done, status))
        self.outstanding -= 1
        if keep_alive:
            self._reuse(conn)
        else:
            conn.transport.close()
            self.loop.create_task(self._replace())
        self._maybe_finish()

    def failed(self, conn: _Connection) -> None:
        self.errors += 1
        self.outstanding -= 1
        self.loop.create_task(self._replace())
        self._maybe_finish()

    async def _replace(self) -> None:
        try:
            self._reuse(await self._open())
        except OSError:
            self.errors += 1

    def _reuse(self, conn: _Connection) -> None:
        if self.backlog:
            index, scheduled = self.backlog.popleft()
            conn.send(index, scheduled, self.loop.time())
        else:
            self.idle.append(conn)

    def _maybe_finish(self) -> None:
        if not self.scheduling and self.outstanding == 0 and self.all_done and not self.all_done.done():
            self.all_done.set_result(None)

    async def run(self) -> dict:
        self.loop = asyncio.get_running_loop()
        conns = [await self._open() for _ in range(self.connections)]
        self.idle = list(reversed(conns))
        self.all_done = self.loop.create_future()
        total = int((self.warmup + self.duration) * self.rate)
        interval = 1.0 / self.rate
        t0 = self.loop.time() + 0.05
        for i in range(total):
            scheduled = t0 + i * interval
            delay = scheduled - self.loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.dispatch_late.append(self.loop.time() - scheduled)
            self.outstanding += 1
            self._dispatch(i, scheduled)
        self.scheduling = False
        self._maybe_finish()
        try:
            await asyncio.wait_for(asyncio.shield(self.all_done), timeout=10)
        except asyncio.TimeoutError:
            self.errors += self.outstanding
        idle, self.idle = self.idle, []  # emptied first: closing these must not open replacements
        for conn in set(conns + idle):
            if conn.transport is not None:
                conn.transport.close()
        skip = int(self.warmup * self.rate)
        kept = [s for s in self.samples if s[0] >= skip]
        ok = [s for s in kept if 200 <= s[4] < 400]
        elapsed = (max(s[3] for s in kept) - min(s[1] for s in kept)) if kept else 0.0
        return {
            "rate": self.rate, "duration": self.duration, "warmup": self.warmup, "connections": self.connections,
            "scheduled": total - skip, "completed": len(kept), "non_2xx_3xx": len(kept) - len(ok),
            "errors": self.errors, "achieved_rate": len(kept) / elapsed if elapsed else 0.0,
            "latency_ms": summary([(s[3] - s[1]) * 1000 for s in ok]),
            "service_ms": summary([(s[3] - s[2]) * 1000 for s in ok]),
            "dispatch_late_ms": summary([d * 1000 for d in self.dispatch_late[skip:]]),
        }


def _tight_timer_slack() -> None:
    """Ask Linux to wake this process on time (the default timer slack lets sleeps end 50 us late)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(29, 1, 0, 0, 0)  # PR_SET_TIMERSLACK, 1 ns
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second (default 500)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds at the same rate, not measured")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("-H", "--header", action="append", default=[], help="extra request header 'Name: value'")
    args = parser.parse_args(argv)
    _tight_timer_slack()
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    gc.disable()  # a collection pause would land in some sample; the run allocates little
    try:
        result = loop.run_until_complete(
            FixedRate(args.url, args.rate, args.duration, args.warmup, args.connections, args.header).run())
    finally:
        loop.close()
    json.dump(result, sys.stdout)
    print()
    return 0 if result["errors"] == 0 and result["non_2xx_3xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
