"""legacy_monolith.settings refuses development secrets in production (checked in a fresh interpreter)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'legacy_monolith.settings'; django.setup(); "
    "from django.conf import settings; print(settings.SECRET_KEY)"
)


def _setup_django(tmp_path, **env):
    dropped = {"PYTEST_VERSION", "DJANGO_ENV", "SECRET_KEY", "COURIER_WEBHOOK_SECRET"}
    child_env = {k: v for k, v in os.environ.items() if k not in dropped}
    child_env.update(TECHGOODS_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", SETUP], env=child_env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_the_development_secret_key(tmp_path):
    result = _setup_django(tmp_path, DJANGO_ENV="production")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_development_courier_secret(tmp_path):
    result = _setup_django(tmp_path, DJANGO_ENV="production", SECRET_KEY="s3cret-for-prod")

    assert result.returncode != 0
    assert "COURIER_WEBHOOK_SECRET" in result.stderr


def test_production_is_the_default_environment(tmp_path):
    result = _setup_django(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_starts_with_its_own_secrets(tmp_path):
    result = _setup_django(
        tmp_path, DJANGO_ENV="production", SECRET_KEY="s3cret-for-prod", COURIER_WEBHOOK_SECRET="courier-prod"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "s3cret-for-prod"


def test_development_may_use_the_development_secrets(tmp_path):
    result = _setup_django(tmp_path, DJANGO_ENV="development")

    assert result.returncode == 0, result.stderr


def test_an_unknown_environment_is_refused(tmp_path):
    result = _setup_django(tmp_path, DJANGO_ENV="staging")

    assert result.returncode != 0
    assert "DJANGO_ENV='staging'" in result.stderr
