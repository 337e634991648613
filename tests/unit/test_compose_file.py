"""docker-compose.yml points only at things that exist.

No Docker and no Django needed: the compose file, the Dockerfiles and the Python sources are read as
text and ASTs, so a renamed module, a missing management command, a port that drifted, a database URL
with the wrong password or an environment variable nobody reads fails here, not in a container that
never turns healthy. Every check runs over all services, so services added later are checked too.

Modules, manage.py and COPY sources are resolved against the service's build context (the repository
root for image-only services); the Dockerfiles copy the context into their WORKDIR, so the two agree.
"""

from __future__ import annotations

import ast
import fnmatch
import glob
import importlib.util
import json
import os
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_PATH = REPO_ROOT / "docker-compose.yml"

# Where a service's environment variables are read, when the default is wrong: the default is the
# Django settings module the service's entry points name, else every module of its app's package.
ENV_READERS: dict[str, tuple[str, ...]] = {}
# Read by the tools themselves (Python, Django, gunicorn), not by our code.
TOOL_ENV = frozenset({"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "DJANGO_SETTINGS_MODULE",
                      "GUNICORN_CMD_ARGS", "WEB_CONCURRENCY"})
# Local state that must not be sent to the Docker daemon as build context.
LOCAL_STATE = (".git", ".venv", "var")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
ALL_INTERFACES = frozenset({"0.0.0.0", "::"})
POSTGRES_PORT = 5432


# --- compose: interpolation, environment, build -------------------------------------------------

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_]\w*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_]\w*))")


def interpolate(value: str) -> str:
    """Compose interpolation with an empty environment: defaults apply, required names become <NAME>."""

    def replace(match: re.Match) -> str:
        escaped, name, operator, argument, _bare = match.groups()
        if escaped:
            return "$"
        if operator in (":-", "-"):
            return interpolate(argument)
        if operator in (":?", "?"):
            return f"<{name}>"
        return ""

    return _VARIABLE.sub(replace, value)


def _interpolated(node):
    if isinstance(node, str):
        return interpolate(node)
    if isinstance(node, list):
        return [_interpolated(item) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value) for key, value in node.items()}
    return node


RAW_COMPOSE: dict = (yaml.safe_load(COMPOSE_PATH.read_text()) or {}) if COMPOSE_PATH.is_file() else {}
RAW_SERVICES: dict[str, dict] = RAW_COMPOSE.get("services") or {}
SERVICES: dict[str, dict] = {name: _interpolated(spec or {}) for name, spec in RAW_SERVICES.items()}


def environment(service: dict) -> dict[str, str | None]:
    """The service's environment as a dict, from either compose form (mapping or KEY=VALUE list)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


@dataclass(frozen=True)
class Build:
    context: Path
    dockerfile: Path


def build_of(name: str) -> Build | None:
    build = SERVICES[name].get("build")
    if build is None:
        return None
    if isinstance(build, str):
        build = {"context": build}
    context = (REPO_ROOT / build.get("context", ".")).resolve()
    return Build(context, context / build.get("dockerfile", "Dockerfile"))


def source_root(name: str) -> Path:
    build = build_of(name)
    return build.context if build else REPO_ROOT


def depends_on(name: str) -> dict[str, dict]:
    deps = SERVICES[name].get("depends_on") or {}
    return {dep: {} for dep in deps} if isinstance(deps, list) else {dep: spec or {} for dep, spec in deps.items()}


def is_postgres(name: str) -> bool:
    image = str(SERVICES[name].get("image", "")).rsplit("/", 1)[-1]
    return image.startswith(("postgres", "postgis"))


# --- Dockerfile ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_instructions(path: Path) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped (heredocs not supported)."""
    logical, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    split = (line.partition(" ") for line in logical)
    return [Instruction(keyword.upper(), rest.strip()) for keyword, _, rest in split]


def _exec_or_shell_form(args: str) -> list[str]:
    if args.startswith("["):
        try:
            return [str(part) for part in json.loads(args)]
        except json.JSONDecodeError:
            pass  # Docker falls back to the shell form too
    return ["sh", "-c", args]


def copy_sources(instruction: Instruction) -> list[str]:
    """Context paths a COPY/ADD reads; none for copies from another stage and remote ADD sources."""
    flags, rest = re.fullmatch(r"((?:--\S+\s+)*)(.*)", instruction.args, re.S).groups()
    if "--from" in flags:
        return []
    parts = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    return [src for src in parts[:-1] if "://" not in src and not src.startswith("git@")]


