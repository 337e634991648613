"""Playbooks: `migration_plan/playbooks/<capability>.yaml` parsed once into frozen dataclasses.

The format is the one `strangler discover --write` drafts (migration_plan/discovery/playbook_skeleton.py):

    capability: inventory          # also the file name
    group: inventory               # the route group in strangler.yaml
    steps:
      - name: canary reads 10%
        kind: canary_reads         # see STEP_KINDS
        actions: [{flag: {routes: reads, mode: canary, percent: 10}}]   # routes: reads | writes | all
        #        or {sync: backfill | run | verify}, {sync: handover, to: service | legacy}
        gates:   [{parity_rate: {min: 0.99, min_samples: 500}}, {error_rate: {max: 0.01}}]
        hold: 30m                  # analysis window: gates must hold this long before the next step
        on_failure: rollback       # rollback (to the step before) | rollback to start | rollback to <step> | stop
        checklist: [...]           # decommission: what a human confirms before approving

Every error names the file and the key path: `inventory.yaml: steps[3].gates[0].min_samples: expected a
positive integer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

STEP_KINDS = ("backfill", "start_sync", "shadow_reads", "canary_reads", "shadow_writes", "move_write_ownership",
              "canary_writes", "decommission")
ROUTE_SCOPES = ("reads", "writes", "all")
MODES = ("legacy", "shadow", "canary", "extracted")
SYNC_COMMANDS = ("backfill", "run", "verify", "handover")
# Each gate kind and the parameters it takes (type, required).
GATE_PARAMS: dict[str, dict[str, tuple[str, bool]]] = {
    "parity_rate": {"min": ("fraction", True), "min_samples": ("count", False)},
    "error_rate": {"max": ("fraction", True), "min_requests": ("count0", False), "target": ("target", False)},
    "latency_p99_ratio": {"max": ("number", True), "min_requests": ("count0", False)},
    "fallbacks": {"max_rate": ("fraction", False), "max": ("count0", False), "min_requests": ("count0", False)},
    "sync_lag": {"max_seconds": ("number", True)},
    "drift": {"max": ("count0", True)},
    "approval": {"required": ("bool", False)},
}
DEFAULT_PLAYBOOK_DIR = Path(__file__).parent / "playbooks"


class PlaybookError(ValueError):
    """A playbook that cannot be used, with the file and key path in the message."""


@dataclass(frozen=True, slots=True)
class Gate:
    kind: str
    params: tuple[tuple[str, object], ...]
    routes: str = "all"   # reads | writes | all: whose evidence (defaults to the step's flag scope)

    def get(self, name: str, default=None):
        return dict(self.params).get(name, default)

    @property
    def name(self) -> str:
        return self.kind


@dataclass(frozen=True, slots=True)
class Action:
    kind: str                         # flag | sync
    routes: str | None = None         # flag: reads | writes | all
    mode: str | None = None
    percent: float | None = None
    command: str | None = None        # sync: backfill | run | verify | handover
    to: str | None = None             # handover: service | legacy

    def describe(self) -> str:
        if self.kind == "flag":
            pct = f" {self.percent:g}%" if self.mode == "canary" else ""
            return f"{self.routes} routes → {self.mode}{pct}"
        return f"sync {self.command}" + (f" to {self.to}" if self.to else "")


@dataclass(frozen=True, slots=True)
class OnFailure:
    kind: str                 # stop | rollback
    to: int | None = None     # step index to return to; -1 = the start (all legacy); None = the step before

    def target(self, current: int) -> int:
        return (current - 1) if self.to is None else self.to


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    kind: str
    actions: tuple[Action, ...]
    gates: tuple[Gate, ...]
    hold_seconds: float
    on_failure: OnFailure
    checklist: tuple[str, ...] = ()

    @property
    def scope(self) -> str:
        """Whose traffic this step is about: the routes its flag actions touch (all when mixed or none)."""
        scopes = {a.routes for a in self.actions if a.kind == "flag"}
        return scopes.pop() if len(scopes) == 1 else "all"


@dataclass(frozen=True, slots=True)
class Playbook:
    capability: str
    group: str
    description: str
    steps: tuple[Step, ...]
    source: str = ""

    def index(self, name_or_number: str) -> int:
        for i, step in enumerate(self.steps):
            if step.name == name_or_number:
                return i
        if str(name_or_number).isdigit() and int(name_or_number) < len(self.steps):
            return int(name_or_number)
        raise PlaybookError(f"{self.source}: no step {name_or_number!r}; steps: {', '.join(s.name for s in self.steps)}")


@dataclass
class _Ctx:
    file: str
    problems: list[str] = field(default_factory=list)

    def fail(self, path: str, expected: str):
        raise PlaybookError(f"{self.file}: {path}: {expected}")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(value, ctx: _Ctx, path: str) -> float:
    if isinstance(value, bool):
        ctx.fail(path, "expected a duration such as 30s, 5m or 1h")
    if isinstance(value, (int, float)) and value >= 0:
        return float(value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        ctx.fail(path, f"expected a duration such as 30s, 5m or 1h, got {value!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    return float(match.group(1)) * scale


def _mapping(value, ctx, path) -> dict:
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a mapping, got {type(value).__name__}")
    return value


def _only(value: dict, allowed: set, ctx, path) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        ctx.fail(f"{path}.{unknown[0]}", f"unknown key; expected one of {', '.join(sorted(allowed))}")


def _param(kind: str, value, ctx, path):
    if kind == "fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            ctx.fail(path, "expected a number between 0 and 1")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            ctx.fail(path, "expected a non-negative number")
    elif kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            ctx.fail(path, "expected a positive integer")
    elif kind == "count0":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            ctx.fail(path, "expected a non-negative integer")
    elif kind == "bool":
        if not isinstance(value, bool):
            ctx.fail(path, "expected true or false")
    elif kind == "target":
        if value not in ("legacy", "extracted"):
            ctx.fail(path, "expected legacy or extracted")
    return value


def _gate(raw, ctx, path, default_routes: str) -> Gate:
    raw = _mapping(raw, ctx, path)
    if len(raw) != 1:
        ctx.fail(path, f"expected one gate kind as the only key ({', '.join(GATE_PARAMS)})")
    (kind, params), = raw.items()
    if kind not in GATE_PARAMS:
        ctx.fail(f"{path}.{kind}", f"unknown gate kind; expected one of {', '.join(GATE_PARAMS)}")
    params = {} if params is None else _mapping(params, ctx, f"{path}.{kind}")
    spec = GATE_PARAMS[kind]
    _only(params, set(spec) | {"routes"}, ctx, path)
    for name, (ptype, required) in spec.items():
        if name in params:
            _param(ptype, params[name], ctx, f"{path}.{name}")
        elif required:
            ctx.fail(f"{path}.{name}", "required")
    if kind == "fallbacks" and "max_rate" not in params and "max" not in params:
        ctx.fail(f"{path}.max_rate", "fallbacks needs max_rate or max")
    routes = params.pop("routes", default_routes)
    if routes not in ROUTE_SCOPES:
        ctx.fail(f"{path}.routes", f"expected one of {', '.join(ROUTE_SCOPES)}")
    return Gate(kind, tuple(sorted(params.items())), routes)


def _action(raw, ctx, path) -> Action:
    raw = _mapping(raw, ctx, path)
    if "flag" in raw:
        _only(raw, {"flag"}, ctx, path)
        flag = _mapping(raw["flag"], ctx, f"{path}.flag")
        _only(flag, {"routes", "mode", "percent"}, ctx, f"{path}.flag")
        routes = flag.get("routes", "all")
        if routes not in ROUTE_SCOPES:
            ctx.fail(f"{path}.flag.routes", f"expected one of {', '.join(ROUTE_SCOPES)}")
        mode = flag.get("mode")
        if mode not in MODES:
            ctx.fail(f"{path}.flag.mode", f"expected one of {', '.join(MODES)}")
        percent = flag.get("percent")
        if mode == "canary":
            if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 < percent <= 100:
                ctx.fail(f"{path}.flag.percent", "expected a number above 0 and at most 100 for a canary")
        elif percent is not None:
            ctx.fail(f"{path}.flag.percent", "only a canary takes a percent")
        return Action("flag", routes=routes, mode=mode, percent=None if percent is None else float(percent))
    if "sync" in raw:
        _only(raw, {"sync", "to"}, ctx, path)
        command = raw["sync"]
        if command not in SYNC_COMMANDS:
            ctx.fail(f"{path}.sync", f"expected one of {', '.join(SYNC_COMMANDS)}")
        to = raw.get("to")
        if command == "handover" and to not in ("service", "legacy"):
            ctx.fail(f"{path}.to", "a handover needs to: service or legacy")
        if command != "handover" and to is not None:
            ctx.fail(f"{path}.to", "only a handover takes to")
        return Action("sync", command=command, to=to)
    ctx.fail(path, "expected an action: {flag: {...}} or {sync: ...}")


def _on_failure(raw, ctx, path, names: list[str], index: int) -> OnFailure:
    if raw in (None, "stop"):
        return OnFailure("stop")
    if raw == "rollback":
        return OnFailure("rollback")
    if isinstance(raw, str) and raw.startswith("rollback to "):
        target = raw.removeprefix("rollback to ").strip()
        if target == "start":
            return OnFailure("rollback", -1)
        if target in names[:index]:
            return OnFailure("rollback", names.index(target))
        ctx.fail(path, f"rollback to {target!r}: no earlier step of that name")
    ctx.fail(path, "expected stop, rollback, rollback to start or rollback to <earlier step name>")


def parse_playbook(data, file: str = "<playbook>") -> Playbook:
    ctx = _Ctx(file)
    data = _mapping(data, ctx, "(top level)")
    _only(data, {"capability", "group", "description", "steps"}, ctx, "(top level)")
    capability = data.get("capability")
    if not isinstance(capability, str) or not capability:
        ctx.fail("capability", "expected a name")
    group = data.get("group", capability)
    if not isinstance(group, str) or not group:
        ctx.fail("group", "expected a route group name")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        ctx.fail("steps", "expected a non-empty list of steps")
    names = []
    for i, raw in enumerate(raw_steps):
        name = _mapping(raw, ctx, f"steps[{i}]").get("name")
        if not isinstance(name, str) or not name.strip():
            ctx.fail(f"steps[{i}].name", "expected a name")
        if name in names:
            ctx.fail(f"steps[{i}].name", f"{name!r} is already the name of steps[{names.index(name)}]")
        names.append(name)
    steps = []
    for i, raw in enumerate(raw_steps):
        path = f"steps[{i}]"
        _only(raw, {"name", "kind", "actions", "gates", "hold", "on_failure", "checklist"}, ctx, path)
        if raw.get("kind") not in STEP_KINDS:
            ctx.fail(f"{path}.kind", f"expected one of {', '.join(STEP_KINDS)}")
        actions = raw.get("actions") or []
        if not isinstance(actions, list):
            ctx.fail(f"{path}.actions", "expected a list")
        parsed_actions = tuple(_action(a, ctx, f"{path}.actions[{j}]") for j, a in enumerate(actions))
        scopes = {a.routes for a in parsed_actions if a.kind == "flag"}
        default_routes = scopes.pop() if len(scopes) == 1 else "all"
        gates = raw.get("gates") or []
        if not isinstance(gates, list):
            ctx.fail(f"{path}.gates", "expected a list")
        checklist = raw.get("checklist") or []
        if not isinstance(checklist, list) or not all(isinstance(c, str) for c in checklist):
            ctx.fail(f"{path}.checklist", "expected a list of strings")
        steps.append(Step(
            name=raw["name"], kind=raw["kind"], actions=parsed_actions,
            gates=tuple(_gate(g, ctx, f"{path}.gates[{j}]", default_routes) for j, g in enumerate(gates)),
            hold_seconds=parse_duration(raw.get("hold", 0), ctx, f"{path}.hold"),
            on_failure=_on_failure(raw.get("on_failure"), ctx, f"{path}.on_failure", names, i),
            checklist=tuple(checklist)))
    return Playbook(capability, group, str(data.get("description") or ""), tuple(steps), file)


def load_playbook(path: Path | str, *, hold_scale: float = 1.0) -> Playbook:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise PlaybookError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PlaybookError(f"{path.name}: not valid YAML: {exc}") from exc
    playbook = parse_playbook(data, path.name)
    if path.stem != playbook.capability:
        raise PlaybookError(f"{path.name}: capability: {playbook.capability!r} does not match the file name")
    if hold_scale != 1.0:
        from dataclasses import replace
        playbook = replace(playbook, steps=tuple(replace(s, hold_seconds=s.hold_seconds * hold_scale) for s in playbook.steps))
    return playbook


def find_playbook(capability: str, directory: Path | str | None = None, **kw) -> Playbook:
    directory = Path(directory) if directory else DEFAULT_PLAYBOOK_DIR
    path = directory / f"{capability}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise PlaybookError(f"no playbook {path.name} in {directory}; known: {', '.join(known) or 'none'}")
    return load_playbook(path, **kw)
