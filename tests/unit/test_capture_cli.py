"""`strangler parity record | replay | export` on bad input: exit 2 with the reason, nothing sent or written."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from strangler.cli import app
from tests.support.processes import free_port

FLOW_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "capture" / "echo.flow"
runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, ["parity", *args], env={"COLUMNS": "200", "STRANGLER_SHADOW_SECRET": "", **(env or {})})


def replay(*args, env=None):
    return run("replay", *args, env=env)


SIDES = ("--legacy", "http://127.0.0.1:9", "--extracted", "http://127.0.0.1:9")


@pytest.mark.parametrize("args, message", [
    (["missing.flow", *SIDES], "missing.flow: cannot read the file"),
    ([str(FLOW_FIXTURE), "--writes", *SIDES], "--writes needs \\$STRANGLER_SHADOW_SECRET"),
    ([str(FLOW_FIXTURE), "--route", "nowhere", *SIDES], "--route 'nowhere': not a route or group"),
    ([str(FLOW_FIXTURE), "--legacy", "ftp://x", "--extracted", "http://127.0.0.1:9"], "--legacy 'ftp://x'"),
    ([str(FLOW_FIXTURE), "--route", "inventory.adjustments.create", *SIDES],
     "nothing to replay in .*1 write \\(replayed only with --writes\\)"),
])
def test_replay_refuses_bad_input_with_exit_2(args, message):
    result = replay(*args)
    assert result.exit_code == 2, result.output
    assert re.search(message, " ".join(result.stderr.split()))


def test_replay_with_a_bad_config_exits_2_naming_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 7\n")
    result = replay(str(FLOW_FIXTURE), *SIDES, "--config", str(bad))
    # Rich wraps long lines, possibly inside the path: compare with the line breaks taken out.
    assert result.exit_code == 2 and str(bad) in result.stderr.replace("\n", "")


def test_replay_against_a_closed_port_exits_3_naming_the_side():
    closed = f"http://127.0.0.1:{free_port()}"
    result = replay(str(FLOW_FIXTURE), "--legacy", closed, "--extracted", closed)
    assert result.exit_code == 3
    assert "side unreachable at " + closed in " ".join(result.stderr.split())


def test_record_without_mitmproxy_says_how_to_install_it(tmp_path):
    result = run("record", "--upstream", "http://127.0.0.1:9", "--listen-port", "9", "--out", str(tmp_path / "x.flow"),
                 env={"STRANGLER_MITM_VENV": str(tmp_path / "no-venv")})
    assert result.exit_code == 2
    assert "make mitm-venv" in result.stderr and "--setup" in result.stderr


@pytest.mark.parametrize("upstream", ["127.0.0.1:8001", "http://", "http://h:99999", "http://h/path"])
def test_record_refuses_an_upstream_that_is_not_a_base_url(tmp_path, upstream):
    result = run("record", "--upstream", upstream, "--listen-port", "9", "--out", str(tmp_path / "x.flow"))
    assert result.exit_code == 2 and "--upstream" in result.stderr


def test_record_refuses_an_output_in_a_missing_directory(tmp_path):
    result = run("record", "--upstream", "http://127.0.0.1:9", "--listen-port", "9", "--out", str(tmp_path / "no" / "x.flow"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_export_writes_a_corpus_and_says_what_it_left_out(tmp_path):
    result = run("export", str(FLOW_FIXTURE), "--to", str(tmp_path), "--name", "echo",
                 "--role-token", "staff=fixture-staff-token", "--role-token", "customer=fixture-customer-token")
    assert result.exit_code == 0, result.output
    assert "Wrote 3 requests (anonymous, customer, staff)" in result.stdout
    assert "1 write (exported only with --writes)" in result.stdout
    corpus = json.loads((tmp_path / "echo.json").read_text())
    assert corpus["name"] == "echo" and len(corpus["requests"]) == 3


def raw_body_capture(tmp_path):
    path = tmp_path / "upload.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "hand", "version": "1"}, "entries": [{
        "startedDateTime": "2026-11-23T10:00:00Z", "time": 1,
        "request": {"method": "POST", "url": "http://127.0.0.1:8001/api/upload/", "httpVersion": "HTTP/1.1",
                    "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 9,
                    "postData": {"mimeType": "text/plain", "text": "secret pw"}},
        "response": {"status": 201, "statusText": "Created", "httpVersion": "HTTP/1.1", "cookies": [], "redirectURL": "",
                     "headers": [], "content": {"size": 0, "mimeType": "text/plain", "text": ""},
                     "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}]}}))
    return path


def test_export_refuses_a_body_it_cannot_redact_unless_raw_bodies_are_allowed(tmp_path):
    capture_file, out_dir = raw_body_capture(tmp_path), tmp_path / "corpus"
    refused = run("export", str(capture_file), "--to", str(out_dir), "--writes")
    assert refused.exit_code == 2, refused.output
    message = " ".join(refused.stderr.split())
    assert "POST /api/upload/ has a body that is neither JSON nor form-urlencoded" in message
    assert "--allow-raw-bodies" in message and "secret pw" not in message
    assert not out_dir.exists()

    allowed = run("export", str(capture_file), "--to", str(out_dir), "--writes", "--allow-raw-bodies")
    assert allowed.exit_code == 0, allowed.output
    assert json.loads((out_dir / "upload.json").read_text())["requests"][0]["body"] == "secret pw"


@pytest.mark.parametrize("args, message", [
    (["--role-token", "staff=fixture-staff-token"], "caller no --role-token names"),
    (["--role-token", "staff"], "expected ROLE=TOKEN"),
    (["--name", "../up", "--role-token", "staff=fixture-staff-token", "--skip-unknown"], "--name '../up'"),
])
def test_export_refuses_bad_input_with_exit_2(tmp_path, args, message):
    result = run("export", str(FLOW_FIXTURE), "--to", str(tmp_path), *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []
