"""`make bench-shadow`: what shadow traffic costs the router's latency: the inventory group on `legacy`
against the same group in `shadow` at 100 % (shadow_rate 1), at a fixed open-loop rate.

    .venv/bin/python bench/bench_shadow.py [--quick] [--rounds 3] [--duration 10] [--rate 300]
    .venv/bin/python bench/bench_shadow.py --same-body | --transport aiohttp | --router-ref REV   # experiments

Starts everything itself on loopback (free ports, pinned with taskset, stopped on exit even on Ctrl-C),
with the pinning of bench/bench_router.py:

  core 0  two tiny nginx upstreams, the fixed-rate load generator and this script
  core 1  the router (`python -m router --workers 1`, raw transport unless --transport), alone

The legacy upstream answers `GET /api/inventory/stock/` with bench_router's fixed ~1 KB JSON; the
extracted (inventory) upstream answers the same document with one price changed, so every shadow
comparison is a MISMATCH: the router builds and redacts a sample for each and its recorder thread
writes every one to the control store (SQLite) -- the realistic worst case.

One router process serves every run; the group's flag is switched through the admin API between runs.
Each round runs both modes (the order alternates between rounds); a run is `bench/bench_loadgen.py` at
`--rate` req/s, 1 s of warm-up then `--duration` s measured, latency from the scheduled send time. The
p99 ratio shadow/legacy is taken within each round and its median over the rounds is compared with the
target (<= 1.10). Shadow counters are read from /_strangler/metrics before and after each run, and the
parity counts the recorder wrote from /_strangler/api/parity at the end.

A full run of the default configuration writes var/bench/shadow.json and the `bench-shadow` section of
docs/benchmarks.md (only between its markers; the hand-written analysis between `bench-shadow-analysis`
markers is kept). --quick writes var/bench/shadow-quick.json, the experiments (--same-body, another
--transport) var/bench/shadow-experiment.json; neither touches docs/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import bench_router
from bench_measure import CpuWindow, median, run_fixed_rate
from bench_processes import BenchError, Processes, ensure_tools, free_port, nginx_argv, nginx_upstream_conf, wait_http
from bench_report import machine_info, replace_section
from bench_router import (
    LOAD_CORE, PROXY_CORE, TINY_PATH, UPSTREAM_CORE, _same_round, late_means_disturbed, latency_summary, rotated,
    router_env, router_source, tiny_body, undisturbed, wait_for_quiet,
)

ROOT = Path(__file__).resolve().parent.parent
GROUP = "inventory"                 # the group of TINY_PATH's route in strangler.yaml
ROUTE = "inventory.stock.list"
TARGET_P99_RATIO = 1.10
WARMUP = 1.0                         # seconds at the rate before each measured run (not measured)
SETTLE = 1.0                         # after a run: the last shadows finish, the recorder (0.5 s period) flushes
SECTION_BEGIN, SECTION_END = "<!-- bench-shadow:begin -->", "<!-- bench-shadow:end -->"
ANALYSIS_BEGIN, ANALYSIS_END = "<!-- bench-shadow-analysis:begin -->", "<!-- bench-shadow-analysis:end -->"
MODES = ("legacy", "shadow")
_METRIC = re.compile(r"^(strangler_shadow_(?:sent|compared|not_compared)_total)\{([^}]*)\} ([0-9.eE+-]+)$", re.M)


def extracted_body(legacy: str, same: bool) -> str:
    """The extracted side's answer: the legacy document with one price changed (a real regression for
    the diff engine), or the very same bytes with --same-body."""
    if same:
        return legacy
    changed = legacy.replace('"price":"10.99"', '"price":"11.00"', 1)
    if changed == legacy:
        raise BenchError("bench_router.tiny_body() changed shape: no price 10.99 to alter")
    return changed


# --- the router's admin API --------------------------------------------------------------------------

def _call(url: str, token: str | None = None, payload: dict | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if payload is not None:
        data, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=5) as response:
        return response.read()


def set_mode(base: str, token: str, mode: str) -> None:
    """Put the group in `mode` (shadow at shadow_rate 1) and check the router applies it to the route."""
    payload = {"target": GROUP, "mode": mode, "reason": f"bench-shadow: {mode} run", "actor": "bench"}
    if mode == "shadow":
        payload["shadow_rate"] = 1
    _call(f"{base}/_strangler/api/flags", token, payload)
    routes = json.loads(_call(f"{base}/_strangler/api/routes", token))["routes"]
    route = next(r for r in routes if r["name"] == ROUTE)
    want = 1.0 if mode == "shadow" else 0.0
    if route["mode"] != mode or route["shadow_rate"] != want:
        raise BenchError(f"the router did not apply the flag: {ROUTE} is {route['mode']} at shadow_rate {route['shadow_rate']}")


def shadow_counters(base: str) -> dict[str, float]:
    """The shadow counters of /_strangler/metrics for ROUTE, keyed 'sent', 'compared:<verdict>',
    'not_compared:<reason>'."""
    text = _call(f"{base}/_strangler/metrics").decode()
    out: dict[str, float] = {}
    for name, labels, value in _METRIC.findall(text):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if fields.get("route") != ROUTE:
            continue
        kind = name[len("strangler_shadow_"):-len("_total")]
        key = kind if kind == "sent" else f"{kind}:{fields.get('verdict') or fields.get('reason')}"
        out[key] = out.get(key, 0.0) + float(value)
    return out


def counter_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    return {k: int(after.get(k, 0) - before.get(k, 0)) for k in sorted(set(before) | set(after))
            if after.get(k, 0) != before.get(k, 0)}


# --- measuring ---------------------------------------------------------------------------------------

def one_run(base: str, token: str, mode: str, url: str, args, router_pgid: int, ours: set[int]) -> dict:
    set_mode(base, token, mode)
    time.sleep(0.2)
    before = shadow_counters(base)
    with CpuWindow(router_pgid, ours) as cpu:
        figures = late_means_disturbed(
            run_fixed_rate(url, args.rate, args.duration, WARMUP, LOAD_CORE, [], router_pgid, ours))
    time.sleep(SETTLE)
    figures["shadow_counters"] = counter_delta(before, shadow_counters(base))
    sent = (WARMUP + args.duration) * args.rate
    figures["router_cpu_s"] = round(cpu.group_seconds, 3)
    figures["router_cpu_us_per_request"] = round(cpu.group_seconds / sent * 1e6, 1)
    return figures


def measure_rounds(base: str, token: str, url: str, args, router_pgid: int, ours: set[int]) -> list[dict]:
    results = []
    for r in range(args.rounds):
        this_round = {}
        for mode in rotated(list(MODES), r):
            tag = f"round {r + 1}/{args.rounds}  {mode:<6}"
            figures = undisturbed(lambda: one_run(base, token, mode, url, args, router_pgid, ours), tag.strip())
            this_round[mode] = figures
            lat, counters = figures["latency_ms"], figures["shadow_counters"]
            print(f"  {tag} p50 {lat['p50']:.3f} ms  p99 {lat['p99']:.3f} ms  p99.9 {lat['p999']:.3f} ms"
                  f"  router CPU {figures['router_cpu_us_per_request']:.0f} us/req"
                  f"  ({figures['completed']} requests, {figures['errors'] + figures['non_2xx_3xx']} errors,"
                  f" generator late p99 {figures['dispatch_late_ms']['p99']:.3f} ms)"
                  + (f"\n{'':<20}shadow: {', '.join(f'{k} {v}' for k, v in counters.items()) or 'none'}"
                     if mode == "shadow" or counters else ""), flush=True)
        results.append(this_round)
    return results


def summarise(rounds: list[dict]) -> dict:
    summary = latency_summary(rounds)
    for mode in MODES:
        summary[mode]["router_cpu_us_per_request"] = median([r[mode]["router_cpu_us_per_request"] for r in rounds])
        summary[mode]["router_core_busy"] = median([r[mode]["core_busy"].get(PROXY_CORE, 0) for r in rounds])
    used, disturbed = _same_round(rounds, "shadow", "legacy")
    ratios = {}
    for q in ("p50", "p99", "p999"):
        per_round = [r["shadow"]["latency_ms"][q] / r["legacy"]["latency_ms"][q] for r in used]
        ratios[q] = {"median": median(per_round), "min": min(per_round), "max": max(per_round), "per_round": per_round}
    added = {q: median([r["shadow"]["latency_ms"][q] - r["legacy"]["latency_ms"][q] for r in used]) for q in ("p50", "p99")}
    totals: dict[str, int] = {}
    for r in rounds:
        for k, v in r["shadow"]["shadow_counters"].items():
            totals[k] = totals.get(k, 0) + v
    legacy_counters: dict[str, int] = {}
    for r in rounds:
        for k, v in r["legacy"]["shadow_counters"].items():
            legacy_counters[k] = legacy_counters.get(k, 0) + v
    measured_requests = sum(r["shadow"]["completed"] for r in rounds)
    sent_requests = round(len(rounds) * (WARMUP + rounds[0]["shadow"]["duration"]) * rounds[0]["shadow"]["rate"])
    value = ratios["p99"]["median"]
    return {
        "modes": summary, "ratios": ratios, "added_ms": added, "rounds_used": len(used), "disturbed": disturbed,
        "target": {"what": f"p99 in shadow (100 %) within 10 % of legacy: p99 ratio <= {TARGET_P99_RATIO:.2f}",
                   "threshold": TARGET_P99_RATIO, "value": value, "met": value <= TARGET_P99_RATIO},
        "shadow_counters": totals, "shadow_counters_in_legacy_runs": legacy_counters,
        "shadow_requests_sent": sent_requests, "shadow_requests_measured": measured_requests,
    }


def run(args) -> dict:
    tools = ensure_tools()
    nginx = tools["nginx"]
    workdir = args.workdir
    started = time.monotonic()
    source, source_label = router_source(args.router_ref, workdir)
    print(f"router under test: {source_label}", flush=True)
    legacy_body = tiny_body()
    other_body = extracted_body(legacy_body, args.same_body)
    ports = {name: free_port() for name in ("legacy", "extracted", "router")}
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{ports['router']}"
    url = f"{base}{TINY_PATH}"

    with Processes(workdir) as procs:
        ups = {}
        for name, body in (("legacy", legacy_body), ("extracted", other_body)):
            prefix = workdir / name
            prefix.mkdir()
            conf = nginx_upstream_conf(prefix, ports[name], body)
            ups[name] = procs.start(f"nginx-{name}", nginx_argv(nginx, conf, prefix), UPSTREAM_CORE)
        env = router_env(f"http://127.0.0.1:{ports['legacy']}", workdir / "control.sqlite3", args.transport, source)
        env.update(STRANGLER_UPSTREAM_INVENTORY_URL=f"http://127.0.0.1:{ports['extracted']}", STRANGLER_ADMIN_TOKEN=token)
        router, router_log = procs.start(
            "router", [sys.executable, "-m", "router", "--port", str(ports["router"]), "--workers", "1",
                       "--log-level", "warning"], PROXY_CORE, env=env, cwd=source)
        for name, body in (("legacy", legacy_body), ("extracted", other_body)):
            got = wait_http(f"http://127.0.0.1:{ports[name]}{TINY_PATH}", 15, proc=ups[name][0], log=ups[name][1])
            if got.decode() != body:
                raise BenchError(f"the {name} upstream answers an unexpected body: {got[:200]!r}")
        wait_http(f"{base}/_strangler/api/ready", 30, proc=router, log=router_log)

        # Before timing anything: in shadow mode the client still gets legacy's answer, and the shadows
        # really are sent, compared (with the expected verdict) and recorded.
        set_mode(base, token, "shadow")
        before = shadow_counters(base)
        for _ in range(20):
            if wait_http(url, 10, proc=router, log=router_log).decode() != legacy_body:
                raise BenchError("in shadow mode the router did not answer legacy's body")
        time.sleep(SETTLE)
        check = counter_delta(before, shadow_counters(base))
        verdict = "match" if args.same_body else "mismatch"
        if check.get(f"compared:{verdict}", 0) < 20:
            raise BenchError(f"20 requests in shadow mode, but the shadow counters moved by {check or 'nothing'} "
                             f"(expected 20 'compared:{verdict}'){log_tail(router_log)}")
        set_mode(base, token, "legacy")
        print(f"both upstreams and the router answer; shadow check: {check}; setup took "
              f"{time.monotonic() - started:.0f} s", flush=True)

        ours = procs.process_groups() | {os.getpgrp()}
        foreign_at_start = wait_for_quiet(ours, args.max_wait_quiet)
        print(f"\n{args.rate:g} req/s open loop, {WARMUP:g} s warm-up + {args.duration:g} s measured per run, "
              f"{args.rounds} rounds, legacy vs shadow (100 %)", flush=True)
        rounds = measure_rounds(base, token, url, args, router.pid, ours)
        set_mode(base, token, "legacy")
        time.sleep(SETTLE)
        parity = json.loads(_call(f"{base}/_strangler/api/parity?since=3600&route={ROUTE}", token))["routes"]
        samples = json.loads(_call(f"{base}/_strangler/api/parity/samples?route={ROUTE}&limit=200", token))["samples"]
        router_log_tail = router_log.read_text(errors="replace").strip().splitlines()[-20:]

    pk = machine_info(nginx, tools["wrk"], args.nproc)
    return {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started, 1),
        "machine": pk,
        "router_under_test": source_label,
        "settings": {
            "pinning": {"load_generator": LOAD_CORE, "upstreams": UPSTREAM_CORE, "router": PROXY_CORE},
            "rate": args.rate, "duration_s": args.duration, "warmup_s": WARMUP, "rounds": args.rounds,
            "connections": 16, "transport": args.transport, "path": TINY_PATH, "route": ROUTE, "group": GROUP,
            "legacy_body_bytes": len(legacy_body), "extracted_body_bytes": len(other_body),
            "extracted_differs": not args.same_body, "foreign_cores_at_start": foreign_at_start,
            "foreign_limit": bench_router.FOREIGN_LIMIT, "quick": args.quick,
        },
        "rounds": rounds,
        "summary": summarise(rounds),
        "parity_store": {"routes": parity, "samples_kept": len(samples)},
        "router_log_tail": router_log_tail,
    }


def log_tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()[-15:] if log.exists() else []
    return ("\n--- router log ---\n" + "\n".join(lines)) if lines else ""


# --- reporting ---------------------------------------------------------------------------------------

def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _fmt_counters(counters: dict[str, int]) -> str:
    return ", ".join(f"`{k}` {v:,}" for k, v in counters.items()) or "none"


def print_summary(results: dict) -> None:
    s = results["summary"]
    print(f"\n{'mode':<8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'CPU us/req':>11} {'errors':>7}")
    for mode in MODES:
        m = s["modes"][mode]
        print(f"{mode:<8} {m['p50']:>8.3f} {m['p90']:>8.3f} {m['p99']:>8.3f} {m['p999']:>9.3f} {m['max']:>8.3f}"
              f" {m['router_cpu_us_per_request']:>11.0f} {m['errors']:>7}")
    r, t = s["ratios"], s["target"]
    print(f"shadow/legacy p99 {r['p99']['median']:.3f} ({r['p99']['min']:.3f}-{r['p99']['max']:.3f}), "
          f"p50 {r['p50']['median']:.3f}; target <= {t['threshold']:.2f}: {'met' if t['met'] else 'MISSED'}")
    print(f"shadow counters over the shadow runs: {s['shadow_counters']}")
    print(f"parity store: {results['parity_store']}")


def _row(name: str, m: dict) -> str:
    return (f"| {name} | {m['p50']:.3f} | {m['p90']:.3f} | **{m['p99']:.3f}** | {m['p999']:.3f} | {m['max']:.3f} "
            f"| {m['router_cpu_us_per_request']:.0f} µs | {m['router_core_busy']:.0%} | {m['errors']} |")


def write_markdown(results: dict, path: Path) -> None:
    s, st, m = results["summary"], results["settings"], results["machine"]
    r, t = s["ratios"], s["target"]
    pk = m["packages"]
    per_round = ", ".join(f"{v:.2f}" for v in r["p99"]["per_round"])
    store = results["parity_store"]["routes"]
    counts = store[0] if store else {}
    notes = []
    for mode in MODES:
        if s["modes"][mode]["disturbed_runs"]:
            notes.append(f"{mode}: {s['modes'][mode]['disturbed_runs']} run(s) disturbed by other processes "
                         f"(kept only where no undisturbed run exists).")
    if s["disturbed"]:
        notes.append("No round had both runs undisturbed: the ratio uses every round and is less reliable.")
    if s["shadow_counters_in_legacy_runs"]:
        notes.append(f"Shadow counters moved during legacy runs: {_fmt_counters(s['shadow_counters_in_legacy_runs'])}.")
    extracted_answer = ("the same document with one price changed. Every comparison is\n  therefore a mismatch, and "
                        "the router builds, redacts and records a sample for each: the worst case"
                        if st["extracted_differs"] else "the very same bytes (every comparison a match)")
    section = f"""{SECTION_BEGIN}
