"""Fault injection for tests of the write path: a service process that dies right after a write has
committed, before the answer leaves, as a crash or an OOM kill would do it in production.

Enabled only by a test setting, ``<PREFIX>FAULT_CRASH_AFTER_WRITES=N`` with ``<PREFIX>ENVIRONMENT=test``
(the settings refuse it in any other environment): the process exits at once (``os._exit``, no
cleanup, no answer) after its N-th committed unsafe request (POST, PUT, PATCH, DELETE). A shadow dry
run never counts: it committed nothing.
"""

import logging
import os
import threading

log = logging.getLogger("strangler.faults")
CRASH_EXIT_CODE = 86


class CrashAfterWrites:
    """Call `committed()` after each committed write; the `after`-th call ends the process."""

    def __init__(self, after: int):
        if after < 1:
            raise ValueError("crash after at least one write")
        self.after, self.count = after, 0
        self._lock = threading.Lock()  # sync endpoints run in a thread pool

    def committed(self) -> None:
        with self._lock:
            self.count += 1
            if self.count < self.after:
                return
        log.error("fault injection: exiting after committed write %d, before answering", self.count)
        os._exit(CRASH_EXIT_CODE)
