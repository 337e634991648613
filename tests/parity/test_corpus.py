"""The parity corpus: every request of every corpus in tests/parity/corpus/ (written by `strangler parity
export` from recorded traffic, or by make_inventory_corpus.py), sent to the monolith and to the extracted
service of its route's group.

The monolith runs in-process on the seeded test database; the extracted side is the app that
tests/parity/sides.py builds for the group, over its own database filled by the real backfill, asked
as the router asks it (tests/parity/router_emulation.py). Writes are rolled back on both sides. Their
answers are compared by the parity engine with the route's rules from strangler.yaml, plus the suite's
tie-blind comparison of orderings that leave ties (tests/parity/ties.py). A group with no extracted
service yet is skipped, saying so, and so is a request no route owns (it stays on legacy). The corpus also states what the
monolith answered when it was recorded: it must still answer that way, or the corpus is stale and
should be recorded again.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from router.config import Route, load_config
from router.matching import RouteTable
from router.parity import DiffResult, Exchange, Verdict, compare, parse_rules
from router.redaction import Redactor
from strangler.capture.corpus import ANONYMOUS, CorpusRequest, read_corpus
from tests.parity import ties
from tests.parity.router_emulation import SAFE_METHODS, ask_extracted, ask_legacy
from tests.parity.sides import extracted_side
from tests.support.processes import ROOT

CORPUS_DIR = Path(__file__).parent / "corpus"
# Without the mark pytest-django sets up no test database, and the seed would go to the real one.
pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    corpus: str
    request: CorpusRequest
    route: Route | None
    ties: tuple[str, ...] = ()


def _cases() -> list[Case]:
    config = load_config(ROOT / "strangler.yaml")
    table = RouteTable(config.routes)
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        for request in read_corpus(path):
            match = table.match(request.method, request.path.split("?", 1)[0])
            route = match.route if match else None
            tied = ties.ties_for(route.name, request.path) if route and request.method == "GET" else ()
            cases.append(Case(path.stem, request, route, tied))
    return cases


CASES = _cases()


def _with_extracted_side(case: Case):
    if case.route is None:
        reason = "matches no route in strangler.yaml: it stays on legacy"
    elif extracted_side(case.route.group) is None:
        reason = f"no extracted service registered for group {case.route.group} yet"
    else:
        return pytest.param(case, id=f"{case.corpus}: {case.request.id}")
    return pytest.param(case, id=f"{case.corpus}: {case.request.id}", marks=pytest.mark.skip(reason=reason))


def _headers(request: CorpusRequest, roles: dict[str, str]) -> dict[str, str]:
    headers = dict(request.headers)
    if request.role != ANONYMOUS:
        if request.role not in roles:
            pytest.fail(f"corpus role {request.role!r} has no seeded user: add it to ROLE_USERS in tests/parity/conftest.py")
        headers["Authorization"] = roles[request.role]
    return headers


def compare_sides(case: Case, legacy: Exchange, extracted: Exchange) -> DiffResult:
    rules = parse_rules(case.route.parity if case.route else None)
    if case.ties:
        legacy, extracted = ties.canonical(legacy, list(case.ties)), ties.canonical(extracted, list(case.ties))
    return compare(legacy, extracted, rules)


def explain(result: DiffResult) -> str:
    redactor = Redactor()
    lines = [f"{d['kind']} {d['path']}: legacy {d.get('legacy', '—')!r}, extracted {d.get('extracted', '—')!r}"
             for d in (redactor.difference(d) for d in result.differences[:10])]
    return "\n".join(lines)


def test_there_is_a_corpus():
    assert CASES, f"no corpus requests under {CORPUS_DIR}: export one with `strangler parity export`"


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.corpus}: {c.request.id}") for c in CASES])
def test_the_monolith_still_answers_as_recorded(case, legacy_client, seeded_monolith):
    request = case.request
    answer = ask_legacy(legacy_client, request.method, request.path, _headers(request, seeded_monolith), request.body)
    assert answer.status == request.recorded_status, (
        f"{request.id}: the monolith answers {answer.status}, the corpus recorded {request.recorded_status}; "
        "re-record the corpus if the change is intended")
    recorded_type = (request.recorded_content_type or "").split(";")[0]
    assert (answer.content_type or "").split(";")[0] == recorded_type


@pytest.mark.parametrize("case", [_with_extracted_side(c) for c in CASES])
def test_the_extracted_service_answers_like_the_monolith(case, legacy_client, seeded_monolith, extracted_sides):
    request = case.request
    headers = _headers(request, seeded_monolith)
    legacy = ask_legacy(legacy_client, request.method, request.path, headers, request.body)
    extracted = ask_extracted(extracted_sides(case.route.group), legacy_client, request.method, request.path, headers,
                              request.body)
    result = compare_sides(case, legacy, extracted)
    assert result.verdict in (Verdict.MATCH, Verdict.EQUIVALENT), f"{request.id} differs:\n{explain(result)}"
    # Equivalences are accepted by the engine, but an inventory answer should not even need them.
    assert not result.equivalences, f"{request.id}: only equivalent, not equal: {result.equivalences[:5]}"


def test_writes_of_the_corpus_left_both_sides_as_seeded(legacy_client, seeded_monolith, extracted_sides):
    """Every write above was rolled back: the monolith's adjustments and warehouses, and the service's
    rows and outbox, are what the seed put there."""
    from sqlalchemy import func, select

    from extracted.inventory.models import OutboxEvent, StockAdjustment, Warehouse
    from legacy_monolith.inventory.models import StockAdjustment as LegacyAdjustment
    from legacy_monolith.inventory.models import Warehouse as LegacyWarehouse

    writes = [c for c in CASES if c.request.method not in SAFE_METHODS and c.route is not None]
    assert writes, "the corpus has no writes: nothing to check"
    app = extracted_sides("inventory")
    with app.state.database.engine.connect() as connection:
        service_counts = [connection.execute(select(func.count()).select_from(model)).scalar_one()
                          for model in (StockAdjustment, Warehouse, OutboxEvent)]
    assert service_counts == [LegacyAdjustment.objects.count(), LegacyWarehouse.objects.count(), 0]


def test_a_wrong_extracted_answer_fails_the_comparison(legacy_client, seeded_monolith):
    """The harness itself: an extracted side that answers differently is caught, not waved through."""
    case = next(c for c in CASES if c.route is not None and c.request.recorded_status == 200 and not c.ties)

    async def wrong(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"count": -1, "results": []}'})

    headers = _headers(case.request, seeded_monolith)
    legacy = ask_legacy(legacy_client, case.request.method, case.request.path, headers, case.request.body)
    extracted = ask_extracted(wrong, legacy_client, case.request.method, case.request.path, headers, case.request.body)
    result = compare_sides(case, legacy, extracted)
    assert result.verdict is Verdict.MISMATCH
    assert "body.count" in {d.path for d in result.differences}


def test_the_ties_rule_still_sees_a_wrong_order(legacy_client, seeded_monolith, extracted_sides):
    """The ties rule relaxes only equal keys: the service's page in the opposite order is still caught."""
    case = next(c for c in CASES if c.ties and c.request.recorded_status == 200 and c.request.method == "GET")
    headers = _headers(case.request, seeded_monolith)
    legacy = ask_legacy(legacy_client, case.request.method, case.request.path, headers, case.request.body)
    body = json.loads(legacy.body)
    body["results"].reverse()
    reversed_answer = Exchange(legacy.status, legacy.headers, json.dumps(body).encode())
    distinct_keys = {tuple(row[f] for f in case.ties) for row in body["results"]}
    assert len(distinct_keys) > 1, f"{case.request.id}: pick a tie case whose page has more than one key value"
    assert compare_sides(case, legacy, reversed_answer).verdict is Verdict.MISMATCH
