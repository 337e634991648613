"""`strangler parity record | replay | export`: parity from captured traffic, without the router.

record   mitmdump (its own virtualenv, DESIGN.md §10) as a reverse proxy in front of an upstream,
         writing a flow file until Ctrl-C or --duration.
replay   a flow file or HAR sent to legacy and the extracted side, answers compared with each route's
         parity rules; a report per route. Exit 0: full parity; 1: mismatches or failed requests;
         2: bad input; 3: an upstream unreachable.
export   a capture as a pytest parity corpus (tests/parity/corpus/), credentials replaced by roles,
         query strings and bodies redacted; a body that cannot be redacted is refused (exit 2) unless
         --allow-raw-bodies.

The commands live on the `strangler parity` Typer app; the work is done by `strangler.capture`.
"""

import asyncio
import json
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from router.config import ConfigError, RouterSettings, load_config
from router.redaction import Redactor
from strangler.capture import CaptureError, read_capture
from strangler.capture.corpus import CorpusError, build_corpus, parse_role_tokens, write_corpus
from strangler.capture.mitm import (
    MitmRecorder, RecorderError, ensure_venv, mitmdump_path, reachable, validate_upstream, venv_path,
)
from strangler.capture.replay import UNMATCHED, Replayer, UpstreamUnreachable, plan_replay
from strangler.capture.report import ReplayReport, build_report

from . import exits
from .console import err, fail, out, print_json
from .parity import JsonOpt, app

SECRET_ENV = "STRANGLER_SHADOW_SECRET"
CaptureArg = Annotated[Path, typer.Argument(help="A mitmproxy flow file or a HAR file", show_default=False)]


# -- record ---------------------------------------------------------------------------------------------

@app.command("record")
def record(
    upstream: Annotated[str, typer.Option("--upstream", help="The service to record in front of, e.g. http://127.0.0.1:8001")],
    listen_port: Annotated[int, typer.Option("--listen-port", help="Port of the recording proxy on 127.0.0.1", min=1, max=65535)],
    out_file: Annotated[Path, typer.Option("--out", help="Flow file to write (replaced if it exists)")],
    duration: Annotated[float | None, typer.Option("--duration", help="Stop after this many seconds (default: Ctrl-C)", min=0.1)] = None,
    setup: Annotated[bool, typer.Option("--setup", help="Create mitmproxy's virtualenv first if it is missing (make mitm-venv)")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print a line per recorded request")] = False,
) -> None:
    """Record traffic with mitmproxy: point clients at 127.0.0.1:PORT instead of the upstream."""
    try:
        upstream = validate_upstream(upstream)
    except ValueError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    if not out_file.parent.is_dir():
        raise fail(f"--out {out_file}: the directory {out_file.parent} does not exist", exits.BAD_INPUT)
    venv = venv_path()
    if setup:
        err.print(f"Checking mitmproxy's virtualenv ({venv}) …", style="dim")
        try:
            ensure_venv(venv)
        except RecorderError as exc:
            raise fail(str(exc), exits.UNREACHABLE) from exc
    elif not mitmdump_path(venv).exists():
        raise fail(f"mitmproxy is not installed in {venv}: run `make mitm-venv` (or pass --setup). It lives in its "
                   "own virtualenv because it would downgrade h11/httpcore in the project's.", exits.BAD_INPUT)
    problem = reachable(upstream)
    if problem is not None:
        raise fail(f"upstream {upstream} unreachable: {problem}", exits.UNREACHABLE)
    recorder = MitmRecorder(venv, upstream, listen_port, out_file.resolve(), quiet=quiet)
    with _stop_signals_as_interrupt():
        try:
            recorder.start()
            until = f"for {duration:g} s" if duration else "until Ctrl-C"
            err.print(f"Recording {until}: send requests to http://127.0.0.1:{listen_port} (→ {upstream}), "
                      f"flows go to {out_file}")
            deadline = time.monotonic() + duration if duration else None
            while recorder.running() and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic())))
        except RecorderError as exc:
            raise fail(str(exc), exits.BAD_INPUT) from exc
        except KeyboardInterrupt:
            pass
        finally:
            status = recorder.stop()
    flows = _count_flows(out_file)
    out.print(f"{flows} flow{'s' if flows != 1 else ''} written to {out_file}")
    if status not in (0, None) and status != -signal.SIGINT:
        raise fail(f"mitmdump ended with status {status}", exits.REFUSED)


