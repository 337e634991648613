"""Results of `make bench-router` for people: the targets, the tables, docs/benchmarks.md.

In docs/benchmarks.md this owns only the section between the `bench-router:begin` / `bench-router:end`
markers (other benchmarks keep their own sections in the same file), and inside it carries the
hand-written analysis between `bench-router-analysis:begin` / `:end` over from run to run.
"""

from __future__ import annotations

import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION_BEGIN, SECTION_END = "<!-- bench-router:begin -->", "<!-- bench-router:end -->"
BEGIN, END = "<!-- bench-router-analysis:begin -->", "<!-- bench-router-analysis:end -->"

# (key, what, how it is computed, comparison, threshold, unit)
TARGETS = [
    ("router_vs_naive", "router ≥ 1.2× the naive aiohttp proxy", "tiny upstream, router/naive per round", ">=", 1.2, "×"),
    ("router_vs_nginx", "router ≥ 0.25× nginx", "tiny upstream, router/nginx per round", ">=", 0.25, "×"),
    ("monolith_router_vs_direct", "in front of the monolith, router ≥ 0.90× direct",
     "product list, router/direct per round", ">=", 0.90, "×"),
    ("added_p50", "added latency at 500 req/s, p50 ≤ 0.3 ms", "p50(router) − p50(direct) per round", "<=", 0.3, " ms"),
    ("added_p99", "added latency at 500 req/s, p99 ≤ 1 ms", "p99(router) − p99(direct) per round", "<=", 1.0, " ms"),
]

LABELS = {
    "direct": "direct (no proxy)", "router": "router, raw transport (default)", "router_aiohttp": "router, aiohttp transport",
    "router_httpx": "router, httpx transport",
    "nginx": "nginx proxy_pass", "naive_aiohttp": "naive ASGI + aiohttp proxy",
}


