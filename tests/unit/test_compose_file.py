"""docker-compose.yml points only at things that exist.

No Docker and no Django needed: the compose file, the Dockerfiles and the Python sources are read as
text and ASTs, so a renamed module, a missing management command, a port that drifted, a database URL
with the wrong password or an environment variable nobody reads fails here, not in a container that
never turns healthy. Every check runs over all services, so services added later are checked too.

What a container runs is read from its command: gunicorn and uvicorn, `python manage.py`, `python -m
<module>` (a `__main__` that starts uvicorn counts as a server, its --host/--port defaults read from its
argparse options) and the project's console scripts (`strangler ...`, parsed by the CLI's own click
parser: imported, never run). A service others wait for with `service_completed_successfully` is a
one-shot job: it needs no healthcheck, but must finish.

Modules, manage.py and COPY sources are resolved against the service's build context (the repository
root for image-only services); the Dockerfiles copy the context into their WORKDIR, so the two agree,
and a check makes sure the code and files a command needs are copied to the same place.
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
import sys
import tomllib
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
INITDB_DIR = "/docker-entrypoint-initdb.d"  # the postgres image runs the *.sql there on a new volume
# A variable naming a YAML config file (default when unset) whose `*_env` keys name more variables the
# code reads, e.g. strangler.yaml's `admin_token_env: STRANGLER_ADMIN_TOKEN`.
CONFIG_FILE_VARIABLES = {"STRANGLER_CONFIG": "strangler.yaml"}
# `python -m <module>` commands that migrate a database before serving: the variable naming it, and the
# option that skips the migration. (`manage.py migrate` migrates DATABASE_URL.)
MIGRATING_MODULES = {
    "extracted.inventory": ("INVENTORY_DATABASE_URL", "--no-migrate"),
    "extracted.inventory.migrate": ("INVENTORY_DATABASE_URL", None),
}


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


def volume_mounts(name: str) -> list[tuple[str | None, str]]:
    """(source, target) of every volume entry; source None for an anonymous volume."""
    mounts = []
    for entry in SERVICES[name].get("volumes") or []:
        if isinstance(entry, dict):
            mounts.append((entry.get("source"), str(entry.get("target", ""))))
        else:
            parts = str(entry).split(":")
            mounts.append((parts[0], parts[1]) if len(parts) > 1 else (None, parts[0]))
    return mounts


def postgres_databases(name: str) -> set[str]:
    """The databases a postgres service has: POSTGRES_DB, and every CREATE DATABASE of its init scripts."""
    env = environment(SERVICES[name])
    databases = {env.get("POSTGRES_DB") or env.get("POSTGRES_USER") or "postgres"}
    for source, target in volume_mounts(name):
        if not (source and source.startswith((".", "/")) and target.startswith(INITDB_DIR)):
            continue
        path = REPO_ROOT / source
        for script in [path] if path.is_file() else sorted(path.glob("*.sql")):
            sql = re.sub(r"--[^\n]*", "", script.read_text())
            databases |= {name.lower() for name in re.findall(r'(?i)\bCREATE\s+DATABASE\s+"?(\w+)"?', sql)}
    return databases


def waits_for(name: str) -> set[str]:
    """Services this one starts after, done: healthy or completed, directly or through others that are."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for dependency, spec in depends_on(todo.pop()).items():
            done = spec.get("condition") in ("service_healthy", "service_completed_successfully")
            if done and dependency not in seen and dependency in SERVICES:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def jobs() -> set[str]:
    """One-shot services: those another service waits for with service_completed_successfully."""
    return {dependency for name in SERVICES for dependency, spec in depends_on(name).items()
            if spec.get("condition") == "service_completed_successfully"}


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


def workdir_at(instructions: list[Instruction], index: int) -> str:
    """The WORKDIR in force at instruction `index` ("/" before any)."""
    current = "/"
    for instruction in instructions[:index]:
        if instruction.keyword == "WORKDIR":
            current = os.path.normpath(os.path.join(current, instruction.args.strip().strip('"')))
    return current


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


def _copy_destination(instruction: Instruction) -> str:
    _flags, rest = re.fullmatch(r"((?:--\S+\s+)*)(.*)", instruction.args, re.S).groups()
    parts = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    return parts[-1]