def exposed_ports(path: Path) -> set[int]:
    ports = set()
    for instruction in dockerfile_instructions(path):
        if instruction.keyword == "EXPOSE":
            ports |= {int(port.split("/")[0]) for port in instruction.args.split()}
    return ports


def _glob_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern (Go filepath.Match plus **) as a regex over slash-separated paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return re.compile("".join(out) + r"\Z")


def is_dockerignored(context: Path, relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    ignore_file = context / ".dockerignore"
    if not ignore_file.is_file():
        return False
    parts = Path(relative).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _glob_regex(line.lstrip("!").strip().strip("/"))
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negated
    return ignored


# --- what a container command launches -----------------------------------------------------------

_SHELLS = {"sh", "bash", "ash", "dash"}
_SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}
_APP_TARGET = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\(.*\))?")


def command_segments(argv: list[str]) -> list[list[str]]:
    """The simple commands a container command runs: `sh -c "a && exec b"` gives [a, b]."""
    if argv and Path(argv[0]).name in _SHELLS and "-c" in argv[:-1]:
        script = argv[argv.index("-c") + 1].replace("\\\n", " ").replace("\n", " ; ")
        lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        segments, current = [], []
        for token in lexer:
            if token in _SHELL_OPERATORS:
                segments.append(current)
                current = []
            else:
                current.append(token)
        segments.append(current)
        return [command for segment in segments for command in command_segments(segment)]
    while argv and (argv[0] == "exec" or re.match(r"[A-Za-z_]\w*=", argv[0])):
        argv = argv[1:]  # `exec gunicorn ...`, `FOO=bar gunicorn ...`
    return [argv] if argv else []


def _program(segment: list[str]) -> tuple[str, str, list[str]]:
    """(program name, program as written, its args), reading `python -m X` and `python X.py` as X."""
    program, args = segment[0], segment[1:]
    if re.fullmatch(r"python[\d.]*", Path(program).name) and args:
        if args[0] == "-m" and len(args) > 1:
            return args[1], args[1], args[2:]
        if not args[0].startswith("-"):
            return Path(args[0]).name, args[0], args[1:]
    return Path(program).name, program, args


def _option_values(args: list[str], *names: str) -> list[str]:
    values = []
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                values.append(args[i + 1])
            elif name.startswith("--") and arg.startswith(name + "="):
                values.append(arg.split("=", 1)[1])
    return values


@dataclass(frozen=True)
class Server:
    program: str  # gunicorn | uvicorn
    app: str | None  # "package.module:attribute"
    binds: tuple[tuple[str, int], ...]

    @property
    def ports(self) -> set[int]:
        return {port for _, port in self.binds}


def _binds(program: str, args: list[str]) -> tuple[tuple[str, int], ...]:
    if program == "uvicorn":
        host = (_option_values(args, "--host") or ["127.0.0.1"])[-1]
        port = (_option_values(args, "--port") or ["8000"])[-1]
        return ((host, int(port)),) if port.isdigit() else ()
    binds = []
    for value in _option_values(args, "-b", "--bind") or ["127.0.0.1:8000"]:
        if value.startswith(("unix:", "fd://")):
            continue
        host, _, port = value.rpartition(":") if not value.endswith("]") and ":" in value else (value, "", "8000")
        if port.isdigit():
            binds.append((host.strip("[]"), int(port)))
    return tuple(binds)


@dataclass(frozen=True)
class Launch:
    """What a service's container command (or its Dockerfile's CMD) starts."""

    argv: tuple[str, ...]
    server: Server | None
    manage_py: str | None  # manage.py as written in the command
    manage_commands: tuple[str, ...]


@cache
def launch_of(name: str) -> Launch:
    command = SERVICES[name].get("command")
    build = build_of(name)
    if command is None and build and build.dockerfile.is_file():
        cmds = [i for i in dockerfile_instructions(build.dockerfile) if i.keyword == "CMD"]
        argv = _exec_or_shell_form(cmds[-1].args) if cmds else []
    elif isinstance(command, str):
        argv = shlex.split(command)
    else:
        argv = [str(part) for part in command or []]
    server, manage_py, manage_commands = None, None, []
    for segment in command_segments(argv):
        program, written, args = _program(segment)
        if program in ("gunicorn", "uvicorn") and server is None:
            app = next((arg for arg in args if _APP_TARGET.fullmatch(arg)), None)
            server = Server(program, app, _binds(program, args))
        elif program == "manage.py":
            manage_py = written
            manage_commands += [arg for arg in args if not arg.startswith("-")][:1]
    return Launch(tuple(argv), server, manage_py, tuple(manage_commands))


