"""Measuring one configuration: a wrk run (closed loop, throughput) or a fixed-rate run (added latency),
with the CPU time each core and the proxy's process group spent meanwhile."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class WrkSettings:
    threads: int = 1
    connections: int = 32
    duration: float = 8.0
    core: int = 0

    def argv(self, wrk: str, url: str, headers: list[str], duration: float | None = None) -> list[str]:
        # wrk takes whole seconds only.
        seconds = f"{max(1, round(duration if duration is not None else self.duration))}s"
        argv = ["taskset", "-c", str(self.core), wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}",
                "--latency", "--timeout", "5s"]
        for header in headers:
            argv += ["-H", header]
        return argv + [url]


def core_ticks() -> dict[int, tuple[int, int, int, int]]:
    """Per CPU, clock ticks since boot from /proc/stat: (busy, total, process time, steal).

    busy = everything but idle and iowait; process time = user + nice + system (what processes and
    kernel threads ran, without interrupt handling); steal = time the hypervisor gave to someone else."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *fields = line.split()
                user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
                total = user + nice + system + idle + iowait + irq + softirq + steal
                out[int(name[3:])] = (total - idle - iowait, total, user + nice + system, steal)
    return out


def process_ticks() -> dict[int, tuple[int, int]]:
    """pid -> (process group, user+system clock ticks) of every user-space process, from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        pgrp = int(fields[2])
        if pgrp:  # kernel threads have none
            out[int(entry)] = (pgrp, int(fields[11]) + int(fields[12]))
    return out


class CpuWindow:
    """CPU use while a measurement runs: busy share of each core, CPU seconds of the proxy's process
    group, and how much CPU went to anything this benchmark did not start (`foreign_cores`: another job
    on a shared machine skews every figure, so such a run is redone).

    Foreign CPU is the larger of two estimates: the CPU of live processes outside our process groups,
    and all process time on the cores minus ours (which also catches short-lived processes that came
    and went during the window), plus hypervisor steal. `ours` are the process groups of the servers
    and of this script; the load generator it ran and reaped is counted through os.times()."""

    def __init__(self, proxy_pgid: int | None, ours: set[int]):
        self.proxy_pgid, self.ours = proxy_pgid, ours

    def __enter__(self) -> CpuWindow:
        self.start_cores, self.start_procs, self.start_times = core_ticks(), process_ticks(), os.times()
        return self

    def __exit__(self, *exc) -> None:
        end_cores, end_procs, end_times = core_ticks(), process_ticks(), os.times()
        start = self.start_cores
        self.core_busy = {
            core: round((end[0] - start[core][0]) / max(1, end[1] - start[core][1]), 3) for core, end in end_cores.items()
        }
        wall = max(1, end_cores[0][1] - start[0][1]) / CLK_TCK
        proxy = ours = foreign = 0
        for pid, (pgrp, ticks) in end_procs.items():
            before = self.start_procs.get(pid)
            delta = ticks - (before[1] if before and before[0] == pgrp else 0)
            if pgrp == self.proxy_pgid:
                proxy += delta
            elif pgrp in self.ours:
                ours += delta
            else:
                foreign += delta
        reaped = (end_times.children_user + end_times.children_system
                  - self.start_times.children_user - self.start_times.children_system) * CLK_TCK
        process_time = sum(end[2] - start[core][2] for core, end in end_cores.items())
        steal = sum(end[3] - start[core][3] for core, end in end_cores.items())
        unexplained = process_time - proxy - ours - reaped
        self.group_seconds = proxy / CLK_TCK
        self.foreign_detail = {"processes": round(foreign / CLK_TCK / wall, 3),
                               "unexplained": round(unexplained / CLK_TCK / wall, 3),
                               "steal": round(steal / CLK_TCK / wall, 3)}
        self.foreign_cores = round((max(foreign, unexplained) + steal) / CLK_TCK / wall, 3)


def parse_wrk(text: str) -> dict:
    """The figures of wrk's --latency output (latencies in ms)."""
    def grab(pattern: str, cast=float, default=None):
        found = re.search(pattern, text)
        return cast(found.group(1)) if found else default

    latency = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        latency[f"p{pct}"] = round(float(value) * _UNITS[unit], 4)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {
        "requests_per_s": grab(r"Requests/sec:\s+([\d.]+)"),
        "requests": grab(r"(\d+) requests in", int),
        "non_2xx_3xx": grab(r"Non-2xx or 3xx responses: (\d+)", int, 0),
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups()))) if errors else {},
        "latency_ms": latency,
    }


def run_wrk(wrk: str, settings: WrkSettings, url: str, headers: list[str], pgid: int | None, ours: set[int],
            duration: float | None = None) -> dict:
    argv = settings.argv(wrk, url, headers, duration)
    with CpuWindow(pgid, ours) as cpu:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=(duration or settings.duration) + 30)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    figures = parse_wrk(result.stdout)
    requests = figures["requests"] or 0
    figures.update(
        core_busy=cpu.core_busy,
        foreign_cores=cpu.foreign_cores,
        foreign_detail=cpu.foreign_detail,
        proxy_cpu_s=round(cpu.group_seconds, 3),
        proxy_cpu_us_per_request=round(cpu.group_seconds / requests * 1e6, 1) if requests and pgid else None,
    )
    return figures


def run_fixed_rate(url: str, rate: float, duration: float, warmup: float, core: int, headers: list[str],
                   pgid: int | None, ours: set[int]) -> dict:
    argv = ["taskset", "-c", str(core), sys.executable, str(HERE / "bench_loadgen.py"), "--url", url,
            "--rate", f"{rate:g}", "--duration", f"{duration:g}", "--warmup", f"{warmup:g}"]
    for header in headers:
        argv += ["-H", header]
    with CpuWindow(pgid, ours) as cpu:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60)
    if not result.stdout.strip():
        raise RuntimeError(f"the fixed-rate generator failed (exit {result.returncode}): {result.stderr.strip()}")
    figures = json.loads(result.stdout)
    figures["core_busy"] = cpu.core_busy
    figures["foreign_cores"] = cpu.foreign_cores
    figures["foreign_detail"] = cpu.foreign_detail
    return figures


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