def image_copies(build: Build, relative: str) -> bool:
    """Whether a context path lands at the same path under WORKDIR: copied itself, or in a folder copied.

    Docker copies a folder's contents into the destination, and a file into a destination ending in
    "/" (or given several sources) under its own name; anything else names the file.
    """
    instructions = dockerfile_instructions(build.dockerfile)
    final = workdir_at(instructions, len(instructions))
    parts = Path(os.path.normpath(relative)).parts
    wanted = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for index, instruction in enumerate(instructions):
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        sources, destination = copy_sources(instruction), _copy_destination(instruction)
        into_folder = destination.endswith("/") or len(sources) > 1
        base = os.path.join(workdir_at(instructions, index), destination)
        for source in (os.path.normpath(source.lstrip("/")) for source in sources):
            for path in [source] if source == "." else fnmatch.filter(wanted, source):
                is_folder = path == "." or (build.context / path).is_dir()
                lands = base if is_folder or not into_folder else os.path.join(base, Path(path).name)
                if os.path.normpath(lands) == os.path.normpath(os.path.join(final, path)):
                    return True
    return False


def installs_the_project(build: Build) -> bool:
    """A RUN line pip-installs the build context's project (so its console scripts exist)."""
    for instruction in dockerfile_instructions(build.dockerfile):
        words = instruction.args.replace(";", " ").replace("&&", " ").split()
        if instruction.keyword == "RUN" and {"pip", "pip3"} & set(words) and "install" in words and "." in words:
            return True
    return False


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


@dataclass(frozen=True)
class Program:
    """One simple command of a container command."""

    name: str  # gunicorn, manage.py, strangler; the module for `python -m X`
    written: str  # as in the command (manage.py's path, say)
    args: tuple[str, ...]
    module: bool = False  # started as `python -m name`


def _program(segment: list[str]) -> Program:
    """The program a simple command runs, reading `python -m X` as module X and `python X.py` as X.py."""
    program, args = segment[0], segment[1:]
    if re.fullmatch(r"python[\d.]*", Path(program).name) and args:
        if args[0] == "-m" and len(args) > 1:
            return Program(args[1], args[1], tuple(args[2:]), module=True)
        if not args[0].startswith("-"):
            return Program(Path(args[0]).name, args[0], tuple(args[1:]))
    return Program(Path(program).name, program, tuple(args))


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


def entry_module_file(root: Path, module: str) -> Path | None:
    """The file `python -m module` runs: the package's __main__.py, or the module itself."""
    base = root.joinpath(*module.split("."))
    main = base / "__main__.py"
    if main.is_file():
        return main
    path = base.with_name(base.name + ".py")
    return path if path.is_file() else None


def argparse_options(tree: ast.AST) -> dict[str, ast.expr | None]:
    """Every option string of the module's `add_argument` calls, with its default expression."""
    options: dict[str, ast.expr | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("-"):
                    options[arg.value] = default
    return options


def _default_value(node: ast.expr | None, env: dict[str, str | None]) -> str | None:
    """An argparse default: a constant, int(...) of one, or os.environ.get(NAME, fallback) in this service."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "str") and node.args:
        return _default_value(node.args[0], env)
    key = _environ_key(node) if node is not None else None
    if isinstance(key, ast.Constant):
        if env.get(key.value) is not None:
            return env[key.value]
        return _default_value(node.args[1], env) if isinstance(node, ast.Call) and len(node.args) > 1 else None
    return None


def module_server(root: Path, program: Program, env: dict[str, str | None]) -> Server | None:
    """The uvicorn server a `python -m X` starts: X's `uvicorn.run("app", host=args.host, ...)` call."""
    path = entry_module_file(root, program.name)
    if path is None:
        return None
    tree = ast.parse(path.read_text(), filename=str(path))
    run = next((node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "run" and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "uvicorn"), None)
    if run is None:
        return None
    app = run.args[0].value if run.args and isinstance(run.args[0], ast.Constant) else None
    options = argparse_options(tree)

    def value(keyword: str, uvicorn_default: str) -> str | None:
        expr = next((kw.value for kw in run.keywords if kw.arg == keyword), None)
        if expr is None:
            return uvicorn_default
        if isinstance(expr, ast.Attribute):  # args.host: the command's --host, else the option's default
            option = "--" + expr.attr.replace("_", "-")
            given = _option_values(list(program.args), option)
            return given[-1] if given else _default_value(options.get(option), env)
        return _default_value(expr, env)

    host, port = value("host", "127.0.0.1"), value("port", "8000")
    binds = ((host, int(port)),) if host and port and port.isdigit() else ()
    return Server(f"python -m {program.name}", app, binds)


@dataclass(frozen=True)
class Launch:
    """What a service's container command (or its Dockerfile's CMD) starts."""

    argv: tuple[str, ...]
    server: Server | None
    manage_py: str | None  # manage.py as written in the command
    manage_commands: tuple[str, ...]
    programs: tuple[Program, ...] = ()

    @property
    def modules(self) -> list[Program]:
        return [program for program in self.programs if program.module]

    def scripts(self, root: Path) -> list[Program]:
        """The project's console scripts it runs (`strangler ...`)."""
        return [program for program in self.programs if not program.module and program.name in console_scripts(root)]


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
    programs = [_program(segment) for segment in command_segments(argv)]
    for program in programs:
        args = list(program.args)
        if program.name in ("gunicorn", "uvicorn") and not program.module and server is None:
            app = next((arg for arg in args if _APP_TARGET.fullmatch(arg)), None)
            server = Server(program.name, app, _binds(program.name, args))
        elif program.module and server is None:
            server = module_server(source_root(name), program, environment(SERVICES[name]))
        elif program.name == "manage.py":
            manage_py = program.written
            manage_commands += [arg for arg in args if not arg.startswith("-")][:1]
    return Launch(tuple(argv), server, manage_py, tuple(manage_commands), tuple(programs))


@cache
def _console_scripts(pyproject: Path) -> dict[str, str]:
    if not pyproject.is_file():
        return {}
    return dict(tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {}))