# --- Python sources, read without importing them ---------------------------------------------------


def module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def top_level_names(path: Path) -> set[str]:
    """Names a module binds at import time (defs, classes, assignments, imports, also under if/try)."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])):
                    visit(block)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text(), filename=str(path)).body)
    return names


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)
            and node.value.id == "os") or (isinstance(node, ast.Name) and node.id == "environ")


def _environ_key(node: ast.AST) -> ast.expr | None:
    """The key of an environment read: os.environ.get(k), os.getenv(k), os.environ[k], k in os.environ."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"get", "pop", "setdefault"} and _is_environ(func.value):
            return node.args[0]
        if (isinstance(func, ast.Attribute) and func.attr == "getenv" and isinstance(func.value, ast.Name)
                and func.value.id == "os") or (isinstance(func, ast.Name) and func.id == "getenv"):
            return node.args[0]
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and _is_environ(node.comparators[0])):
        return node.left
    return None


def env_names_read(path: Path) -> set[str]:
    """Variable names a module reads, directly or through a helper like `_env_flag("DJANGO_DEBUG")`.

    A key built by an f-string gives a pattern (`UPSTREAM_*`) for the constant part it starts with.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    helpers: dict[str, tuple[str, int | None]] = {}  # function -> (parameter, position)
    for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        positional = [a.arg for a in func.args.posonlyargs + func.args.args]
        for node in ast.walk(func):
            key = _environ_key(node)
            if isinstance(key, ast.Name) and key.id in positional + [a.arg for a in func.args.kwonlyargs]:
                position = positional.index(key.id) if key.id in positional else None
                helpers[func.name] = (key.id, position)
    names = set()
    for node in ast.walk(tree):
        key = _environ_key(node)
        if key is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers:
            parameter, position = helpers[node.func.id]
            by_keyword = [kw.value for kw in node.keywords if kw.arg == parameter]
            by_position = node.args[position:position + 1] if position is not None else []
            key = next(iter(by_position + by_keyword), None)
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
        elif isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant):
            names.add(f"{key.values[0].value}*")  # os.environ.get(f"UPSTREAM_{name}_URL") reads UPSTREAM_*
    return names


_SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


def entry_files(name: str) -> list[Path]:
    """The Python files a service's command starts: its server's app module and its manage.py."""
    launch, root = launch_of(name), source_root(name)
    files = []
    if launch.server and launch.server.app:
        files.append(module_file(root, launch.server.app.split(":")[0]))
    if launch.manage_py:
        files.append(root / launch.manage_py.lstrip("/"))
    return [path for path in files if path and path.is_file()]


def django_settings_files(name: str) -> list[Path]:
    configured = environment(SERVICES[name]).get("DJANGO_SETTINGS_MODULE")
    named = {module for path in entry_files(name) for module in _SETTINGS_DEFAULT.findall(path.read_text())}
    modules = {configured} if configured else named
    return [path for path in (module_file(source_root(name), module) for module in sorted(modules)) if path]


def env_reader_files(name: str) -> list[Path]:
    if name in ENV_READERS:
        return [REPO_ROOT / path for path in ENV_READERS[name]]
    if settings := django_settings_files(name):
        return settings
    launch = launch_of(name)
    if not (launch.server and launch.server.app):
        return []
    module = launch.server.app.split(":")[0]
    package = source_root(name) / module.split(".")[0]
    if package.is_dir():
        return sorted(package.rglob("*.py"))
    return [path for path in [module_file(source_root(name), module)] if path]


def installed_apps(settings_file: Path) -> list[str]:
    apps: list[str] = []
    for node in ast.walk(ast.parse(settings_file.read_text())):
        if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id == "INSTALLED_APPS" for t in targets):
            apps += [n.value for n in ast.walk(node.value) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return apps


def _package_dir(root: Path, dotted: str) -> Path | None:
    """An app's directory: in the project, or in the installed distribution (found without importing)."""
    parts = dotted.split(".")
    while parts:
        local = root.joinpath(*parts)
        if local.is_dir():
            return local
        spec = importlib.util.find_spec(parts[0])  # a top-level lookup imports nothing
        if spec and spec.submodule_search_locations:
            installed = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts[1:])
            if installed.is_dir():
                return installed
        parts = parts[:-1]  # "app.apps.AppConfig" -> "app.apps" -> "app"
    return None