<!-- Written by `make bench-shadow` (bench/bench_shadow.py): regenerated on each full run, except the
     analysis between its own markers, which is kept. Edit only there. -->

## Shadow traffic overhead (`make bench-shadow`)

Last full run: {results['generated_at']} ({results['elapsed_s']:.0f} s); router under test: {results['router_under_test']}.
Raw figures: `var/bench/shadow.json`.

**Target: p99 with the group in shadow at 100 % within 10 % of legacy, i.e. p99 ratio shadow/legacy
≤ {t['threshold']:.2f}. Measured {t['value']:.2f} (per round {per_round}): {'met' if t['met'] else 'MISSED'}.**
p50 ratio {r['p50']['median']:.2f} ({r['p50']['min']:.2f}–{r['p50']['max']:.2f}). Shadow − legacy, median of the per-round differences
({s['rounds_used']} round(s) used): p50 {s['added_ms']['p50']:+.3f} ms, p99 {s['added_ms']['p99']:+.3f} ms.

### Latency at {st['rate']:g} req/s (ms from the scheduled send time; median over rounds)

| group flag | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | router CPU / request | router core busy | errors |
|---|---|---|---|---|---|---|---|---|
{_row("legacy", s['modes']['legacy'])}
{_row("shadow, shadow_rate 1", s['modes']['shadow'])}