def console_scripts(root: Path) -> dict[str, str]:
    """The project's [project.scripts]: name -> "module:function"."""
    return _console_scripts(root / "pyproject.toml")


@cache
def _cli_command(root: Path, entry: str):
    """The click command behind a console script's "module:function": the function itself when it is
    one, else the one typer app or click command its module defines (None when there is none)."""
    import importlib

    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name, _, function = entry.partition(":")
    module = importlib.import_module(module_name)
    candidates = [getattr(module, function)]
    if not hasattr(candidates[0], "make_context"):
        candidates = [value for value in vars(module).values()
                      if hasattr(value, "make_context") or type(value).__name__ == "Typer"]
    if len(candidates) != 1:
        return None
    if type(candidates[0]).__name__ == "Typer":
        import typer.main

        return typer.main.get_command(candidates[0])
    return candidates[0]


def cli_invocation(root: Path, program: Program):
    """The click context a console script would run `program.args` in, or the click error refusing them.

    Imports the CLI and parses, runs nothing; None when the script parses its arguments some other way.
    """
    command = _cli_command(root, console_scripts(root)[program.name])
    if command is None:
        return None
    try:
        ctx = command.make_context(program.name, list(program.args))
        while hasattr(ctx.command, "resolve_command"):  # a group: on to the subcommand, as Group.invoke does
            rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
            sub_name, sub, rest = ctx.command.resolve_command(ctx, rest)
            ctx = sub.make_context(sub_name, rest, parent=ctx)
    except Exception as exc:  # click's or typer's own copy of it (typer._click): matched by name
        if any(cls.__name__ == "ClickException" for cls in type(exc).__mro__):
            return exc
        raise
    return ctx


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
    """os.environ, or a mapping standing in for it: a parameter or attribute named environ (self.environ)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)
            and node.value.id in ("os", "self")) or (isinstance(node, ast.Name) and node.id == "environ")


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


def _single_assignments(scope: ast.AST) -> dict[str, ast.expr]:
    """Names assigned exactly once in a function (or module): name -> the value expression."""
    seen: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            seen.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            seen.setdefault(node.target.id, []).append(node.value)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


class _KeyText:
    """The constant text a key expression starts with, following names and small functions in the module.

    `ENV_URL_PREFIX + name.upper() + "_URL"` gives ("STRANGLER_UPSTREAM_", partial), `ENVIRONMENT_ENV`
    gives ("STRANGLER_ENV", whole), `var` with `var = upstream_env_var(name)` follows the function's return.
    """

    def __init__(self, tree: ast.Module):
        top_level = ast.Module([node for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))], [])
        self.constants = {name: value.value for name, value in _single_assignments(top_level).items()
                          if isinstance(value, ast.Constant) and isinstance(value.value, str)}
        self.functions = {node.name: node for node in tree.body
                          if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def __call__(self, node: ast.AST | None, local: dict[str, ast.expr], depth: int = 0) -> tuple[str, bool] | None:
        if node is None or depth > 8:
            return None
        again = lambda expr, scope=local: self(expr, scope, depth + 1)  # noqa: E731
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, True
        if isinstance(node, ast.Name):
            if node.id in local:
                return again(local[node.id])
            return (self.constants[node.id], True) if node.id in self.constants else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = again(node.left)
            if left is None or not left[1]:
                return left
            right = again(node.right)
            return (left[0] + right[0], right[1]) if right else (left[0], False)
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                piece = (part.value, True) if isinstance(part, ast.Constant) else again(part.value)
                if piece is None or not piece[1]:
                    text += piece[0] if piece else ""
                    return (text, False) if text else None
                text += piece[0]
            return text, True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.functions:
            function = self.functions[node.func.id]
            returns = [n.value for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None]
            if len(returns) == 1:
                return again(returns[0], _single_assignments(function))
        return None


@cache
def env_names_read(path: Path) -> frozenset[str]:
    """Variable names a module reads, directly or through a helper like `_env_flag("DJANGO_DEBUG")`.

    A key is followed through module constants, single assignments and one-return functions; a key
    built from a constant start and something unknown (`f"UPSTREAM_{name}_URL"`) gives a pattern
    (`UPSTREAM_*`). Click/typer options read their `envvar=`.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    key_text = _KeyText(tree)
    helpers: dict[str, tuple[str, int | None]] = {}  # function -> (parameter, position)
    scopes: list[tuple[ast.AST, dict[str, ast.expr]]] = [(tree, {})]
    for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        scopes.append((func, _single_assignments(func)))
        positional = [a.arg for a in func.args.posonlyargs + func.args.args]
        for node in ast.walk(func):
            key = _environ_key(node)
            if isinstance(key, ast.Name) and key.id in positional + [a.arg for a in func.args.kwonlyargs]:
                position = positional.index(key.id) if key.id in positional else None
                helpers[func.name] = (key.id, position)
    names = set()
    for scope, local in scopes:
        for node in ast.walk(scope):
            key = _environ_key(node)
            helper = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers
            if key is None and helper:
                parameter, position = helpers[node.func.id]
                by_keyword = [kw.value for kw in node.keywords if kw.arg == parameter]
                by_position = node.args[position:position + 1] if position is not None else []
                key = next(iter(by_position + by_keyword), None)
            text = key_text(key, local)
            if text and text[0]:
                names.add(text[0] if text[1] else f"{text[0]}*")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in (kw for kw in node.keywords if kw.arg == "envvar"):
                values = keyword.value.elts if isinstance(keyword.value, (ast.List, ast.Tuple)) else [keyword.value]
                names |= {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return frozenset(names)


def _base_names(node: ast.ClassDef) -> list[str]:
    return [base.id if isinstance(base, ast.Name) else base.attr for base in node.bases
            if isinstance(base, (ast.Name, ast.Attribute))]


@cache
def settings_env_names(paths: tuple[Path, ...]) -> frozenset[str]:
    """Variables pydantic-settings classes read: env_prefix + FIELD, or a field's validation_alias.

    Classes are followed through their bases across the given files, so a subclass that only sets
    `env_prefix` reads its base's fields under its own prefix.
    """
    classes: dict[str, ast.ClassDef] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = node

    def lineage(name: str) -> list[ast.ClassDef]:
        chain, todo = [], [name]
        while todo:
            current = todo.pop(0)
            if current in classes and classes[current] not in chain:
                chain.append(classes[current])
                todo += _base_names(classes[current])
        return chain

    def env_prefix(node: ast.ClassDef) -> str | None:
        for statement in node.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets) and isinstance(
                    getattr(statement, "value", None), ast.Call):
                for keyword in statement.value.keywords:
                    if keyword.arg == "env_prefix" and isinstance(keyword.value, ast.Constant):
                        return str(keyword.value.value)
        return None

    def fields(node: ast.ClassDef) -> list[tuple[str, str | None]]:
        found = []
        for statement in node.body:
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            annotation = statement.annotation
            head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
            if statement.target.id == "model_config" or (isinstance(head, ast.Name) and head.id == "ClassVar"):
                continue
            alias = None
            if isinstance(statement.value, ast.Call):
                alias = next((kw.value.value for kw in statement.value.keywords
                              if kw.arg in ("validation_alias", "alias") and isinstance(kw.value, ast.Constant)), None)
            found.append((statement.target.id, alias))
        return found

    names = set()
    for name in classes:
        chain = lineage(name)
        if not any("BaseSettings" in _base_names(node) for node in chain):
            continue
        prefix = next((p for p in map(env_prefix, chain) if p is not None), "")
        names |= {alias or f"{prefix}{field}".upper() for node in chain for field, alias in fields(node)}
    return frozenset(names)