def management_commands(name: str) -> set[str]:
    """Commands manage.py offers this service: Django's own plus those of every installed app."""
    django_dir = _package_dir(REPO_ROOT, "django")
    dirs = [django_dir / "core"] if django_dir else []
    for settings in django_settings_files(name):
        dirs += [d for d in (_package_dir(source_root(name), app) for app in installed_apps(settings)) if d]
    return {p.stem for d in dirs for p in (d / "management" / "commands").glob("*.py") if not p.stem.startswith("_")}


# --- URLs, ports, healthchecks --------------------------------------------------------------------

_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]+")


def urls_in(text: str) -> list:
    return [urlsplit(url) for url in _URL.findall(text)]


def healthcheck_test(name: str) -> list[str]:
    test = (SERVICES[name].get("healthcheck") or {}).get("test") or []
    return [test] if isinstance(test, str) else [str(part) for part in test]


def container_ports(service: dict) -> set[int]:
    """Container side of every `ports` entry: "8001", "8001:8001", "127.0.0.1:80:8001/tcp" or long form."""
    ports = set()
    for entry in service.get("ports") or []:
        target = entry.get("target") if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1].split("/")[0]
        ports.add(int(target))
    return ports


def listening_port(name: str) -> int | None:
    if is_postgres(name):
        return int(environment(SERVICES[name]).get("PGPORT") or POSTGRES_PORT)
    server = launch_of(name).server
    return min(server.ports) if server and server.ports else None


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def service_hostnames() -> dict[str, str]:
    """Every name a container can reach a service by on the default network."""
    names = {}
    for name, spec in SERVICES.items():
        for alias in (name, spec.get("hostname"), spec.get("container_name")):
            if alias:
                names[alias] = name
    return names


SERVICE_NAMES = sorted(SERVICES)
BUILT = [name for name in SERVICE_NAMES if "build" in SERVICES[name]]
SERVERS = [name for name in SERVICE_NAMES if launch_of(name).server]
MANAGE_COMMANDS = [(name, command) for name in SERVICE_NAMES for command in launch_of(name).manage_commands]
POSTGRES = [name for name in SERVICE_NAMES if is_postgres(name)]


# --- the checks -------------------------------------------------------------------------------------


def test_compose_file_defines_services():
    assert COMPOSE_PATH.is_file(), f"{COMPOSE_PATH} is missing"
    assert SERVICES, f"{COMPOSE_PATH.name} defines no services"


@pytest.mark.parametrize("name", BUILT)
def test_build_context_and_dockerfile_exist(name):
    build = build_of(name)
    assert build.context.is_dir(), f"service {name!r}: build context {build.context} is not a directory"
    assert build.dockerfile.is_file(), f"service {name!r}: Dockerfile {build.dockerfile} does not exist"


@pytest.mark.parametrize("name", BUILT)
def test_dockerfile_copies_files_that_exist_and_are_not_dockerignored(name):
    build = build_of(name)
    for instruction in dockerfile_instructions(build.dockerfile):
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        for source in copy_sources(instruction):
            where = f"service {name!r}: `{instruction.keyword} {instruction.args}` in {_shown(build.dockerfile)}"
            relative = os.path.normpath(source.lstrip("/"))  # COPY sources are relative to the context
            matches = glob.glob(relative, root_dir=build.context)
            assert matches, f"{where}: {source!r} does not exist in the build context {_shown(build.context)}"
            ignored = is_dockerignored(build.context, relative)
            assert not ignored, f"{where}: {source!r} is excluded by .dockerignore"


@pytest.mark.parametrize("name", BUILT)
def test_build_context_leaves_local_state_out(name):
    context = build_of(name).context
    for entry in LOCAL_STATE:
        if (context / entry).exists():
            ignored = is_dockerignored(context, entry)
            assert ignored, f"service {name!r}: {context / entry} would be sent to the builder; add it to .dockerignore"


