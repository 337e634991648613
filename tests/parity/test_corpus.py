"""The parity corpus: every request of every corpus in tests/parity/corpus/ (written by `strangler parity
export` from recorded traffic), sent to the monolith and to the extracted service of its route's group.

The monolith runs in-process on the seeded test database; the extracted side is the ASGI app that
tests/parity/sides.py registers for the group, also in-process. Their answers are compared by the
parity engine with the route's rules from strangler.yaml. A group with no extracted service yet is
skipped, saying so, and so is a request no route owns (it stays on legacy). The corpus also states what
the monolith answered when it was recorded: the monolith must still answer that way, or the corpus is
stale and should be recorded again (python -m tests.parity.make_corpus).
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from router.config import Route, load_config
from router.matching import RouteTable
from router.parity import DiffResult, Exchange, Verdict, compare, parse_rules
from router.redaction import Redactor
from strangler.capture.corpus import ANONYMOUS, CorpusRequest, read_corpus
from strangler.capture.report import redact_difference
from tests.parity.sides import extracted_app_factory
from tests.support.processes import ROOT

CORPUS_DIR = Path(__file__).parent / "corpus"
# Without the mark pytest-django sets up no test database, and the seed would go to the real one.
pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    corpus: str
    request: CorpusRequest
    route: Route | None


def _cases() -> list[Case]:
    config = load_config(ROOT / "strangler.yaml")
    table = RouteTable(config.routes)
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        for request in read_corpus(path):
            match = table.match(request.method, request.path.split("?", 1)[0])
            cases.append(Case(path.stem, request, match.route if match else None))
    return cases


CASES = _cases()


def _with_extracted_side(case: Case):
    if case.route is None:
        reason = "matches no route in strangler.yaml: it stays on legacy"
    elif extracted_app_factory(case.route.group) is None:
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


def _exchange(response: httpx.Response) -> Exchange:
    return Exchange(response.status_code, tuple(response.headers.multi_items()), response.content)


def ask_legacy(client: httpx.Client, request: CorpusRequest, headers: dict[str, str]) -> Exchange:
    return _exchange(client.request(request.method, request.path, headers=headers, content=request.body or None))


def ask_extracted(app, request: CorpusRequest, headers: dict[str, str]) -> Exchange:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.request(request.method, request.path, headers=headers, content=request.body or None)

    return _exchange(asyncio.run(send()))


def compare_sides(case: Case, legacy: Exchange, extracted: Exchange) -> DiffResult:
    rules = parse_rules(case.route.parity if case.route else None)
    return compare(legacy, extracted, rules)


def explain(result: DiffResult) -> str:
    redactor = Redactor()
    lines = [f"{d['kind']} {d['path']}: legacy {d.get('legacy', '—')!r}, extracted {d.get('extracted', '—')!r}"
             for d in (redact_difference(d, redactor) for d in result.differences[:10])]
    return "\n".join(lines)


def test_there_is_a_corpus():
    assert CASES, f"no corpus requests under {CORPUS_DIR}: export one with `strangler parity export`"


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.corpus}: {c.request.id}") for c in CASES])
def test_the_monolith_still_answers_as_recorded(case, legacy_client, seeded_monolith):
    request = case.request
    answer = ask_legacy(legacy_client, request, _headers(request, seeded_monolith))
    assert answer.status == request.recorded_status, (
        f"{request.id}: the monolith answers {answer.status}, the corpus recorded {request.recorded_status}; "
        "re-record the corpus if the change is intended")
    recorded_type = (request.recorded_content_type or "").split(";")[0]
    assert (answer.content_type or "").split(";")[0] == recorded_type


@pytest.mark.parametrize("case", [_with_extracted_side(c) for c in CASES])
def test_the_extracted_service_answers_like_the_monolith(case, legacy_client, seeded_monolith):
    request = case.request
    headers = _headers(request, seeded_monolith)
    legacy = ask_legacy(legacy_client, request, headers)
    extracted = ask_extracted(extracted_app_factory(case.route.group)(), request, headers)
    result = compare_sides(case, legacy, extracted)
    assert result.verdict in (Verdict.MATCH, Verdict.EQUIVALENT), f"{request.id} differs:\n{explain(result)}"


def test_a_wrong_extracted_answer_fails_the_comparison(legacy_client, seeded_monolith):
    """The harness itself: an extracted side that answers differently is caught, not waved through."""
    case = next(c for c in CASES if c.route is not None and c.request.recorded_status == 200)

    async def wrong(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"count": -1, "results": []}'})

    headers = _headers(case.request, seeded_monolith)
    result = compare_sides(case, ask_legacy(legacy_client, case.request, headers), ask_extracted(wrong, case.request, headers))
    assert result.verdict is Verdict.MISMATCH
    assert "body.count" in {d.path for d in result.differences}