def config_file_env_names(name: str, read: set[str]) -> set[str]:
    """Variables a config file the service reads names under `*_env` keys (CONFIG_FILE_VARIABLES)."""
    names = set()
    for variable, default in CONFIG_FILE_VARIABLES.items():
        if variable not in read:
            continue
        path = context_path(name, environment(SERVICES[name]).get(variable) or default)
        if path is None or not path.is_file():
            continue

        def visit(node) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if str(key).endswith("_env") and isinstance(value, str):
                        names.add(value)
                    visit(value)
            elif isinstance(node, list):
                for item in node:
                    visit(item)

        visit(yaml.safe_load(path.read_text()))
    return names


def context_path(name: str, container_path: str) -> Path | None:
    """Where a path inside the container (relative to WORKDIR, or absolute under it) is in the context."""
    build = build_of(name)
    if build is None or not build.dockerfile.is_file():
        return REPO_ROOT / container_path if not container_path.startswith("/") else None
    instructions = dockerfile_instructions(build.dockerfile)
    workdir = workdir_at(instructions, len(instructions))
    absolute = os.path.normpath(os.path.join(workdir, container_path))
    if os.path.commonpath([absolute, workdir]) != workdir:
        return None
    return build.context / os.path.relpath(absolute, workdir)


_SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


