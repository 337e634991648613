"""Shadow rollback end to end in a service: a write signed by the router (router.shadow_marker) answers
as usual and leaves nothing behind; an unsigned one persists; a forged one is refused before the app
sees it. On SQLite and PostgreSQL, in-process (httpx ASGITransport) and as a real uvicorn process.
Row counts are read from the database directly, not through the service."""

import asyncio
import sys

import httpx
import pytest
import sqlalchemy as sa

from extracted.common.database import DryRunCommitError
from router.shadow_marker import SHADOW_HEADER, sign_marker
from tests.support import processes
from tests.support.rollback_service import create_app

SECRET = b"integration-shadow-secret"
NOTES = "/api/notes/"
RESULT_HEADER = "x-strangler-shadow-result"


def signed(method: str, target: str, *, secret: bytes = SECRET, request_id: str = "rid-1", **kwargs) -> dict:
    return {SHADOW_HEADER: sign_marker(secret, method=method, target=target, request_id=request_id, **kwargs)}


def count_notes(url: str) -> int:
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM notes")).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'notes.sqlite3'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
async def client(database_url):
    app = create_app(database_url, SECRET)
    async with app.router.lifespan_context(app):  # ASGITransport sends no lifespan events
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notes.test") as client:
            yield client


@pytest.fixture
async def one_note(client, database_url):
    """One committed note, so that "nothing changed" is not just an empty table staying empty."""
    response = await client.post(NOTES, json={"text": "committed"})
    assert response.status_code == 201
    assert count_notes(database_url) == 1


# -- in-process, on both databases --------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_signed_post_answers_201_with_the_row_and_leaves_nothing(client, database_url, one_note):
    response = await client.post(NOTES, json={"text": "dry run"}, headers=signed("POST", NOTES))

    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "text": "dry run"}
    assert isinstance(response.json()["id"], int)
    assert response.headers[RESULT_HEADER] == "rolled-back"
    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_a_post_without_a_marker_persists(client, database_url, one_note):
    response = await client.post(NOTES, json={"text": "real"})

    assert response.status_code == 201
    assert RESULT_HEADER not in response.headers
    assert count_notes(database_url) == 2
    listed = (await client.get(NOTES)).json()
    assert listed["count"] == 2
    assert [note["text"] for note in listed["results"]] == ["committed", "real"]


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "headers", "reason"), [  # reason: the start of it
    ("another secret", signed("POST", NOTES, secret=b"forger"), "signature does not match this request"),
    ("another method", signed("DELETE", NOTES), "signature does not match this request"),
    ("another target", signed("POST", "/api/notes/?page=2"), "signature does not match this request"),
    ("expired", signed("POST", NOTES, now=1_000_000_000), "expired, signed "),
    ("malformed", {SHADOW_HEADER: "v1;mode=rollback;please"}, "malformed marker"),
    ("unsupported mode", {SHADOW_HEADER: "v1;mode=mirror;ts=1;rid=x;sig=" + "0" * 64}, "unsupported mode"),
])
async def test_a_forged_marker_is_refused_with_403_and_leaves_nothing(client, database_url, one_note, case, headers,
                                                                     reason):
    response = await client.post(NOTES, json={"text": "forged"}, headers=headers)

    assert response.status_code == 403, case
    detail = response.json()["detail"]
    assert detail.startswith(f"Invalid shadow marker: {reason}") and detail.endswith(".")
    assert RESULT_HEADER not in response.headers
    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_two_marker_headers_are_refused_even_when_one_is_valid(client, database_url, one_note):
    headers = [(SHADOW_HEADER, signed("POST", NOTES)[SHADOW_HEADER]), (SHADOW_HEADER, "v1;forged")]

    response = await client.post(NOTES, json={"text": "two markers"}, headers=headers)

    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid shadow marker: more than one marker."}
    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_an_endpoint_that_commits_itself_still_leaves_nothing_in_rollback_mode(client, database_url, one_note):
    target = "/api/notes/self-committing/"

    response = await client.post(target, json={"text": "committed by the endpoint"}, headers=signed("POST", target))

    assert response.status_code == 201
    assert response.headers[RESULT_HEADER] == "rolled-back"
    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_the_same_self_committing_endpoint_persists_without_a_marker(client, database_url, one_note):
    response = await client.post("/api/notes/self-committing/", json={"text": "real"})

    assert response.status_code == 201
    assert count_notes(database_url) == 2


@pytest.mark.anyio
async def test_a_connection_level_commit_in_rollback_mode_is_refused_and_leaves_nothing(client, database_url, one_note):
    target = "/api/notes/connection-commit/"

    with pytest.raises(DryRunCommitError):
        await client.post(target, json={"text": "past the session"}, headers=signed("POST", target))

    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_an_error_after_a_write_rolls_the_write_back(client, database_url, one_note):
    response = await client.post("/api/notes/failing/", json={"text": "half done"})

    assert response.status_code == 409
    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_the_signed_target_includes_the_raw_query_string(client, database_url, one_note):
    target = "/api/notes/?source=shadow&q=a%20b"

    response = await client.post(target, json={"text": "with query"}, headers=signed("POST", target))

    assert response.status_code == 201
    assert response.headers[RESULT_HEADER] == "rolled-back"
    assert count_notes(database_url) == 1


@pytest.mark.anyio
async def test_a_signed_read_sees_the_committed_rows(client, one_note):
    response = await client.get(NOTES, headers=signed("GET", NOTES))

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.headers[RESULT_HEADER] == "rolled-back"


@pytest.mark.anyio
async def test_dry_runs_alongside_real_writes_leave_exactly_the_real_ones(client, database_url, one_note):
    dry = [client.post(NOTES, json={"text": f"dry {i}"}, headers=signed("POST", NOTES, request_id=f"dry-{i}"))
           for i in range(8)]
    real = [client.post(NOTES, json={"text": f"real {i}"}) for i in range(4)]

    responses = await asyncio.gather(*dry, *real)

    assert [response.status_code for response in responses] == [201] * 12
    assert count_notes(database_url) == 5
    assert sorted(note["text"] for note in (await client.get(NOTES)).json()["results"]) == [
        "committed", "real 0", "real 1", "real 2", "real 3"]


# -- a real process -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_signed_post_to_a_uvicorn_process_leaves_nothing(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'notes.sqlite3'}"
    port = processes.free_port()
    env = {"ROLLBACK_DATABASE_URL": database_url, "ROLLBACK_ENVIRONMENT": "test",
           "STRANGLER_SHADOW_SECRET": SECRET.decode()}
    argv = [sys.executable, "-m", "uvicorn", "tests.support.rollback_service:create_app_from_env", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    service = processes.start("rollback-service", argv, port, tmp_path, env, ready_path=NOTES)
    try:
        target = "/api/notes/?source=shadow&q=a%20b"
        with httpx.Client(base_url=service.url, timeout=5) as client:
            dry = client.post(target, json={"text": "dry run"}, headers=signed("POST", target))
            forged = client.post(NOTES, json={"text": "forged"}, headers=signed("POST", NOTES, secret=b"forger"))
            assert count_notes(database_url) == 0
            real = client.post(NOTES, json={"text": "real"})
    finally:
        service.stop()

    assert dry.status_code == 201, service.log_tail()
    assert dry.json()["text"] == "dry run"
    assert dry.headers[RESULT_HEADER] == "rolled-back"
    assert forged.status_code == 403
    assert real.status_code == 201
    assert count_notes(database_url) == 1  # the real write reached the very database we read
