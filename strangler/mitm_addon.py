"""mitmproxy addon of `strangler parity record`: writes each completed HTTP exchange to a flow file.

Loaded by `mitmdump -s strangler/mitm_addon.py --set flow_out=FILE`, running in its own virtual
environment (.venv-mitm, DESIGN.md §10): so this file imports only mitmproxy and the standard library,
never the project. The project reads the file back with `strangler.capture` without importing
mitmproxy.

Only HTTP flows with a response are written (a flow that failed has nothing to compare); each is
flushed at once, so a proxy that is killed loses at most the flow being written. Every written flow
carries `metadata["strangler"]` saying which upstream it was recorded in front of.
"""

from __future__ import annotations

import logging
from typing import BinaryIO

from mitmproxy import ctx, exceptions, http, io

log = logging.getLogger(__name__)


class FlowRecorder:
    """Appends completed HTTP flows to the file named by the `flow_out` option."""

    def __init__(self) -> None:
        self.path = ""
        self.file: BinaryIO | None = None
        self.writer: io.FlowWriter | None = None
        self.written = 0
        self.failed = 0

    def load(self, loader) -> None:
        loader.add_option("flow_out", str, "", "Write completed HTTP flows to this file (mitmproxy flow format).")

    def configure(self, updated: set[str]) -> None:
        if "flow_out" not in updated:
            return
        self._close()
        self.path = ctx.options.flow_out
        if not self.path:
            return
        try:
            self.file = open(self.path, "wb")  # noqa: SIM115 -- kept open for the proxy's lifetime
        except OSError as exc:
            raise exceptions.OptionsError(f"flow_out: cannot write {self.path}: {exc.strerror}") from exc
        self.writer = io.FlowWriter(self.file)

    def response(self, flow: http.HTTPFlow) -> None:
        if self.writer is None or self.file is None:
            return
        flow.metadata["strangler"] = {"recorder": "strangler parity record", "mode": ", ".join(ctx.options.mode)}
        self.writer.add(flow)
        self.file.flush()
        self.written += 1

    def error(self, flow: http.HTTPFlow) -> None:
        self.failed += 1  # no response to compare: not written

    def done(self) -> None:
        if self.path:
            log.info(f"strangler: {self.written} flows written to {self.path}"
                     + (f" ({self.failed} failed flows not written)" if self.failed else ""))
        self._close()

    def _close(self) -> None:
        if self.file is not None:
            self.file.close()
        self.file = self.writer = None


addons = [FlowRecorder()]
