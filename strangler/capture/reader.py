"""`read_capture(path)`: a capture file of either format, told apart by its first byte.

A mitmproxy flow file starts with a tnetstring length (a digit); a HAR file is JSON (`{`, perhaps after
a byte-order mark and white space). Anything else is refused naming the file.
"""

from __future__ import annotations

from pathlib import Path

from strangler.capture.flows import parse_flows
from strangler.capture.har import parse_har
from strangler.capture.records import Capture, CaptureError


def read_capture(path: str | Path) -> Capture:
    """The HTTP exchanges of a flow file or a HAR file; `CaptureError` naming the file when it is neither."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CaptureError(source, f"cannot read the file ({exc.strerror or exc})") from exc
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if not start:
        raise CaptureError(source, "empty file: nothing was captured")
    if start == b"{":
        return parse_har(data, source)
    if start.isdigit():
        return parse_flows(data, source)
    raise CaptureError(source, f"neither a mitmproxy flow file nor a HAR file (it starts with {data[:12]!r})")
