"""The `strangler routes` commands against a real control store (SQLite file), in-process."""

import json

import pytest
from typer.testing import CliRunner

from strangler.cli import app
from tests.support import processes

runner = CliRunner()


@pytest.fixture
def env(tmp_path):
    config = processes.write_router_config(tmp_path / "strangler.yaml", "http://127.0.0.1:8001", "http://127.0.0.1:8101")
    return {"STRANGLER_CONFIG": str(config), "STRANGLER_STORE_URL": f"sqlite:///{tmp_path / 'control.sqlite3'}",
            "STRANGLER_ACTOR": "ci", "COLUMNS": "250"}


def run(env, *args):
    return runner.invoke(app, list(args), env=env)


def test_list_shows_every_route_on_legacy_by_default(env):
    result = run(env, "routes", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["version"] == 0
    assert [(r["name"], r["mode"], r["set_on"]) for r in listed["routes"]] == [
        ("inventory.stock.list", "legacy", "default"), ("inventory.stock.detail", "legacy", "default"),
        ("inventory.adjustments.create", "legacy", "default")]
    table = run(env, "routes", "list")
    assert table.exit_code == 0 and "inventory.stock.detail" in table.stdout


def test_set_a_group_then_a_route_override_and_read_the_history(env):
    assert run(env, "routes", "set", "inventory", "--mode", "canary", "--percent", "10", "--reason", "start canary").exit_code == 0
    result = run(env, "routes", "set", "inventory.stock.detail", "--mode", "extracted", "--reason", "detail first", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["version"] == 2
    listed = {r["name"]: r for r in json.loads(run(env, "routes", "list", "--json").stdout)["routes"]}
    assert (listed["inventory.stock.list"]["mode"], listed["inventory.stock.list"]["percent"], listed["inventory.stock.list"]["set_on"]) == ("canary", 10.0, "group")
    assert (listed["inventory.stock.detail"]["mode"], listed["inventory.stock.detail"]["set_on"]) == ("extracted", "route")
    history = json.loads(run(env, "routes", "history", "--json").stdout)["events"]
    assert [(e["name"], e["actor"], e["reason"]) for e in history] == [
        ("inventory.stock.detail", "ci", "detail first"), ("inventory", "ci", "start canary")]
    human = run(env, "routes", "history")
    assert human.exit_code == 0 and "canary 10 %" in human.stdout


@pytest.mark.parametrize("args, message", [
    (["routes", "set", "inventory", "--mode", "extracted"], "--reason is required"),
    (["routes", "set", "inventory", "--mode", "sideways", "--reason", "x"], "sideways"),
    (["routes", "set", "nowhere", "--mode", "extracted", "--reason", "x"], "inventory"),
    (["routes", "set", "inventory", "--mode", "canary", "--percent", "150", "--reason", "x"], "100"),
])
def test_bad_arguments_exit_2_with_the_reason(env, args, message):
    result = run(env, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert json.loads(run(env, "routes", "list", "--json").stdout)["version"] == 0  # nothing written


def test_a_bad_config_file_exits_2_naming_file_and_key(env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nupstreams:\n  legacy: {url: 'ftp://x'}\ngroups: {}\nroutes: []\n")
    result = run({**env, "STRANGLER_CONFIG": str(bad)}, "routes", "list")
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "upstreams.legacy.url" in result.stderr


def test_an_unreachable_store_exits_3(env):
    result = run({**env, "STRANGLER_STORE_URL": "postgresql://postgres@127.0.0.1:1/none"}, "routes", "list")
    assert result.exit_code == 3
    assert "unreachable" in result.stderr


def test_a_stale_expected_version_exits_1(env):
    assert run(env, "routes", "set", "inventory", "--mode", "shadow", "--reason", "a").exit_code == 0
    result = run(env, "routes", "set", "inventory", "--mode", "extracted", "--reason", "b", "--expect-version", "0")
    assert result.exit_code == 1
    assert "version 0" in result.stderr
