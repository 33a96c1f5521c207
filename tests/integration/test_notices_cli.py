"""The campaign commands through the real `appwarden` entry point, on the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

AFTER = "2020-07-11T02:00:00Z"


def run(tmp: Path, *args: str, actor: str = "author@demo.example") -> subprocess.CompletedProcess:
    env = dict(os.environ, APPWARDEN_HOME=str(tmp / "home"), APPWARDEN_ACTOR=actor, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "appwarden", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_announces_then_a_retraction_lifts_every_block(tmp_path):
    demo = run(tmp_path, "demo", "--no-serve", "--employees", "300")
    assert demo.returncode == 0, demo.stderr
    assert "no SMTP relay is configured" in demo.stdout
    outbox = tmp_path / "home" / "outbox"
    sent = len(list(outbox.glob("*.eml")))
    [campaign] = json.loads(run(tmp_path, "campaign", "list", "--json").stdout)
    assert campaign["status"] == "sent" and campaign["recipients"] == sent > 0
    status = json.loads(run(tmp_path, "campaign", "status", campaign["id"], "--json").stdout)
    device = _a_blocked_device(tmp_path)
    assert run(tmp_path, "decide", "--device", device, "--now", AFTER).returncode == 10

    retract = run(tmp_path, "campaign", "retract", campaign["id"], "--reason", "sent in error")
    assert retract.returncode == 0, retract.stderr
    correction = json.loads(run(tmp_path, "campaign", "list", "--json").stdout)[-1]
    preview = json.loads(run(tmp_path, "campaign", "preview", correction["id"], "--json").stdout)
    assert preview["people"] == sent
    own = run(tmp_path, "campaign", "approve", correction["id"], "--digest", preview["digest"])
    assert own.returncode == 6 and "second person" in own.stderr
    ok = run(
        tmp_path,
        "campaign",
        "approve",
        correction["id"],
        "--digest",
        preview["digest"],
        actor="approver@demo.example",
    )
    assert ok.returncode == 0, ok.stderr
    assert run(tmp_path, "decide", "--device", device, "--now", AFTER).returncode == 0
    delivery = json.loads(run(tmp_path, "campaign", "send", "--json").stdout)
    assert delivery["sent"] == sent
    assert len(list(outbox.glob("*.eml"))) == 2 * sent
    assert status["enforcement"]["armed"] > 0
    assert run(tmp_path, "audit", "verify").returncode == 0


def test_bad_input_is_an_error_not_a_trace(tmp_path):
    run(tmp_path, "init")
    missing = run(tmp_path, "campaign", "status", "cmp-nope")
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
    assert "campaign list" in missing.stderr
    blank = run(tmp_path, "campaign", "retract", "cmp-nope", "--reason", "")
    assert blank.returncode in (2, 3) and "Traceback" not in blank.stderr


def _a_blocked_device(tmp: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(tmp / "home" / "appwarden.db")
    row = conn.execute(
        "SELECT device FROM enforcements WHERE state = 'armed' ORDER BY device LIMIT 1"
    ).fetchone()
    conn.close()
    return row[0]
