"""The TechGoods monolith as a real process: a migrated, seeded SQLite database in a temp dir and
gunicorn in front of it. Shared by the router, parity and end-to-end tests."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support import processes


@dataclass
class Monolith:
    process: processes.Process
    var_dir: Path
    staff_token: str
    customer_token: str

    @property
    def url(self) -> str:
        return self.process.url


def _manage(var_dir: Path, *args: str, database_url: str | None = None) -> str:
    env = {"DJANGO_ENV": "development", "TECHGOODS_VAR_DIR": str(var_dir)}
    if database_url:
        env["DATABASE_URL"] = database_url
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=processes.ROOT, capture_output=True, text=True,
                            env={**_base_env(), **env}, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def _base_env() -> dict:
    import os

    env = dict(os.environ)
    for name in ("PYTEST_VERSION", "DATABASE_URL"):
        env.pop(name, None)
    return env


def start_monolith(var_dir: Path, size: str = "small", workers: int = 2, database_url: str | None = None) -> Monolith:
    """Migrate, seed and serve; on the SQLite file var_dir/legacy.sqlite3, or on `database_url` when given."""
    var_dir.mkdir(parents=True, exist_ok=True)
    _manage(var_dir, "migrate", "-v0", database_url=database_url)
    _manage(var_dir, "seed", "--size", size, "--no-progress", database_url=database_url)
    tokens = _manage(var_dir, "shell", "-c",
                     "from rest_framework.authtoken.models import Token;"
                     "print(Token.objects.get(user__username='admin').key, Token.objects.get(user__username='customer').key)",
                     database_url=database_url)
    staff, customer = tokens.strip().splitlines()[-1].split()
    process = processes.gunicorn(
        "legacy", "legacy_monolith.wsgi:application", processes.free_port(), var_dir, workers=workers,
        env={"DJANGO_ENV": "development", "TECHGOODS_VAR_DIR": str(var_dir),
             **({"DATABASE_URL": database_url} if database_url else {})}, ready_path="/api/schema/",
    )
    return Monolith(process, var_dir, staff, customer)
