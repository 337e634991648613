"""How an idle relay waits for the next event: LISTEN/NOTIFY on PostgreSQL, polling on SQLite.

Both wait on the relay's stop event too, so a stop request ends the wait at once (polling) or within a
quarter of a second (NOTIFY). Even with NOTIFY the relay looks again every `fallback` seconds: an event
held back because an older transaction was still running is released when that transaction ends, and
that end sends no notification.
"""

import logging
import threading
import time

log = logging.getLogger(__name__)


class Waiter:
    def wait(self, stop: threading.Event, timeout: float | None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class PollingWaiter(Waiter):
    def __init__(self, interval: float = 0.2):
        self.interval = interval

    def wait(self, stop: threading.Event, timeout: float | None) -> None:
        stop.wait(self.interval if timeout is None else min(self.interval, timeout))


class NotifyWaiter(Waiter):
    """LISTEN on a PostgreSQL channel over a connection of its own (libpq URL, e.g. postgresql://...)."""

    SLICE = 0.25

    def __init__(self, url: str, channel: str, fallback: float = 1.0):
        import psycopg

        self.fallback = fallback
        self.connection = psycopg.connect(url, autocommit=True)
        self.connection.execute(f'LISTEN "{channel}"')

    def wait(self, stop: threading.Event, timeout: float | None) -> None:
        limit = self.fallback if timeout is None else min(self.fallback, timeout)
        deadline = time.monotonic() + limit
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for _ in self.connection.notifies(timeout=min(self.SLICE, left), stop_after=1):
                return

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 -- closing a broken connection must not hide the real error
            log.debug("closing the LISTEN connection failed", exc_info=True)


def waiter_for(engine_url: str, channel: str | None, poll_interval: float) -> Waiter:
    """NOTIFY on PostgreSQL when there is a channel, polling otherwise."""
    if channel and engine_url.startswith("postgresql"):
        libpq_url = "postgresql://" + engine_url.split("://", 1)[1]
        return NotifyWaiter(libpq_url, channel, fallback=max(poll_interval, 1.0))
    return PollingWaiter(poll_interval)
