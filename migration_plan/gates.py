"""Gates: pure functions over an Evidence value. Each answers pass (True), fail (False) or not enough
evidence (None), with the figure and the threshold in words, so a refusal can say why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from router.store.traffic import RouteTraffic

from .playbook import Gate


@dataclass(frozen=True, slots=True)
class Approval:
    step: str
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the stores said about one step's routes over its window (see evidence.py)."""

    window_seconds: float
    traffic: dict[str, dict[str, RouteTraffic]] = field(default_factory=dict)   # scope -> target -> summed
    parity: dict[str, tuple[int, int, int]] = field(default_factory=dict)       # scope -> (compared, agreeing, errors)
    sync_lag_seconds: float | None = None      # forward/reverse relay lag (worst), None when unknown
    sync_detail: str = ""
    drift: int | None = None                   # rows that differ or are missing (verify), None when not run
    approvals: tuple[Approval, ...] = ()

    def side(self, scope: str, target: str) -> RouteTraffic | None:
        return self.traffic.get(scope, {}).get(target)


@dataclass(frozen=True, slots=True)
class GateResult:
    name: str
    kind: str
    ok: bool | None
    figure: str
    threshold: str
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "ok": self.ok, "figure": self.figure,
                "threshold": self.threshold, "detail": self.detail}

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "fail", None: "not enough evidence"}[self.ok]


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def parity_rate(gate: Gate, ev: Evidence, step: str) -> GateResult:
    compared, agreeing, _ = ev.parity.get(gate.routes, (0, 0, 0))
    minimum, need = gate.get("min"), gate.get("min_samples", 1)
    threshold = f"at least {_pct(minimum)} of {need}+ shadow comparisons on {gate.routes} routes"
    if compared < need:
        return GateResult("parity_rate", "parity_rate", None, f"{compared} comparisons", threshold,
                          f"{need - compared} more comparisons needed")
    rate = agreeing / compared
    return GateResult("parity_rate", "parity_rate", rate >= minimum, f"{_pct(rate)} of {compared}", threshold,
                      f"{compared - agreeing} differed")


def error_rate(gate: Gate, ev: Evidence, step: str) -> GateResult:
    target = gate.get("target", "extracted")
    need = gate.get("min_requests", 1)
    side = ev.side(gate.routes, target)
    requests, errors = (side.requests, side.errors) if side else (0, 0)
    threshold = f"at most {_pct(gate.get('max'))} 5xx on {target} ({gate.routes} routes, {need}+ requests)"
    if requests < need or requests == 0:
        ok = True if need == 0 else None
        return GateResult("error_rate", "error_rate", ok, f"{requests} requests", threshold,
                          "no traffic needed" if ok else f"{need - requests} more requests needed")
    rate = errors / requests
    return GateResult("error_rate", "error_rate", rate <= gate.get("max"), f"{_pct(rate)} ({errors}/{requests})", threshold)


def latency_p99_ratio(gate: Gate, ev: Evidence, step: str) -> GateResult:
    need = gate.get("min_requests", 1)
    legacy, extracted = ev.side(gate.routes, "legacy"), ev.side(gate.routes, "extracted")
    threshold = f"extracted p99 at most {gate.get('max'):g}× legacy p99 ({need}+ requests each)"
    counts = (legacy.requests if legacy else 0, extracted.requests if extracted else 0)
    if min(counts) < max(need, 1):
        return GateResult("latency_p99_ratio", "latency_p99_ratio", True if need == 0 else None,
                          f"{counts[0]} legacy / {counts[1]} extracted requests", threshold,
                          "no traffic needed" if need == 0 else "not enough requests on both sides")
    lp, ep = legacy.quantile(0.99), extracted.quantile(0.99)
    ratio = ep / lp
    return GateResult("latency_p99_ratio", "latency_p99_ratio", ratio <= gate.get("max"),
                      f"{ratio:.2f}× ({ep * 1000:.1f} ms / {lp * 1000:.1f} ms)", threshold)


def fallbacks(gate: Gate, ev: Evidence, step: str) -> GateResult:
    side = ev.side(gate.routes, "extracted")
    requests, count = (side.requests, side.fallbacks) if side else (0, 0)
    parts = []
    if gate.get("max") is not None:
        parts.append(f"at most {gate.get('max')} fallbacks")
    if gate.get("max_rate") is not None:
        parts.append(f"at most {_pct(gate.get('max_rate'))} of extracted-bound requests")
    threshold = " and ".join(parts) + f" ({gate.routes} routes)"
    attempted = requests + count   # fallbacks were answered by legacy, so they are not in `requests`
    if gate.get("max") is not None and count > gate.get("max"):
        return GateResult("fallbacks", "fallbacks", False, f"{count} fallbacks of {attempted}", threshold)
    if gate.get("max_rate") is not None:
        need = gate.get("min_requests", 1)
        if attempted < need or attempted == 0:
            ok = True if need == 0 else None
            return GateResult("fallbacks", "fallbacks", ok, f"{count} fallbacks of {attempted}", threshold,
                              "" if ok else "not enough extracted-bound requests")
        rate = count / attempted
        return GateResult("fallbacks", "fallbacks", rate <= gate.get("max_rate"),
                          f"{_pct(rate)} ({count}/{attempted})", threshold)
    return GateResult("fallbacks", "fallbacks", True, f"{count} fallbacks of {attempted}", threshold)


def sync_lag(gate: Gate, ev: Evidence, step: str) -> GateResult:
    threshold = f"relays at most {gate.get('max_seconds'):g} s behind"
    if ev.sync_lag_seconds is None:
        return GateResult("sync_lag", "sync_lag", None, "unknown", threshold, ev.sync_detail or "sync status not read")
    return GateResult("sync_lag", "sync_lag", ev.sync_lag_seconds <= gate.get("max_seconds"),
                      f"{ev.sync_lag_seconds:.1f} s", threshold, ev.sync_detail)


def drift(gate: Gate, ev: Evidence, step: str) -> GateResult:
    threshold = f"at most {gate.get('max')} rows differing between the databases"
    if ev.drift is None:
        return GateResult("drift", "drift", None, "not verified", threshold)
    return GateResult("drift", "drift", ev.drift <= gate.get("max"), f"{ev.drift} rows", threshold)


def approval(gate: Gate, ev: Evidence, step: str) -> GateResult:
    if not gate.get("required", True):
        return GateResult("approval", "approval", True, "not required", "no approval needed")
    mine = [a for a in ev.approvals if a.step == step]
    threshold = f"approved by a person (`strangler plan approve --step '{step}'`)"
    if not mine:
        return GateResult("approval", "approval", None, "not approved", threshold)
    last = mine[-1]
    return GateResult("approval", "approval", True, f"approved by {last.actor} at {last.at:%Y-%m-%d %H:%M:%S}",
                      threshold, last.reason)


GATES = {"parity_rate": parity_rate, "error_rate": error_rate, "latency_p99_ratio": latency_p99_ratio,
         "fallbacks": fallbacks, "sync_lag": sync_lag, "drift": drift, "approval": approval}


def evaluate(gate: Gate, evidence: Evidence, step: str) -> GateResult:
    return GATES[gate.kind](gate, evidence, step)