"Router CPU / request": the router's CPU time during a run (user + system, all its threads) divided by
the requests sent to it, warm-up included. In shadow mode it includes the mirrored request, the
comparison, the sample and the recorder thread's writes.

### The shadows really ran

Over the {st['rounds']} shadow runs ({s['shadow_requests_sent']:,} requests sent, warm-ups included), the router's
`/_strangler/metrics` counters for `{st['route']}` moved by: {_fmt_counters(s['shadow_counters'])}.
`sent` is `strangler_shadow_sent_total`, `compared:<verdict>` is `strangler_shadow_compared_total` and
`not_compared:<reason>` is `strangler_shadow_not_compared_total` (dropped over the in-flight bound,
errors, ...): none is listed when it did not move. The recorder thread wrote them all to the control
store; its parity counts for the route after the run (`GET /_strangler/api/parity`, which also counts
the 20-request pre-check and any redone run): {', '.join(f"{k} {counts.get(k, 0):,}" for k in ("match", "equivalent", "mismatch", "skipped", "dropped", "error")) if counts else "none"}.
Samples kept: {results['parity_store']['samples_kept']} (the store keeps the newest few per difference signature).

### Machine

{m['nproc']} CPUs ({m['cpu_model']}), kernel {m['kernel']}, Python {m['python']}, {m['nginx']}, uvicorn {pk['uvicorn']},
uvloop {pk['uvloop']}, httptools {pk['httptools']}, SQLAlchemy {_version('sqlalchemy')}.

