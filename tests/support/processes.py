"""Real processes on loopback for integration and end-to-end tests: start, wait until they answer,
stop. Every process gets a free port and its own log file under the test's tmp dir."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    url: str
    log: Path

    def stop(self, sig=signal.SIGTERM, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start(name: str, argv: list[str], port: int, log_dir: Path, env: dict | None = None,
          ready_path: str = "/", timeout: float = 30) -> Process:
    """Start argv (cwd = repo root), then poll http://127.0.0.1:port{ready_path} until any HTTP answer."""
    log = Path(log_dir) / f"{name}.log"
    handle = open(log, "ab")
    full_env = dict(os.environ)
    # A child gets only the database it is given: not the test session's DATABASE_URL.
    for variable in ("PYTEST_VERSION", "DATABASE_URL", "DJANGO_ENV"):
        full_env.pop(variable, None)
    full_env.update(env or {})
    popen = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=handle, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    process = Process(name, popen, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited with {popen.returncode}:\n{process.log_tail()}")
        try:
            httpx.get(process.url + ready_path, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not answer on port {port} within {timeout}s:\n{process.log_tail()}")


def gunicorn(name: str, app: str, port: int, log_dir: Path, env=None, workers: int = 2, ready_path="/") -> Process:
    argv = [str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--log-level", "warning", "--graceful-timeout", "2"]
    return start(name, argv, port, log_dir, env, ready_path)


def router(port: int, log_dir: Path, config: Path, store_url: str, env=None, name: str = "router") -> Process:
    argv = [sys.executable, "-m", "router", "--port", str(port), "--log-level", "warning"]
    # STRANGLER_ENV=test: the router may sign identities with the development secret (production refuses).
    full_env = {"STRANGLER_ENV": "test", "STRANGLER_CONFIG": str(config), "STRANGLER_STORE_URL": store_url, **(env or {})}
    return start(name, argv, port, log_dir, full_env, ready_path="/_strangler/api/health")


def echo(name: str, port: int, log_dir: Path) -> Process:
    """The echo upstream (tests/support/echo_app.py) answering as `name`."""
    argv = [sys.executable, "-m", "uvicorn", "tests.support.echo_app:app", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning"]
    return start(f"echo-{name}", argv, port, log_dir, {"ECHO_NAME": name})


def write_router_config(path: Path, legacy_url: str, inventory_url: str, **router_settings) -> Path:
    """A strangler.yaml with the inventory group's stock routes pointing at the given upstreams."""
    settings = "".join(f"\n  {k}: {v}" for k, v in router_settings.items())
    path.write_text(f"""
version: 1
router:
  flag_poll_interval: 0.1{settings}
upstreams:
  legacy: {{url: "{legacy_url}"}}
  inventory: {{url: "{inventory_url}", read_timeout: 2, connect_timeout: 1}}
groups:
  inventory: {{upstream: inventory}}
routes:
  - {{name: inventory.stock.list, group: inventory, methods: [GET], path: /api/inventory/stock/}}
  - {{name: inventory.stock.detail, group: inventory, methods: [GET], path: "/api/inventory/stock/{{sku}}/"}}
  - {{name: inventory.adjustments.create, group: inventory, methods: [POST], path: /api/inventory/adjustments/}}
""")
    return path