@contextmanager
def _stop_signals_as_interrupt():
    """SIGINT and SIGTERM stop recording: the proxy is shut down and the flows counted.

    SIGINT is installed too because a process started in the background by a shell inherits it ignored.
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    previous = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, interrupt)
    except ValueError:  # not the main thread (in-process tests): nothing to install
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _count_flows(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        return len(read_capture(path).exchanges)
    except CaptureError as exc:
        raise fail(f"the recorded file cannot be read back: {exc}", exits.REFUSED) from exc


# -- replay ---------------------------------------------------------------------------------------------

@app.command("replay")
def replay(
    capture_file: CaptureArg,
    legacy: Annotated[str, typer.Option("--legacy", help="Base URL of the monolith")],
    extracted: Annotated[str, typer.Option("--extracted", help="Base URL of the extracted service")],
    config: Annotated[Path | None, typer.Option("--config", "-c", envvar="STRANGLER_CONFIG",
                                                help="Routes and parity rules (default: ./strangler.yaml if present)")] = None,
    route: Annotated[str | None, typer.Option("--route", help="Only this route, group, or 'unmatched'")] = None,
    writes: Annotated[bool, typer.Option("--writes", help=f"Also replay writes, to the extracted side only, with the "
                                                          f"rollback marker (needs ${SECRET_ENV})")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Requests in flight at once", min=1, max=64)] = 4,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for an answer", min=0.1)] = 30.0,
    examples: Annotated[int, typer.Option("--examples", help="Mismatches shown in full", min=0)] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Send a capture to both sides and compare the answers, per route (GET/HEAD/OPTIONS unless --writes)."""
    try:
        capture = read_capture(capture_file)
    except CaptureError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    routes, settings = _routes(config)
    if route is not None:
        known = {r.name for r in routes} | {r.group for r in routes} | {UNMATCHED}
        if route not in known:
            raise fail(f"--route {route!r}: not a route or group of {config or 'the configuration'}; "
                       f"known: {', '.join(sorted(known))}", exits.BAD_INPUT)
    for name, url in (("--legacy", legacy), ("--extracted", extracted)):
        try:
            validate_upstream(url)
        except ValueError as exc:
            raise fail(str(exc).replace("--upstream", name), exits.BAD_INPUT) from exc
    secret = os.environ.get(SECRET_ENV, "").encode() or None
    if writes and secret is None:
        raise fail(f"--writes needs ${SECRET_ENV}: writes are replayed only to the extracted side, signed with the "
                   "rollback marker so that the service rolls them back", exits.BAD_INPUT)
    plan = plan_replay(capture, routes, only=route, writes=writes)
    if not plan.items:
        reasons = ", ".join(f"{n} {why}" for why, n in plan.skipped.items()) or "the capture holds no HTTP request"
        raise fail(f"nothing to replay in {capture_file}: {reasons}", exits.BAD_INPUT)
    replayer = Replayer(legacy, extracted, concurrency=concurrency, timeout=timeout, marker_secret=secret)
    progress = Progress(TextColumn("Replaying"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[state]}"),
                        TimeElapsedColumn(), console=err, transient=True)
    mismatched = 0
    with progress:
        task = progress.add_task("replay", total=len(plan.items), state="")

        def advance(outcome) -> None:
            nonlocal mismatched
            mismatched += outcome.result is None or str(outcome.result.verdict) == "mismatch"
            progress.update(task, advance=1, state=f"{mismatched} not matching" if mismatched else "")

        try:
            outcomes = asyncio.run(replayer.run(plan, advance))
        except UpstreamUnreachable as exc:
            raise fail(str(exc), exits.UNREACHABLE) from exc
    report = build_report(plan, outcomes, Redactor(settings.redact_fields), examples=examples)
    if as_json:
        print_json({"capture": str(capture_file), "format": capture.format, **report.as_dict()})
    else:
        _print_report(report, capture_file)
    if report.mismatches or report.failures:
        raise typer.Exit(exits.REFUSED)
    if not report.judged:
        raise fail("no answer could be compared (bodies over the routes' max_body_bytes)", exits.REFUSED)


def _routes(config: Path | None):
    """The configured routes and router settings; none (every request "unmatched") without a config file."""
    path = config if config is not None else Path("strangler.yaml")
    if config is None and not path.exists():
        return (), RouterSettings()
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    return loaded.routes, loaded.router