@pytest.mark.parametrize("name", SERVERS)
def test_server_app_module_defines_its_app(name):
    launch = launch_of(name)
    server = launch.server
    assert server.app, f"service {name!r}: no module:attribute app target in `{' '.join(launch.argv)}`"
    module, attribute = server.app.split(":")
    attribute = attribute.split("(")[0]  # gunicorn also takes "module:create_app()"
    path = module_file(source_root(name), module)
    assert path, f"service {name!r}: {server.program} serves {server.app!r}, but {module!r} has no file"
    defined = attribute in top_level_names(path)
    assert defined, f"service {name!r}: {_shown(path)} does not define {attribute!r} ({server.program} serves it)"


@pytest.mark.parametrize("name", SERVERS)
def test_server_binds_all_interfaces_on_the_published_and_exposed_port(name):
    launch = launch_of(name)
    server = launch.server
    bound = sorted(server.ports)
    assert server.binds, f"service {name!r}: no TCP port found in `{' '.join(launch.argv)}`"
    for host, port in server.binds:
        reachable = host in ALL_INTERFACES
        assert reachable, f"service {name!r}: {server.program} binds {host}:{port}, unreachable; bind 0.0.0.0"
    published = sorted(container_ports(SERVICES[name]))
    matching = set(published) <= server.ports
    assert matching, f"service {name!r}: publishes container port(s) {published} but {server.program} binds {bound}"
    build = build_of(name)
    exposed = sorted(exposed_ports(build.dockerfile)) if build else []
    if exposed:
        matching = server.ports <= set(exposed)
        assert matching, f"service {name!r}: binds {bound} but {_shown(build.dockerfile)} EXPOSEs {exposed}"


@pytest.mark.parametrize("name", SERVERS)
def test_healthcheck_url_reaches_the_server(name):
    server = launch_of(name).server
    allowed_hosts = environment(SERVICES[name]).get("ALLOWED_HOSTS")
    for url in urls_in(" ".join(healthcheck_test(name))):
        where = f"service {name!r}: healthcheck calls {url.geturl()}"
        assert url.hostname in LOOPBACK, f"{where}, not the container itself"
        assert url.port in server.ports, f"{where}, but {server.program} binds {sorted(server.ports)}"
        if allowed_hosts is not None:
            hosts = {host.strip() for host in allowed_hosts.split(",")}
            allowed = url.hostname in hosts or "*" in hosts
            assert allowed, f"{where}, but ALLOWED_HOSTS={allowed_hosts} lacks {url.hostname} (Django answers 400)"


@pytest.mark.parametrize(("name", "command"), MANAGE_COMMANDS)
def test_manage_py_commands_exist(name, command):
    launch = launch_of(name)
    manage_py = source_root(name) / launch.manage_py.lstrip("/")
    assert manage_py.is_file(), f"service {name!r}: runs {launch.manage_py} but {manage_py} does not exist"
    settings = django_settings_files(name)
    assert settings, f"service {name!r}: cannot tell which settings module {launch.manage_py} uses"
    known = command in management_commands(name)
    assert known, (
        f"service {name!r}: `manage.py {command}` is neither a Django command nor "
        f"<app>/management/commands/{command}.py of an app in INSTALLED_APPS"
    )


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_urls_in_environment_point_at_services_with_matching_port_and_credentials(name):
    hostnames = service_hostnames()
    dependencies = sorted(depends_on(name))
    for variable, value in environment(SERVICES[name]).items():
        for url in urls_in(value or ""):
            where = f"service {name!r}: {variable}={url.geturl()}"
            host = url.hostname or ""
            if host in LOOPBACK or "." in host or ":" in host:
                continue  # the container itself or an outside address
            assert host in hostnames, f"{where}: host {host!r} is not a service in {COMPOSE_PATH.name}"
            target = hostnames[host]
            assert target in dependencies, f"{where}: talks to {target!r} but depends_on only {dependencies}"
            expected_port = listening_port(target)
            port = url.port or (POSTGRES_PORT if url.scheme.startswith("postgres") else None)
            if expected_port and port:
                assert port == expected_port, f"{where}: port {port}, but {target!r} listens on {expected_port}"
            if is_postgres(target):
                env = environment(SERVICES[target])
                user = env.get("POSTGRES_USER") or "postgres"
                password, database = env.get("POSTGRES_PASSWORD"), env.get("POSTGRES_DB") or user
                expected = {"user": user, "password": password, "database": database}
                actual = {"user": url.username, "password": url.password, "database": url.path.lstrip("/")}
                for field, wanted in expected.items():
                    if wanted is not None:
                        got = actual[field]
                        assert got == wanted, f"{where}: {field} {got!r}, but {target!r} is set up with {wanted!r}"


