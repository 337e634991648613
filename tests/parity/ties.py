"""The parity suite's one rule beyond strangler.yaml's: a list request whose ordering leaves ties
(``?ordering=on_hand``: many rows have the same on_hand) is compared tie-blind.

Why: DRF orders by exactly the requested fields, so the monolith leaves the order of rows with equal
keys to the database. SQLite happens to return them in id order; PostgreSQL returns them in whatever
order its sort produced. The service breaks ties by id. Neither order is the contract, so under this
rule both answers are compared after the same canonical rewrite of ``results``:

- rows are split into runs of equal values of the `fields` (in the order each side returned them);
- a run that lies wholly on this page has its rows sorted by id, then compared in full;
- a run cut by the page edge (the first run when there is a previous page, the last when there is a
  next one) may hold different rows on each side, chosen among equal keys: it is compared by its keys
  and length only.

What stays compared: count, next, previous, the sequence of key values position by position (so a
wrong ordering or a wrong page still shows), and every row not at a cut. Nothing else is relaxed.

Which requests: `ties_for` reads ``?ordering=`` as DRF's OrderingFilter does (valid names only; none
valid means the view's default ordering, which is total) and applies the rule unless the terms include
a unique key of the endpoint (`ORDERINGS`: the monolith views' ordering fields, the response field
each sorts by, and the combinations that identify a row).
"""

import json
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from router.parity import Exchange


@dataclass(frozen=True)
class Ordering:
    fields: dict[str, str]                   # ordering name -> the response field it sorts by
    unique: tuple[frozenset[str], ...] = ()  # sets of ordering names that identify a row


_BY_TIME_AND_QUANTITY = Ordering({"created_at": "created_at", "quantity": "quantity"})
ORDERINGS = {
    "inventory.stock.list": Ordering(
        {name: name for name in ("sku", "warehouse", "on_hand", "reserved", "available", "updated_at")},
        unique=(frozenset({"sku", "warehouse"}),)),
    "inventory.warehouses.list": Ordering({"code": "code", "name": "name", "city": "city"},
                                          unique=(frozenset({"code"}),)),
    "inventory.adjustments.list": _BY_TIME_AND_QUANTITY,
    "inventory.reservations.list": _BY_TIME_AND_QUANTITY,
    "inventory.movements.list": _BY_TIME_AND_QUANTITY,
}


def ties_for(route_name: str, target: str) -> tuple[str, ...]:
    """The response fields to compare tie-blind by, or () when the request's order is total."""
    ordering = ORDERINGS.get(route_name)
    if ordering is None:
        return ()
    values = [v for k, v in parse_qsl(urlsplit(target).query, keep_blank_values=True) if k == "ordering"]
    if not values or not values[-1]:
        return ()
    terms = [t.strip() for t in values[-1].split(",")]
    names = [t[1:] if t.startswith("-") else t for t in terms]
    names = [n for n in names if n in ordering.fields]
    if not names or any(key <= set(names) for key in ordering.unique):
        return ()
    return tuple(dict.fromkeys(ordering.fields[n] for n in names))


def canonical(exchange: Exchange, fields: list[str]) -> Exchange:
    """`exchange` with its ``results`` rewritten as above; other answers are returned unchanged."""
    try:
        body = json.loads(exchange.body)
    except ValueError:
        return exchange
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        return exchange
    runs = [list(rows) for _, rows in groupby(body["results"], key=lambda row: tuple(row.get(f) for f in fields))]
    rewritten: list[Any] = []
    for index, run in enumerate(runs):
        cut = (index == 0 and body.get("previous") is not None) or (index == len(runs) - 1 and body.get("next") is not None)
        if cut:
            rewritten.extend({"tie": {f: row.get(f) for f in fields}} for row in run)
        else:
            rewritten.extend(sorted(run, key=lambda row: row.get("id", 0)))
    body["results"] = rewritten
    return Exchange(exchange.status, exchange.headers, json.dumps(body).encode())
