"""A suggested extraction order: the apps that the rest of the monolith leans on least go first.

Pure: plain values in, plain values out. An app's *inbound* couplings are the foreign keys other apps'
models hold to its models plus the imports other apps' modules make of its modules: each is something
that breaks or must be rewired when the app leaves. Apps are sorted by inbound couplings (fewest
first), ties by outbound couplings (fewest first: less to call back into the monolith), then by label.
Apps that serve no endpoint (an outbox, a shared kernel without views) come after all the others when
endpoint counts are given: the router has nothing of theirs to move. Only couplings between the candidate apps count; relations to Django's own apps (auth.User) are named
in the reason but do not change the order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .import_links import ImportLink
from .model_links import ModelLink

_SHOWN = 3  # examples named in a reason before "+N more"


@dataclass(frozen=True, slots=True)
class Standing:
    """One app's place in the order, with the couplings behind it and the reason in words."""

    rank: int
    app: str
    inbound_fks: tuple[str, ...]      # `orders.OrderLine.product`: fields of other apps pointing here
    inbound_imports: tuple[str, ...]  # modules of other apps importing this app
    outbound_fks: tuple[str, ...]     # fields of this app pointing into other candidate apps
    outbound_imports: tuple[str, ...]  # modules of other candidate apps this app imports
    external_fks: tuple[str, ...]     # fields of this app pointing outside the candidates (auth.User)
    endpoints: int
    reason: str

    @property
    def inbound(self) -> int:
        return len(self.inbound_fks) + len(self.inbound_imports)

    @property
    def outbound(self) -> int:
        return len(self.outbound_fks) + len(self.outbound_imports)

    def as_dict(self) -> dict:
        return {"rank": self.rank, "app": self.app, "inbound": self.inbound, "outbound": self.outbound,
                "inbound_fks": list(self.inbound_fks), "inbound_imports": list(self.inbound_imports),
                "outbound_fks": list(self.outbound_fks), "outbound_imports": list(self.outbound_imports),
                "external_fks": list(self.external_fks), "endpoints": self.endpoints, "reason": self.reason}


def extraction_order(apps: Iterable[str], model_links: Iterable[ModelLink], import_links: Iterable[ImportLink],
                     endpoint_counts: dict[str, int] | None = None) -> tuple[Standing, ...]:
    """The candidate `apps` ranked from the first to extract to the last, each with its reason."""
    apps = list(dict.fromkeys(apps))
    candidates = set(apps)
    model_links = [m for m in model_links if m.source_app != m.target_app]
    import_links = [i for i in import_links if i.importer_app != i.imported_app]
    counts = endpoint_counts or {}
    unranked = []
    for app in apps:
        in_fks = [m for m in model_links if m.target_app == app and m.source_app in candidates]
        out_fks = [m for m in model_links if m.source_app == app and m.target_app in candidates]
        external = [m for m in model_links if m.source_app == app and m.target_app not in candidates]
        in_imports = [i for i in import_links if i.imported_app == app and i.importer_app in candidates]
        out_imports = [i for i in import_links if i.importer_app == app and i.imported_app in candidates]
        unranked.append(dict(
            app=app,
            inbound_fks=tuple(m.label for m in in_fks),
            inbound_imports=tuple(i.importer for i in in_imports),
            outbound_fks=tuple(m.label for m in out_fks),
            outbound_imports=tuple(i.imported for i in out_imports),
            external_fks=tuple(m.label for m in external),
            endpoints=counts.get(app, 0),
            reason=_reason(in_fks, in_imports, out_fks, out_imports, external),
        ))
        if endpoint_counts is not None and not counts.get(app):
            unranked[-1]["reason"] = "serves no endpoint: nothing for the router to move; " + unranked[-1]["reason"]
    unranked.sort(key=lambda s: (endpoint_counts is not None and not s["endpoints"],
                                 len(s["inbound_fks"]) + len(s["inbound_imports"]),
                                 len(s["outbound_fks"]) + len(s["outbound_imports"]), s["app"]))
    return tuple(Standing(rank=n, **s) for n, s in enumerate(unranked, start=1))


def _reason(in_fks: list[ModelLink], in_imports: list[ImportLink], out_fks: list[ModelLink],
            out_imports: list[ImportLink], external: list[ModelLink]) -> str:
    """`2 inbound FKs (orders.OrderLine.product, ...), 1 inbound import (from orders ×1); outbound: ...`."""
    inbound = ", ".join([
        _count(len(in_fks), "inbound FK", _examples([m.label for m in in_fks])),
        _count(len(in_imports), "inbound import", _tally("from ", [i.importer_app for i in in_imports])),
    ])
    outbound = ", ".join([
        _count(len(out_fks), "FK", _tally("to ", [m.target for m in out_fks])),
        _count(len(out_imports), "import", _tally("of ", [i.imported_app for i in out_imports])),
    ])
    text = f"{inbound}; outbound: {outbound}"
    if external:
        text += f"; also needs {_tally('', [m.target for m in external])} (outside the candidate apps)"
    return text


def _count(n: int, noun: str, detail: str) -> str:
    words = f"{n or 'no'} {noun}{'' if n == 1 else 's'}"
    return f"{words} ({detail})" if n else words


def _examples(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f", +{len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _tally(prefix: str, names: list[str]) -> str:
    """`from core ×3, orders ×1`: how many couplings per app or model, in first-seen order."""
    return prefix + ", ".join(f"{name} ×{n}" for name, n in Counter(names).items())
