"""Keeps a router process's flag snapshot current: a daemon thread waits for store changes and swaps
in the new snapshot. The hot path only ever reads `holder.snapshot`. If the store is unreachable the
last snapshot stays in use; the failure is logged once and shown in metrics until the store is back."""

import logging
import threading

from router.flags import EMPTY, FlagSnapshot
from router.masking import mask_secrets

log = logging.getLogger("strangler.watcher")


class SnapshotHolder:
    """The current snapshot; replaced whole (a single attribute store is atomic), never mutated."""

    def __init__(self, snapshot: FlagSnapshot = EMPTY):
        self.snapshot = snapshot
        self.store_up = False
        self.loaded = False


class FlagWatcher:
    def __init__(self, store, holder: SnapshotHolder, metrics=None, poll_interval: float = 0.25, wait_timeout: float = 1.0):
        self.store, self.holder, self.metrics = store, holder, metrics
        self.poll_interval, self.wait_timeout = poll_interval, wait_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False  # one warning per outage, not one per retry

    def refresh(self) -> bool:
        """Read the store now; True if it answered."""
        try:
            snapshot = self.store.snapshot()
        except Exception as exc:
            self._mark_down(exc)
            return False
        self._install(snapshot)
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="strangler-flag-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_timeout + 2)

    def _run(self) -> None:
        backoff = 0.1
        waiter = None
        while not self._stop.is_set():
            try:
                if waiter is None:
                    waiter = self.store.change_waiter(self.poll_interval)
                    self._install(self.store.snapshot())  # catch up after (re)connecting
                version = waiter.wait(self.holder.snapshot.version, self.wait_timeout)
                if version != self.holder.snapshot.version:
                    self._install(self.store.snapshot())
                elif not self.holder.store_up:
                    self._install(self.holder.snapshot, quiet=True)
                backoff = 0.1
            except Exception as exc:
                self._mark_down(exc)
                if waiter is not None:
                    try:
                        waiter.close()
                    except Exception:
                        pass
                    waiter = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
        if waiter is not None:
            waiter.close()

    def _install(self, snapshot: FlagSnapshot, quiet: bool = False) -> None:
        previous = self.holder.snapshot
        self.holder.snapshot = snapshot
        self.holder.loaded = True
        if not self.holder.store_up:
            log.info("control store reachable; flags at version %s", snapshot.version)
            self._warned = False
        elif snapshot.version != previous.version and not quiet:
            log.info("flags changed: version %s -> %s", previous.version, snapshot.version)
        self.holder.store_up = True
        if self.metrics is not None:
            self.metrics.store_up.set(1)
            self.metrics.flag_version.set(snapshot.version)

    def _mark_down(self, exc: Exception) -> None:
        if self.holder.store_up or not self._warned:
            # A database error may quote the store's URL, password included.
            log.warning("control store unreachable, serving flags of version %s: %s",
                        self.holder.snapshot.version, mask_secrets(str(exc)))
            self._warned = True
        self.holder.store_up = False
        if self.metrics is not None:
            self.metrics.store_up.set(0)
