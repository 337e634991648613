"""`strangler sync backfill | run | verify | status | handover`: move a capability's data and its writes.

The databases come from the service's settings: INVENTORY_DATABASE_URL (the service's own) and
INVENTORY_LEGACY_DATABASE_URL (the monolith's; falls back to DATABASE_URL, then the monolith's default
SQLite file), or from --service-db / --legacy-db. The control store (for flipping the write routes on a
handover) is STRANGLER_STORE_URL, as for `strangler routes`.
"""

import getpass
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from extracted.common.database import Database
from router.config import Config
from router.flags import parse_flag_change
from router.masking import mask_url

from . import exits
from .console import err, fail, out, print_json
from .routes import ConfigOpt, StoreOpt, _load, _store

app = typer.Typer(help="Data sync of an extracted capability: backfill, relays, verify, status, write handover.",
                  no_args_is_help=True)

CAPABILITIES = ("inventory",)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CapabilityArg = Annotated[str, typer.Argument(help="The capability whose data moves (inventory)")]
ServiceDbOpt = Annotated[str | None, typer.Option("--service-db", envvar="INVENTORY_DATABASE_URL",
                                                  help="The service's database URL")]
LegacyDbOpt = Annotated[str | None, typer.Option("--legacy-db", envvar="INVENTORY_LEGACY_DATABASE_URL",
                                                 help="The monolith's database URL")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]


@dataclass
class Databases:
    monolith: Engine
    service: "Database"  # the service's, with its engine and sessions