def entry_modules(name: str) -> list[str]:
    """Dotted modules a service's command runs: server app, `python -m` modules, console-script modules."""
    launch, root = launch_of(name), source_root(name)
    modules = [program.name for program in launch.modules]
    if launch.server and launch.server.app:
        modules.append(launch.server.app.split(":")[0])
    modules += [console_scripts(root)[program.name].split(":")[0] for program in launch.scripts(root)]
    return list(dict.fromkeys(modules))


@cache
def local_imports(root: Path, module: str) -> frozenset[str]:
    """The project modules (and their packages) a module imports, directly or through each other.

    Imports anywhere in a file count, those inside functions too: a command's lazy import fails just the
    same when the module is missing from the image.
    """
    local = {path.stem if path.suffix == ".py" else path.name for path in root.iterdir()
             if (path.suffix == ".py" and path.is_file()) or (path / "__init__.py").is_file()}
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        path = module_file(root, current)
        if current in seen or path is None:
            continue
        seen.add(current)
        package = current.split(".") if path.name == "__init__.py" else current.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]  # a name may be a submodule
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] in local:
                    todo += [".".join(parts[: i + 1]) for i in range(len(parts))]
    return frozenset(seen)


def entry_files(name: str) -> list[Path]:
    """The Python files a service's command starts: its modules (a package's __main__) and its manage.py."""
    launch, root = launch_of(name), source_root(name)
    files = [entry_module_file(root, module) or module_file(root, module) for module in entry_modules(name)]
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
    root, files = source_root(name), set()
    for module in entry_modules(name):  # the whole top-level package: settings live apart from entry points
        package = root / module.split(".")[0]
        files |= set(package.rglob("*.py")) if package.is_dir() else {module_file(root, module)} - {None}
    return sorted(files)


def env_names_read_by(name: str) -> set[str]:
    """Every variable (or `PREFIX*` pattern) the service's code reads, tools' own variables included."""
    readers = env_reader_files(name)
    read = set().union(*(env_names_read(path) for path in readers)) | settings_env_names(tuple(readers))
    return read | config_file_env_names(name, read) | TOOL_ENV


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


def _database(url) -> tuple[str, int, str]:
    return url.hostname or "", url.port or POSTGRES_PORT, url.path.lstrip("/")


def databases_used(name: str) -> set[tuple[str, int, str]]:
    """(host, port, database) of every PostgreSQL URL in the service's environment."""
    return {_database(url) for value in environment(SERVICES[name]).values()
            for url in urls_in(value or "") if url.scheme.startswith("postgres")}


def migrated_databases(name: str) -> set[tuple[str, int, str]]:
    """The databases the service's command migrates (manage.py migrate, MIGRATING_MODULES)."""
    variables = []
    for program in launch_of(name).programs:
        if program.name == "manage.py" and [a for a in program.args if not a.startswith("-")][:1] == ["migrate"]:
            variables.append("DATABASE_URL")
        elif program.module and program.name in MIGRATING_MODULES:
            variable, opt_out = MIGRATING_MODULES[program.name]
            if opt_out not in program.args:
                variables.append(variable)
    env = environment(SERVICES[name])
    return {_database(url) for variable in variables for url in urls_in(env.get(variable) or "")}