@pytest.mark.parametrize("name", BUILT)
def test_environment_names_are_read_by_the_service(name):
    readers = env_reader_files(name)
    assert readers, f"service {name!r}: cannot tell where its environment is read; add it to ENV_READERS"
    read = set().union(*(env_names_read(path) for path in readers)) | TOOL_ENV
    unread = sorted(var for var in environment(SERVICES[name]) if not any(fnmatch.fnmatchcase(var, r) for r in read))
    sources = ", ".join(_shown(path) for path in readers)
    assert not unread, f"service {name!r}: sets {unread}, but {sources} never read them"


@pytest.mark.parametrize("name", BUILT)
def test_services_whose_settings_read_database_url_set_it(name):
    read = set().union(set(), *(env_names_read(path) for path in env_reader_files(name)))
    if "DATABASE_URL" in read and POSTGRES:
        is_set = "DATABASE_URL" in environment(SERVICES[name])
        assert is_set, f"service {name!r}: its settings read DATABASE_URL; unset, it falls back to its default database"


@pytest.mark.parametrize("name", BUILT)
def test_secrets_are_required_from_the_environment(name):
    for variable, value in environment(RAW_SERVICES[name] or {}).items():
        if re.search(r"SECRET|PASSWORD|TOKEN|(^|_)KEY$", variable):
            required = re.fullmatch(r"\$\{%s:\?[^}]*\}" % re.escape(variable), value or "")
            assert required, f"service {name!r}: {variable} must be ${{{variable}:?message}}, not {value!r}"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_depends_on_defined_services_with_valid_conditions(name):
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for dependency, spec in depends_on(name).items():
        assert dependency in SERVICES, f"service {name!r}: depends_on {dependency!r}, which is not a service"
        condition = spec.get("condition", "service_started")
        assert condition in conditions, f"service {name!r}: depends_on {dependency!r} with condition {condition!r}"
        if condition == "service_healthy":
            has_check = bool(healthcheck_test(dependency))
            assert has_check, f"service {name!r}: waits for {dependency!r} to be healthy, but it has no healthcheck"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_service_has_a_healthcheck(name):
    healthcheck = SERVICES[name].get("healthcheck") or {}
    assert not healthcheck.get("disable"), f"service {name!r}: healthcheck is disabled"
    test = healthcheck_test(name)
    assert test and test[0] != "NONE", f"service {name!r}: has no healthcheck"
    build = build_of(name)
    words = shlex.split(" ".join(test[1:])) if test[0] == "CMD-SHELL" else test[1:]
    tool = next((word for word in ("curl", "wget") if word in words), None)
    if tool and build:
        runs = " ".join(i.args for i in dockerfile_instructions(build.dockerfile) if i.keyword == "RUN")
        assert tool in runs, f"service {name!r}: healthcheck uses {tool}, which its image lacks (use python's urllib)"


@pytest.mark.parametrize("name", POSTGRES)
def test_pg_isready_healthcheck_runs_as_the_configured_user(name):
    users = _option_values(shlex.split(" ".join(healthcheck_test(name)[1:])), "-U", "--username")
    expected = environment(SERVICES[name]).get("POSTGRES_USER") or "postgres"
    matches = bool(users) and users[-1] == expected
    assert matches, f"service {name!r}: pg_isready should pass -U {expected} (else each check logs a FATAL role error)"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_volumes_are_declared_or_exist(name):
    declared = set(RAW_COMPOSE.get("volumes") or {})
    for entry in SERVICES[name].get("volumes") or []:
        if isinstance(entry, dict):
            source = entry.get("source")
        else:
            source = str(entry).split(":")[0] if ":" in str(entry) else None
        if not source:
            continue  # an anonymous volume
        if source.startswith((".", "/", "~")):
            exists = (REPO_ROOT / source).exists()
            assert exists, f"service {name!r}: bind mount source {source} does not exist"
        else:
            assert source in declared, f"service {name!r}: named volume {source!r} is not under top-level volumes"
