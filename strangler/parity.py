"""`strangler parity report | show`: what shadow traffic found, from the control store."""

import json
import re
import time
from typing import Annotated

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from router.store.parity import ParityStore

from . import exits
from .console import fail, out, print_json
from .routes import ConfigOpt, StoreOpt, _load, _store

app = typer.Typer(help="Parity of legacy and extracted answers: reports and samples of differences.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """'90s', '15m', '1h', '7d' -> seconds; a clear error for anything else."""
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"--since {text!r}: expected a number and a unit, e.g. 30m, 1h, 7d")
    return float(found.group(1)) * _UNIT[found.group(2)]


@app.command("report")
def report(
    route: Annotated[str | None, typer.Option("--route", help="Only this route")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Only the routes of this group")] = None,
    since: Annotated[str, typer.Option("--since", help="Window, e.g. 15m, 1h, 7d")] = "1h",
    config: ConfigOpt = "strangler.yaml",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per route and per group: comparisons, parity rate, the paths that differ most, learned noise, and
    writes mirrored under the rollback policy that the service kept (answered without the rolled-back marker)."""
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    cfg = _load(config)
    if group is not None and group not in cfg.groups:
        raise fail(f"--group {group!r}: not a group in {cfg.source}; known: {', '.join(sorted(cfg.groups)) or 'none'}",
                   exits.BAD_INPUT)
    parity = ParityStore(_store(store))
    rows = parity.summary(since=time.time() - window, route=route)
    group_of = {r.name: r.group for r in cfg.routes}
    if group is not None:
        rows = [r for r in rows if group_of.get(r.route) == group]
    groups = group_totals(rows, group_of)
    if as_json:
        return print_json({"since": since, "groups": groups, "routes": [r.as_dict() for r in rows]})
    for g in groups:
        rate = "—" if g["parity_rate"] is None else f"{g['parity_rate'] * 100:.2f} %"
        kept = f", [bold red]{g['writes_kept']} writes the service kept[/]" if g["writes_kept"] else ""
        out.print(f"group [bold]{g['group']}[/]: {g['compared']} compared, parity {rate}, "
                  f"{g['mismatch']} mismatched, {g['equivalent']} equivalent{kept}", highlight=False)
    table = Table(title=f"Parity over the last {since}")
    for column in ("route", "compared", "parity", "mismatch", "equivalent", "skipped", "dropped", "errors", "writes kept",
                   "top differing paths", "noise"):
        table.add_column(column)
    for r in rows:
        rate = "—" if r.parity_rate is None else f"{r.parity_rate * 100:.2f} %"
        paths = "\n".join(f"{p} ({k}) ×{n}" for p, k, n in r.top_paths) or "—"
        noise = "\n".join(f"{p} ×{n}" for p, n in r.noise) or "—"
        table.add_row(r.route, str(r.compared), rate, str(r.counts["mismatch"]), str(r.counts["equivalent"]),
                      str(r.counts["skipped"]), str(r.counts["dropped"]), str(r.counts["error"]),
                      f"[bold red]{r.writes_kept}[/]" if r.writes_kept else "0", paths, noise)
    out.print(table)
    if not rows:
        out.print("No shadow comparisons in this window: is a route in shadow mode?", style="dim")
    else:
        samples = parity.samples(route=route, limit=5)
        if samples:
            out.print("Recent samples: " + ", ".join(f"#{s['id']} {s['route']} ({s['verdict']})" for s in samples)
                      + "  → strangler parity show ID", style="dim")


def group_totals(rows, group_of: dict[str, str]) -> list[dict]:
    """Counts of the routes' rows summed per group, with the group's parity rate (None before any comparison).
    Rows of routes no longer in the config are counted under "(unknown)"."""
    totals: dict[str, dict] = {}
    for r in rows:
        name = group_of.get(r.route, "(unknown)")
        total = totals.setdefault(name, {"group": name, "compared": 0, "match": 0, "equivalent": 0, "mismatch": 0,
                                         "writes_kept": 0})
        total["compared"] += r.compared
        for key in ("match", "equivalent", "mismatch", "writes_kept"):
            total[key] += r.counts[key]
    for total in totals.values():
        compared = total["compared"]
        total["parity_rate"] = None if compared == 0 else (total["match"] + total["equivalent"]) / compared
    return sorted(totals.values(), key=lambda t: t["group"])


def body_text(body: dict) -> str:
    """A stored body as shown: redacted JSON or form fields, else its length and digest (see router.redaction)."""
    if "json" in body:
        return json.dumps(body["json"], indent=2, sort_keys=True)
    if "form" in body:
        return body["form"]
    digest = body.get("sha256") or body.get("hmac_sha256") or ""
    return f"(not JSON: {body.get('length', 0)} bytes{f', digest {digest[:16]}…' if digest else ''})"


@app.command("show")
def show(
    sample_id: Annotated[int, typer.Argument(help="A sample id from `strangler parity report`")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One recorded difference: the request, both answers side by side, and the differences."""
    sample = ParityStore(_store(store)).sample(sample_id)
    if sample is None:
        raise fail(f"no parity sample {sample_id} (samples are kept per difference signature, within the retention)", exits.REFUSED)
    if as_json:
        return print_json(sample)
    out.print(f"[bold]#{sample['id']}[/] {sample['route']}  {sample['method']} {sample['target']}  "
              f"verdict {sample['verdict']}  at {sample['at']}")
    sides = []
    for side in ("legacy", "extracted"):
        answer = sample[side]
        text = body_text(answer["body"])
        sides.append(Panel(Syntax(text, "json", word_wrap=True), title=f"{side}: {answer['status']}"))
    out.print(Columns(sides, equal=True, expand=True))
    table = Table(title="Differences")
    for column in ("kind", "path", "legacy", "extracted", "class"):
        table.add_column(column)
    diff = sample["diff"]
    for d in [*diff.get("differences", []), *diff.get("equivalences", [])]:
        table.add_row(d["kind"], d["path"], json.dumps(d.get("legacy")), json.dumps(d.get("extracted")), d.get("equivalence") or "regression")
    out.print(table)
