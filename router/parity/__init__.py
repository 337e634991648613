"""Parity: does the extracted service answer like the monolith? The pure diff engine (DESIGN.md §4).

`compare(legacy, extracted, rules)` takes the two sides' responses to one request (`Exchange`) and a
route's `ParityRules` (parsed from its `parity:` mapping by `parse_rules`) and returns a `DiffResult`:
typed differences at JSON paths (`changed`, `missing`, `extra`, `type`, `order`), accepted
equivalences reported apart, counts of what rules hid, a verdict and a signature to group samples by.

Modules: `exchange` (the input), `result` (the output), `rules` (parsing and validating rules),
`paths` (path and pattern syntax), `matcher` (patterns compiled for the walk), `equivalence` (the
equivalence classes) and `diff` (the comparison). Nothing here does I/O; shadowing, noise learning
and storage are built around it.
"""

from router.parity.diff import compare
from router.parity.equivalence import CLASSES as EQUIVALENCE_CLASSES
from router.parity.exchange import Exchange
from router.parity.paths import PathSyntaxError
from router.parity.result import ABSENT, Difference, DiffKind, DiffResult, Verdict
from router.parity.rules import ParityRules, ParityRulesError, parse_rules

__all__ = [
    "ABSENT", "EQUIVALENCE_CLASSES", "DiffKind", "DiffResult", "Difference", "Exchange", "ParityRules",
    "ParityRulesError", "PathSyntaxError", "Verdict", "compare", "parse_rules",
]
