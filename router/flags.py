"""Runtime flags: the immutable snapshot the hot path reads, and parsing of a requested flag change.

Flags say which side serves a route right now (see `decision.Mode`). They live in the control store,
not in strangler.yaml; the watcher builds a new `FlagSnapshot` whenever the store changes and swaps it in
whole, so a request always sees one consistent version. A flag set on a route overrides the flag of its
group; with neither, a route is served by legacy.

`parse_flag_change` is the door for changes from the admin API and the CLI: it turns what the user typed
into a `FlagChange` (route or group, name, validated `FlagState`) or a ValueError saying, in the user's
words, what is wrong. The store and the watcher are I/O shells around this module.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, NamedTuple

from router.decision import FlagState, Mode

if TYPE_CHECKING:
    from router.config import Config, Route

DEFAULT_FLAG = FlagState()  # legacy


@dataclass(frozen=True, slots=True)
class FlagSnapshot:
    """Every flag at one store version. The mappings are copied and frozen when built."""

    version: int
    routes: Mapping[str, FlagState]  # route name -> flag
    groups: Mapping[str, FlagState]  # group name -> flag

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", MappingProxyType(dict(self.routes)))
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))

    def effective(self, route: Route) -> FlagState:
        """The flag that applies to `route`: its own, else its group's, else legacy."""
        flag = self.routes.get(route.name)
        if flag is None:
            flag = self.groups.get(route.group, DEFAULT_FLAG)
        return flag


EMPTY = FlagSnapshot(0, {}, {})


class FlagChange(NamedTuple):
    """A validated request to set the flag of one route or one group."""

    kind: Literal["route", "group"]
    name: str
    state: FlagState


def parse_flag_change(target: str, mode: str, percent: float | None, shadow_rate: float | None,
                      config: Config) -> FlagChange:
    """Validate a flag change against the config; ValueError with a message meant for the person asking.

    `target` is a route name or a group name (the config keeps the two sets disjoint). `mode` is one of
    legacy, shadow, canary, extracted. Canary needs `percent` (0-100, at most 2 decimals); the other
    modes ignore it and store 0 (legacy, shadow) or 100 (extracted). `shadow_rate` (0-1) is the share
    of requests mirrored: in shadow mode it defaults to 1; on canary and extracted it mirrors to the other
    side (watching parity after a cut-over) and defaults to 0, off; on legacy it is 0.
    """
    kind, name = _target(target, config)
    try:
        chosen = Mode(mode.strip().lower() if isinstance(mode, str) else mode)
    except ValueError:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(Mode)}") from None
    if chosen is Mode.CANARY:
        if percent is None:
            raise ValueError("canary needs a percent: the share of callers (0-100) sent to the extracted side")
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not math.isfinite(percent):
            raise ValueError(f"percent must be a number between 0 and 100, got {percent!r}")
    else:
        percent = 100.0 if chosen is Mode.EXTRACTED else 0.0
    if chosen is Mode.LEGACY:
        shadow_rate = 0.0
    elif shadow_rate is None:
        shadow_rate = 1.0 if chosen is Mode.SHADOW else 0.0
    return FlagChange(kind, name, FlagState(chosen, percent, shadow_rate))  # FlagState checks the ranges


def _target(target: str, config: Config) -> tuple[Literal["route", "group"], str]:
    if isinstance(target, str):
        target = target.strip()
        if target in config.groups:
            return "group", target
        try:
            return "route", config.route(target).name
        except KeyError:
            pass
    names = [*config.groups, *(route.name for route in config.routes)]
    close = difflib.get_close_matches(str(target), names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    groups = ", ".join(sorted(config.groups)) or "none"
    example = f", e.g. {config.routes[0].name!r}" if config.routes else ""
    raise ValueError(f"{target!r} is neither a route nor a group in {config.source}; {hint}"
                     f"known groups: {groups} (or give a route name{example})")
