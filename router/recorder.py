"""Hands finished comparisons from the event loop to the parity store without blocking it: a bounded
queue drained by a daemon thread in batches. A full queue drops (and counts) instead of waiting."""

import logging
import queue
import threading
import time

from router.masking import mask_secrets  # a database error may quote the store's URL
from router.store.parity import Comparison

log = logging.getLogger("strangler.parity")


class ParityRecorder:
    def __init__(self, parity_store, metrics=None, max_queue: int = 10_000, flush_interval: float = 0.5,
                 prune_interval: float = 300.0, traffic_store=None, traffic_interval: float = 1.0):
        self.store, self.metrics = parity_store, metrics
        # Traffic counts (metrics.traffic) are drained to the traffic store about once a second.
        self.traffic_store, self.traffic_interval = traffic_store, traffic_interval
        self.flush_interval, self.prune_interval = flush_interval, prune_interval
        self._queue: queue.Queue = queue.Queue(max_queue)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = 0

    def put(self, comparison: Comparison) -> None:
        try:
            self._queue.put_nowait(("comparison", comparison))
        except queue.Full:
            self.lost += 1

    def learn_noise(self, route: str, paths) -> None:
        try:
            self._queue.put_nowait(("noise", (route, tuple(paths))))
        except queue.Full:
            self.lost += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="strangler-parity-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        self.flush_traffic()

    def flush(self) -> int:
        """Write what is queued now; returns how many comparisons were written."""
        comparisons, noise = [], {}
        while True:
            try:
                kind, item = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == "comparison":
                comparisons.append(item)
            else:
                route, paths = item
                learned = noise.setdefault(route, {})
                for path in paths:
                    learned[path] = learned.get(path, 0) + 1
        if comparisons or noise:
            try:
                self.store.write(comparisons, noise)
            except Exception as exc:  # the store is down: these results are lost, the proxy is not hurt
                self.lost += len(comparisons)
                log.warning("parity store write failed, %d comparisons lost: %s", len(comparisons), mask_secrets(str(exc)))
                return 0
        return len(comparisons)

    def flush_traffic(self) -> None:
        if self.traffic_store is None or self.metrics is None:
            return
        data = self.metrics.traffic.take()
        if data:
            try:
                self.traffic_store.write(data)
            except Exception as exc:  # evidence lost for this second; the proxy is not hurt
                log.warning("traffic store write failed, %d buckets lost: %s", len(data), mask_secrets(str(exc)))

    def _run(self) -> None:
        last_prune = last_traffic = time.monotonic()
        while not self._stop.wait(self.flush_interval):
            self.flush()
            if time.monotonic() - last_traffic >= self.traffic_interval:
                last_traffic = time.monotonic()
                self.flush_traffic()
            if time.monotonic() - last_prune > self.prune_interval:
                last_prune = time.monotonic()
                try:
                    self.store.prune()
                    if self.traffic_store is not None:
                        self.traffic_store.prune(time.time())
                except Exception as exc:
                    log.warning("parity retention prune failed: %s", mask_secrets(str(exc)))
