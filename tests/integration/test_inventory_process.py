"""`python -m extracted.inventory` as a real process: it migrates its empty database, then serves (a
uvicorn worker with uvloop and httptools) and says it is ready."""

import sqlite3
import sys

import httpx
import pytest

from extracted.inventory.models import Base
from tests.support import processes


@pytest.mark.slow
def test_the_service_migrates_its_database_then_serves(tmp_path):
    database = tmp_path / "inventory.sqlite3"
    port = processes.free_port()
    service = processes.start(
        "inventory", [sys.executable, "-m", "extracted.inventory", "--port", str(port)], port, tmp_path,
        env={"INVENTORY_ENVIRONMENT": "test", "INVENTORY_DATABASE_URL": f"sqlite:///{database}"},
        ready_path="/health", timeout=60)
    try:
        ready = httpx.get(f"{service.url}/ready", timeout=5)
        assert ready.status_code == 200, ready.text
        anonymous = httpx.get(f"{service.url}/api/inventory/stock/", timeout=5)
        assert anonymous.status_code == 401
    finally:
        service.stop()
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(Base.metadata.tables) <= tables


def test_production_refuses_to_start_with_the_development_secrets(tmp_path):
    import subprocess

    result = subprocess.run([sys.executable, "-m", "extracted.inventory", "--port", "1"], cwd=processes.ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode != 0
    assert "STRANGLER_SHADOW_SECRET is the development default in the production environment" in result.stderr
    assert not (tmp_path / "x.db").exists()  # refused before migrating anything
