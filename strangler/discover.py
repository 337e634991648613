"""`strangler discover`: what the monolith serves, what ties its apps together, and what to extract first.

Thin shell over migration_plan.discovery: loads the project through Django (`--settings`), prints
tables (or `--json`), and with `--write APP` drafts the app's route group and playbook skeleton.
Exit codes: 0 done, 1 a draft already exists (use --force), 2 bad input (unknown app or settings
module, a directory that cannot be written).
"""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from migration_plan.discovery import DEFAULT_SETTINGS, Discovery, DiscoveryError, load_project, survey
from migration_plan.discovery.drafts import AlreadyThere, write_drafts

from . import exits
from .console import fail, out, print_json


def discover_command(
    app: Annotated[str | None, typer.Option("--app", help="Show only what concerns this app")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    settings: Annotated[str, typer.Option("--settings", envvar="DJANGO_SETTINGS_MODULE",
                                          help="The monolith's Django settings module")] = DEFAULT_SETTINGS,
    write: Annotated[str | None, typer.Option("--write", metavar="APP",
                                              help="Draft this app's strangler.yaml routes and playbook")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where --write puts drafts/ and playbooks/")] = Path("migration_plan"),
    force: Annotated[bool, typer.Option("--force", help="Let --write overwrite existing drafts")] = False,
    include_admin: Annotated[bool, typer.Option("--include-admin", help="Also list the admin, schema/docs and API "
                                                                       "root endpoints")] = False,
) -> None:
    """List every endpoint, the couplings between apps and a suggested extraction order."""
    # Discovery imports code and serves nothing, so the monolith's production guards (a real SECRET_KEY)
    # have nothing to protect; an explicit DJANGO_ENV still wins.
    os.environ.setdefault("DJANGO_ENV", "development")
    try:
        found = survey(*load_project(settings))
    except DiscoveryError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    for chosen in (app, write):
        if chosen is not None and chosen not in found.apps:
            raise fail(f"no app {chosen!r} in {settings}; apps: {', '.join(found.apps)}", exits.BAD_INPUT)
    if write is not None:
        return _write(found, write, out_dir, force, settings, as_json)
    if as_json:
        return print_json({"settings": settings, **found.as_dict(app=app, include_tooling=include_admin)})
    _print_tables(found, app, include_admin)


def _write(found: Discovery, app: str, out_dir: Path, force: bool, settings: str, as_json: bool) -> None:
    try:
        written = write_drafts(found, app, out_dir, force=force, settings_module=settings)
    except AlreadyThere as exc:
        raise fail(str(exc), exits.REFUSED) from exc
    except DiscoveryError as exc:
        raise fail(str(exc), exits.BAD_INPUT) from exc
    if as_json:
        return print_json({"routes_file": str(written.routes_file), "playbook_file": str(written.playbook_file),
                           "routes": list(written.routes.routes), "left_out": list(written.routes.left_out)})
    out.print(f"Drafted {len(written.routes.routes)} routes of group [bold]{app}[/] in {written.routes_file}")
    out.print(f"Drafted the playbook skeleton in {written.playbook_file}")
    for reason in written.routes.left_out:
        out.print(f"left out: {reason}", style="yellow", highlight=False)


def _print_tables(found: Discovery, app: str | None, include_admin: bool) -> None:
    data = found.as_dict(app=app, include_tooling=include_admin)
    endpoints = Table(title=f"Endpoints ({len(data['endpoints'])})")
    for column in ("app", "method", "path", "view", "action"):
        endpoints.add_column(column, overflow="fold")
    for e in data["endpoints"]:
        path = e["path"] + (f" [yellow]({e['note']})[/]" if e["note"] else "")
        endpoints.add_row(e["app"] or "-", e["method"], path, e["view"], e["action"])
    out.print(endpoints)
    if data["format_suffix_patterns_skipped"] and app is None:
        out.print(f"{data['format_suffix_patterns_skipped']} format-suffix patterns (/stock.json) not listed: "
                  "a route matches them with its own pattern when its group has format_suffixes (the default).",
                  style="dim")

    fks = Table(title="Foreign keys between apps")
    for column in ("from", "field", "kind", "to"):
        fks.add_column(column)
    for m in data["foreign_keys"]:
        fks.add_row(m["source"], m["field"], m["kind"], m["target"])
    out.print(fks)

    imports = Table(title="Imports between apps")
    for column in ("app", "imports from", "modules"):
        imports.add_column(column, overflow="fold")
    pairs: dict[tuple[str, str], list[str]] = {}
    for i in data["imports"]:
        pairs.setdefault((i["importer_app"], i["imported_app"]), []).append(f"{i['importer']} → {i['imported']}")
    for (importer, imported), lines in pairs.items():
        imports.add_row(importer, imported, "\n".join(lines))
    out.print(imports)

    order = Table(title="Suggested extraction order (fewest inbound couplings first)")
    for column in ("#", "app", "endpoints", "inbound", "outbound", "reason"):
        order.add_column(column, overflow="fold")
    for s in data["order"]:
        order.add_row(str(s["rank"]), s["app"], str(s["endpoints"]), str(s["inbound"]), str(s["outbound"]), s["reason"])
    out.print(order)
    for item in data["unreadable"]:
        out.print(f"not scanned for imports: {item['file']}: {item['reason']}", style="yellow", highlight=False)