def listens(program: Program) -> dict[int, str | None]:
    """Ports a program is told to listen on (--port 8000, --metrics-port 9101), each with the address of
    its companion option (--host, --metrics-host), None when the command does not say."""
    args = list(program.args)
    found = {}
    for option in {arg.split("=")[0] for arg in args if re.fullmatch(r"--[\w-]*port(=.*)?", arg)}:
        hosts = _option_values(args, option[: -len("port")] + "host")
        for value in _option_values(args, option):
            if value.isdigit():
                found[int(value)] = hosts[-1] if hosts else None
    return found


SERVICE_NAMES = sorted(SERVICES)
BUILT = [name for name in SERVICE_NAMES if "build" in SERVICES[name]]
SERVERS = [name for name in SERVICE_NAMES if launch_of(name).server]
MANAGE_COMMANDS = [(name, command) for name in SERVICE_NAMES for command in launch_of(name).manage_commands]
POSTGRES = [name for name in SERVICE_NAMES if is_postgres(name)]
JOBS = sorted(jobs())
LONG_RUNNING = [name for name in SERVICE_NAMES if name not in JOBS]
# Long-running processes with a command but no server: they answer a healthcheck on a port of their own.
WORKERS = [name for name in LONG_RUNNING if SERVICES[name].get("command") and not launch_of(name).server]
MODULE_RUNS = [(name, program) for name in SERVICE_NAMES for program in launch_of(name).modules]
SCRIPT_RUNS = [(name, program) for name in SERVICE_NAMES for program in launch_of(name).scripts(source_root(name))]


def _run_id(value) -> str:
    return f"{value.name} {' '.join(value.args)}" if isinstance(value, Program) else str(value)


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
                expected = {"user": user, "password": env.get("POSTGRES_PASSWORD")}
                actual = {"user": url.username, "password": url.password}
                for field, wanted in expected.items():
                    if wanted is not None:
                        got = actual[field]
                        assert got == wanted, f"{where}: {field} {got!r}, but {target!r} is set up with {wanted!r}"
                database, databases = url.path.lstrip("/"), sorted(postgres_databases(target))
                created = database in databases
                assert created, (f"{where}: database {database!r}, but {target!r} has only {databases} "
                                 f"(POSTGRES_DB and CREATE DATABASE in scripts mounted into {INITDB_DIR})")


@pytest.mark.parametrize("name", BUILT)
def test_environment_names_are_read_by_the_service(name):
    readers = env_reader_files(name)
    assert readers, f"service {name!r}: cannot tell where its environment is read; add it to ENV_READERS"
    read = env_names_read_by(name)
    unread = sorted(var for var in environment(SERVICES[name]) if not any(fnmatch.fnmatchcase(var, r) for r in read))
    sources = ", ".join(_shown(path) for path in readers)
    assert not unread, f"service {name!r}: sets {unread}, but {sources} never read them"


@pytest.mark.parametrize("name", [name for name in BUILT if django_settings_files(name)])
def test_services_whose_settings_read_database_url_set_it(name):
    # Django settings only: elsewhere DATABASE_URL can be someone else's database read as a fallback (the
    # inventory settings' legacy_database_url); a migrating command's own variable is checked below.
    read = set().union(set(), *(env_names_read(path) for path in django_settings_files(name)))
    if "DATABASE_URL" in read and POSTGRES:
        is_set = "DATABASE_URL" in environment(SERVICES[name])
        assert is_set, f"service {name!r}: its settings read DATABASE_URL; unset, it falls back to its default database"


@pytest.mark.parametrize("name", [name for name, program in MODULE_RUNS if program.name in MIGRATING_MODULES])
def test_migrating_modules_are_given_their_database(name):
    for program in launch_of(name).modules:
        variable, _ = MIGRATING_MODULES.get(program.name, (None, None))
        if variable and POSTGRES:
            value = environment(SERVICES[name]).get(variable) or ""
            given = any(url.scheme.startswith("postgres") for url in urls_in(value))
            assert given, f"service {name!r}: `python -m {program.name}` migrates {variable}, unset it is a SQLite file"


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


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(name):
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
    for source, _target in volume_mounts(name):
        if not source:
            continue  # an anonymous volume
        if source.startswith((".", "/", "~")):
            exists = (REPO_ROOT / source).exists()
            assert exists, f"service {name!r}: bind mount source {source} does not exist"
        else:
            assert source in declared, f"service {name!r}: named volume {source!r} is not under top-level volumes"


