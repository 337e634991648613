"""`strangler routes list | set | history`: read and flip the runtime flags in the control store."""

import getpass
import os
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from router.config import ConfigError, load_config
from router.errors import StaleVersion
from router.flags import parse_flag_change
from router.masking import mask_secrets, mask_url
from router.store import ControlStore

from . import exits
from .console import fail, out, print_json

app = typer.Typer(help="List the routes with their live mode, flip a route or group, show the audit trail.", no_args_is_help=True)

ConfigOpt = Annotated[str, typer.Option("--config", "-c", envvar="STRANGLER_CONFIG", help="Route configuration file")]
StoreOpt = Annotated[str | None, typer.Option("--store", envvar="STRANGLER_STORE_URL", help="Control store URL (default sqlite:///var/control.sqlite3)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _load(config_path: str):
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc


def _store(url: str | None) -> ControlStore:
    store = ControlStore(url)
    shown = mask_url(store.url)
    try:
        store.migrate()
    except ArgumentError as exc:
        raise fail(f"control store URL {shown} is not a database URL: {exc}", exits.BAD_INPUT) from exc
    except ValueError as exc:  # SQLAlchemy's URL parser: a port that is not a number
        raise fail(f"control store URL {shown} is not a valid URL: {exc}", exits.BAD_INPUT) from exc
    except SQLAlchemyError as exc:
        reason = mask_secrets(str(exc).splitlines()[0])
        raise fail(f"control store unreachable at {shown}: {exc.__class__.__name__}: {reason}", exits.UNREACHABLE) from exc
    return store


@app.command("list")
def list_routes(config: ConfigOpt = "strangler.yaml", store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Every configured route with the mode it is served in right now."""
    cfg = _load(config)
    snapshot = _store(store).snapshot()
    rows = []
    for route in cfg.routes:
        flag = snapshot.effective(route)
        rows.append({
            "name": route.name, "group": route.group, "methods": sorted(route.methods), "path": route.path,
            "mode": str(flag.mode), "percent": flag.percent,
            "set_on": "route" if route.name in snapshot.routes else ("group" if route.group in snapshot.groups else "default"),
        })
    if as_json:
        return print_json({"version": snapshot.version, "routes": rows})
    table = Table(title=f"Routes ({cfg.source}, flags version {snapshot.version})")
    for column in ("route", "group", "methods", "path", "mode", "percent", "set on"):
        table.add_column(column)
    for row in rows:
        percent = f"{row['percent']:g} %" if row["mode"] == "canary" else ""
        table.add_row(row["name"], row["group"], ",".join(row["methods"]), row["path"], _mode_style(row["mode"]), percent, row["set_on"])
    out.print(table)
    out.print("Requests that match no route go to legacy.", style="dim")


@app.command("set")
def set_route(
    target: Annotated[str, typer.Argument(help="A route name or a group name")],
    mode: Annotated[str, typer.Option("--mode", "-m", help="legacy | shadow | canary | extracted")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (recorded in the audit trail)")] = "",
    percent: Annotated[float | None, typer.Option("--percent", "-p", help="Canary share of callers, 0-100")] = None,
    shadow_rate: Annotated[float | None, typer.Option("--shadow-rate", help="Share of requests mirrored in shadow mode, 0-1")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Who makes the change (default: $STRANGLER_ACTOR or your login)")] = None,
    expect_version: Annotated[int | None, typer.Option("--expect-version", help="Refuse if the flags are no longer at this version")] = None,
    config: ConfigOpt = "strangler.yaml",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change who serves a route or a whole group; every router picks it up within a second."""
    if not reason.strip():
        raise fail("--reason is required: say why, it goes into the audit trail", exits.BAD_INPUT)
    cfg = _load(config)
    try:
        scope, name, state = parse_flag_change(target, mode, percent, shadow_rate, cfg)
    except ValueError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    control = _store(store)
    who = actor or os.environ.get("STRANGLER_ACTOR") or getpass.getuser()
    try:
        event = control.set_flag(scope=scope, name=name, state=state, actor=who, reason=reason, expected_version=expect_version)
    except StaleVersion as exc:
        raise fail(str(exc), exits.REFUSED) from exc
    if as_json:
        return print_json(event.as_dict())
    before = _describe(event.before)
    out.print(f"{scope} [bold]{name}[/]: {before} → [bold]{_describe(event.after)}[/]  (version {event.version}, by {event.actor})")


@app.command("history")
def history(
    target: Annotated[str | None, typer.Argument(help="Only this route or group")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail of flag changes, newest first."""
    events = _store(store).history(name=target, limit=limit)
    if as_json:
        return print_json({"events": [e.as_dict() for e in events]})
    table = Table(title="Flag changes")
    for column in ("version", "when (UTC)", "who", "target", "before", "after", "reason"):
        table.add_column(column)
    for e in events:
        table.add_row(str(e.version), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, f"{e.scope} {e.name}",
                      _describe(e.before), _describe(e.after), e.reason)
    out.print(table)


def _describe(flag: dict | None) -> str:
    if flag is None:
        return "legacy (default)"
    if flag["mode"] == "canary":
        return f"canary {flag['percent']:g} %"
    if flag["mode"] == "shadow":
        return f"shadow {flag['shadow_rate']:g}"
    return flag["mode"]


def _mode_style(mode: str) -> str:
    return {"legacy": "legacy", "shadow": "[cyan]shadow[/]", "canary": "[yellow]canary[/]", "extracted": "[green]extracted[/]"}[mode]
