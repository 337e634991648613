"""`make bench-router`: how much the strangler router costs, against no proxy, nginx and a naive proxy.

    .venv/bin/python bench/bench_router.py [--quick] [--rounds 3] [--duration 8]

Starts everything itself on loopback (free ports, pinned with taskset, stopped on exit even on Ctrl-C):

  core 0  the upstream, the load generator (wrk or the fixed-rate generator) and this script
  core 1  the proxy under test, alone

1. A tiny upstream (nginx answering a fixed 1 KB JSON with `return 200`), measured with wrk directly
   and through: the router (aiohttp transport), the router (httpx transport), nginx proxy_pass and a
   naive raw-ASGI + aiohttp proxy (bench/naive_aiohttp_proxy.py). Every router process runs one worker.
2. The monolith's product list (Django under gunicorn, one sync worker, SQLite small seed), directly,
   through the router and through nginx.
3. Added latency at a fixed 500 req/s (bench/bench_loadgen.py, open loop): direct vs router vs nginx.

Configurations alternate within each round (the order rotates between rounds) and each ratio is taken
within one round, then the median over rounds is reported (runs here vary by +-15 %: DESIGN.md §10).
Writes var/bench/router.json (every raw figure) and docs/benchmarks.md; prints the tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_measure import CpuWindow, WrkSettings, median, run_fixed_rate, run_wrk
from bench_processes import (
    BenchError, Processes, ensure_tools, free_port, nginx_argv, nginx_proxy_conf, nginx_upstream_conf, wait_http,
)
from bench_report import evaluate_targets, machine_info, print_tables, write_markdown

ROOT = Path(__file__).resolve().parent.parent
LOAD_CORE, UPSTREAM_CORE, PROXY_CORE = 0, 0, 1
TINY_PATH = "/api/inventory/stock/"  # a configured route (flag: legacy), so the router matches and decides
PRODUCTS_PATH = "/api/catalog/products/"
LATENCY_RATE = 500.0


def tiny_body() -> str:
    """A deterministic JSON document of about 1 KB, shaped like a DRF page."""
    items = [{"sku": f"SKU-{i:05d}", "name": f"Widget model {i}", "price": f"{9.99 + i:.2f}", "stock": 10 * i,
              "warehouse": "main"} for i in range(11)]
    return json.dumps({"count": len(items), "next": None, "previous": None, "results": items}, separators=(",", ":"))


def router_env(upstream_url: str, store: Path, transport: str, source: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRANGLER_")}
    env["PYTHONPATH"] = str(source)  # `router` imports from there, ahead of the editable install
    env.update(STRANGLER_CONFIG=str(source / "strangler.yaml"), STRANGLER_UPSTREAM_LEGACY_URL=upstream_url,
               STRANGLER_STORE_URL=f"sqlite:///{store}", STRANGLER_TRANSPORT=transport,
               STRANGLER_ENV="test")  # a local benchmark: the development identity secret is allowed
    return env


def router_source(ref: str | None, workdir: Path) -> tuple[Path, str]:
    """Where to run the router from: the work tree, or `router/` and strangler.yaml of git revision `ref` exported to workdir
    (to measure a commit while the work tree is mid-edit, or to compare two revisions)."""
    if ref is None:
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "router"],
                               capture_output=True, text=True).stdout.strip()
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return ROOT, f"work tree at {head.stdout.strip() or '?'}" + (" with uncommitted changes under router/" if dirty else "")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"], capture_output=True, text=True)
    if commit.returncode != 0:
        raise BenchError(f"--router-ref {ref}: not a git revision ({commit.stderr.strip()})")
    target = workdir / "router-src"
    target.mkdir()
    archive = subprocess.run(f"git -C {ROOT} archive {commit.stdout.strip()} router strangler.yaml | tar -x -C {target}",
                             shell=True, capture_output=True, text=True)
    if archive.returncode != 0:
        raise BenchError(f"could not export router/ at {ref}: {archive.stderr.strip()}")
    return target, f"commit {commit.stdout.strip()} ({ref})"


def prepare_monolith(var_dir: Path) -> tuple[dict[str, str], str]:
    """Migrate and seed (small) a fresh SQLite database; returns the env for gunicorn and the admin token."""
    if not (ROOT / "legacy_monolith/core/management/commands/seed.py").exists():
        raise BenchError("the monolith has no `seed` command yet (legacy_monolith/core/management/commands/seed.py)")
    env = dict(os.environ, DJANGO_ENV="development", TECHGOODS_VAR_DIR=str(var_dir))
    env.pop("DATABASE_URL", None)  # the SQLite file in var_dir, whatever the shell says
    manage = [sys.executable, str(ROOT / "manage.py")]
    for argv in (manage + ["migrate", "-v0"], manage + ["seed", "--size", "small"],
                 manage + ["shell", "-c", "from rest_framework.authtoken.models import Token;"
                                          "print('TOKEN=' + Token.objects.get(user__username='admin').key)"]):
        result = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise BenchError(f"`{' '.join(argv[1:])}` failed:\n{(result.stdout + result.stderr)[-2000:]}")
    token = re.search(r"TOKEN=([0-9a-f]{40})", result.stdout)
    if token is None:
        raise BenchError(f"no admin token in the monolith's output:\n{result.stdout[-1000:]}")
    return env, token.group(1)


def rotated(items: list, k: int) -> list:
    k %= len(items)
    return items[k:] + items[:k]


FOREIGN_LIMIT = 0.05  # CPU (in cores) other people's processes may take during a run before it is redone
RETRIES = 2
RETRY_BUDGET = 90.0  # seconds of redone runs at most, so a busy machine cannot stretch the run unboundedly
_retry_spent = 0.0


def undisturbed(measure, label: str) -> dict:
    """Run `measure()`; redo it (up to RETRIES times, after a pause) while processes this benchmark did not
    start took more than FOREIGN_LIMIT of a core meanwhile. The figures say how many attempts it took."""
    global _retry_spent
    for attempt in range(1, RETRIES + 2):
        began = time.monotonic()
        figures = measure()
        if attempt > 1:
            _retry_spent += time.monotonic() - began
        figures["attempts"] = attempt
        figures["disturbed"] = figures["foreign_cores"] > FOREIGN_LIMIT
        if not figures["disturbed"]:
            return figures
        again = attempt <= RETRIES and _retry_spent < RETRY_BUDGET
        why = (f"the load generator fell behind its schedule (p99 {figures['dispatch_late_ms']['p99']:.2f} ms late)"
               if figures.get("generator_late") else f"other processes used {figures['foreign_cores']:.0%} of a core meanwhile")
        print(f"  {label}: {why}" + ("; measuring again" if again else "; kept, marked disturbed"), flush=True)
        if not again:
            break
        time.sleep(3)
        _retry_spent += 3
    return figures


def wait_for_quiet(ours: set[int], max_wait: float) -> float:
    """Wait (up to `max_wait` s) until processes this benchmark did not start use under FOREIGN_LIMIT of a
    core; returns the last reading. A shared machine (CI, another session's tests) would skew everything."""
    deadline = time.monotonic() + max_wait
    while True:
        with CpuWindow(None, ours) as cpu:
            time.sleep(2)
        if cpu.foreign_cores <= FOREIGN_LIMIT or time.monotonic() >= deadline:
            if cpu.foreign_cores > FOREIGN_LIMIT:
                print(f"  the machine is still busy (other processes use {cpu.foreign_cores:.0%} of a core); "
                      "measuring anyway, disturbed runs are retried and marked", flush=True)
            return cpu.foreign_cores
        print(f"  other processes use {cpu.foreign_cores:.0%} of a core; waiting for a quieter machine ...", flush=True)
        time.sleep(3)


def throughput_rounds(wrk: str, settings: WrkSettings, configs: dict[str, tuple[str, int | None]],
                      headers: list[str], rounds: int, warmup: float, label: str, ours: set[int]) -> list[dict[str, dict]]:
    """`rounds` rounds of wrk over every configuration (rotating order); a short warm-up run first."""
    names = list(configs)
    for name in names:
        url, pgid = configs[name]
        run_wrk(wrk, settings, url, headers, pgid, ours, duration=warmup)
    results = []
    for r in range(rounds):
        this_round = {}
        for name in rotated(names, r):
            url, pgid = configs[name]
            tag = f"{label} round {r + 1}/{rounds}  {name:<14}"
            figures = undisturbed(lambda: run_wrk(wrk, settings, url, headers, pgid, ours), tag.strip())
            this_round[name] = figures
            print(f"  {tag} {figures['requests_per_s']:>10.1f} req/s"
                  f"  core0 {figures['core_busy'].get(0, 0):.0%} core1 {figures['core_busy'].get(1, 0):.0%}"
                  + (f"  {figures['proxy_cpu_us_per_request']} us CPU/req" if figures["proxy_cpu_us_per_request"] else ""),
                  flush=True)
        results.append(this_round)
    return results


GENERATOR_LATE_LIMIT_MS = 0.5


def late_means_disturbed(figures: dict) -> dict:
    """The generator fires within ~0.1 ms on a quiet core 0; when its p99 lateness is worse, something
    else held the core (often short-lived processes the CPU accounting cannot see): redo the run."""
    if figures["dispatch_late_ms"]["p99"] > GENERATOR_LATE_LIMIT_MS:
        figures["foreign_cores"] = max(figures["foreign_cores"], FOREIGN_LIMIT + 0.001)
        figures["generator_late"] = True
    return figures


def latency_rounds(configs: dict[str, tuple[str, int | None]], rounds: int, duration: float, warmup: float,
                   ours: set[int]) -> list[dict]:
    names = list(configs)
    results = []
    for r in range(rounds):
        this_round = {}
        for name in rotated(names, r):
            url, pgid = configs[name]
            tag = f"latency round {r + 1}/{rounds}  {name:<8}"
            figures = undisturbed(lambda: late_means_disturbed(
                run_fixed_rate(url, LATENCY_RATE, duration, warmup, LOAD_CORE, [], pgid, ours)), tag.strip())
            this_round[name] = figures
            lat = figures["latency_ms"]
            print(f"  {tag} p50 {lat['p50']:.3f} ms  p99 {lat['p99']:.3f} ms"
                  f"  ({figures['completed']} requests, {figures['errors']} errors,"
                  f" generator late p99 {figures['dispatch_late_ms']['p99']:.3f} ms)", flush=True)
        results.append(this_round)
    return results


def clean(runs: list[dict]) -> list[dict]:
    """The runs no other process disturbed, or all of them when every one was disturbed."""
    undisturbed_runs = [r for r in runs if not r["disturbed"]]
    return undisturbed_runs or runs


def summarise(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """Per configuration: median req/s (over its undisturbed runs when there are any) and what went wrong."""
    out = {}
    for name in rounds[0]:
        runs = [r[name] for r in rounds]
        kept = clean(runs)
        rates = [r["requests_per_s"] for r in kept]
        out[name] = {"median": median(rates), "min": min(rates), "max": max(rates),
                     "runs": [r["requests_per_s"] for r in runs],
                     "proxy_cpu_us_per_request": median([r["proxy_cpu_us_per_request"] for r in kept]),
                     "errors": sum(r["non_2xx_3xx"] + sum(r["socket_errors"].values()) for r in runs),
                     "disturbed_runs": sum(r["disturbed"] for r in runs), "runs_used": len(kept)}
    return out


def _same_round(rounds: list[dict], a: str, b: str) -> tuple[list[dict], bool]:
    """The rounds where neither a nor b was disturbed (all rounds, flagged, when there is none)."""
    both = [r for r in rounds if not r[a]["disturbed"] and not r[b]["disturbed"]]
    return (both, False) if both else (rounds, True)


def ratio(rounds: list[dict[str, dict]], a: str, b: str) -> dict:
    """a/b within each round; the median of those is the figure compared with a target."""
    used, disturbed = _same_round(rounds, a, b)
    per_round = [r[a]["requests_per_s"] / r[b]["requests_per_s"] for r in used]
    out = {"median": median(per_round), "min": min(per_round), "max": max(per_round), "per_round": per_round,
           "rounds_used": len(used), "disturbed": disturbed}
    # Cross-check that other jobs on the machine hardly move: when both sides saturate their core, the
    # throughput ratio is the inverse ratio of CPU time per request (from all rounds).
    cpu_a = median([r[a]["proxy_cpu_us_per_request"] for r in rounds])
    cpu_b = median([r[b]["proxy_cpu_us_per_request"] for r in rounds])
    if cpu_a and cpu_b:
        out["cpu_capacity_ratio"] = cpu_b / cpu_a
    return out


def latency_summary(rounds: list[dict]) -> dict:
    names = list(rounds[0])
    out = {}
    for name in names:
        runs = [r[name] for r in rounds]
        kept = clean(runs)
        out[name] = {q: median([r["latency_ms"][q] for r in kept]) for q in ("p50", "p90", "p99", "p999", "max")}
        out[name].update(errors=sum(r["errors"] + r["non_2xx_3xx"] for r in runs),
                         generator_late_p99_ms=median([r["dispatch_late_ms"]["p99"] for r in kept]),
                         disturbed_runs=sum(r["disturbed"] for r in runs), runs_used=len(kept))
    for other in ("router", "nginx"):
        if other in names:
            used, disturbed = _same_round(rounds, other, "direct")
            added = {q: median([r[other]["latency_ms"][q] - r["direct"]["latency_ms"][q] for r in used])
                     for q in ("p50", "p99")}
            out[f"added_{other}"] = {**added, "rounds_used": len(used), "disturbed": disturbed}
    return out


def run(args) -> dict:
    tools = ensure_tools()
    wrk, nginx = tools["wrk"], tools["nginx"]
    settings = WrkSettings(threads=1, connections=args.connections, duration=args.duration, core=LOAD_CORE)
    workdir = args.workdir
    body = tiny_body()
    ports = {name: free_port() for name in (
        "upstream", "router", "router_aiohttp", "router_httpx", "nginx", "naive", "gunicorn", "router_mono", "nginx_mono")}
    py = sys.executable
    started = time.monotonic()
    source, source_label = router_source(args.router_ref, workdir)
    print(f"router under test: {source_label}", flush=True)

    with Processes(workdir) as procs:
        # The upstreams first (core 0), then every proxy (core 1); all stay up for the whole run.
        conf = nginx_upstream_conf(workdir, ports["upstream"], body)
        upstream, up_log = procs.start("nginx-upstream", nginx_argv(nginx, conf, workdir), UPSTREAM_CORE)
        print("seeding the monolith (small) ...", flush=True)
        mono_env, token = prepare_monolith(workdir / "monolith")
        gunicorn_bin = str(Path(py).parent / "gunicorn")
        gunicorn, gun_log = procs.start("gunicorn", [gunicorn_bin, "legacy_monolith.wsgi:application", "--bind",
                                                     f"127.0.0.1:{ports['gunicorn']}", "--workers", "1"],
                                        UPSTREAM_CORE, env=mono_env, cwd=ROOT)
        up_url = f"http://127.0.0.1:{ports['upstream']}"
        mono_url = f"http://127.0.0.1:{ports['gunicorn']}"
        routers = {
            "router": ("raw", up_url, ports["router"]),
            "router_aiohttp": ("aiohttp", up_url, ports["router_aiohttp"]),
            "router_httpx": ("httpx", up_url, ports["router_httpx"]),
            "router_mono": ("raw", mono_url, ports["router_mono"]),
        }
        handles = {"direct": upstream, "gunicorn": gunicorn}
        logs = {"direct": up_log, "gunicorn": gun_log}
        for name, (transport, target, port) in routers.items():
            handles[name], logs[name] = procs.start(
                name, [py, "-m", "router", "--port", str(port), "--workers", "1", "--log-level", "warning"], PROXY_CORE,
                env=router_env(target, workdir / f"control-{name}.sqlite3", transport, source), cwd=source)
        proxy_conf = nginx_proxy_conf(workdir, {ports["nginx"]: ports["upstream"], ports["nginx_mono"]: ports["gunicorn"]})
        handles["nginx"], logs["nginx"] = procs.start("nginx-proxy", nginx_argv(nginx, proxy_conf, workdir), PROXY_CORE)
        handles["naive"], logs["naive"] = procs.start(
            "naive", [py, str(Path(__file__).parent / "naive_aiohttp_proxy.py"), "--port", str(ports["naive"]),
                      "--upstream", up_url], PROXY_CORE, cwd=ROOT)

        tiny = {
            "direct": (f"{up_url}{TINY_PATH}", None),
            "router": (f"http://127.0.0.1:{ports['router']}{TINY_PATH}", handles["router"].pid),
            "router_aiohttp": (f"http://127.0.0.1:{ports['router_aiohttp']}{TINY_PATH}", handles["router_aiohttp"].pid),
            "router_httpx": (f"http://127.0.0.1:{ports['router_httpx']}{TINY_PATH}", handles["router_httpx"].pid),
            "nginx": (f"http://127.0.0.1:{ports['nginx']}{TINY_PATH}", handles["nginx"].pid),
            "naive_aiohttp": (f"http://127.0.0.1:{ports['naive']}{TINY_PATH}", handles["naive"].pid),
        }
        auth = [f"Authorization: Token {token}"]
        mono = {
            "direct": (f"{mono_url}{PRODUCTS_PATH}", None),
            "router": (f"http://127.0.0.1:{ports['router_mono']}{PRODUCTS_PATH}", handles["router_mono"].pid),
            "nginx": (f"http://127.0.0.1:{ports['nginx_mono']}{PRODUCTS_PATH}", handles["nginx"].pid),
        }
        # Every configuration must answer 200 with the same body before anything is timed.
        owner = {"direct": "direct", "router": "router", "router_aiohttp": "router_aiohttp", "router_httpx": "router_httpx", "nginx": "nginx",
                 "naive_aiohttp": "naive"}
        for name, (url, _) in tiny.items():
            got = wait_http(url, 30, proc=handles[owner[name]], log=logs[owner[name]])
            if got.decode() != body:
                raise BenchError(f"{name}: unexpected body from {url}: {got[:200]!r}")
        mono_owner = {"direct": "gunicorn", "router": "router_mono", "nginx": "nginx"}
        bodies = {name: wait_http(url, 60, headers={"Authorization": f"Token {token}"}, proc=handles[mono_owner[name]],
                                  log=logs[mono_owner[name]]) for name, (url, _) in mono.items()}
        # DRF's `next` link carries the Host the client used, which is each configuration's own port.
        if len({re.sub(rb"127\.0\.0\.1:\d+", b"HOST", b) for b in bodies.values()}) != 1:
            raise BenchError("the product list differs between direct, router and nginx")
        print(f"all configurations answer (product list page: {len(bodies['direct'])} bytes); "
              f"setup took {time.monotonic() - started:.0f} s", flush=True)

        print(f"\n[1/3] tiny upstream: wrk -t1 -c{settings.connections} -d{settings.duration:g}s, {args.rounds} rounds",
              flush=True)
        ours = procs.process_groups() | {os.getpgrp()}
        foreign_at_start = wait_for_quiet(ours, args.max_wait_quiet)
        tiny_rounds = throughput_rounds(wrk, settings, tiny, [], args.rounds, args.warmup, "tiny", ours)
        print(f"\n[2/3] monolith product list: wrk -t1 -c{settings.connections} -d{settings.duration:g}s", flush=True)
        mono_rounds = throughput_rounds(wrk, settings, mono, auth, args.rounds, args.warmup, "monolith", ours)
        print(f"\n[3/3] added latency at {LATENCY_RATE:g} req/s, {args.latency_duration:g} s per run", flush=True)
        lat_configs = {k: tiny[k] for k in ("direct", "router", "nginx")}
        lat_rounds = latency_rounds(lat_configs, args.latency_rounds, args.latency_duration, 1.0, ours)

    results = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started, 1),
        "machine": machine_info(nginx, wrk, args.nproc),
        "router_under_test": source_label,
        "settings": {
            "pinning": {"load_generator": LOAD_CORE, "upstream": UPSTREAM_CORE, "proxy_under_test": PROXY_CORE},
            "wrk": {"threads": settings.threads, "connections": settings.connections, "duration_s": settings.duration,
                    "warmup_s": args.warmup, "rounds": args.rounds},
            "latency": {"rate": LATENCY_RATE, "duration_s": args.latency_duration, "warmup_s": 1.0,
                        "rounds": args.latency_rounds, "connections": 16},
            "foreign_cores_at_start": foreign_at_start, "foreign_limit": FOREIGN_LIMIT,
            "tiny_path": TINY_PATH, "tiny_body_bytes": len(body), "products_path": PRODUCTS_PATH,
            "products_body_bytes": len(bodies["direct"]), "quick": args.quick,
        },
        "tiny": {"rounds": tiny_rounds, "summary": summarise(tiny_rounds), "ratios": {
            "router/naive_aiohttp": ratio(tiny_rounds, "router", "naive_aiohttp"),
            "router/nginx": ratio(tiny_rounds, "router", "nginx"),
            "router/direct": ratio(tiny_rounds, "router", "direct"),
            "router_httpx/router": ratio(tiny_rounds, "router_httpx", "router"),
            "router_aiohttp/router": ratio(tiny_rounds, "router_aiohttp", "router"),
            "nginx/direct": ratio(tiny_rounds, "nginx", "direct"),
            "naive_aiohttp/nginx": ratio(tiny_rounds, "naive_aiohttp", "nginx"),
        }},
        "monolith": {"rounds": mono_rounds, "summary": summarise(mono_rounds), "ratios": {
            "router/direct": ratio(mono_rounds, "router", "direct"),
            "nginx/direct": ratio(mono_rounds, "nginx", "direct"),
        }},
        "latency": {"rounds": lat_rounds, "summary": latency_summary(lat_rounds)},
    }
    results["targets"] = evaluate_targets(results)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per configuration (default 3)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk warm-up per configuration")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--latency-duration", type=float, default=5.0, help="measured seconds per fixed-rate run")
    parser.add_argument("--latency-rounds", type=int, default=2, help="fixed-rate rounds (default 2)")
    parser.add_argument("--max-wait-quiet", type=float, default=120.0,
                        help="seconds to wait for other processes to calm down before measuring (default 120)")
    parser.add_argument("--router-ref", help="measure router/ as of this git revision instead of the work tree")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 2 s; does not touch docs/")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/router.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup, args.latency_duration, args.latency_rounds = 1, 2.0, 0.5, 2.0, 1
        args.json = args.json.with_name("router-quick.json")
    if os.cpu_count() is None or os.cpu_count() < 2:
        print("bench-router needs at least 2 CPUs (load generator and upstream on one, the proxy on the other)",
              file=sys.stderr)
        return 2
    args.nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()  # before pinning
    os.sched_setaffinity(0, {LOAD_CORE})  # this script idles on the load generator's core, never the proxy's

    def terminate(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    args.workdir = Path(tempfile.mkdtemp(prefix="bench-router-"))
    print(f"work dir (configs, logs, databases): {args.workdir}", flush=True)
    try:
        results = run(args)
    except (BenchError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"\nbench-router: {exc}\n(logs kept in {args.workdir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nbench-router: interrupted; every process it started has been stopped (logs in {args.workdir})",
              file=sys.stderr)
        return 130
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print_tables(results)
    print(f"\nraw figures: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    if not args.quick:
        write_markdown(results, args.markdown)
        print(f"report:      {args.markdown.relative_to(ROOT) if args.markdown.is_relative_to(ROOT) else args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
