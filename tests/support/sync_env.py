"""A seeded monolith database and an empty inventory-service database, for the sync tests.

The monolith's database is real: `manage.py migrate` (which installs the outbox's capture triggers) and
`seed --size small`, run once per session in a subprocess into a template (a SQLite file, or a PostgreSQL
database), then copied for each test (file copy, or CREATE DATABASE ... TEMPLATE). The service's database
gets its schema from the service's own Alembic migrations, as in real use.

Writes "through the monolith" run its own code in a subprocess (`monolith_python`): Django, its ORM and
its services against the test's database, committed like any request would.

The backend follows the suite's switch: DATABASE_URL=postgres://... (the PostgreSQL run of
bin/run-tests) gives PostgreSQL databases, anything else SQLite. Tests that want both say so with
`BACKENDS` as the fixture's parameters.
"""

import atexit
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.pg import SERVER_URL, _with_db, require_postgres
from tests.support.processes import ROOT

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


def suite_backend() -> str:
    return "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


@dataclass
class SyncEnv:
    backend: str
    monolith_url: str
    service_url: str
    work_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a `strangler` or monolith subprocess on these databases."""
        env = dict(os.environ)
        for name in ("PYTEST_VERSION", "PYTEST_CURRENT_TEST"):
            env.pop(name, None)
        env.update({
            "DATABASE_URL": self.monolith_url, "INVENTORY_LEGACY_DATABASE_URL": self.monolith_url,
            "INVENTORY_DATABASE_URL": self.service_url, "INVENTORY_ENVIRONMENT": "development",
            "DJANGO_ENV": "development", "TECHGOODS_VAR_DIR": str(self.work_dir / "var"),
            "STRANGLER_STORE_URL": f"sqlite:///{self.work_dir / 'control.sqlite3'}",
        })
        env.update(extra)
        return env

    def monolith_python(self, code: str, timeout: float = 120) -> str:
        """Run `code` in the monolith (manage.py shell) on this test's database; its stdout."""
        result = subprocess.run([sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)], cwd=ROOT,
                                env=self.env(), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"monolith code failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


def _manage(env: dict, *args: str) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")


def _seed(url: str, var_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "PYTEST_CURRENT_TEST")}
    env.update({"DATABASE_URL": url, "DJANGO_ENV": "development", "TECHGOODS_VAR_DIR": str(var_dir)})
    _manage(env, "migrate", "-v0")
    _manage(env, "seed", "--size", "small", "--no-progress")


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(SERVER_URL, "postgres"), autocommit=True) as connection:
        connection.execute(sql)


# backend -> template URL. Module-level rather than a session fixture's value: test modules import the
# fixtures below, and each import would otherwise build its own template.
_TEMPLATES: dict[str, str] = {}


def _drop_templates() -> None:
    for backend, url in list(_TEMPLATES.items()):
        if backend == "postgres":
            try:
                _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            except Exception:  # noqa: BLE001 -- the server may be gone at exit; nothing else to do
                pass


atexit.register(_drop_templates)


@pytest.fixture
def seeded_monolith_template(tmp_path_factory):
    """backend -> URL of a migrated, seeded monolith database to copy from (made once per session)."""

    def template(backend: str) -> str:
        if backend not in _TEMPLATES:
            directory = tmp_path_factory.mktemp(f"monolith-template-{backend}")
            if backend == "sqlite":
                url = f"sqlite:///{directory / 'legacy.sqlite3'}"
            else:
                name = f"strangler_sync_tmpl_{uuid.uuid4().hex[:8]}"
                _admin(f'CREATE DATABASE "{name}"')
                url = _with_db(SERVER_URL, name)
                _TEMPLATES[backend] = url  # dropped at exit even if seeding fails
            _seed(url, directory)
            _TEMPLATES[backend] = url
        return _TEMPLATES[backend]

    return template


def make_sync_env(backend: str, template_url: str, work_dir: Path, *, service_schema: bool = True) -> tuple[SyncEnv, list[str]]:
    """A fresh copy of the seeded monolith and an empty service database (schema migrated)."""
    from extracted.inventory.migrate import upgrade

    work_dir.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    if backend == "sqlite":
        monolith_path = work_dir / "legacy.sqlite3"
        shutil.copyfile(template_url.removeprefix("sqlite:///"), monolith_path)
        monolith_url = f"sqlite:///{monolith_path}"
        service_url = f"sqlite:///{work_dir / 'inventory.sqlite3'}"
    else:
        suffix = uuid.uuid4().hex[:10]
        monolith_name, service_name = f"strangler_sync_m_{suffix}", f"strangler_sync_s_{suffix}"
        template_name = template_url.rsplit("/", 1)[1]
        _admin(f'CREATE DATABASE "{monolith_name}" TEMPLATE "{template_name}"')
        _admin(f'CREATE DATABASE "{service_name}"')
        created += [monolith_name, service_name]
        monolith_url, service_url = _with_db(SERVER_URL, monolith_name), _with_db(SERVER_URL, service_name)
    if service_schema:
        upgrade(service_url)
    return SyncEnv(backend, monolith_url, service_url, work_dir), created


def drop_databases(names: list[str]) -> None:
    for name in names:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sync_env(request, seeded_monolith_template, tmp_path) -> Iterator[SyncEnv]:
    """A seeded monolith and an empty service database on the suite's backend (or the parameter's)."""
    backend = getattr(request, "param", None) or suite_backend()
    if backend == "postgres":
        require_postgres()
    env, created = make_sync_env(backend, seeded_monolith_template(backend), tmp_path / "sync")
    yield env
    drop_databases(created)
