"""`make bench-inventory`: the extracted inventory service against the monolith, and the sync's speed.

    .venv/bin/python bench/bench_inventory.py [--quick] [--rounds 3] [--duration 8] [--skip-large]

Starts everything itself on loopback (free ports, pinned with taskset, stopped on exit even on Ctrl-C):

  core 0  wrk, the writer and this script
  core 1  the server under test, alone (gunicorn with one sync worker, or uvicorn with one worker)

1. Throughput of the stock list (first page, 25 rows) and a stock detail (one SKU over its warehouses):
   the monolith (Django + DRF under gunicorn, one sync worker, `Authorization: Token` of the seeded
   admin) against the service (FastAPI under uvicorn, one worker, a signed identity header for the
   same admin, as the router would forward it), same small seed copied by the real backfill, SQLite
   files on both sides. Configurations alternate within each round; ratios are taken within a round
   and the median over rounds is compared with the target (>= 2x).
2. Relay lag at a fixed 200 writes/s: a writer updates the monolith's stock rows through plain SQL (the
   capture triggers record each change in the outbox, as for any ORM write), the forward relay
   (`strangler sync run inventory --direction forward`, its own process) applies them to the service's
   database, and a watcher polling the service's database every millisecond notes when each change
   lands. Lag = landed - committed, per write; p50/p99/max over the run (target p99 <= 1 s).
3. Backfill rows/s on the large seed (200 000 orders; skipped with --skip-large): `strangler sync
   backfill inventory` into a fresh service database, rows copied / wall time (target >= 50 000/s).

Writes var/bench/inventory.json and its section of docs/benchmarks.md; prints the tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_measure import WrkSettings, median, run_wrk
from bench_processes import BenchError, Processes, ensure_tools, free_port, wait_http
from bench_report import machine_info, replace_section
from bench_router import prepare_monolith

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LOAD_CORE, SERVER_CORE = 0, 1
LIST_PATH = "/api/inventory/stock/"
TARGET_RATIO, TARGET_LAG_P99, TARGET_BACKFILL = 2.0, 1.0, 50_000
WRITE_RATE = 200.0
BEGIN, END = "<!-- bench-inventory:begin -->", "<!-- bench-inventory:end -->"
DEV_IDENTITY_SECRET = b"strangler-dev-identity-secret-not-for-production"


def strangler(*args: str, env: dict[str, str], timeout: float = 1800) -> str:
    result = subprocess.run([str(ROOT / ".venv/bin/strangler"), *args], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise BenchError(f"`strangler {' '.join(args)}` failed ({result.returncode}):\n{(result.stdout + result.stderr)[-2000:]}")
    return result.stdout + result.stderr


def service_env(monolith_env: dict[str, str], legacy_db: Path, service_db: Path) -> dict[str, str]:
    env = dict(monolith_env, INVENTORY_ENVIRONMENT="development",
               INVENTORY_DATABASE_URL=f"sqlite:///{service_db}", INVENTORY_LEGACY_DATABASE_URL=f"sqlite:///{legacy_db}")
    env.pop("DATABASE_URL", None)
    return env


def admin_identity(legacy_db: Path) -> tuple[int, str]:
    with sqlite3.connect(legacy_db) as db:
        user_id = db.execute("SELECT id FROM auth_user WHERE username = 'admin'").fetchone()[0]
        sku = db.execute("SELECT p.sku FROM catalog_product p JOIN inventory_stockitem s ON s.product_id = p.id "
                         "GROUP BY p.sku ORDER BY count(*) DESC, p.sku LIMIT 1").fetchone()[0]
    return user_id, sku


def identity_header(user_id: int, path: str) -> str:
    from router.identity import sign_identity

    value = sign_identity(DEV_IDENTITY_SECRET, user_id=user_id, username="admin", is_staff=True, customer_id=None,
                          method="GET", target=path)
    return f"X-Strangler-Identity: {value}"


# -- 1. throughput ----------------------------------------------------------------------------------------

def throughput(args, procs: Processes, wrk: str, monolith_env: dict, token: str, env: dict, legacy_db: Path) -> dict:
    user_id, sku = admin_identity(legacy_db)
    legacy_port, service_port = free_port(), free_port()
    procs.start("monolith", [str(ROOT / ".venv/bin/gunicorn"), "legacy_monolith.wsgi:application", "--bind",
                             f"127.0.0.1:{legacy_port}", "--workers", "1", "--log-level", "warning"],
                SERVER_CORE, env=monolith_env, cwd=ROOT)
    procs.start("service", [sys.executable, "-m", "extracted.inventory", "--port", str(service_port), "--workers", "1"],
                SERVER_CORE, env=env, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{legacy_port}{LIST_PATH}", 60, headers={"Authorization": f"Token {token}"})
    wait_http(f"http://127.0.0.1:{service_port}/health", 60)
    settings = WrkSettings(threads=1, connections=args.connections, duration=args.duration, core=LOAD_CORE)
    ours = procs.process_groups() | {os.getpid()}
    pgids = {name: proc.pid for name, proc, _ in procs.children}
    endpoints = {"stock list": LIST_PATH, "stock detail": f"/api/inventory/stock/{sku}/"}
    results: dict[str, list[dict]] = {}
    for label, path in endpoints.items():
        rounds = []
        for r in range(args.rounds):
            figures = {}
            order = ["monolith", "service"] if r % 2 == 0 else ["service", "monolith"]
            for side in order:
                port = legacy_port if side == "monolith" else service_port
                # Signed just before the run: the header is valid for 30 s and bound to this path.
                headers = [f"Authorization: Token {token}"] if side == "monolith" else [identity_header(user_id, path)]
                url = f"http://127.0.0.1:{port}{path}"
                if r == 0:
                    run_wrk(wrk, settings, url, headers, pgids[side], ours, duration=1)
                figures[side] = run_wrk(wrk, settings, url, headers, pgids[side], ours)
                bad = figures[side]["non_2xx_3xx"] + sum(figures[side]["socket_errors"].values())
                if bad:
                    raise BenchError(f"{side} {path}: {bad} failed responses in the run: {figures[side]}")
                print(f"  {label:<13} round {r + 1}/{args.rounds} {side:<9} {figures[side]['requests_per_s']:>9.1f} req/s",
                      flush=True)
            figures["ratio"] = figures["service"]["requests_per_s"] / figures["monolith"]["requests_per_s"]
            rounds.append(figures)
        results[label] = rounds
    procs.stop_all()
    return {label: {"monolith_rps": median([r["monolith"]["requests_per_s"] for r in rounds]),
                    "service_rps": median([r["service"]["requests_per_s"] for r in rounds]),
                    "ratio": median([r["ratio"] for r in rounds]),
                    "ratios": [round(r["ratio"], 3) for r in rounds],
                    "path": endpoints[label]}
            for label, rounds in results.items()}


# -- 2. relay lag -------------------------------------------------------------------------------------------

def relay_lag(args, procs: Processes, env: dict, legacy_db: Path, service_db: Path) -> dict:
    procs.start("relay", [str(ROOT / ".venv/bin/strangler"), "sync", "run", "inventory", "--direction", "forward"],
                SERVER_CORE, env=env, cwd=ROOT)
    with sqlite3.connect(legacy_db) as db:
        item_id, level = db.execute("SELECT id, reorder_level FROM inventory_stockitem ORDER BY id LIMIT 1").fetchone()
    total = int(WRITE_RATE * args.lag_duration)
    committed: dict[int, float] = {}
    landed: dict[int, float] = {}
    stop = threading.Event()

    def watch() -> None:
        # reorder_level is copied as state: value base+i on the service means write i has landed.
        service = sqlite3.connect(service_db, timeout=5)
        seen = level
        while not stop.is_set():
            row = service.execute("SELECT reorder_level FROM stock_items WHERE id = ?", (item_id,)).fetchone()
            now = time.perf_counter()
            if row and row[0] > seen:
                for value in range(seen + 1, row[0] + 1):
                    landed.setdefault(value - level, now)
                seen = row[0]
            time.sleep(0.001)
        service.close()

    watcher = threading.Thread(target=watch, daemon=True)
    writer = sqlite3.connect(legacy_db, timeout=5, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    time.sleep(1.5)  # the relay starts and catches up
    watcher.start()
    start = time.perf_counter()
    for i in range(1, total + 1):
        due = start + (i - 1) / WRITE_RATE
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        writer.execute("UPDATE inventory_stockitem SET reorder_level = ? WHERE id = ?", (level + i, item_id))
        committed[i] = time.perf_counter()
    elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 10
    while len(landed) < total and time.perf_counter() < deadline:
        time.sleep(0.01)
    stop.set()
    watcher.join(5)
    writer.execute("UPDATE inventory_stockitem SET reorder_level = ? WHERE id = ?", (level, item_id))
    writer.close()
    procs.stop_all()
    lags = sorted(landed[i] - committed[i] for i in committed if i in landed)
    if len(lags) < total:
        raise BenchError(f"only {len(lags)} of {total} writes reached the service within 10 s after the run")

    def pct(q: float) -> float:
        return lags[min(len(lags) - 1, int(q / 100 * len(lags)))]

    return {"writes": total, "achieved_rate": round(total / elapsed, 1), "p50_ms": round(pct(50) * 1000, 1),
            "p99_ms": round(pct(99) * 1000, 1), "max_ms": round(lags[-1] * 1000, 1)}


# -- 3. backfill on the large seed -----------------------------------------------------------------------------

def backfill_large(workdir: Path) -> dict:
    var = workdir / "large"
    var.mkdir()
    env = dict(os.environ, DJANGO_ENV="development", TECHGOODS_VAR_DIR=str(var))
    env.pop("DATABASE_URL", None)
    for argv in (["migrate", "-v0"], ["seed", "--size", "large", "--no-progress"]):
        subprocess.run([sys.executable, str(ROOT / "manage.py"), *argv], env=env, cwd=ROOT, check=True, timeout=900,
                       capture_output=True)
    legacy_db, service_db = var / "legacy.sqlite3", var / "inventory.sqlite3"
    senv = service_env(env, legacy_db, service_db)
    subprocess.run([sys.executable, "-m", "extracted.inventory.migrate"], env=senv, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    began = time.perf_counter()
    output = strangler("sync", "backfill", "inventory", env=senv)
    seconds = time.perf_counter() - began
    with sqlite3.connect(service_db) as db:
        rows = sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                   for t in ("categories", "products", "warehouses", "stock_items", "adjustments", "reservations", "movements"))
    reported = re.search(r"([0-9][0-9,]*) rows/s", output)
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds),
            "cli_reported": reported.group(0) if reported else None}


# -- report -------------------------------------------------------------------------------------------------

def write_markdown(results: dict, path: Path) -> None:
    lines = [BEGIN, "<!-- Written by `make bench-inventory` (bench/bench_inventory.py); regenerated on each run. -->", "",
             "## Inventory service and sync (`make bench-inventory`)", "",
             f"Last run: {results['when']} ({results['seconds']:.0f} s). Raw figures: `var/bench/inventory.json`.", "",
             "| target | measured | result |", "|---|---|---|"]
    for label, t in results["throughput"].items():
        met = "met" if t["ratio"] >= TARGET_RATIO else "**missed**"
        lines.append(f"| {label}: service ≥ {TARGET_RATIO:g}× the monolith (one worker each) | "
                     f"{t['ratio']:.2f}× median (rounds {', '.join(f'{r:.2f}' for r in t['ratios'])}); "
                     f"{t['service_rps']:.0f} vs {t['monolith_rps']:.0f} req/s | {met} |")
    lag = results["relay_lag"]
    lines.append(f"| relay lag p99 ≤ {TARGET_LAG_P99:g} s at {WRITE_RATE:g} writes/s | p99 {lag['p99_ms']} ms "
                 f"(p50 {lag['p50_ms']} ms, max {lag['max_ms']} ms, {lag['writes']} writes at {lag['achieved_rate']}/s) | "
                 f"{'met' if lag['p99_ms'] <= TARGET_LAG_P99 * 1000 else '**missed**'} |")
    large = results.get("backfill_large")
    if large:
        lines.append(f"| backfill ≥ {TARGET_BACKFILL:,} rows/s on the large seed | {large['rows_per_s']:,} rows/s "
                     f"({large['rows']:,} rows in {large['seconds']} s, SQLite to SQLite) | "
                     f"{'met' if large['rows_per_s'] >= TARGET_BACKFILL else '**missed**'} |")
    else:
        lines.append(f"| backfill ≥ {TARGET_BACKFILL:,} rows/s on the large seed | not run (--skip-large) | — |")
    info = results["machine"]
    lines += ["", f"Machine: {info['nproc']} CPUs ({info['cpu_model']}), kernel {info['kernel']}, Python {info['python']}. "
              "The server under test runs alone on core 1, wrk (1 thread, "
              f"{results['connections']} connections, {results['duration']:g} s runs) and the writer on core 0. "
              "Both sides read the same small seed from SQLite files (the service's copied by the real backfill).",
              "", END]
    replace_section(path, BEGIN, END, "\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--lag-duration", type=float, default=20.0)
    parser.add_argument("--skip-large", action="store_true", help="leave out the large-seed backfill (about 3 minutes)")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s, 5 s of writes, no large seed")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.lag_duration, args.skip_large = 1, 3.0, 5.0, True
    tools = ensure_tools()
    began = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-inventory-") as tmp:
        workdir = Path(tmp)
        monolith_env, token = prepare_monolith(workdir)
        legacy_db, service_db = workdir / "legacy.sqlite3", workdir / "inventory.sqlite3"
        env = service_env(monolith_env, legacy_db, service_db)
        subprocess.run([sys.executable, "-m", "extracted.inventory.migrate"], env=env, cwd=ROOT, check=True,
                       capture_output=True, timeout=120)
        strangler("sync", "backfill", "inventory", env=env)
        with Processes(workdir) as procs:
            print("throughput (wrk):", flush=True)
            results = {"throughput": throughput(args, procs, tools["wrk"], monolith_env, token, env, legacy_db)}
            print("relay lag at 200 writes/s:", flush=True)
            results["relay_lag"] = relay_lag(args, procs, env, legacy_db, service_db)
            print(f"  {results['relay_lag']}", flush=True)
        if not args.skip_large:
            print("backfill of the large seed:", flush=True)
            results["backfill_large"] = backfill_large(workdir)
            print(f"  {results['backfill_large']}", flush=True)
    results.update(when=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), seconds=time.time() - began,
                   machine=machine_info(tools["nginx"], tools["wrk"], str(os.cpu_count())), connections=args.connections,
                   duration=args.duration)
    out = ROOT / "var/bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "inventory.json").write_text(json.dumps(results, indent=2, default=str))
    if not args.quick:
        write_markdown(results, ROOT / "docs/benchmarks.md")
    for label, t in results["throughput"].items():
        print(f"{label}: service {t['service_rps']:.0f} req/s, monolith {t['monolith_rps']:.0f} req/s, ratio {t['ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
