"""Write tests/parity/corpus/inventory-api.json: every inventory endpoint, exercised on purpose.

    .venv/bin/python -m tests.parity.make_inventory_corpus

inventory-reads.json is recorded traffic (make_corpus.py, through mitmproxy); this corpus is written
by hand, to cover what traffic may not: every filter with good and bad values, every ordering name
(aliases, descending, invalid), pages (first, middle, last, "last", past the end, 0, junk), unknown and
malformed ids, each role (staff, customer), anonymous callers and a rejected token, content
negotiation, methods a route does not serve, and writes (adjustments and warehouses, valid and
invalid), which the suite runs rolled back on both sides.

It seeds a throwaway monolith exactly as the parity fixtures do (``seed --size small`` plus
tests/parity/seed_extras.py, SQLite in a temp dir), sends each request in-process and records the
status and content type the monolith answered (a write inside a rolled-back transaction). Orderings
that leave ties are compared tie-blind by the suite (tests/parity/ties.py). Not a test: run it when
the corpus should change, and review the diff.
"""

import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus" / "inventory-api.json"
NAME = "inventory-api"
ACCEPT_JSON = {"accept": "application/json"}
INV = "/api/inventory"


@dataclass
class Req:
    path: str
    role: str = "staff"
    method: str = "GET"
    body: object = None            # JSON value, or bytes sent as given
    headers: dict = field(default_factory=dict)


