"""The processes a benchmark starts: pinned with taskset, awaited until they answer, always stopped.

`Processes` is a context manager that owns everything started through it. Each child gets a session
(and so a process group) of its own; stopping sends SIGTERM to that group (the child and the workers it
forked, nothing else), waits, then SIGKILL. Also here: free loopback ports, the apt step for wrk and
nginx, and the nginx configurations (an upstream answering fixed JSON, and a reverse proxy).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

APT_PACKAGES = {"wrk": "wrk", "nginx": "nginx"}  # executable -> Debian package
NGINX_SEARCH = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


class BenchError(RuntimeError):
    """Something the benchmark needs is missing or did not start; the message says what to do."""


def find_nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in NGINX_SEARCH if os.access(p, os.X_OK)), None)


def ensure_tools() -> dict[str, str]:
    """Paths of wrk and nginx, installing the Debian packages first when either is missing."""
    found = {"wrk": shutil.which("wrk"), "nginx": find_nginx()}
    missing = [APT_PACKAGES[name] for name, path in found.items() if path is None]
    if missing:
        print(f"installing {' '.join(missing)} with apt-get ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
        # The package lists may be stale or absent on a fresh machine: update once, then install.
        # Debian's policy-rc.d (or the absence of an init system) keeps the system nginx service stopped;
        # the benchmark runs its own nginx processes from generated configurations.
        for command in (prefix + ["apt-get", "update", "-q"], prefix + ["apt-get", "install", "-y", "-q", *missing]):
            result = subprocess.run(command, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
                raise BenchError(f"`{' '.join(command)}` failed (exit {result.returncode}); install "
                                 f"{' '.join(missing)} by hand and run again.\n{tail}")
        found = {"wrk": shutil.which("wrk"), "nginx": find_nginx()}
        if None in found.values():
            raise BenchError(f"apt-get reported success but these are still missing: {', '.join(k for k, v in found.items() if v is None)}")
    return found  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, headers: dict[str, str] | None = None, proc: subprocess.Popen | None = None,
              log: Path | None = None) -> bytes:
    """GET `url` until it answers 200 (returns the body); BenchError with the log's tail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{url}: the server exited with code {proc.returncode}{_tail(log)}")
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2) as response:
                body = response.read()
                if response.status == 200:
                    return body
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise BenchError(f"{url} did not answer 200 within {timeout:.0f} s (last: {last}){_tail(log)}")


def _tail(log: Path | None, lines: int = 20) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


class Processes:
    """Starts pinned child processes and stops every one of them on exit, whatever happened."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.children: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], core: int, env: dict[str, str] | None = None,
              cwd: str | Path | None = None) -> tuple[subprocess.Popen, Path]:
        """Run `argv` pinned to CPU `core`, output to <workdir>/<name>.log, in a process group of its own."""
        log = self.workdir / f"{name}.log"
        out = open(log, "wb")
        try:
            proc = subprocess.Popen(["taskset", "-c", str(core), *argv], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
        finally:
            out.close()
        self.children.append((name, proc, log))
        return proc, log

    def process_groups(self) -> set[int]:
        """The process group of every child started so far (each leads its own)."""
        return {proc.pid for _, proc, _ in self.children}

    def stop_all(self) -> None:
        # SIGINT/SIGTERM during cleanup must not leave children behind: ignore them until done.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for _, proc, _ in self.children:
                if proc.poll() is None:
                    _signal_group(proc, signal.SIGTERM)
            deadline = time.monotonic() + 5
            for name, proc, _ in reversed(self.children):
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    print(f"  {name} (pid {proc.pid}) ignored SIGTERM; killing it", file=sys.stderr)
                _signal_group(proc, signal.SIGKILL)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    print(f"  {name} (pid {proc.pid}) did not exit", file=sys.stderr)
            self.children.clear()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    # The child leads its own session (start_new_session), so its group id is its pid: this reaches the
    # child and the workers it forked, and nothing this script did not start.
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- nginx -------------------------------------------------------------------------------------------

def _nginx_common(prefix: Path, name: str) -> str:
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / f"{name}-tmp" / sub).mkdir(parents=True, exist_ok=True)
    tmp = prefix / f"{name}-tmp"
    # `user root` only matters when started as root: it lets the worker use the private temp dirs.
    return f"""
worker_processes 1;
{"user root;" if os.geteuid() == 0 else ""}
pid {prefix}/{name}.pid;
error_log {prefix}/{name}-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  server_tokens off;
"""


def nginx_upstream_conf(prefix: Path, port: int, body: str) -> Path:
    """An nginx answering every GET with `body` as JSON (`return 200`: no file I/O, no upstream)."""
    if "'" in body or "\\" in body or "$" in body:
        raise ValueError("the fixed body must not contain quotes, backslashes or '$' (nginx string syntax)")
    conf = _nginx_common(prefix, "nginx-upstream") + f"""
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      default_type application/json;
      return 200 '{body}';
    }}
  }}
}}
"""
    path = prefix / "nginx-upstream.conf"
    path.write_text(conf)
    return path


def nginx_proxy_conf(prefix: Path, servers: dict[int, int]) -> Path:
    """An nginx reverse proxy: each listen port -> its upstream port, pooled keep-alive HTTP/1.1."""
    blocks = []
    for listen, upstream in servers.items():
        blocks.append(f"""
  upstream up_{listen} {{
    server 127.0.0.1:{upstream};
    keepalive 64;
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{listen} backlog=4096;
    location / {{
      proxy_pass http://up_{listen};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffer_size 16k;
      proxy_buffers 16 16k;
    }}
  }}""")
    conf = _nginx_common(prefix, "nginx-proxy") + "".join(blocks) + "\n}\n"
    path = prefix / "nginx-proxy.conf"
    path.write_text(conf)
    return path


def nginx_argv(nginx: str, conf: Path, prefix: Path) -> list[str]:
    # -e: nginx >= 1.19.5 would otherwise open the compiled-in /var/log/nginx/error.log before reading conf.
    return [nginx, "-e", str(prefix / f"{conf.stem}-startup-error.log"), "-c", str(conf), "-p", str(prefix),
            "-g", "daemon off;"]