# --- entry points, jobs, order ----------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILT)
def test_image_holds_the_code_and_files_the_command_runs(name):
    build, launch = build_of(name), launch_of(name)
    imported = set().union(set(), *(local_imports(build.context, module) for module in entry_modules(name)))
    imported |= {f"{program.name}.__main__" for program in launch.modules}
    files = entry_files(name) + [module_file(build.context, module) for module in sorted(imported)]
    needed = [path.relative_to(build.context) for path in files if path and path.is_relative_to(build.context)]
    read = env_names_read_by(name)
    for variable, default in CONFIG_FILE_VARIABLES.items():
        if variable in read:
            path = context_path(name, environment(SERVICES[name]).get(variable) or default)
            assert path, f"service {name!r}: {variable} points outside the image's WORKDIR"
            needed.append(path.relative_to(build.context))
    for relative in needed:
        where = f"service {name!r}: runs `{' '.join(launch.argv)}`, which needs {relative}"
        assert (build.context / relative).exists(), f"{where}; it is not in the build context"
        assert not is_dockerignored(build.context, str(relative)), f"{where}; .dockerignore excludes it"
        copied = image_copies(build, str(relative))
        assert copied, f"{where}; {_shown(build.dockerfile)} does not COPY it to that path under WORKDIR"
    if launch.scripts(build.context):
        installed = installs_the_project(build)
        where = f"service {name!r}: runs a console script"
        assert installed, f"{where}, but {_shown(build.dockerfile)} never pip-installs the project (.)"


@pytest.mark.parametrize(("name", "program"), MODULE_RUNS, ids=_run_id)
def test_python_m_modules_exist_and_take_the_options_given(name, program):
    path = entry_module_file(source_root(name), program.name)
    assert path, f"service {name!r}: runs `python -m {program.name}`, which has no __main__.py or module file"
    options = argparse_options(ast.parse(path.read_text()))
    if not options:
        return  # parses its arguments some other way: nothing to compare with
    unknown = sorted({arg.split("=")[0] for arg in program.args if arg.startswith("--")} - set(options))
    assert not unknown, f"service {name!r}: `python -m {program.name}` has no option {unknown} ({_shown(path)})"


@pytest.mark.parametrize(("name", "program"), SCRIPT_RUNS, ids=_run_id)
def test_console_script_commands_parse(name, program):
    outcome = cli_invocation(source_root(name), program)
    refused = outcome is not None and not hasattr(outcome, "command")
    assert not refused, f"service {name!r}: `{program.name} {' '.join(program.args)}` is refused: {outcome}"


@pytest.mark.parametrize("name", JOBS)
def test_jobs_run_once_and_finish(name):
    launch = launch_of(name)
    assert launch.argv or not build_of(name), f"service {name!r}: a job needs a command"
    assert not launch.server, f"service {name!r}: others wait for it to complete, but it starts a server"
    restart = str(SERVICES[name].get("restart", "no"))
    once = restart == "no" or restart.startswith("on-failure")
    assert once, f"service {name!r}: a job with restart: {restart} runs again after completing"
    assert not SERVICES[name].get("ports"), f"service {name!r}: a job publishes ports"


@pytest.mark.parametrize("name", WORKERS)
def test_healthcheck_of_a_process_without_server_asks_a_port_it_is_given(name):
    launch = launch_of(name)
    ports = {port: host for program in launch.programs for port, host in listens(program).items()}
    urls = urls_in(" ".join(healthcheck_test(name)))
    assert urls, f"service {name!r}: healthcheck calls no URL; a process without a server has no other sign of life"
    for url in urls:
        where = f"service {name!r}: healthcheck calls {url.geturl()}"
        assert url.hostname in LOOPBACK, f"{where}, not the container itself"
        assert url.port in ports, f"{where}, but `{' '.join(launch.argv)}` listens only on {sorted(ports)}"
        host = ports[url.port]
        reachable = host is None or host in LOOPBACK | ALL_INTERFACES
        assert reachable, f"{where}, but the port is bound on {host} only"


ROUTERS = [name for name in SERVICE_NAMES if any(program.name == "router" for program in launch_of(name).modules)]


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_only_router_services_publish_ports(name):
    # Clients reach everything through the router: a published monolith or service port would let them
    # skip its flags, its identity check and its admin token. Containers reach each other on the compose
    # network without publishing (`expose` documents those ports).
    assert ROUTERS, f"no service of {COMPOSE_PATH.name} runs `python -m router`"
    if name in ROUTERS:
        assert SERVICES[name].get("ports"), f"service {name!r}: a router that publishes no port serves nobody"
        return
    published = SERVICES[name].get("ports")
    assert not published, (f"service {name!r}: publishes {published} on the host, bypassing the router; "
                           f"use `expose` for ports other containers call")