def requests_to_record() -> list[Req]:
    """The corpus, endpoint by endpoint. Values come from the fixed seed (seed 42, small)."""
    sku, sku2 = "TG-CAM-00001", "TG-CAM-00002"
    from tests.parity.seed_extras import NO_STOCK_SKU

    r: list[Req] = []
    # -- stock list ---------------------------------------------------------------------------------
    s = f"{INV}/stock/"
    r += [Req(s), Req(s, "customer"), Req(s, "anonymous"), Req(s, "invalid-token")]
    r += [Req(f"{s}?page={p}") for p in ("2", "12", "24", "last", "25", "0", "-1", "abc", "1.0", "", "%202",
                                           "2&page=3", "99999999999999999999")]
    r += [Req(f"{s}?page=last&sku=NOPE"), Req(f"{s}?page=2&sku=NOPE")]
    r += [Req(f"{s}?{q}") for q in (
        f"sku={sku}", f"sku=%20{sku}%20", "sku=NOPE", "sku=", "warehouse=BER", "warehouse=ber", "warehouse=VIE",
        "category=webcams", "category=nope", "low_stock=true", "low_stock=false", "low_stock=True", "low_stock=2",
        "low_stock=3", "low_stock=1", "low_stock=maybe", "min_available=100", "min_available=2.5",
        "min_available=-5", "min_available=abc", "min_available=NaN", "min_available=1e51", "min_available=1e40",
        "min_available=-1e40", "min_available=", "min_available=%201e2%20",
        "warehouse=HAM&low_stock=true&ordering=-available,sku&page=2", "category=webcams&min_available=200",
        "sku=%00", "min_available=abc&sku=%00",
        "search=TG-MCU", "search=dell", "search=DELL%20webcam", "search=%22USB-C%20Dock%22", "search=cam,dell",
        "search=%25", "search=_", "search=%00", "search=%20%20", "search=zzzz-nothing",
        "ordering=sku,warehouse", "ordering=-sku,-warehouse", "ordering=warehouse,sku&page=3",
        "ordering=-warehouse,sku", "ordering=available,sku,warehouse", "ordering=-available,sku,warehouse&page=2",
        "ordering=on_hand,sku,warehouse", "ordering=-reserved,sku,warehouse", "ordering=-updated_at,sku,warehouse",
        "ordering=bogus", "ordering=--sku", "ordering=%20-sku%20,warehouse", "ordering=product__sku", "ordering=",
        "format=json", "format=xml", "page=2&format=json&ordering=-sku,warehouse",
    )]
    r += [Req(f"{s}?ordering={o}") for o in ("on_hand", "-on_hand&page=3", "sku", "-sku&page=2", "warehouse",
                                              "-warehouse&page=9", "reserved", "-available", "updated_at",
                                              "-bogus,on_hand", "-updated_at&page=last")]
    r += [Req(s, headers={"accept": "application/xml"}), Req(s, headers={"accept": "*/*"}),
          Req(s, headers={"accept": "application/*"}), Req(s, "anonymous", headers={"accept": "application/xml"}),
          Req(f"{s}?format=xml", "anonymous")]
    r += [Req(s, method="POST", body={}), Req(s, "customer", method="DELETE"), Req(s, "anonymous", method="PUT")]
    r += [Req(s, method="HEAD"), Req(f"{s}?page=99", method="HEAD"), Req(s, "anonymous", method="HEAD")]

    # -- stock detail -------------------------------------------------------------------------------
    d = f"{s}{sku}/"
    r += [Req(d), Req(d, "customer"), Req(d, "anonymous"), Req(d, "invalid-token"), Req(f"{s}{sku2}/"),
          Req(f"{s}{NO_STOCK_SKU}/"), Req(f"{s}NOPE/"), Req(f"{s}{sku.lower()}/"), Req(f"{s}{sku}.json/"),
          Req(f"{d}?min_available=abc"), Req(f"{d}?format=xml"), Req(f"{d}?format=json"), Req(f"{s}%20{sku}/"),
          Req(d, method="PUT", body={}), Req(d, "customer", method="DELETE"), Req(d, method="HEAD")]

    # -- warehouses ---------------------------------------------------------------------------------
    w = f"{INV}/warehouses/"
    r += [Req(w), Req(w, "customer"), Req(w, "anonymous"), Req(w, "invalid-token")]
    r += [Req(f"{w}?{q}") for q in (
        "country=DE", "country=AT", "country=de", "country=%20AT", "active=false", "active=False", "active=0",
        "active=TRUE", "active=yes", "search=ham", "search=Distribution", "search=%22West%20Warehouse%22",
        "ordering=-code", "ordering=name", "ordering=-name", "ordering=city", "ordering=-city", "ordering=id",
        "page=2", "page=last", "page=x")]
    wd = f"{w}1/"
    r += [Req(wd), Req(wd, "customer"), Req(wd, "anonymous"), Req(f"{w}1.json/"), Req(f"{w}1.xml/"),
          Req(f"{w}1.2.3/"), Req(f"{w}999/"), Req(f"{w}abc/"), Req(f"{w}99999999999999999999/"), Req(f"{w}-1/"),
          Req(f"{wd}?country=AT"), Req(f"{wd}?active=maybe"), Req(f"{w}%201/"), Req(f"{w}4/"),
          Req(f"{wd}?search=nothing-like-this"), Req(f"{wd}?format=xml", "anonymous"), Req(wd, method="HEAD")]
    new = {"code": "DUS", "name": "Duesseldorf Cross-Dock", "city": "Duesseldorf"}
    r += [Req(w, method="POST", body=new),
          Req(w, method="POST", body={**new, "country": "NL", "active": False}),
          Req(w, method="POST", body=b"code=DUS&name=D%C3%BCsseldorf&city=D%C3%BCsseldorf",
              headers={"content-type": "application/x-www-form-urlencoded"}),
          Req(w, method="POST", body={"code": "BER", "name": "", "city": 3, "country": "DEU", "active": "maybe"}),
          Req(w, method="POST", body={"code": "  ", "name": "x" * 121, "city": None, "active": [1]}),
          Req(w, method="POST", body={"code": "TOO-LONG-CODE", "name": {"a": 1}, "city": True}),
          Req(w, method="POST", body={}), Req(w, method="POST", body=b"{bad"), Req(w, method="POST", body=b"null"),
          Req(w, method="POST", body=b"[]"), Req(w, method="POST", body=b'"text"'),
          Req(w, method="POST", body=b"code=DUS", headers={"content-type": "text/plain"}),
          Req(w, "customer", method="POST", body=new), Req(w, "anonymous", method="POST", body=new),
          Req(w, "invalid-token", method="POST", body=new), Req(w, method="DELETE")]
    r += [Req(f"{w}2/", method="PUT", body={"code": "HAM", "name": "Hamburg Port", "city": "Hamburg", "active": False}),
          Req(f"{w}2/", method="PUT", body={"name": "Hamburg Port"}),
          Req(f"{w}2/", method="PUT", body={"code": "BER", "name": "n", "city": "c"}),
          Req(f"{w}2/", method="PUT", body=b"code=HAM&name=Hamburg&city=Hamburg",
              headers={"content-type": "application/x-www-form-urlencoded"}),
          Req(f"{w}2/", method="PATCH", body={"name": "Hamburg Port Warehouse II"}),
          Req(f"{w}2/", method="PATCH", body={"active": "no", "country": "de"}),
          Req(f"{w}2/", method="PATCH", body={"code": "MUC"}),
          Req(f"{w}2/", method="PATCH", body={}),
          Req(f"{w}999/", method="PATCH", body={"name": "x"}), Req(f"{w}999/", method="PATCH", body=b"{bad"),
          Req(f"{w}2/?country=AT", method="PATCH", body={"name": "x"}),
          Req(f"{w}2/", "customer", method="PATCH", body={"name": "x"}),
          Req(f"{w}2/", "anonymous", method="PUT", body={}),
          Req(f"{w}2/", method="DELETE"), Req(f"{w}2/", method="POST", body={}), Req(f"{w}2/", "customer", method="DELETE")]

    # -- adjustments --------------------------------------------------------------------------------
    a = f"{INV}/adjustments/"
    r += [Req(a), Req(a, "customer"), Req(a, "anonymous"), Req(a, "invalid-token")]
    r += [Req(f"{a}?{q}") for q in ("kind=receive", "kind=write_off", "kind=bogus", "kind=", "search=damaged",
                                     f"search={sku}", "search=nothing", "ordering=quantity", "ordering=-quantity",
                                     "ordering=created_at", "ordering=-created_at", "page=2", "page=last")]
    r += [Req(f"{a}1/"), Req(f"{a}3/"), Req(f"{a}999/"), Req(f"{a}1/?kind=write_off"), Req(f"{a}x/"),
          Req(f"{a}1/", "customer"), Req(f"{a}1/", "anonymous"), Req(f"{a}1.json/")]
    receive = {"sku": sku, "warehouse": "BER", "kind": "receive", "quantity": 5, "reason": "Parity delivery"}
    r += [Req(a, method="POST", body=receive),
          Req(a, method="POST", body={**receive, "kind": "write_off", "quantity": 7}),
          Req(a, method="POST", body={**receive, "kind": "write_off", "quantity": 100000}),
          Req(a, method="POST", body={**receive, "warehouse": "VIE"}),
          Req(a, method="POST", body={**receive, "warehouse": "VIE", "kind": "write_off", "quantity": 1}),
          Req(a, method="POST", body={**receive, "warehouse": "CGN"}),
          Req(a, method="POST", body={**receive, "sku": NO_STOCK_SKU, "warehouse": "HAM"}),
          Req(a, method="POST", body={**receive, "quantity": "12"}),
          Req(a, method="POST", body={**receive, "quantity": 5.0}),
          Req(a, method="POST", body={**receive, "quantity": 0}),
          Req(a, method="POST", body={**receive, "quantity": 1000001}),
          Req(a, method="POST", body={**receive, "quantity": True}),
          Req(a, method="POST", body={**receive, "quantity": "1" * 1001}),
          Req(a, method="POST", body={**receive, "reason": "r" * 256}),
          Req(a, method="POST", body={"sku": "", "warehouse": 5, "kind": "x", "quantity": "1.5", "reason": " "}),
          Req(a, method="POST", body={"sku": None, "warehouse": "", "kind": None, "quantity": None, "reason": None}),
          Req(a, method="POST", body={}), Req(a, method="POST", body=b"{bad"), Req(a, method="POST", body=b"[1]"),
          Req(a, method="POST", body=b"sku=TG-CAM-00001&warehouse=HAM&kind=receive&quantity=3&reason=form",
              headers={"content-type": "application/x-www-form-urlencoded"}),
          Req(a, "customer", method="POST", body=receive), Req(a, "anonymous", method="POST", body=receive),
          Req(a, method="PUT", body=receive), Req(f"{a}1/", method="PATCH", body={})]

    # -- reservations -------------------------------------------------------------------------------
    v = f"{INV}/reservations/"
    r += [Req(v), Req(v, "customer"), Req(v, "anonymous"), Req(v, "invalid-token")]
    r += [Req(f"{v}?{q}") for q in ("status=active", "status=released", "status=bogus", "status=null",
                                     "order=TG-0000012", "order=TG-0000012&status=consumed", f"sku={sku}",
                                     "warehouse=MUC&page=3", "warehouse=NOPE", "search=%00", "search=anything",
                                     "page=last", "page=46", "ordering=bogus")]
    r += [Req(f"{v}?{q}") for q in ("order=TG-0000012&ordering=quantity", "ordering=quantity",
                                     "ordering=-quantity&page=2", "ordering=-created_at&page=2", "ordering=created_at")]
    r += [Req(f"{v}1/"), Req(f"{v}99999/"), Req(f"{v}1/?status=bogus"), Req(f"{v}1/?status=active"),
          Req(f"{v}1/", "customer"), Req(f"{v}1/", "anonymous"), Req(v, method="POST", body={})]

    # -- movements ----------------------------------------------------------------------------------
    m = f"{INV}/movements/"
    r += [Req(m), Req(m, "customer"), Req(m, "anonymous"), Req(m, "invalid-token")]
    r += [Req(f"{m}?{q}") for q in (
        "kind=receipt", "kind=shipment&warehouse=HAM", "kind=write_off", "kind=nope", "reference=GR-BER-INITIAL",
        "reference=ADJ-1", f"sku={sku}", "created_after=2026-06-01T00:00:00Z", "created_before=2026-01-01",
        "created_after=2026-06-01T00:00:00%2B02:00&created_before=2026-07-01", "created_after=2026-06-01%2012:30",
        "created_after=junk", "kind=x&created_after=junk&created_before=2026-13-01", "created_after=",
        "page=2", "page=last", "page=113", "page=114")]
    r += [Req(f"{m}?{q}") for q in (f"sku={sku}&ordering=quantity", "ordering=-quantity", "ordering=quantity&page=5",
                                     "ordering=created_at", "ordering=-created_at&kind=reservation&page=2")]
    r += [Req(f"{m}1/"), Req(f"{m}999999/"), Req(f"{m}1/?kind=shipment"), Req(f"{m}1/", "customer"),
          Req(f"{m}1/", "anonymous"), Req(m, method="DELETE")]
    return r


