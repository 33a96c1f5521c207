"""The operator's side: printed snippets pass the gateways' own checks, decisions tail, metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "appwarden"]


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "APPWARDEN_HOME": str(home), **env}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=environ, timeout=60, check=False
    )


def _get(port: int, path: str, token: str | None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def test_printed_nginx_snippet_passes_nginx_t(tmp_path):
    done = _cli(
        tmp_path,
        "gateway",
        "config",
        "nginx",
        "--token",
        "aw_test",
        "--backend",
        "http://127.0.0.1:9",
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "tmp").mkdir()
    http_part, server_part = done.stdout.split("\n# AppWarden (inside the server")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/n.pid; error_log {tmp_path}/e.log; events {{}}\n"
        f"http {{ client_body_temp_path {tmp_path}/tmp; proxy_temp_path {tmp_path}/tmp;\n{http_part}\n"
        f"server {{ listen 127.0.0.1:9;\n# AppWarden (inside the server{server_part}}} }}\n"
    )
    check = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "Bearer aw_test" in done.stdout


def test_printed_dovecot_snippet_passes_doveconf(tmp_path):
    done = _cli(
        tmp_path, "gateway", "config", "dovecot", env_fail="x", APPWARDEN_GATEWAY_FAIL_MODE="open"
    )
    assert done.returncode == 0, done.stderr
    assert "auth_policy_reject_on_fail = no" in done.stdout
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"base_dir = {tmp_path}/run\nprotocols = imap\n" + done.stdout)
    check = subprocess.run(
        ["doveconf", "-c", str(conf), "-n"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    assert "auth_policy_server_api_header = Authorization: Bearer" in check.stdout


def test_bad_gateway_name_and_bad_settings_are_clear_errors(tmp_path):
    done = _cli(tmp_path, "gateway", "config", "exchange")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "nginx" in done.stderr
    done = _cli(tmp_path, "gateway", "config", "nginx", APPWARDEN_GATEWAY_CACHE_SECONDS="60")
    assert done.returncode == 2 and "gateway_cache_seconds" in done.stderr
    done = _cli(
        tmp_path, "gateway", "config", "dovecot", APPWARDEN_DOVECOT_EXEMPT_NETWORKS="10.0.0.300"
    )
    assert done.returncode == 2 and "10.0.0.300" in done.stderr and "Traceback" not in done.stderr


def test_metrics_need_the_token_and_count_per_policy(aw):
    assert _get(aw.port, "/metrics", None)[0] == 401
    assert _get(aw.port, "/v1/decide?eas=BADDEVICE1", aw.token)[0] == 200
    status, text = _get(aw.port, "/metrics", aw.token)
    assert status == 200
    line = 'appwarden_gateway_decisions_total{protocol="api",policy="tiktok-mail",result="denied"}'
    assert any(row.startswith(line) and float(row.split()[-1]) >= 1 for row in text.splitlines())
    assert "appwarden_decision_log_dropped_total 0" in text


def test_decisions_tail_shows_what_gateways_were_told(aw):
    status, body = _get(aw.port, "/v1/decide?eas=BADDEVICE1", aw.token)
    assert status == 200
    decision_id = json.loads(body)["decision_id"]
    aw.flush()
    done = _cli(
        aw.app.settings.home, "decisions", "tail", "-n", "50", "--json", "--result", "denied"
    )
    assert done.returncode == 0, done.stderr
    rows = [
        json.loads(chunk)
        for chunk in done.stdout.replace("}\n{", "}\x00{").split("\x00")
        if chunk.strip()
    ]
    row = next(r for r in rows if r["decision_id"] == decision_id)
    assert row["identity"] == "eas:BADDEVICE1" and row["policies"] == ["tiktok-mail"]
    assert 0 < row["revision"] <= aw.app.engine.decisions.index.revision


@pytest.mark.parametrize("path", ["/v1/gateway/nginx", "/v1/gateway/dovecot"])
def test_gateway_routes_need_the_token(aw, path):
    request = urllib.request.Request(
        f"http://127.0.0.1:{aw.port}{path}",
        method="GET" if "nginx" in path else "POST",
        data=None if "nginx" in path else b"{}",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    refused.value.close()
    assert refused.value.code == 401


def _post(port: int, path: str, token: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def test_dovecot_report_calls_and_bad_bodies(aw):
    report = json.dumps({"login": "bob", "success": False, "policy_reject": True}).encode()
    assert _post(aw.port, "/v1/gateway/dovecot?command=report", aw.token, report) == (200, "{}")
    status, body = _post(aw.port, "/v1/gateway/dovecot?command=allow", aw.token, b"{not json")
    assert status == 400 and "JSON" in body and "Traceback" not in body
    status, body = _post(aw.port, "/v1/gateway/dovecot?command=allow", aw.token, b"[1,2]")
    assert status == 400
    status, body = _post(aw.port, "/v1/gateway/dovecot?command=allow", aw.token, b"x" * 70000)
    assert status == 413