@pytest.mark.parametrize("name", [name for name in BUILT if not launch_of(name).server])
def test_published_ports_of_a_process_without_server_are_bound_on_all_interfaces(name):
    launch = launch_of(name)
    ports = {port: host for program in launch.programs for port, host in listens(program).items()}
    for port in sorted(container_ports(SERVICES[name])):
        where = f"service {name!r}: publishes container port {port}"
        assert port in ports, f"{where}, but `{' '.join(launch.argv)}` listens only on {sorted(ports)}"
        reachable = ports[port] in ALL_INTERFACES
        assert reachable, f"{where}, bound on {ports[port] or 'its default address'}: give its host option 0.0.0.0"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_services_wait_for_the_migrations_of_the_databases_they_use(name):
    used = databases_used(name)
    for other in SERVICE_NAMES:
        shared = sorted(migrated_databases(other) & used) if other != name else []
        for host, port, database in shared:
            waits = other in waits_for(name)
            assert waits, (f"service {name!r}: uses database {database!r}, which {other!r} migrates, but does not "
                           f"wait for it (depends_on service_healthy, or through a job it waits to complete)")


@pytest.mark.parametrize("name", [name for name, program in SCRIPT_RUNS if program.args[:2] == ("sync", "run")])
def test_sync_relay_starts_after_its_backfill_completed(name):
    def capabilities(service: str, command: str) -> set[str]:
        found = set()
        for program in launch_of(service).scripts(source_root(service)):
            ctx = cli_invocation(source_root(service), program)
            if program.args[:2] == ("sync", command) and hasattr(ctx, "params"):
                found.add(ctx.params.get("capability"))
        return found

    for capability in capabilities(name, "run"):
        backfills = [other for other in SERVICE_NAMES if capability in capabilities(other, "backfill")]
        waited = [other for other in backfills
                  if depends_on(name).get(other, {}).get("condition") == "service_completed_successfully"]
        assert waited, (f"service {name!r}: relays {capability!r} without waiting for a `strangler sync backfill "
                        f"{capability}` job to complete (found {backfills}); the relay starts from the backfill's mark")


# --- the checks above fail on a broken file ----------------------------------------------------------


@pytest.fixture
def broken(monkeypatch):
    """A deep copy of SERVICES to break; launch_of's cache is cleared around it."""
    import copy

    services = copy.deepcopy(SERVICES)
    monkeypatch.setattr(sys.modules[__name__], "SERVICES", services)
    launch_of.cache_clear()
    yield services
    launch_of.cache_clear()


def _with_service(kind: str) -> str:
    names = {"relay": [n for n, p in SCRIPT_RUNS if p.args[:2] == ("sync", "run")],
             "backfill": [n for n, p in SCRIPT_RUNS if p.args[:2] == ("sync", "backfill")],
             "store": [n for n in SERVICE_NAMES if "STRANGLER_STORE_URL" in environment(SERVICES[n])]}[kind]
    if not names:
        pytest.skip(f"no {kind} service in {COMPOSE_PATH.name}")
    return names[0]


def test_a_relay_that_does_not_wait_for_the_backfill_is_caught(broken):
    relay = _with_service("relay")
    broken[relay]["depends_on"] = {dep: spec for dep, spec in broken[relay]["depends_on"].items()
                                   if spec.get("condition") != "service_completed_successfully"}
    with pytest.raises(AssertionError, match="without waiting"):
        test_sync_relay_starts_after_its_backfill_completed(relay)


def test_a_backfill_that_does_not_wait_for_the_monoliths_migrations_is_caught(broken):
    backfill = _with_service("backfill")
    for dependency in [d for d in broken[backfill]["depends_on"] if migrated_databases(d)]:
        del broken[backfill]["depends_on"][dependency]
    with pytest.raises(AssertionError, match="does not wait"):
        test_services_wait_for_the_migrations_of_the_databases_they_use(backfill)


def test_a_database_the_server_never_creates_is_caught(broken):
    router = _with_service("store")
    broken[router]["environment"]["STRANGLER_STORE_URL"] += "_typo"
    with pytest.raises(AssertionError, match="has only"):
        test_urls_in_environment_point_at_services_with_matching_port_and_credentials(router)


def test_an_option_the_cli_does_not_have_is_caught(broken):
    relay = _with_service("relay")
    broken[relay]["command"] = [*broken[relay]["command"], "--metrics-adress", "0.0.0.0"]
    program = launch_of(relay).scripts(source_root(relay))[0]
    with pytest.raises(AssertionError, match="is refused"):
        test_console_script_commands_parse(relay, program)
