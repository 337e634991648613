"""What a comparison found: typed differences at paths, a verdict, and a signature to group samples by.

Differences come in two classes. *Regressions* (`DiffResult.differences`) are what the extracted
service does differently and decide the verdict. *Equivalences* (`DiffResult.equivalences`) are
differences of spelling only -- the same instant in two time zones, the same decimal written two
ways -- kept apart so that a user can accept them knowingly instead of never seeing them.

The `signature` of a result names the set of regression *shapes* (kind + path with list positions
replaced by `[*]`), so a thousand responses that differ the same way on different items count as
one problem with many samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from router.parity.paths import generalise, parse_path, render


class DiffKind(StrEnum):
    CHANGED = "changed"  # same type, another value
    MISSING = "missing"  # only on the legacy side
    EXTRA = "extra"      # only on the extracted side
    TYPE = "type"        # another JSON type (true vs 1, "1" vs 1, null vs {})
    ORDER = "order"      # the same items in another order


class Verdict(StrEnum):
    MATCH = "match"            # nothing differs (rules may have hidden some values)
    EQUIVALENT = "equivalent"  # only accepted equivalences differ
    MISMATCH = "mismatch"      # at least one regression
    SKIPPED = "skipped"        # not compared (a body over the cap); see `DiffResult.note`


class _Absent:
    """The value on the side where a MISSING or EXTRA value does not exist (JSON null is `None`)."""

    __slots__ = ()
    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference: what kind, where (`path`), and the value on each side (`ABSENT` where none).

    `pattern` is the path's shape (`body.results[*].price`), derived from `path` when not given.
    `equivalence` names the accepted equivalence class, or is None for a regression. Bodies that are
    not JSON are shown as `{"length": ..., "differs_at": ...}`, never as raw bytes or a digest of them.
    """

    kind: DiffKind
    path: str
    legacy: object
    extracted: object
    equivalence: str | None = None
    pattern: str = ""

    def __post_init__(self) -> None:
        if not self.pattern:
            object.__setattr__(self, "pattern", render(generalise(parse_path(self.path))))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for storage and JSON (an `ABSENT` side is left out)."""
        out: dict[str, Any] = {"kind": str(self.kind), "path": self.path, "pattern": self.pattern}
        if self.legacy is not ABSENT:
            out["legacy"] = self.legacy
        if self.extracted is not ABSENT:
            out["extracted"] = self.extracted
        if self.equivalence is not None:
            out["equivalence"] = self.equivalence
        return out


@dataclass(frozen=True, slots=True)
class DiffResult:
    """The outcome of comparing two exchanges under a route's rules.

    `ignored_paths` counts differing values that ignore rules hid, `noise_hidden` those that learned
    noise hid; `note` explains a SKIPPED verdict.
    """

    verdict: Verdict
    differences: tuple[Difference, ...] = ()
    equivalences: tuple[Difference, ...] = ()
    ignored_paths: int = 0
    noise_hidden: int = 0
    note: str = ""

    def signature(self) -> str:
        """A short stable hash of the regressions' shapes: equal for results that differ the same way."""
        shapes = sorted({f"{d.kind} {d.pattern}" for d in self.differences})
        return hashlib.sha256("\n".join(shapes).encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for storage and JSON."""
        out: dict[str, Any] = {
            "verdict": str(self.verdict),
            "signature": self.signature(),
            "differences": [d.as_dict() for d in self.differences],
            "equivalences": [d.as_dict() for d in self.equivalences],
            "ignored_paths": self.ignored_paths,
            "noise_hidden": self.noise_hidden,
        }
        if self.note:
            out["note"] = self.note
        return out