def record(requests: list[Req]) -> dict:
    """The corpus with what a freshly seeded monolith answers to each request."""
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from tests.parity.conftest import INVALID_TOKEN, ROLE_USERS
    from tests.parity.seed_extras import add_parity_extras

    call_command("migrate", verbosity=0)
    call_command("seed", "--size", "small", "--no-progress", stdout=io.StringIO())
    add_parity_extras()
    tokens = {role: f"Token {Token.objects.get(user__username=user).key}" for role, user in ROLE_USERS.items()}
    tokens["invalid-token"] = INVALID_TOKEN
    client = Client()
    entries, seen = [], set()
    for req in requests:
        headers = {**ACCEPT_JSON, **{k.lower(): v for k, v in req.headers.items()}}
        body = req.body if isinstance(req.body, bytes) or req.body is None else json.dumps(req.body).encode()
        if body is not None and "content-type" not in headers:
            headers["content-type"] = "application/json"
        sent = dict(headers)
        if req.role != "anonymous":
            sent["authorization"] = tokens[req.role]
        with transaction.atomic():
            response = client.generic(req.method, req.path, data=body or b"",
                                      content_type=sent.pop("content-type", ""), headers=sent)
            transaction.set_rollback(True)
        base_id = f"{req.role} {req.method} {req.path}"
        entry_id = base_id
        n = 1
        while entry_id in seen:
            n += 1
            entry_id = f"{base_id} #{n}"
        seen.add(entry_id)
        entry = {"id": entry_id, "method": req.method, "path": req.path, "role": req.role, "headers": headers,
                 "body": body.decode("utf-8") if body is not None else None,
                 "recorded": {"status": response.status_code, "content_type": response.headers.get("content-type")}}
        entries.append(entry)
        print(f"{response.status_code} {entry_id}", file=sys.stderr)
    return {"format": "strangler-parity-corpus", "version": 1, "name": NAME,
            "source": "tests/parity/make_inventory_corpus.py", "requests": entries}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="inventory-corpus-") as tmp:
        os.environ.pop("DATABASE_URL", None)
        os.environ.update(DJANGO_ENV="development", TECHGOODS_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="legacy_monolith.settings")
        import django

        django.setup()
        from strangler.capture.corpus import write_corpus

        corpus = record(requests_to_record())
    write_corpus(CORPUS, corpus)
    print(f"wrote {len(corpus['requests'])} requests to {CORPUS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