### How it is run

```
make bench-shadow            # = .venv/bin/python bench/bench_shadow.py (installs wrk and nginx with apt if missing)
.venv/bin/python bench/bench_shadow.py --quick   # 1 round of 3 s, writes var/bench/shadow-quick.json only
.venv/bin/python bench/bench_shadow.py --same-body   # experiment: identical answers (every comparison a match)
.venv/bin/python bench/bench_shadow.py --transport aiohttp   # experiment: another transport
```

Everything runs on loopback and every process is stopped on exit; this run took {results['elapsed_s']:.0f} s.

- **Pinning** as in `make bench-router`: core 1 runs only the router (`python -m router --workers 1`,
  `STRANGLER_TRANSPORT={st['transport']}`, strangler.yaml, a fresh SQLite control store). Core 0 runs the two
  nginx upstreams (1 worker each), the load generator and the script.
- **Upstreams**: legacy answers `GET {st['path']}` with bench-router's fixed {st['legacy_body_bytes']}-byte JSON. The
  extracted (inventory) upstream answers {extracted_answer}.
- **Runs**: one router serves every run. Before each run the group's flag is set through the admin
  API (`POST /_strangler/api/flags`, mode `legacy`, or `shadow` with `shadow_rate` 1). Each of the
  {st['rounds']} rounds runs both modes, in alternating order. A run is `bench/bench_loadgen.py` (open loop, 16
  keep-alive connections) at {st['rate']:g} req/s: {st['warmup_s']:g} s of warm-up, then {st['duration_s']:g} s measured.