def _run(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (result.stdout + result.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(nginx: str, wrk: str, nproc: str) -> dict:
    model = re.search(r"^Model name:\s*(.+)$", _run(["lscpu"]), re.M)
    versions = {}
    for dist in ("uvicorn", "uvloop", "httptools", "aiohttp", "httpx", "httpcore", "sniffio", "django", "gunicorn"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": nproc, "cpu_model": model.group(1).strip() if model else platform.processor(),
        "kernel": platform.release(), "python": platform.python_version(),
        "nginx": _run([nginx, "-v"]).replace("nginx version: ", ""),
        "wrk": (_run([wrk, "-v"]).splitlines() or [""])[0].split(" Copyright")[0],
        "packages": versions,
    }


def evaluate_targets(results: dict) -> dict:
    lat = results["latency"]["summary"]
    measured = {
        "router_vs_naive": results["tiny"]["ratios"]["router/naive_aiohttp"],
        "router_vs_nginx": results["tiny"]["ratios"]["router/nginx"],
        "monolith_router_vs_direct": results["monolith"]["ratios"]["router/direct"],
        "added_p50": {"median": lat["added_router"]["p50"], "disturbed": lat["added_router"]["disturbed"]},
        "added_p99": {"median": lat["added_router"]["p99"], "disturbed": lat["added_router"]["disturbed"]},
    }
    out = {}
    for key, what, how, op, threshold, unit in TARGETS:
        value = measured[key]["median"]
        met = value >= threshold if op == ">=" else value <= threshold
        out[key] = {"target": what, "how": how, "threshold": threshold, "op": op, "unit": unit.strip() or "x",
                    "value": value, "range": [measured[key].get("min"), measured[key].get("max")], "met": met,
                    "disturbed": measured[key].get("disturbed", False),
                    "cpu_capacity_ratio": measured[key].get("cpu_capacity_ratio")}
    return out


def _fmt_ratio(r: dict) -> str:
    if r.get("min") is None or r["min"] == r["max"]:
        return f"{r['median']:.2f}"
    return f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f})"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _throughput_table(section: dict) -> str:
    summary, rounds = section["summary"], section["rounds"]
    direct = summary["direct"]["median"]
    rows = []
    for name, s in summary.items():
        busy = [r[name]["core_busy"] for r in rounds]
        core0 = sorted(b.get("0", b.get(0, 0)) for b in busy)[len(busy) // 2]
        core1 = sorted(b.get("1", b.get(1, 0)) for b in busy)[len(busy) // 2]
        cpu = s["proxy_cpu_us_per_request"]
        rows.append([LABELS.get(name, name), f"{s['median']:,.0f}", f"{s['min']:,.0f}–{s['max']:,.0f}",
                     f"{s['median'] / direct:.2f}", f"{cpu:.0f} µs" if cpu else "–", f"{core0:.0%} / {core1:.0%}",
                     str(s["errors"])])
    return _table(["configuration", "req/s (median)", "range", "÷ direct", "proxy CPU / request",
                   "busy core 0 / core 1", "errors"], rows)


def _latency_table(summary: dict) -> str:
    rows = []
    for name in ("direct", "router", "nginx"):
        if name in summary:
            s = summary[name]
            rows.append([LABELS[name]] + [f"{s[q]:.3f}" for q in ("p50", "p90", "p99", "p999", "max")] + [str(s["errors"])])
    return _table(["configuration", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors"], rows)


def _targets_table(targets: dict) -> str:
    rows = []
    for t in targets.values():
        unit = "×" if t["unit"] == "x" else f" {t['unit']}"
        value = f"{t['value']:.2f}{unit}" if t["unit"] == "x" else f"{t['value']:.3f}{unit}"
        if t["range"][0] is not None and t["range"][0] != t["range"][1]:
            value += f" ({t['range'][0]:.2f}–{t['range'][1]:.2f})"
        if t.get("cpu_capacity_ratio"):
            value += f"; by CPU/request {t['cpu_capacity_ratio']:.2f}×"
        verdict = "met" if t["met"] else "**missed**"
        if t.get("disturbed"):
            verdict += " (machine busy: no undisturbed round)"
        rows.append([t["target"], t["how"], value, verdict])
    return _table(["target", "measured as", "median (range over rounds)", "result"], rows)


def print_tables(results: dict) -> None:
    print("\n== targets (ratios within one round, median over rounds) ==")
    print(_targets_table(results["targets"]))
    print("\n== tiny upstream, 1 KB JSON ==")
    print(_throughput_table(results["tiny"]))
    print("\n== monolith product list ==")
    print(_throughput_table(results["monolith"]))
    print(f"\n== latency at {results['settings']['latency']['rate']:g} req/s (ms, from the scheduled send time) ==")
    print(_latency_table(results["latency"]["summary"]))
    added = results["latency"]["summary"]["added_router"]
    print(f"added by the router: p50 {added['p50']:+.3f} ms, p99 {added['p99']:+.3f} ms")


def _notes(results: dict) -> list[str]:
    notes = []
    t = results["targets"]
    tiny, mono = results["tiny"], results["monolith"]
    for key, target in t.items():
        if not target["met"]:
            notes.append(f"**Missed: {target['target']}** — measured {target['value']:.3f}"
                         f"{'' if target['unit'] == 'x' else ' ' + target['unit']}.")
    def median_busy(section, name, core):
        values = sorted(r[name]["core_busy"].get(str(core), r[name]["core_busy"].get(core, 0)) for r in section["rounds"])
        return values[len(values) // 2]
    if median_busy(tiny, "nginx", 1) < 0.9:
        notes.append(f"nginx kept core 1 only {median_busy(tiny, 'nginx', 1):.0%} busy against the tiny upstream: the "
                     "shared core 0 (wrk + upstream) was the limit, so the nginx figure is a lower bound and "
                     "router/nginx is flattering to the router.")
    if median_busy(tiny, "direct", 0) > 0.9:
        notes.append("‘direct’ against the tiny upstream is capped by core 0, which wrk and the upstream share; it "
                     "is a reference ceiling, not a target.")
    for name in ("router", "router_aiohttp", "router_httpx", "naive_aiohttp"):
        if median_busy(tiny, name, 1) < 0.9:
            notes.append(f"{LABELS[name]} left core 1 {median_busy(tiny, name, 1):.0%} busy: it was not CPU-bound.")
    for section, label in ((tiny, "tiny upstream"), (mono, "monolith"), (results["latency"], "latency")):
        for name, s in section["summary"].items():
            if s.get("errors"):
                notes.append(f"{label}, {LABELS.get(name, name)}: {s['errors']} non-2xx responses or socket errors.")
            if s.get("disturbed_runs"):
                notes.append(f"{label}, {LABELS.get(name, name)}: {s['disturbed_runs']} run(s) kept although other "
                             "processes on the machine used over 5 % of a core meanwhile (after retries).")
    return notes


def replace_section(path: Path, begin: str, end: str, section: str, previous: str | None = None) -> None:
    """Put `section` (which starts with `begin` and ends with `end`) in place of that marked section of
    the file, or append it; every other benchmark's section of the same file is left as it is."""
    if previous is None:
        previous = path.read_text() if path.exists() else ""
    found = re.search(re.escape(begin) + r".*?" + re.escape(end), previous, re.S)
    if found:
        text = previous[:found.start()] + section + previous[found.end():]
    elif previous.strip():
        text = previous.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = "# Benchmarks\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_markdown(results: dict, path: Path) -> None:
    m, s = results["machine"], results["settings"]
    w, lat = s["wrk"], s["latency"]
    added, added_nginx = results["latency"]["summary"]["added_router"], results["latency"]["summary"].get("added_nginx")
    previous = path.read_text() if path.exists() else ""
    kept = re.search(re.escape(BEGIN) + r"(.*?)" + re.escape(END), previous, re.S)
    analysis = kept.group(1).strip("\n") if kept else "### Analysis\n\n(Hand-written notes go here; `make bench-router` keeps them.)"
    pk = m["packages"]
    notes = _notes(results)
    section = f"""{SECTION_BEGIN}
<!-- Written by `make bench-router` (bench/bench_router.py): this section is regenerated on each full run,
     except the analysis between its own markers, which is kept. Edit only there. -->

## Router overhead (`make bench-router`)

Last full run: {results['generated_at']} ({results['elapsed_s']:.0f} s); router under test: {results['router_under_test']}.
Raw figures: `var/bench/router.json`.

### Against the targets

Ratios are taken between configurations measured in the same round, and their median over the
rounds ({w['rounds']}) is compared with the target (runs on this machine vary by ±15 %: DESIGN.md §10).
The router runs one uvicorn worker (uvloop + httptools) in every configuration. Runs during which
other processes took more than 5 % of a core are redone (twice at most) and left out of the ratios
when an undisturbed round exists. "By CPU/request" is the same ratio estimated from each proxy's CPU
time per request (valid when both saturate their core), which other jobs on the machine hardly move.

{_targets_table(results['targets'])}

### Machine

| | |
|---|---|
| CPUs (`nproc`) | {m['nproc']} |
| CPU model (`lscpu`) | {m['cpu_model']} |
| kernel | {m['kernel']} |
| Python | {m['python']} |
| nginx / wrk | {m['nginx']} / {m['wrk']} (Debian packages) |
| Python packages | uvicorn {pk['uvicorn']}, uvloop {pk['uvloop']}, httptools {pk['httptools']}, aiohttp {pk['aiohttp']}, httpx {pk['httpx']}, httpcore {pk['httpcore']}, sniffio {pk['sniffio']}, Django {pk['django']}, gunicorn {pk['gunicorn']} |

### How it is run

```
make bench-router            # = .venv/bin/python bench/bench_router.py (installs wrk and nginx with apt if missing)
.venv/bin/python bench/bench_router.py --quick   # 1 round of 2 s, writes var/bench/router-quick.json only
```

The script starts everything itself on loopback ports and stops every process it started on exit
(also on Ctrl-C or SIGTERM); this run took {results['elapsed_s'] / 60:.1f} minutes.

**Pinning** (`taskset`, the same for every configuration so that ratios are fair): the machine has
two cores. **Core 1 runs only the proxy under test.** Core 0 runs the upstream (the tiny nginx or
gunicorn), the load generator (wrk or the fixed-rate generator) and the orchestrating script, which
sleeps while a measurement runs. A proxy therefore never competes with the load it is given; the
price is that core 0 is shared, which caps the "direct" figure and can cap nginx (see the notes).

**Upstreams.**
- *Tiny upstream*: an nginx (1 worker, core 0) answering every GET with a fixed {s['tiny_body_bytes']}-byte
  JSON document via `return 200 '...'` — no file I/O, far faster than any proxy in front of it, so it
  is not the bottleneck. Requests go to `GET {s['tiny_path']}`, a route of strangler.yaml whose flag is
  `legacy`, so the router does its full per-request work (route match, flag lookup, decision).
- *Monolith*: `gunicorn legacy_monolith.wsgi:application --workers 1` (sync worker) with
  DJANGO_ENV=development and a fresh SQLite database seeded with `manage.py seed --size small`;
  `GET {s['products_path']}` with the admin's `Authorization: Token` ({s['products_body_bytes']:,}-byte page).

**Configurations** (each proxy on core 1):
- *router*: `python -m router --port P --workers 1` with `STRANGLER_CONFIG=strangler.yaml`,
  `STRANGLER_UPSTREAM_LEGACY_URL=<upstream>`, a fresh SQLite control store with no flags set, and
  `STRANGLER_TRANSPORT=aiohttp` (default) or `httpx`.
- *nginx*: its own nginx, `worker_processes 1`, `proxy_pass` to an `upstream` block with
  `keepalive 64`, `proxy_http_version 1.1`, `proxy_set_header Connection ""`, access log off.
- *naive*: `bench/naive_aiohttp_proxy.py` — a raw ASGI callable on uvicorn (uvloop, httptools, no
  access log), one shared aiohttp `ClientSession`, `await resp.read()` of the whole body, response
  headers copied except hop-by-hop.

**Throughput**: `wrk -t{w['threads']} -c{w['connections']} -d{w['duration_s']:g}s --latency` on core 0; each configuration is
warmed up with a {w['warmup_s']:g} s run, then each of {w['rounds']} rounds runs every configuration once, in an order
rotated by one position per round. "Proxy CPU / request" is the CPU time of the proxy's process group (server and
workers, from /proc) divided by the requests served.

**Added latency**: wrk (closed loop) cannot hold a fixed rate and the Debian archive has no wrk2, so
`bench/bench_loadgen.py` does it: an open-loop schedule of {lat['rate']:g} req/s over {lat['connections']} keep-alive
connections, {lat['warmup_s']:g} s of warm-up then {lat['duration_s']:g} s measured; {lat['rounds']} round(s) alternating direct / router / nginx.
Latency runs from each request's *scheduled* send time to its last response byte, so a stall is
charged to every request it delays (no coordinated omission). The generator's event loop uses a
`select()` selector for microsecond timer resolution (epoll and uvloop round to 1 ms); how late it
fired is recorded in the JSON (`dispatch_late_ms`). Added latency = router − direct, per round.

### Throughput: tiny upstream ({s['tiny_body_bytes']}-byte JSON)

{_throughput_table(results['tiny'])}

Other ratios (same round, median and range): router/direct {_fmt_ratio(results['tiny']['ratios']['router/direct'])},
router httpx/raw {_fmt_ratio(results['tiny']['ratios']['router_httpx/router'])}, router aiohttp/raw {_fmt_ratio(results['tiny']['ratios']['router_aiohttp/router'])},
naive/nginx {_fmt_ratio(results['tiny']['ratios']['naive_aiohttp/nginx'])}, nginx/direct {_fmt_ratio(results['tiny']['ratios']['nginx/direct'])}.

### Throughput: the monolith's product list (gunicorn, 1 sync worker)

{_throughput_table(results['monolith'])}

router/direct {_fmt_ratio(results['monolith']['ratios']['router/direct'])}, nginx/direct {_fmt_ratio(results['monolith']['ratios']['nginx/direct'])}.

### Latency at {lat['rate']:g} req/s (tiny upstream, ms from the scheduled send time)

{_latency_table(results['latency']['summary'])}

Added by the router: **p50 {added['p50']:+.3f} ms, p99 {added['p99']:+.3f} ms**{f"; by nginx: p50 {added_nginx['p50']:+.3f} ms, p99 {added_nginx['p99']:+.3f} ms" if added_nginx else ""}.

### Notes from this run

{chr(10).join(f"- {n}" for n in notes) if notes else "- Every target met; no errors."}

{BEGIN}
{analysis}
{END}
{SECTION_END}"""
    replace_section(path, SECTION_BEGIN, SECTION_END, section, previous)
