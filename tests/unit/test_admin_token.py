"""The admin token: a short one stops the router at startup, naming the variable; the token file that
`make run` keeps is private to its owner."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from router.admin_token import MIN_LENGTH, admin_token_from_env, kept_admin_token
from router.config import ConfigError, parse_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = parse_config({"version": 1, "upstreams": {"legacy": {"url": "http://legacy:1"}}, "groups": {}, "routes": []})


def test_a_token_shorter_than_24_characters_is_refused_naming_the_variable():
    with pytest.raises(ConfigError, match=r"env STRANGLER_ADMIN_TOKEN: the admin token is 23 characters long; "
                                          r"expected at least 24 characters"):
        admin_token_from_env(CONFIG, {"STRANGLER_ADMIN_TOKEN": "x" * 23})


def test_a_long_enough_token_is_read_and_none_turns_the_admin_api_off():
    assert MIN_LENGTH == 24
    assert admin_token_from_env(CONFIG, {"STRANGLER_ADMIN_TOKEN": "x" * 24}) == "x" * 24
    assert admin_token_from_env(CONFIG, {"STRANGLER_ADMIN_TOKEN": ""}) is None
    assert admin_token_from_env(CONFIG, {}) is None


def test_the_router_refuses_to_start_with_a_short_token(monkeypatch, tmp_path):
    from router.app import RouterApp
    from router.store import ControlStore

    monkeypatch.setenv("STRANGLER_ADMIN_TOKEN", "admin-token")
    with pytest.raises(ConfigError, match="STRANGLER_ADMIN_TOKEN"):
        RouterApp(CONFIG, ControlStore(f"sqlite:///{tmp_path / 'control.sqlite3'}"), environ={"STRANGLER_ENV": "test"})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_token_file_is_written_private_with_a_long_random_token(tmp_path):
    path = tmp_path / "admin-token"

    token = kept_admin_token(path)

    assert len(token) >= MIN_LENGTH and path.read_text() == token + "\n"
    assert mode(path) == 0o600
    assert kept_admin_token(path) == token  # kept across runs


def test_an_existing_token_file_is_made_private_and_its_token_kept(tmp_path):
    path = tmp_path / "admin-token"
    path.write_text("an-existing-token-of-enough-length\n")
    path.chmod(0o644)

    assert kept_admin_token(path) == "an-existing-token-of-enough-length"
    assert mode(path) == 0o600


def test_an_empty_token_file_gets_a_token(tmp_path):
    path = tmp_path / "admin-token"
    path.touch(mode=0o666)

    assert len(kept_admin_token(path)) >= MIN_LENGTH and mode(path) == 0o600


def test_the_module_prints_the_kept_token(tmp_path):
    path = tmp_path / "admin-token"
    done = subprocess.run([sys.executable, "-m", "router.admin_token", str(path)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)

    assert done.stdout.strip() == path.read_text().strip() and mode(path) == 0o600


def test_run_stack_keeps_its_token_with_the_module_not_a_shell_redirect():
    script = (REPO / "bin" / "run-stack").read_text()

    assert "-m router.admin_token var/admin-token" in script
    assert "> var/admin-token" not in script
