"""Offline parity (DESIGN.md §4): captured traffic read into plain records, replayed, exported as a corpus.

`read_capture(path)` reads a mitmproxy flow file (written by `strangler parity record` or `mitmdump -w`)
or a HAR 1.2 file into a `Capture` of frozen `CapturedExchange` records, without importing mitmproxy
(it lives in its own virtualenv, DESIGN.md §10). Modules: `records` (the values), `tnetstring` and
`flows` (flow files), `har`, `reader` (either format), `replay` (sending a capture to both sides),
`report` (what a replay found, redacted), `corpus` (a capture as a pytest parity corpus) and `mitm`
(running mitmdump from its virtualenv).
"""

from strangler.capture.reader import read_capture
from strangler.capture.records import (
    SAFE_METHODS, Capture, CapturedExchange, CapturedRequest, CapturedResponse, CaptureError,
)

__all__ = ["SAFE_METHODS", "Capture", "CaptureError", "CapturedExchange", "CapturedRequest", "CapturedResponse",
           "read_capture"]
