"""A tiny extracted-style service for the shadow-rollback tests: a `notes` table behind the common
middleware and session, nothing else.

    POST /api/notes/                    create a note, 201 with the row
    GET  /api/notes/                    {"count": n, "results": [...]}
    POST /api/notes/self-committing/    creates a note and calls session.commit() itself
    POST /api/notes/failing/            creates a note, then answers 409 (the write must not stay)
    POST /api/notes/connection-commit/  creates a note and COMMITs the connection underneath the session

With ``honour_marker=False`` (ROLLBACK_IGNORE_SHADOW_MARKER=1) it has no shadow middleware: a service
that ignores the router's marker and keeps every mirrored write.

As a process (environment: ROLLBACK_DATABASE_URL, ROLLBACK_ENVIRONMENT, STRANGLER_SHADOW_SECRET):
    python -m uvicorn tests.support.rollback_service:create_app_from_env --factory --port P
"""

from contextlib import asynccontextmanager
from typing import ClassVar

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from extracted.common.database import Database, SessionDep
from extracted.common.settings import ServiceSettings
from extracted.common.shadow import ShadowRollbackMiddleware

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String(200), nullable=False))


class NoteCreate(BaseModel):
    text: str


class NoteRead(BaseModel):
    id: int
    text: str


class NoteList(BaseModel):
    count: int
    results: list[NoteRead]


class RollbackServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROLLBACK_")
    service_name: ClassVar[str] = "rollback-test"
    ignore_shadow_marker: bool = False


def _note_create(session: Session, text: str) -> NoteRead:
    row = session.execute(insert(notes).values(text=text).returning(notes.c.id, notes.c.text)).one()
    return NoteRead(id=row.id, text=row.text)


def create_app(database_url: str, secret: bytes, *, honour_marker: bool = True) -> FastAPI:
    database = Database(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        metadata.create_all(database.engine)
        yield
        database.dispose()

    app = FastAPI(title="rollback test service", lifespan=lifespan)
    app.state.database = database
    if honour_marker:
        app.add_middleware(ShadowRollbackMiddleware, secret=secret)

    @app.get("/api/notes/")
    def note_list(session: SessionDep) -> NoteList:
        rows = session.execute(select(notes.c.id, notes.c.text).order_by(notes.c.id)).all()
        return NoteList(count=len(rows), results=[NoteRead(id=row.id, text=row.text) for row in rows])

    @app.post("/api/notes/", status_code=201)
    def note_create(payload: NoteCreate, session: SessionDep) -> NoteRead:
        return _note_create(session, payload.text)

    @app.post("/api/notes/self-committing/", status_code=201)
    def note_create_and_commit(payload: NoteCreate, session: SessionDep) -> NoteRead:
        note = _note_create(session, payload.text)
        session.commit()  # the habit STYLE.md warns about; a dry run must survive it
        return note

    @app.post("/api/notes/failing/", status_code=201)
    def note_create_then_fail(payload: NoteCreate, session: SessionDep) -> NoteRead:
        _note_create(session, payload.text)
        raise HTTPException(status_code=409, detail="Refused after writing.")

    @app.post("/api/notes/connection-commit/", status_code=201)
    def note_create_and_commit_the_connection(payload: NoteCreate, session: SessionDep) -> NoteRead:
        note = _note_create(session, payload.text)
        session.connection().commit()  # reaches past the session to the outer transaction
        return note

    return app


def create_app_from_env() -> FastAPI:
    settings = RollbackServiceSettings()
    return create_app(settings.database_url, settings.shadow_key(), honour_marker=not settings.ignore_shadow_marker)