# -- commands --------------------------------------------------------------------------------------------
@app.command("backfill")
def backfill_command(
    capability: CapabilityArg,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, max=1_000_000, help="Rows per chunk")] = 5000,
    restart: Annotated[bool, typer.Option("--restart", help="Empty the service's synced tables and copy again")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar")] = True,
    service_db: ServiceDbOpt = None,
    legacy_db: LegacyDbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy the monolith's rows into the service (resumes an interrupted backfill)."""
    from extracted.inventory.sync.backfill import BackfillError, backfill

    _capability(capability)
    with _databases(service_db, legacy_db) as dbs, _translated("backfill"):
        with dbs.monolith.connect() as source:
            try:
                report = backfill(source, dbs.service, chunk_size=chunk_size, progress=progress and not as_json,
                                  restart=restart)
            except BackfillError as exc:
                raise fail(str(exc), exits.REFUSED) from exc
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if as_json:
        return print_json({
            "high_water_mark": {"txid": report.high_water_mark.txid, "event_id": report.high_water_mark.event_id},
            "resumed": report.resumed, "rows": report.rows, "seconds": round(report.seconds, 3),
            "rows_per_second": round(report.rows_per_second), "warnings": report.warnings,
            "tables": [{"table": t.table, "rows": t.rows, "seconds": round(t.seconds, 3), "already_done": t.already_done}
                       for t in report.tables]})
    table = Table(title=f"Backfill of {capability}" + (" (resumed)" if report.resumed else ""))
    for column in ("table", "rows copied", "seconds", "rows/s"):
        table.add_column(column, justify="right" if column != "table" else "left")
    for t in report.tables:
        rate = f"{t.rows / t.seconds:,.0f}" if t.seconds and t.rows else "—"
        table.add_row(t.table, "already done" if t.already_done else f"{t.rows:,}", f"{t.seconds:.2f}", rate)
    out.print(table)
    mark = report.high_water_mark
    out.print(f"{report.rows:,} rows in {report.seconds:.1f} s: [bold]{report.rows_per_second:,.0f} rows/s[/]. "
              f"The forward relay replays the monolith's outbox from txid {mark.txid}, event {mark.event_id}.")


@app.command("run")
def run_command(
    capability: CapabilityArg,
    direction: Annotated[str, typer.Option("--direction", help="forward | reverse | both")] = "both",
    once: Annotated[bool, typer.Option("--once", help="Apply what is pending now, then exit")] = False,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds", min=0, help="Stop after this long")] = None,
    metrics_port: Annotated[int | None, typer.Option("--metrics-port", min=1, max=65535,
                                                     help="Serve Prometheus metrics on this port")] = None,
    metrics_host: Annotated[str, typer.Option("--metrics-host", help="Address for the metrics port "
                                                                    "(0.0.0.0 in a container)")] = "127.0.0.1",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000, help="Events per transaction")] = 500,
    poll_interval: Annotated[float, typer.Option("--poll-interval", min=0.01, max=60,
                                                 help="Seconds between looks when polling (SQLite)")] = 0.2,
    service_db: ServiceDbOpt = None,
    legacy_db: LegacyDbOpt = None,
) -> None:
    """Run the relays: the monolith's changes into the service (forward) and back (reverse)."""
    from extracted.inventory.sync.metrics import RelayMetrics
    from extracted.inventory.sync.outboxes import legacy_outbox, service_outbox
    from extracted.inventory.sync.relay import ForwardRelay, RelayError, ReverseRelay, run
    from extracted.inventory.sync.wake import waiter_for

    _capability(capability)
    if direction not in ("forward", "reverse", "both"):
        raise fail(f"--direction must be forward, reverse or both, got {direction!r}", exits.BAD_INPUT)
    with _databases(service_db, legacy_db) as dbs, _translated("relay"):
        relays = []
        if direction in ("forward", "both"):
            relays.append(ForwardRelay(legacy_outbox(dbs.monolith), dbs.service.engine, batch_size=batch_size))
        if direction in ("reverse", "both"):
            relays.append(ReverseRelay(service_outbox(dbs.service.engine), dbs.monolith, batch_size=batch_size))
        try:
            for relay in relays:
                relay.prepare()
        except RelayError as exc:
            raise fail(str(exc), exits.REFUSED) from exc
        try:
            waiters = {relay.direction: waiter_for(_url(relay.outbox.engine), relay.outbox.notify_channel,
                                                   poll_interval) for relay in relays}
        except Exception as exc:  # psycopg's own errors: the LISTEN connection is made without SQLAlchemy
            raise fail(f"cannot LISTEN for new events: {exc}", exits.UNREACHABLE) from exc
        metrics = RelayMetrics(capability)
        if metrics_port is not None:
            try:
                metrics.serve(metrics_port, metrics_host)
            except OSError as exc:
                raise fail(f"cannot serve metrics on port {metrics_port}: {exc}", exits.BAD_INPUT) from exc
        stop = threading.Event()
        applied = {relay.direction: 0 for relay in relays}

        def on_step(relay, result) -> None:
            applied[relay.direction] += result.applied
            metrics.observe(relay, result)

        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        names = " and ".join(relay.direction for relay in relays)
        err.print(f"{names} relay{'s' if len(relays) > 1 else ''} running"
                  + (f", metrics on :{metrics_port}/metrics" if metrics_port else "")
                  + ("" if once or max_seconds else "; Ctrl-C stops between batches"), highlight=False)
        started = time.monotonic()
        try:
            errors = run(relays, stop=stop, once=once, max_seconds=max_seconds, waiters=waiters, on_step=on_step,
                         poll_interval=poll_interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        summary = ", ".join(f"{name} {count}" for name, count in applied.items())
        err.print(f"applied {summary} events in {time.monotonic() - started:.1f} s", highlight=False)
        if errors:
            first = errors[0]
            if isinstance(first, RelayError):
                raise fail(str(first), exits.REFUSED) from first
            reason = str(getattr(first, "orig", None) or first).strip().splitlines()[0]
            raise fail(f"the relay stopped on an unexpected error: {type(first).__name__}: {reason}",
                       exits.UNREACHABLE) from first


@app.command("verify")
def verify_command(
    capability: CapabilityArg,
    wait: Annotated[float, typer.Option("--wait", min=0, help="First wait up to this many seconds for the relays "
                                                              "to pass what both outboxes hold now")] = 0,
    examples: Annotated[int, typer.Option("--examples", min=0, max=1000, help="Rows shown per kind of drift")] = 5,
    service_db: ServiceDbOpt = None,
    legacy_db: LegacyDbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare both sides row by row (counts and per-row hashes); exit 1 on drift."""
    from extracted.inventory.sync.verify import verify, wait_for_relays

    _capability(capability)
    with _databases(service_db, legacy_db) as dbs, _translated("verify"):
        waited = wait_for_relays(dbs.monolith, dbs.service.engine, wait) if wait else None
        report = verify(dbs.monolith, dbs.service.engine, examples=examples)
        report.waited = waited
    if as_json:
        print_json(report.as_dict())
    else:
        _print_verify(report)
    if not report.clean:
        raise typer.Exit(exits.REFUSED)


@app.command("status")
def status_command(capability: CapabilityArg, service_db: ServiceDbOpt = None, legacy_db: LegacyDbOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Owner of the writes, backfill progress, cursors, backlog, lag and outbox sizes."""
    from extracted.inventory.sync.status import sync_status

    _capability(capability)
    with _databases(service_db, legacy_db) as dbs, _translated("status"):
        status = sync_status(dbs.monolith, dbs.service.engine)
    if as_json:
        return print_json(status.as_dict())
    out.print(f"[bold]{capability}[/]: writes owned by [bold]{status.owner}[/]"
              + (f" since {status.owner_changed_at:%Y-%m-%d %H:%M:%S} UTC ({status.owner_reason})"
                 if status.owner_changed_at else ""), highlight=False)
    done = sum(1 for row in status.backfill if row["done"])
    out.print(f"backfill: {'complete' if status.backfill_complete else 'not complete'} "
              f"({done}/{len(status.backfill) or '—'} tables, {sum(r['rows'] for r in status.backfill):,} rows)")
    table = Table(title="Relays")
    for column in ("relay", "outbox (events)", "cursor txid/id", "applied", "moved (UTC)", "backlog", "lag"):
        table.add_column(column, justify="left" if column in ("relay", "outbox (events)") else "right")
    for d in status.directions:
        cursor = d.cursor
        table.add_row(
            d.direction, f"{d.outbox} ({_n(d.outbox_size)})" if d.outbox_exists else f"{d.outbox} (missing)",
            f"{cursor['txid']}/{cursor['event_id']}" if cursor else "—",
            _n(cursor["applied"]) if cursor else "—",
            f"{cursor['updated_at']:%H:%M:%S}" if cursor and cursor["updated_at"] else "—",
            _n(d.backlog), "—" if d.lag_seconds is None else f"{d.lag_seconds:.1f} s")
    out.print(table)


@app.command("handover")
def handover_command(
    capability: CapabilityArg,
    to: Annotated[str, typer.Option("--to", help="service | legacy: who takes the writes")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (recorded with the owner and the route flips)")] = "",
    timeout: Annotated[float, typer.Option("--timeout", min=0, help="Hand-back: how long to wait for the relays "
                                                                    "to drain")] = 60,
    max_lag: Annotated[float, typer.Option("--max-lag", min=0, help="Handover: the most the forward relay may lag, "
                                                                    "in seconds")] = 5,
    drive: Annotated[bool, typer.Option("--drive", help="Hand-back: run the relays from this command while "
                                                        "waiting (when no relay process runs)")] = False,
    actor: Annotated[str | None, typer.Option("--actor", help="Who (default: $STRANGLER_ACTOR or your login)")] = None,
    config: ConfigOpt = "strangler.yaml",
    store: StoreOpt = None,
    service_db: ServiceDbOpt = None,
    legacy_db: LegacyDbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move the capability's writes to the service or back to the monolith, with its write routes."""
    from extracted.inventory.sync.handover import HandoverError, hand_back_to_legacy, handover_to_service
    from extracted.inventory.sync.outboxes import legacy_outbox, service_outbox
    from extracted.inventory.sync.relay import ForwardRelay, ReverseRelay

    _capability(capability)
    if to not in ("service", "legacy"):
        raise fail(f"--to must be service or legacy, got {to!r}", exits.BAD_INPUT)
    if not reason.strip():
        raise fail("--reason is required: say why, it goes into the audit trail", exits.BAD_INPUT)
    cfg = _load(config)
    routes = write_routes(cfg, capability)
    if not routes:
        raise fail(f"{cfg.source} names no write routes (POST, PUT, PATCH or DELETE) in the group {capability!r}",
                   exits.BAD_INPUT)
    control = _store(store)
    who = actor or os.environ.get("STRANGLER_ACTOR") or getpass.getuser()

    def flip(mode: str) -> list[str]:
        for name in routes:
            kind, target, state = parse_flag_change(name, mode, None, None, cfg)
            control.set_flag(scope=kind, name=target, state=state, actor=who,
                             reason=f"sync handover to {to}: {reason.strip()}")
        return routes

    with _databases(service_db, legacy_db) as dbs, _translated("handover"):
        try:
            if to == "service":
                report = handover_to_service(dbs.monolith, dbs.service.engine, flip_write_routes=flip, by=who,
                                             reason=reason.strip(), max_lag=max_lag)
            else:
                pump = None
                if drive:
                    forward = ForwardRelay(legacy_outbox(dbs.monolith), dbs.service.engine)
                    reverse = ReverseRelay(service_outbox(dbs.service.engine), dbs.monolith)
                    reverse.prepare()

                    def pump() -> None:
                        reverse.drain(max_seconds=1)
                        forward.drain(max_seconds=1)
                report = hand_back_to_legacy(dbs.monolith, dbs.service.engine, flip_write_routes=flip, by=who,
                                             reason=reason.strip(), timeout=timeout, pump=pump)
        except HandoverError as exc:
            raise fail(str(exc), exits.REFUSED) from exc
    if as_json:
        return print_json(report.as_dict())
    out.print(f"{capability} writes: {report.previous_owner} → [bold]{report.owner}[/] in {report.seconds:.1f} s; "
              f"write routes {', '.join(report.routes)} → {'extracted' if to == 'service' else 'legacy'}",
              highlight=False)
    for note in report.notes:
        out.print(note, style="dim")


# -- helpers ---------------------------------------------------------------------------------------------
def write_routes(config: Config, group: str) -> list[str]:
    """The group's routes that take writes (any of POST, PUT, PATCH, DELETE), in file order."""
    return [route.name for route in config.routes if route.group == group and set(route.methods) & UNSAFE_METHODS]


def _capability(name: str) -> None:
    if name not in CAPABILITIES:
        raise fail(f"unknown capability {name!r}; the sync knows {', '.join(CAPABILITIES)}", exits.BAD_INPUT)


@contextmanager
def _databases(service_db: str | None, legacy_db: str | None):
    """Both databases, checked reachable; a clear error naming the one that is not."""
    urls = _urls(service_db, legacy_db)
    opened: list = []
    try:
        monolith = _open("the monolith's", urls["legacy"], opened, lambda url: Database(url, **_options(url)).engine)
        service = _open("the service's", urls["service"], opened, lambda url: Database(url, **_options(url)))
        yield Databases(monolith, service)
    finally:
        for thing in opened:
            thing.dispose()


def _urls(service_db: str | None, legacy_db: str | None) -> dict[str, str]:
    if service_db and legacy_db:
        return {"service": service_db, "legacy": legacy_db}
    from pydantic import ValidationError

    from extracted.inventory.settings import InventorySettings

    try:
        # Only the URLs are read here: "development" keeps the secrets check (irrelevant to the sync) quiet.
        settings = InventorySettings(environment="development")
    except ValidationError as exc:
        raise fail(f"inventory settings: {exc}", exits.BAD_INPUT) from exc
    return {"service": service_db or settings.database_url, "legacy": legacy_db or settings.legacy_database_url}


def _options(url: str) -> dict:
    # SQLite: wait for the other writers (the monolith's workers, the service) instead of failing at once.
    return {"connect_args": {"timeout": 20}} if url.startswith("sqlite") else {"pool_pre_ping": True}


def _open(which: str, url: str, opened: list, build):
    from extracted.common.database import sqlalchemy_url

    try:
        parsed = make_url(sqlalchemy_url(url))
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise fail(f"{which} database URL {mask_url(url)!r} is not a database URL: {exc}", exits.BAD_INPUT) from exc
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            raise fail(f"{which} database {shown} does not exist (no such file)", exits.UNREACHABLE)
    try:
        thing = build(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise fail(f"{which} database URL {shown}: {exc}", exits.BAD_INPUT) from exc
    opened.append(thing)
    engine = getattr(thing, "engine", thing)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"cannot reach {which} database at {shown}: {reason}", exits.UNREACHABLE) from exc
    return thing


@contextmanager
def _translated(what: str):
    """A database error in the middle of a command, as one line naming the command."""
    from extracted.inventory.sync.relay import TransientError

    try:
        yield
    except (SQLAlchemyError, TransientError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"{what} failed on a database error: {reason}", exits.UNREACHABLE) from exc


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _n(value) -> str:
    return "—" if value is None else f"{value:,}"


def _print_verify(report) -> None:
    if report.waited is not None:
        w = report.waited
        state = "both relays caught up" if w.caught_up else (
            f"relays NOT caught up (forward {'ok' if w.forward else 'behind'}, reverse {'ok' if w.reverse else 'behind'})")
        out.print(f"waited {w.seconds:.1f} s: {state}", highlight=False)
    table = Table(title="Verify: monolith vs service")
    for column in ("table", "monolith", "service", "missing on service", "missing on monolith", "differing"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for t in report.tables:
        style = "" if t.clean else "red"
        table.add_row(t.table, f"{t.monolith_rows:,}", f"{t.service_rows:,}", str(t.missing_on_service),
                      str(t.missing_on_monolith), str(t.differing), style=style)
    out.print(table)
    for t in report.tables:
        if t.examples_missing_on_service:
            out.print(f"{t.table}: missing on the service, e.g. ids {', '.join(map(str, t.examples_missing_on_service))}")
        if t.examples_missing_on_monolith:
            out.print(f"{t.table}: missing on the monolith, e.g. ids {', '.join(map(str, t.examples_missing_on_monolith))}")
        for d in t.examples_differing:
            cells = "; ".join(f"{name}: monolith {a!r} ≠ service {b!r}" for name, (a, b) in d.columns.items())
            out.print(f"{t.table} id {d.id}: {cells}", highlight=False)
    verdict = "[green]no drift[/]" if report.clean else "[bold red]DRIFT[/]"
    out.print(f"{verdict} ({report.seconds:.1f} s)")
