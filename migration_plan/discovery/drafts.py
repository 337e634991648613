"""Writing the drafts for one app: `<out>/drafts/<app>.strangler.yaml` and `<out>/playbooks/<app>.yaml`.

Neither file is overwritten unless asked (`force`): a playbook in `playbooks/` may be the one in use.
Both files are checked before either is written, so a refusal leaves nothing half done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import DiscoveryError
from .playbook_skeleton import playbook_skeleton
from .route_drafts import RouteDrafts, draft_routes
from .survey import Discovery

DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8100"


class _PlainDumper(yaml.SafeDumper):
    """Writes a dict used twice in full each time (no &anchors / *aliases a reader has to chase)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _block_list(dumper: yaml.SafeDumper, items: "BlockList"):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=False)


class BlockList(list):
    """A list of sentences: one per line, never squeezed into [a, b, c]."""


_PlainDumper.add_representer(BlockList, _block_list)


class AlreadyThere(DiscoveryError):
    """A draft would overwrite a file and `force` was not given."""


@dataclass(frozen=True, slots=True)
class Written:
    routes_file: Path
    playbook_file: Path
    routes: RouteDrafts


def draft_paths(out_dir: Path, app: str) -> tuple[Path, Path]:
    return out_dir / "drafts" / f"{app}.strangler.yaml", out_dir / "playbooks" / f"{app}.yaml"


def write_drafts(discovery: Discovery, app: str, out_dir: Path, *, force: bool = False,
                 settings_module: str = "") -> Written:
    """Draft the route group and the playbook of `app`; DiscoveryError (AlreadyThere) if it cannot."""
    if app not in discovery.apps:
        raise DiscoveryError(f"no app {app!r} in the project; apps: {', '.join(discovery.apps)}")
    endpoints = discovery.app_endpoints(app)
    if not endpoints:
        raise DiscoveryError(f"app {app!r} serves no endpoint: there is no route to draft")
    drafts = draft_routes(app, endpoints)
    if not drafts.routes:
        raise DiscoveryError(f"none of the endpoints of {app!r} can be routed as written: "
                             + "; ".join(drafts.left_out))
    routes_file, playbook_file = draft_paths(out_dir, app)
    existing = [str(p) for p in (routes_file, playbook_file) if p.exists()]
    if existing and not force:
        raise AlreadyThere(f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                           "pass --force to overwrite")
    routes_text = _routes_yaml(app, drafts, _description(app, drafts, len(endpoints)), settings_module)
    playbook = playbook_skeleton(app, has_writes=drafts.has_writes, endpoints=len(endpoints))
    for step in playbook["steps"]:
        if "checklist" in step:
            step["checklist"] = BlockList(step["checklist"])
    playbook_text = (f"# Playbook skeleton for {app}, drafted by `strangler discover --write {app}`.\n"
                     "# Review the thresholds and hold times before the first run.\n"
                     + yaml.dump(playbook, Dumper=_PlainDumper, sort_keys=False, default_flow_style=None, width=200))
    try:
        for path in (routes_file, playbook_file):  # both directories first: a refusal writes nothing
            path.parent.mkdir(parents=True, exist_ok=True)
        routes_file.write_text(routes_text)
        playbook_file.write_text(playbook_text)
    except OSError as exc:
        raise DiscoveryError(f"cannot write the drafts under {out_dir}: {exc.strerror or exc}") from exc
    return Written(routes_file, playbook_file, drafts)


def _routes_yaml(app: str, drafts: RouteDrafts, description: str, settings_module: str) -> str:
    """The draft as strangler.yaml writes it: block mappings above, one flow mapping per route."""
    source = f" (settings {settings_module})" if settings_module else ""
    lines = [
        f"# Route group for the {app} app, drafted by `strangler discover --write {app}` from the",
        f"# monolith's URLconf{source}. Merge the three sections into strangler.yaml and",
        "# point the upstream at the extracted service (or set "
        f"STRANGLER_UPSTREAM_{app.upper().replace('-', '_')}_URL).",
        "# Reads and writes of one path are separate routes, so the writes can move on their own.",
        "upstreams:",
        f"  {app}:",
        f"    url: \"{DEFAULT_UPSTREAM_URL}\"",
        "",
        "groups:",
        f"  {app}:",
        f"    upstream: {app}",
        f"    description: {_flow(description)}",
        "    # The monolith serves DRF's format-suffix variants (/stock.json) of these routes: route them too."
        if drafts.format_suffixes else "    # No DRF format-suffix variants (/stock.json) of these routes in the URLconf.",
        f"    format_suffixes: {_flow(drafts.format_suffixes)}",
        "",
        "routes:",
    ]
    lines += [f"  - {_flow(route)}" for route in drafts.routes]
    if drafts.left_out:
        lines += ["", "# Left out (add by hand if they should move with the group):"]
        lines += [f"#   {reason}" for reason in drafts.left_out]
    return "\n".join(lines) + "\n"


def _description(app: str, drafts: RouteDrafts, endpoints: int) -> str:
    """`14 endpoints of the inventory app: warehouses, stock, ...` (the first resource segment of each route)."""
    resources = dict.fromkeys(r["name"].split(".")[1] if r["name"].count(".") >= 2 else app for r in drafts.routes)
    return f"{endpoints} endpoint{'s' if endpoints != 1 else ''} of the {app} app: {', '.join(resources)}"


def _flow(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6).strip().removesuffix("\n...")
