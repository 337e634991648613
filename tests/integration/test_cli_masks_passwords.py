"""No command prints a database password: store and database URLs, and the messages of the errors that
quote them, are shown with ``***`` in place of the password."""

import pytest
from typer.testing import CliRunner

from strangler.cli import app
from tests.support import processes

PASSWORD = "s3cret-pw"
runner = CliRunner()


@pytest.fixture
def env(tmp_path):
    config = processes.write_router_config(tmp_path / "strangler.yaml", "http://127.0.0.1:8001", "http://127.0.0.1:8101")
    return {"STRANGLER_CONFIG": str(config), "STRANGLER_ACTOR": "ci", "COLUMNS": "250"}


def run(env, *args):
    return runner.invoke(app, list(args), env=env)


def test_an_unreachable_store_is_named_without_its_password(env):
    result = run(env, "routes", "list", "--store", f"postgresql://app:{PASSWORD}@127.0.0.1:1/none")
    assert result.exit_code == 3, result.output
    assert PASSWORD not in result.output
    assert "postgresql+psycopg://app:***@127.0.0.1:1/none" in result.stderr


def test_a_store_url_that_cannot_be_parsed_is_refused_without_its_password(env):
    result = run(env, "routes", "list", "--store", f"postgresql://app:{PASSWORD}@127.0.0.1:notaport/none")
    assert result.exit_code == 2, result.output
    assert PASSWORD not in result.output
    assert "app:***@" in result.stderr


@pytest.mark.parametrize("url", [f"postgresql://app:{PASSWORD}@[::1/none", f"nosuchdb://app:{PASSWORD}@h/x",
                                 f"postgresql://app:{PASSWORD}@127.0.0.1:1/none"])
def test_sync_commands_name_a_bad_database_without_its_password(env, tmp_path, url):
    legacy = tmp_path / "legacy.sqlite3"
    legacy.touch()
    result = run(env, "sync", "status", "inventory", "--service-db", url, "--legacy-db", f"sqlite:///{legacy}")
    assert result.exit_code in (2, 3), result.output
    assert PASSWORD not in result.output
    assert "app:***@" in result.stderr


def test_plan_commands_name_a_bad_store_without_its_password(env):
    result = run(env, "plan", "status", "inventory", "--store", f"postgresql://app:{PASSWORD}@127.0.0.1:1/none")
    assert result.exit_code == 3, result.output
    assert PASSWORD not in result.output


def test_any_error_message_quoting_a_url_is_printed_masked(capsys):
    from strangler.console import fail

    assert fail(f'invalid URI: "postgresql://app:{PASSWORD}@[::1/x"', 2).exit_code == 2
    printed = capsys.readouterr().err
    assert PASSWORD not in printed and "app:***@" in printed
