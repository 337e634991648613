"""Running mitmdump from its own virtualenv (DESIGN.md §10) as the recorder of `strangler parity record`.

mitmproxy 11 would downgrade h11/httpcore in the project's environment, so it lives in `.venv-mitm`
at the project root, created by `make mitm-venv` (which pins the version); `ensure_venv` runs that
target for `record --setup`. The proxy is `mitmdump --mode reverse:UPSTREAM` on loopback with
strangler/mitm_addon.py writing completed flows to the output file; it runs in a session of its own,
so only `MitmRecorder.stop` (SIGINT: mitmdump's clean shutdown) ends it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADDON = PROJECT_ROOT / "strangler" / "mitm_addon.py"
DEFAULT_VENV = PROJECT_ROOT / ".venv-mitm"
VENV_ENV = "STRANGLER_MITM_VENV"


class RecorderError(Exception):
    """mitmdump could not be set up or started; the message says why and what to do."""


def venv_path() -> Path:
    """Where mitmproxy's virtualenv is: $STRANGLER_MITM_VENV, else .venv-mitm at the project root."""
    return Path(os.environ.get(VENV_ENV) or DEFAULT_VENV)


def mitmdump_path(venv: Path) -> Path:
    return venv / "bin" / "mitmdump"


def ensure_venv(venv: Path, *, timeout: float = 600) -> None:
    """Create the virtualenv with `make mitm-venv` (a no-op when it is up to date); RecorderError if that fails."""
    argv = ["make", "-C", str(PROJECT_ROOT), "--no-print-directory", "mitm-venv", f"MITM_VENV={venv}"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise RecorderError("`make` is not installed: it creates mitmproxy's virtualenv (make mitm-venv)") from exc
    except subprocess.TimeoutExpired as exc:
        raise RecorderError(f"`make mitm-venv` did not finish within {timeout:.0f} s") from exc
    if result.returncode != 0 or not mitmdump_path(venv).exists():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise RecorderError(f"`make mitm-venv` failed (is the package index reachable?):\n{tail}")


def validate_upstream(url: str) -> str:
    """The upstream URL as mitmdump's reverse mode takes it (scheme://host[:port]); ValueError otherwise."""
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError:
        raise ValueError(f"--upstream {url!r}: the port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"--upstream {url!r}: expected http(s)://host[:port], e.g. http://127.0.0.1:8001")
    return f"{parts.scheme}://{parts.netloc}"


def reachable(url: str, timeout: float = 2.0) -> str | None:
    """None when a TCP connection to the URL's host and port opens, else the reason."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


class MitmRecorder:
    """mitmdump in reverse-proxy mode in front of `upstream`, on 127.0.0.1:`port`, writing flows to `out`."""

    def __init__(self, venv: Path, upstream: str, port: int, out: Path, *, quiet: bool = False) -> None:
        self.argv = [
            str(mitmdump_path(venv)), "--mode", f"reverse:{upstream}", "--listen-host", "127.0.0.1",
            "--listen-port", str(port), "-s", str(ADDON), "--set", f"flow_out={out}",
            # Its own CA and settings, not the user's ~/.mitmproxy: the proxy listens on plain HTTP.
            "--set", f"confdir={venv / 'mitmproxy-conf'}",
            # Its one line per flow stays; connection chatter (and the readiness probe's) does not.
            "--set", "termlog_verbosity=warn",
        ] + (["--quiet"] if quiet else [])
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        """Start mitmdump and wait until it accepts connections; RecorderError if it exits or stays silent."""
        try:
            sink = sys.stderr.fileno()  # mitmdump's one line per flow goes with our messages, not to stdout
        except (AttributeError, OSError, ValueError):
            sink = subprocess.DEVNULL  # a captured stderr without a file (tests in-process)
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RecorderError(f"mitmdump exited with status {self.process.returncode} before listening "
                                    f"(its output is above; is port {self.port} free?)")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RecorderError(f"mitmdump did not listen on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15) -> int | None:
        """Ask mitmdump to shut down cleanly (SIGINT), kill it if it does not; its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode
