"""Router configuration: `strangler.yaml` parsed once, at start-up, into frozen values.

The file describes the router's static shape: where the upstreams are, which route groups (capabilities
such as `inventory`) exist and which upstream each is extracted to, and the routes (name, methods, path
pattern) that belong to each group. `load_config` reads the file and `parse_config` turns the plain data
into a `Config`; nothing else in the router looks at raw YAML. Every problem -- a missing file, bad
YAML, a typo in a key, a wrong type, a dangling reference, a duplicate -- becomes one `ConfigError`
that names the file, the key (a dotted/indexed path such as `routes[2].path`) and what was expected,
so a mistake stops the router at start-up instead of sending requests to the wrong side.

Which side serves a route *right now* is runtime state (flags in the control store, see `flags.py`),
not configuration. Upstream URLs can be overridden per deployment with `STRANGLER_UPSTREAM_<NAME>_URL`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import yaml

from router.identity import DEV_IDENTITY_SECRET
from router.matching import pattern_shape
from router.parity.rules import _MISSING as _PARITY_MISSING
from router.parity.rules import ParityRulesError, parse_rules

CONFIG_VERSION = 1
LEGACY = "legacy"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITE_POLICIES = ("skip", "rollback", "mirror")
ENV_URL_PREFIX = "STRANGLER_UPSTREAM_"
ENVIRONMENT_ENV = "STRANGLER_ENV"
ENVIRONMENTS = ("development", "test", "production")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_NAME_EXPECTED = "a name made of letters, digits, '.', '_' or '-'"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # RFC 9110 token: header and cookie names
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ABSOLUTE_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*\Z")  # RFC 3986 path characters
_MISSING: Any = object()


class ConfigError(Exception):
    """strangler.yaml (or an environment override) is wrong; says where and what was expected.

    `source` is the file, `key` the path of the bad key (`routes[2].path`, `upstreams.legacy.url`,
    `env STRANGLER_UPSTREAM_LEGACY_URL`; empty for whole-file problems), `expected` what would have been
    accepted, `line` and `column` (1-based) the place of a YAML syntax error.
    """

    def __init__(self, source: str, key: str, expected: str, got: Any = _MISSING, *,
                 problem: str | None = None, line: int | None = None, column: int | None = None) -> None:
        self.source, self.key, self.expected, self.got = source, key, expected, got
        self.problem, self.line, self.column = problem, line, column
        location = source + "".join(f":{n}" for n in (line, column) if n is not None)
        body = f"{problem}; expected {expected}" if problem else f"expected {expected}"
        if got is not _MISSING:
            body += f", got {_show(got)}"
        super().__init__(": ".join(part for part in (location, key, body) if part))


@dataclass(frozen=True, slots=True)
class Upstream:
    """A service the router forwards to: `legacy` (the monolith) or an extracted service."""

    name: str
    url: str  # scheme://host[:port], no trailing slash
    connect_timeout: float = 2.0
    read_timeout: float = 30.0
    pool_size: int = 100


@dataclass(frozen=True, slots=True)
class Group:
    """A capability moved as one unit (e.g. `inventory`); its routes share flags and canary buckets."""

    name: str
    upstream: str  # the extracted upstream its routes go to; never `legacy`
    description: str = ""
    # The monolith also serves each route's DRF format-suffix variants (`/stock.json`): they are routed too.
    format_suffixes: bool = True


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint of a group: the methods and the path pattern (`/api/x/{id}/`) it covers."""

    name: str
    group: str
    methods: frozenset[str]
    path: str
    write_policy: str = "skip"  # how shadow traffic treats writes: skip | rollback | mirror
    parity: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    format_suffixes: bool = True  # its group's setting: also match `/x.json`, `/x.json/` (router/matching.py)


@dataclass(frozen=True, slots=True)
class RouterSettings:
    """Process-wide settings of the router itself."""

    max_body_bytes: int = 10 * 1024 * 1024
    sticky_header: str | None = None
    session_cookie: str = "sessionid"
    admin_token_env: str = "STRANGLER_ADMIN_TOKEN"
    flag_poll_interval: float = 0.25
    request_id_header: str = "X-Request-ID"
    breaker_failures: int = 5          # consecutive extracted-side failures that open the breaker
    breaker_cooldown: float = 5.0      # seconds everything goes to legacy before a probe
    shadow_max_in_flight: int = 64     # mirrored requests in flight per upstream; more are dropped and counted
    shadow_capture_bytes: int = 1024 * 1024   # bodies over this are not compared (counted as skipped)
    shadow_timeout: float = 30.0       # a shadow comparison gives up after this long
    noise_sample_rate: float = 0.0     # share of shadowed safe requests sent to legacy twice to learn noise
    parity_samples_per_signature: int = 5
    parity_retention_days: float = 7.0
    redact_fields: tuple[str, ...] = ("email", "phone", "vat_number", "address", "first_name", "last_name", "username")
    identity_introspect_path: str = "/api/auth/introspect/"  # the monolith's "who is this caller?" endpoint
    identity_cache_seconds: float = 5.0  # how long an answer of it is reused for the same credentials (0: never)
    identity_secret_env: str = "STRANGLER_IDENTITY_SECRET"  # env var holding the identity header's secret
    header_read_timeout: float = 10.0   # seconds a client has to send a request's line and headers
    body_read_timeout: float = 30.0     # seconds a client may pause while sending a request body (408 after)
    max_concurrent_requests: int = 1000  # requests one router process serves at once; more get 503 (counted)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole parsed configuration. Build it with `load_config` or `parse_config`."""

    source: str
    router: RouterSettings
    upstreams: Mapping[str, Upstream]
    groups: Mapping[str, Group]
    routes: tuple[Route, ...]
    _by_name: Mapping[str, Route] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", MappingProxyType({r.name: r for r in self.routes}))

    def route(self, name: str) -> Route:
        """The route called `name`; KeyError if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no route named {name!r} in {self.source}") from None

    def group_routes(self, group_name: str) -> tuple[Route, ...]:
        """The routes of a group, in config order; KeyError for an unknown group."""
        if group_name not in self.groups:
            raise KeyError(f"no group named {group_name!r} in {self.source}")
        return tuple(r for r in self.routes if r.group == group_name)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and parse a strangler.yaml; `environ` defaults to os.environ (for URL overrides)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(source, "", "a readable UTF-8 YAML file",
                          problem=f"cannot read the file ({reason})") from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != mark.line:
            problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise ConfigError(source, "", "well-formed YAML", problem=f"invalid YAML: {problem}",
                          line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", "well-formed YAML", problem=str(exc)) from exc
    return parse_config(data, source=source, environ=os.environ if environ is None else environ)


def parse_config(data: Any, *, source: str = "strangler.yaml",
                 environ: Mapping[str, str] = MappingProxyType({})) -> Config:
    """Turn the plain data of a strangler.yaml into a `Config`, or raise `ConfigError`.

    Pure: upstream URL overrides are read from `environ` only (pass os.environ to apply the real ones).
    """
    return _Parser(source, environ).config(data)


def router_environment(environ: Mapping[str, str], source: str = "strangler.yaml") -> str:
    """The router's environment from STRANGLER_ENV: development, test or production (the default).

    Production is the default so a forgotten variable never runs on development secrets."""
    value = environ.get(ENVIRONMENT_ENV) or "production"
    if value not in ENVIRONMENTS:
        raise ConfigError(source, f"env {ENVIRONMENT_ENV}", "one of " + ", ".join(ENVIRONMENTS), value)
    return value


def identity_secret(config: Config, environ: Mapping[str, str]) -> bytes:
    """The key that signs X-Strangler-Identity, from the variable `router.identity_secret_env` names.

    Unset (or empty), it is the development default, which only development and test accept: in
    production (STRANGLER_ENV) that, or the default set explicitly, is a ConfigError, so the router
    refuses to start rather than sign identities anyone could forge."""
    var = config.router.identity_secret_env
    value = environ.get(var) or ""
    environment = router_environment(environ, config.source)
    if environment == "production" and value in ("", DEV_IDENTITY_SECRET):
        problem = ("not set in the production environment" if not value
                   else "the development default in the production environment")
        raise ConfigError(config.source, f"env {var}",
                          f"the secret the extracted services share (or {ENVIRONMENT_ENV}=development for a local run)",
                          problem=f"{problem} ({ENVIRONMENT_ENV}={environ.get(ENVIRONMENT_ENV) or 'unset, so production'})")
    return (value or DEV_IDENTITY_SECRET).encode()


def upstream_env_var(name: str) -> str:
    """The environment variable that overrides an upstream's URL: STRANGLER_UPSTREAM_<NAME>_URL."""
    return ENV_URL_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_URL"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Parser:
    """Walks the plain data once, validating as it builds; every method raises ConfigError."""

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self.environ = environ

    def error(self, key: str, expected: str, got: Any = _MISSING, *, problem: str | None = None) -> ConfigError:
        return ConfigError(self.source, key, expected, got, problem=problem)

    def config(self, data: Any) -> Config:
        top = self.mapping(data, "", required=("version", "upstreams"),
                           optional=("router", "groups", "routes"))
        if top["version"] != CONFIG_VERSION or isinstance(top["version"], bool):
            raise self.error("version", f"{CONFIG_VERSION} (the only config format version)", top["version"])
        settings = self.settings(_or(top.get("router"), {}))
        upstreams = self.upstreams(top["upstreams"])
        groups = self.groups(_or(top.get("groups"), {}), upstreams)
        routes = self.routes(_or(top.get("routes"), []), groups)
        return Config(self.source, settings, MappingProxyType(upstreams), MappingProxyType(groups), routes)

    # -- sections ---------------------------------------------------------------------------------

    def settings(self, data: Any) -> RouterSettings:
        default = RouterSettings()
        m = self.mapping(data, "router", optional=tuple(RouterSettings.__dataclass_fields__))

        def get(key: str) -> tuple[Any, str]:
            return m.get(key, getattr(default, key)), f"router.{key}"

        sticky, sticky_key = get("sticky_header")
        return RouterSettings(
            max_body_bytes=self.positive_int(*get("max_body_bytes")),
            sticky_header=None if sticky is None else self.token(sticky, sticky_key, "an HTTP header name"),
            session_cookie=self.token(*get("session_cookie"), "a cookie name"),
            admin_token_env=self.env_name(*get("admin_token_env")),
            flag_poll_interval=self.seconds(*get("flag_poll_interval")),
            request_id_header=self.token(*get("request_id_header"), "an HTTP header name"),
            breaker_failures=self.positive_int(*get("breaker_failures")),
            breaker_cooldown=self.seconds(*get("breaker_cooldown")),
            shadow_max_in_flight=self.positive_int(*get("shadow_max_in_flight")),
            shadow_capture_bytes=self.positive_int(*get("shadow_capture_bytes")),
            shadow_timeout=self.seconds(*get("shadow_timeout")),
            noise_sample_rate=self.fraction(*get("noise_sample_rate")),
            parity_samples_per_signature=self.positive_int(*get("parity_samples_per_signature")),
            parity_retention_days=self.seconds(*get("parity_retention_days")),
            redact_fields=self.names_list(*get("redact_fields")),
            identity_introspect_path=self.absolute_path(*get("identity_introspect_path")),
            identity_cache_seconds=self.seconds_or_zero(*get("identity_cache_seconds")),
            identity_secret_env=self.env_name(*get("identity_secret_env")),
            header_read_timeout=self.seconds(*get("header_read_timeout")),
            body_read_timeout=self.seconds(*get("body_read_timeout")),
            max_concurrent_requests=self.positive_int(*get("max_concurrent_requests")),
        )

    def upstreams(self, data: Any) -> dict[str, Upstream]:
        section = self.mapping(data, "upstreams", open_keys=True)
        if LEGACY not in section:
            raise self.error("upstreams", f"an upstream named {LEGACY!r} (the monolith)",
                             problem=f"missing upstream {LEGACY!r}")
        result: dict[str, Upstream] = {}
        env_owner: dict[str, str] = {}
        for name, value in section.items():
            key = f"upstreams.{name}"
            self.name(name, key)
            var = upstream_env_var(name)
            if var in env_owner:
                raise self.error(key, f"upstream names with distinct overrides ({var} already belongs to "
                                      f"{env_owner[var]!r})", name)
            env_owner[var] = name
            m = self.mapping(value, key, required=("url",),
                             optional=("connect_timeout", "read_timeout", "pool_size"))
            url = self.url(m["url"], f"{key}.url")
            if var in self.environ:
                url = self.url(self.environ[var], f"env {var}")
            d = Upstream(name, url)
            result[name] = Upstream(
                name=name, url=url,
                connect_timeout=self.seconds(m.get("connect_timeout", d.connect_timeout), f"{key}.connect_timeout"),
                read_timeout=self.seconds(m.get("read_timeout", d.read_timeout), f"{key}.read_timeout"),
                pool_size=self.positive_int(m.get("pool_size", d.pool_size), f"{key}.pool_size"),
            )
        return result

    def groups(self, data: Any, upstreams: Mapping[str, Upstream]) -> dict[str, Group]:
        section = self.mapping(data, "groups", open_keys=True)
        extracted = sorted(n for n in upstreams if n != LEGACY)
        result: dict[str, Group] = {}
        for name, value in section.items():
            key = f"groups.{name}"
            self.name(name, key)
            m = self.mapping(value, key, required=("upstream",), optional=("description", "format_suffixes"))
            upstream = m["upstream"]
            if upstream not in extracted:
                problem = (f"{LEGACY!r} is where every route starts; a group names the upstream it moves to"
                           if upstream == LEGACY else None)
                raise self.error(f"{key}.upstream", _one_of("an extracted upstream", extracted), upstream,
                                 problem=problem)
            description = m.get("description", "")
            if not isinstance(description, str):
                raise self.error(f"{key}.description", "a string", description)
            suffixes = m.get("format_suffixes", True)
            if not isinstance(suffixes, bool):
                raise self.error(f"{key}.format_suffixes", "true or false (does the monolith serve DRF's "
                                 "format suffixes, /stock.json, for these routes?)", suffixes)
            result[name] = Group(name, upstream, description, suffixes)
        return result

    def routes(self, data: Any, groups: Mapping[str, Group]) -> tuple[Route, ...]:
        if not isinstance(data, list):
            raise self.error("routes", "a list of routes", data)
        routes: list[Route] = []
        first_index: dict[str, int] = {}
        routed: dict[tuple[str, str], int] = {}  # (method, pattern shape) -> index of the route owning it
        for i, value in enumerate(data):
            key = f"routes[{i}]"
            m = self.mapping(value, key, required=("name", "group", "methods", "path"),
                             optional=("write_policy", "parity"))
            name = self.name(m["name"], f"{key}.name")
            if name in first_index:
                raise self.error(f"{key}.name", "a unique route name", name,
                                 problem=f"already used by routes[{first_index[name]}]")
            if name in groups:
                raise self.error(f"{key}.name", "a route name that is not also a group name", name)
            first_index[name] = i
            group = m["group"]
            if not isinstance(group, str) or group not in groups:
                raise self.error(f"{key}.group", _one_of("a group", sorted(groups)), group)
            methods = self.methods(m["methods"], f"{key}.methods")
            path = m["path"]
            try:
                shape = pattern_shape(path)
            except ValueError as exc:
                raise self.error(f"{key}.path", str(exc), path) from None
            for method in sorted(methods):
                owner = routed.setdefault((method, shape), i)
                if owner != i:
                    raise self.error(key, "each (method, path) routed by one route only", problem=(
                        f"{method} {path} is already routed by routes[{owner}] ({routes[owner].name})"))
            policy = m.get("write_policy", "skip")
            if policy not in WRITE_POLICIES:
                raise self.error(f"{key}.write_policy", _one_of("a write policy", WRITE_POLICIES), policy)
            parity = _or(m.get("parity"), {})
            if not isinstance(parity, Mapping):
                raise self.error(f"{key}.parity", "a mapping of parity rules", parity)
            try:
                parse_rules(parity, where=key)  # validated here, so a bad rule stops start-up naming the file
            except ParityRulesError as exc:
                raise self.error(exc.key, exc.expected, *(() if exc.got is _PARITY_MISSING else (exc.got,)),
                                 problem=exc.problem) from None
            routes.append(Route(name, group, methods, path, policy, _freeze(parity),
                                format_suffixes=groups[group].format_suffixes))
        return tuple(routes)

    # -- values -----------------------------------------------------------------------------------

    def mapping(self, data: Any, key: str, *, required: Sequence[str] = (), optional: Sequence[str] = (),
                open_keys: bool = False) -> Mapping[str, Any]:
        allowed = sorted({*required, *optional})
        if data is None and open_keys:
            return {}
        if not isinstance(data, Mapping):
            what = "a mapping of names" if open_keys else "a mapping with keys " + ", ".join(allowed)
            raise self.error(key, what, data)
        for k in data:
            if not isinstance(k, str):
                raise self.error(key, "string keys", k, problem="a key is not a string")
            if not open_keys and k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.error(key, "one of " + ", ".join(allowed), problem=f"unknown key {k!r}{hint}")
        for k in required:
            if k not in data:
                raise self.error(key, "the required keys " + ", ".join(required), problem=f"missing key {k!r}")
        return data

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.error(key, _NAME_EXPECTED, value)
        return value

    def url(self, value: Any, key: str) -> str:
        expected = "an http(s)://host[:port] URL without path, query or credentials"
        if not isinstance(value, str):
            raise self.error(key, expected, value)
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 -- raises ValueError for a bad port
        except ValueError:
            raise self.error(key, expected, value) from None
        if (parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
                or parts.query or parts.fragment or parts.username is not None):
            raise self.error(key, expected, value)
        return f"{parts.scheme.lower()}://{parts.netloc}"

    def methods(self, value: Any, key: str) -> frozenset[str]:
        expected = "a non-empty list of methods from " + ", ".join(METHODS)
        if not isinstance(value, list) or not value:
            raise self.error(key, expected, value)
        methods = set()
        for j, item in enumerate(value):
            method = item.upper() if isinstance(item, str) else item
            if method not in METHODS:
                raise self.error(f"{key}[{j}]", _one_of("a method", METHODS), item)
            methods.add(method)
        if "GET" in methods:
            methods.add("HEAD")  # servers answer HEAD wherever they answer GET (Django and FastAPI do)
        return frozenset(methods)

    def seconds(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise self.error(key, "a positive number of seconds", value)
        return float(value)

    def seconds_or_zero(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise self.error(key, "a number of seconds, 0 or more", value)
        return float(value)

    def absolute_path(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _ABSOLUTE_PATH.match(value):
            raise self.error(key, "an absolute URL path such as /api/auth/introspect/ (no query, no spaces)", value)
        return value

    def fraction(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise self.error(key, "a number between 0 and 1", value)
        return float(value)

    def names_list(self, value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, "a list of field names", value)
        return tuple(v.lower() for v in value)

    def positive_int(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(key, "a positive integer", value)
        return value

    def token(self, value: Any, key: str, what: str) -> str:
        if not isinstance(value, str) or not _TOKEN.match(value):
            raise self.error(key, what, value)
        return value

    def env_name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            raise self.error(key, "an environment variable name", value)
        return value


def _one_of(what: str, choices: Sequence[str]) -> str:
    if not choices:
        return f"{what} (none are defined)"
    return f"{what} (one of {', '.join(choices)})"


def _or(value: Any, default: Any) -> Any:
    """`default` when a YAML key is absent or left empty (`groups:` with nothing under it)."""
    return default if value is None else value


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