def _print_report(report: ReplayReport, capture_file: Path) -> None:
    table = Table(title=f"Replay of {capture_file}")
    for column in ("route", "compared", "parity", "match", "equivalent", "mismatch", "skipped", "errors", "top differing paths"):
        table.add_column(column)
    for r in report.routes:
        rate = "—" if r.parity_rate is None else f"{r.parity_rate * 100:.2f} %"
        paths = "\n".join(f"{p} ({k}) ×{n}" for p, k, n in r.top_paths()) or "—"
        table.add_row(escape(r.route), str(r.compared), rate, str(r.counts["match"]), str(r.counts["equivalent"]),
                      str(r.counts["mismatch"]), str(r.counts["skipped"]), str(r.counts["error"]), escape(paths))
    out.print(table)
    if report.skipped:
        out.print("Not replayed: " + ", ".join(f"{n} {why}" for why, n in report.skipped.items()), style="dim")
    for example in report.examples:
        out.print(f"\n[bold]#{example['number']}[/] {escape(example['route'])}  {example['method']} {escape(example['target'])}  "
                  f"legacy {example['legacy_status']} / extracted {example['extracted_status']}"
                  + ("  (write: compared with the recorded legacy answer)" if example["write"] else ""), highlight=False)
        diffs = Table(show_header=True, box=None, padding=(0, 2))
        for column in ("kind", "path", "legacy", "extracted"):
            diffs.add_column(column)
        for d in example["differences"]:
            diffs.add_row(d["kind"], escape(d["path"]), escape(_short(d.get("legacy", "—"))), escape(_short(d.get("extracted", "—"))))
        out.print(diffs)
        if example["more_differences"]:
            out.print(f"  … and {example['more_differences']} more differences", style="dim")
    for failure in report.errors:
        out.print(f"[bold red]#{failure['number']}[/] {failure['method']} {escape(failure['target'])}: {escape(failure['error'])}",
                  highlight=False)
    verdict = ("[green]full parity[/]" if not (report.mismatches or report.failures)
               else f"[red]{report.mismatches} mismatching, {report.failures} failed[/]")
    out.print(f"\n{report.judged} compared: {verdict}")


def _short(value, limit: int = 60) -> str:
    text = value if isinstance(value, str) and value == "—" else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- export ---------------------------------------------------------------------------------------------

@app.command("export")
def export(
    capture_file: CaptureArg,
    to: Annotated[Path, typer.Option("--to", help="Corpus directory, e.g. tests/parity/corpus/")],
    name: Annotated[str | None, typer.Option("--name", help="Corpus name (default: the capture's file name)")] = None,
    role_token: Annotated[list[str] | None, typer.Option("--role-token", help="ROLE=TOKEN: requests with this API "
                                                         "token are sent as ROLE (repeatable)")] = None,
    writes: Annotated[bool, typer.Option("--writes", help="Export writes too")] = False,
    skip_unknown: Annotated[bool, typer.Option("--skip-unknown", help="Leave out requests whose caller no "
                                                "--role-token names (default: refuse)")] = False,
    session_cookie: Annotated[str, typer.Option("--session-cookie", help="The session cookie: its callers are unknown")] = "sessionid",
    allow_raw_bodies: Annotated[bool, typer.Option("--allow-raw-bodies", help="Export bodies that cannot be redacted "
                                                   "(neither JSON nor form-urlencoded) as captured (default: refuse)")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", envvar="STRANGLER_CONFIG",
                                                help="For router.redact_fields (default: ./strangler.yaml if present)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a capture as a parity corpus for tests/parity: requests with roles instead of credentials,
    secret and personal fields of query strings and bodies redacted."""
    _, settings = _routes(config)
    try:
        roles = parse_role_tokens(role_token or [])
        capture = read_capture(capture_file)
        corpus_name = name or capture_file.stem
        if not corpus_name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"--name {corpus_name!r}: use letters, digits, '-', '_' or '.'")
        exported = build_corpus(capture, name=corpus_name, role_tokens=roles, session_cookie=session_cookie,
                                writes=writes, skip_unknown=skip_unknown, redactor=Redactor(settings.redact_fields),
                                allow_raw_bodies=allow_raw_bodies)
    except (CaptureError, CorpusError, ValueError) as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    requests = exported.corpus["requests"]
    if not requests:
        reasons = ", ".join(f"{n} {why}" for why, n in exported.skipped.items()) or "no HTTP requests"
        raise fail(f"nothing to export from {capture_file}: {reasons}", exits.BAD_INPUT)
    target = to / f"{corpus_name}.json"
    try:
        write_corpus(target, exported.corpus)
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}", exits.BAD_INPUT) from exc
    if as_json:
        return print_json({"corpus": str(target), "requests": len(requests), "skipped": exported.skipped})
    roles_used = sorted({r["role"] for r in requests})
    out.print(f"Wrote {len(requests)} requests ({', '.join(roles_used)}) to {target}")
    if exported.skipped:
        out.print("Left out: " + ", ".join(f"{n} {why}" for why, n in exported.skipped.items()), style="dim")