- **Ratio**: shadow/legacy within each round; the median over the rounds is compared with the target.
  Runs during which other processes took over 5 % of a core, or the generator fell behind, are redone.

### Notes from this run

{chr(10).join(f"- {n}" for n in notes) if notes else "- No run was disturbed by other processes; no errors."}

{ANALYSIS_BEGIN}
{{analysis}}
{ANALYSIS_END}
{SECTION_END}"""
    # Read just before writing: other benchmarks own other sections of the same file.
    previous = path.read_text() if path.exists() else ""
    kept = re.search(re.escape(ANALYSIS_BEGIN) + r"\n?(.*?)\n?" + re.escape(ANALYSIS_END), previous, re.S)
    analysis = kept.group(1) if kept else "### Analysis\n\n(Hand-written notes go here; `make bench-shadow` keeps them.)"
    section = section.replace("{analysis}", analysis, 1)
    replace_section(path, SECTION_BEGIN, SECTION_END, section, previous)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second, open loop (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of legacy + shadow (default 3)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run (default 10)")
    parser.add_argument("--max-wait-quiet", type=float, default=20.0,
                        help="seconds to wait for other processes to calm down before measuring (default 20)")
    parser.add_argument("--retry-budget", type=float, default=30.0,
                        help="seconds of redone (disturbed) runs at most (default 30), to keep the run bounded")
    parser.add_argument("--same-body", action="store_true",
                        help="the extracted side answers identical bytes (every comparison a match)")
    parser.add_argument("--transport", default="raw", choices=("raw", "aiohttp", "httpx"),
                        help="the router's STRANGLER_TRANSPORT (default raw; aiohttp for revisions before 048f0ce)")
    parser.add_argument("--router-ref", help="measure router/ as of this git revision instead of the work tree")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 3 s")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: rewrite the docs section from the figures already in --json")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/shadow.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.max_wait_quiet, args.retry_budget = 1, 3.0, 5.0, 0.0
        args.json = args.json.with_name("shadow-quick.json")
    elif args.same_body or args.transport != "raw":
        args.json = args.json.with_name("shadow-experiment.json")  # experiments do not replace the documented figures
    if args.render_only:
        write_markdown(json.loads(args.json.read_text()), args.markdown)
        print(f"report rewritten from {args.json}: {args.markdown}")
        return 0
    bench_router.RETRY_BUDGET = args.retry_budget  # undisturbed() reads it from bench_router's globals
    if os.cpu_count() is None or os.cpu_count() < 2:
        print("bench-shadow needs at least 2 CPUs (load generator and upstreams on one, the router on the other)",
              file=sys.stderr)
        return 2
    args.nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()  # before pinning
    os.sched_setaffinity(0, {LOAD_CORE})  # this script idles on the load generator's core, never the router's

    def terminate(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    args.workdir = Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    print(f"work dir (configs, logs, control store): {args.workdir}", flush=True)
    try:
        results = run(args)
    except (BenchError, RuntimeError, subprocess.SubprocessError, OSError) as exc:
        print(f"\nbench-shadow: {exc}\n(logs kept in {args.workdir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nbench-shadow: interrupted; every process it started has been stopped (logs in {args.workdir})",
              file=sys.stderr)
        return 130
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print_summary(results)
    print(f"\nraw figures: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    if not args.quick and not args.same_body and args.transport == "raw":
        write_markdown(results, args.markdown)
        print(f"report:      {args.markdown.relative_to(ROOT) if args.markdown.is_relative_to(ROOT) else args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
