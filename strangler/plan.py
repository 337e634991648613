"""`strangler plan list | status | advance | rollback | watch | report | approve`: run a capability's
playbook (migration_plan/playbooks/<capability>.yaml) against the evidence in the stores.

Exit codes: 0 done / advanced; 1 refused (gates do not hold) or rolled back; 2 bad input; 3 unreachable.
"""

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from migration_plan.actuator import StoreActuator
from migration_plan.engine import PlanEngine
from migration_plan.evidence import EvidenceSource
from migration_plan.playbook import DEFAULT_PLAYBOOK_DIR, PlaybookError, find_playbook
from migration_plan.report import html_page, markdown
from router.store.plans import PlanStateStore

from . import exits
from .console import fail, out, print_json
from .routes import ConfigOpt, StoreOpt, _load, _store

app = typer.Typer(help="Migration playbooks: status, advance, rollback, watch, report, approve.", no_args_is_help=True)

CapArg = Annotated[str, typer.Argument(help="The capability (playbook file name without .yaml)")]
DirOpt = Annotated[Path, typer.Option("--playbooks", envvar="STRANGLER_PLAYBOOKS", help="Directory of playbooks")]
HoldOpt = Annotated[float, typer.Option("--hold-scale", min=0, help="Multiply every hold time (tests, rehearsals)")]
DbOpt = Annotated[str | None, typer.Option("--service-db", envvar="INVENTORY_DATABASE_URL", help="The service's database URL")]
LegacyOpt = Annotated[str | None, typer.Option("--legacy-db", envvar="INVENTORY_LEGACY_DATABASE_URL", help="The monolith's database URL")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who (default: $STRANGLER_ACTOR or your login)")]


def _actor(actor):
    return actor or os.environ.get("STRANGLER_ACTOR") or getpass.getuser()


def _databases(service_db, legacy_db):
    if not service_db and not legacy_db:
        return None
    from sqlalchemy import create_engine

    from extracted.common.database import sqlalchemy_url
    from strangler.sync import _options, _urls
    urls = _urls(service_db, legacy_db)
    # The URLs as the services take them (postgres://, sqlite:///...), made SQLAlchemy's like `strangler sync` does.
    return tuple(create_engine(sqlalchemy_url(urls[which]), **_options(urls[which])) for which in ("legacy", "service"))


def _engine(capability, playbooks, hold_scale, config, store, service_db=None, legacy_db=None, actor=None):
    try:
        playbook = find_playbook(capability, playbooks, hold_scale=hold_scale)
    except PlaybookError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    cfg = _load(config)
    if playbook.group not in cfg.groups:
        raise fail(f"{playbook.source}: group: {playbook.group!r} is not a route group of {cfg.source}", exits.BAD_INPUT)
    control = _store(store)
    dbs = _databases(service_db, legacy_db)
    who = _actor(actor)
    source = EvidenceSource(control, cfg, dbs)
    return PlanEngine(playbook, PlanStateStore(control), source.gather,
                      StoreActuator(control, cfg, actor=who, databases=dbs), actor=who)


def _show(snap: dict) -> None:
    out.print(f"[bold]{snap['capability']}[/]: {snap['status']}", highlight=False)
    table = Table("#", "step", "kind", "status", "gates")
    for i, s in enumerate(snap["steps"], 1):
        gates = "\n".join(f"{'✓' if g['ok'] else ('✗' if g['ok'] is False else '…')} {g['name']}: {g['figure']} "
                          f"(needs {g['threshold']})" for g in s.get("gates", []))
        table.add_row(str(i), s["name"], s["kind"], s["status"], gates)
    out.print(table)


@app.command("list")
def list_command(playbooks: DirOpt = DEFAULT_PLAYBOOK_DIR, as_json: JsonOpt = False) -> None:
    """The playbooks and their steps."""
    rows = []
    for path in sorted(Path(playbooks).glob("*.yaml")):
        try:
            p = find_playbook(path.stem, playbooks)
            rows.append({"capability": p.capability, "group": p.group, "steps": [s.name for s in p.steps]})
        except PlaybookError as exc:
            rows.append({"capability": path.stem, "error": str(exc)})
    if as_json:
        return print_json(rows)
    for r in rows:
        out.print(f"[bold]{r['capability']}[/]: " + (r.get("error") or " → ".join(r["steps"])), highlight=False)


@app.command("status")
def status_command(capability: CapArg, playbooks: DirOpt = DEFAULT_PLAYBOOK_DIR, hold_scale: HoldOpt = 1.0,
                   config: ConfigOpt = "strangler.yaml", store: StoreOpt = None, service_db: DbOpt = None,
                   legacy_db: LegacyOpt = None, as_json: JsonOpt = False) -> None:
    """Each step: done, current, blocked (with the failing gate and its figure), pending."""
    snap, _ = _engine(capability, playbooks, hold_scale, config, store, service_db, legacy_db).evaluate()
    print_json(snap) if as_json else _show(snap)


@app.command("advance")
def advance_command(capability: CapArg, reason: Annotated[str, typer.Option("--reason", "-r")] = "gates held",
                    playbooks: DirOpt = DEFAULT_PLAYBOOK_DIR, hold_scale: HoldOpt = 1.0,
                    config: ConfigOpt = "strangler.yaml", store: StoreOpt = None, service_db: DbOpt = None,
                    legacy_db: LegacyOpt = None, actor: ActorOpt = None) -> None:
    """Run the next step when the current step's gates held for its hold time; else refuse and say why."""
    ok, messages = _engine(capability, playbooks, hold_scale, config, store, service_db, legacy_db, actor).advance(
        reason=reason, actor=_actor(actor))
    for m in messages:
        out.print(m, highlight=False)
    if not ok:
        raise typer.Exit(exits.REFUSED)


@app.command("rollback")
def rollback_command(capability: CapArg, reason: Annotated[str, typer.Option("--reason", "-r")],
                     to: Annotated[str | None, typer.Option("--to", help="Step name or number, or 'start'")] = None,
                     playbooks: DirOpt = DEFAULT_PLAYBOOK_DIR, config: ConfigOpt = "strangler.yaml",
                     store: StoreOpt = None, service_db: DbOpt = None, legacy_db: LegacyOpt = None,
                     actor: ActorOpt = None) -> None:
    """Go back to a step (default: the current step's on_failure target), undoing flags and handovers."""
    engine = _engine(capability, playbooks, 1.0, config, store, service_db, legacy_db, actor)
    target = None
    if to is not None:
        try:
            target = -1 if to == "start" else engine.playbook.index(to)
        except PlaybookError as exc:
            raise fail(str(exc), exits.BAD_INPUT) from exc
    index = engine.rollback(to=target, reason=reason, actor=_actor(actor))
    out.print(f"rolled back to {engine.playbook.steps[index].name if index >= 0 else 'the start'}", highlight=False)


@app.command("watch")
def watch_command(capability: CapArg, max_seconds: Annotated[float, typer.Option("--max-seconds", min=0)] = 3600,
                  interval: Annotated[float, typer.Option("--interval", min=0.05)] = 1.0,
                  playbooks: DirOpt = DEFAULT_PLAYBOOK_DIR, hold_scale: HoldOpt = 1.0,
                  config: ConfigOpt = "strangler.yaml", store: StoreOpt = None, service_db: DbOpt = None,
                  legacy_db: LegacyOpt = None, actor: ActorOpt = None) -> None:
    """Evaluate in a loop: advance after each hold, roll back by itself when a gate fails. Exit 0 done,
    1 rolled back / stopped / out of time."""
    engine = _engine(capability, playbooks, hold_scale, config, store, service_db, legacy_db, actor)
    last = {}

    def tick(snap, verdict):
        key = (snap["current"], snap["status"])
        if key != last.get("key"):
            last["key"] = key
            name = engine.playbook.steps[snap["current"]].name if snap["current"] is not None else "-"
            out.print(f"{capability}: {snap['status']} at {name}", highlight=False)

    result = engine.watch(max_seconds=max_seconds, interval=interval, on_tick=tick)
    out.print(f"{capability}: {result}", highlight=False)
    raise typer.Exit(exits.OK if result == "done" else exits.REFUSED)


@app.command("approve")
def approve_command(capability: CapArg, step: Annotated[str, typer.Option("--step", help="The step's name")],
                    reason: Annotated[str, typer.Option("--reason", "-r")], playbooks: DirOpt = DEFAULT_PLAYBOOK_DIR,
                    config: ConfigOpt = "strangler.yaml", store: StoreOpt = None, actor: ActorOpt = None) -> None:
    """Record a person's approval of a step (who, when, why) in the audit."""
    if not reason.strip():
        raise fail("--reason is required", exits.BAD_INPUT)
    engine = _engine(capability, playbooks, 1.0, config, store, actor=actor)
    try:
        engine.approve(step, actor=_actor(actor), reason=reason.strip())
    except PlaybookError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    out.print(f"{capability}: {step} approved by {_actor(actor)}", highlight=False)


@app.command("report")
def report_command(capability: CapArg, out_dir: Annotated[Path, typer.Option("--out")] = Path("var/reports"),
                   store: StoreOpt = None) -> None:
    """Write <capability>.md and <capability>.html: steps, gates with figures, the audit timeline."""
    plans = PlanStateStore(_store(store))
    snap = plans.snapshot(capability)
    if snap is None:
        raise fail(f"no plan state for {capability!r}: run `strangler plan status {capability}` first", exits.BAD_INPUT)
    audit = plans.audit(capability, limit=10_000)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{capability}.md").write_text(markdown(snap, audit))
    (out_dir / f"{capability}.html").write_text(html_page(snap, audit))
    out.print(f"wrote {out_dir / (capability + '.md')} and {out_dir / (capability + '.html')}", highlight=False)
