"""Bounces and replies read from a real Maildir by the real `appwarden campaign returns`, about
messages the demo really sent: a failed DSN marks the notice bounced, a person's reply counts,
a delayed DSN, an out-of-office answer and foreign mail are left alone, and nothing is read
twice."""

from __future__ import annotations

import json
import mailbox
from email import message_from_bytes
from pathlib import Path

from tests.integration.test_notices_cli import run

FIXTURES = Path(__file__).parent.parent / "fixtures" / "returns"


def sent_messages(home: Path) -> list[tuple[str, str]]:
    """(Message-ID without brackets, recipient) of every .eml the demo's file sink wrote."""
    out = []
    for path in sorted((home / "outbox").glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        out.append((str(msg["Message-ID"]).strip("<>"), str(msg["To"])))
    return out


def returned(name: str, message_id: str, to: str) -> bytes:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text.replace("{{MESSAGE_ID}}", message_id).replace("{{TO}}", to).encode()


def test_returns_from_a_maildir_become_signals_once(tmp_path):
    demo = run(tmp_path, "demo", "--no-serve", "--employees", "120")
    assert demo.returncode == 0, demo.stderr
    [campaign] = json.loads(run(tmp_path, "campaign", "list", "--json").stdout)
    sent = sent_messages(tmp_path / "home")
    assert len(sent) >= 4
    (a, to_a), (b, to_b), (c, to_c), (d, to_d) = sent[:4]
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    for raw in (
        returned("postfix-dsn.eml", a, to_a),
        returned("delayed-dsn.eml", b, to_b),
        returned("out-of-office.eml", c, to_c),
        returned("human-reply.eml", d, to_d),
        returned("postfix-dsn.eml", "abc@elsewhere.example", to_a),  # not ours
        returned("postfix-dsn.eml", "0" * 32 + "@" + a.partition("@")[2], to_a),  # ours, unsent
    ):
        box.add(raw)
    first = run(tmp_path, "campaign", "returns", str(tmp_path / "bounces"), "--json")
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    assert {k: counts[k] for k in ("bounce", "reply", "unmatched", "ignored")} == {
        "bounce": 1,
        "reply": 1,
        "unmatched": 1,
        "ignored": 3,
    }
    assert counts["ignored_why"] == {
        "a bounce of a message that is not ours": 1,
        "a delivery report without a failed recipient": 1,
        "an automatic reply": 1,
    }
    status = json.loads(run(tmp_path, "campaign", "status", campaign["id"], "--json").stdout)
    assert status["notices"].get("bounced") == 1 and status["replies"] == 1
    again = json.loads(
        run(tmp_path, "campaign", "returns", str(tmp_path / "bounces"), "--json").stdout
    )
    assert again["bounce"] == again["reply"] == again["ignored"] == 0  # flagged seen
    box.add(returned("postfix-dsn.eml", b, to_b))  # a new one arrives
    text = run(tmp_path, "campaign", "returns", str(tmp_path / "bounces"))
    assert text.returncode == 0 and "1 bounce(s)" in text.stdout
    audit = run(tmp_path, "audit", "export")
    events = [json.loads(line) for line in audit.stdout.splitlines() if line.strip()]
    bounced = [e for e in events if e.get("type") == "notice_bounced"]
    assert len(bounced) == 2 and "5.1.1" in bounced[0].get("reason", "")


def test_the_mail_server_can_pipe_one_returned_message_to_the_api(tmp_path):
    from starlette.testclient import TestClient

    from appwarden.bootstrap import build
    from appwarden.entrypoints.api.admin import create_api
    from appwarden.settings import Settings
    from tests.support.inventory import token

    assert run(tmp_path, "demo", "--no-serve", "--employees", "60").returncode == 0
    (a, to_a), (b, to_b) = sent_messages(tmp_path / "home")[:2]
    app = build(Settings.load({"home": str(tmp_path / "home")}, env={}))
    try:
        http = TestClient(create_api(app))
        admin = {"authorization": f"Bearer {token(app, 'admin')}", "content-type": "message/rfc822"}
        viewer = {"authorization": f"Bearer {token(app, 'viewer')}"}
        dsn = returned("postfix-dsn.eml", a, to_a)
        assert http.post("/v1/notices/returns", content=dsn, headers=viewer).status_code == 403
        hit = http.post("/v1/notices/returns", content=dsn, headers=admin)
        assert hit.status_code == 200, hit.text
        assert hit.json() == {"result": "bounce", "message_id": a, "detail": hit.json()["detail"]}
        assert hit.json()["detail"].startswith("5.1.1")
        ooo = http.post(
            "/v1/notices/returns", content=returned("out-of-office.eml", b, to_b), headers=admin
        )
        assert ooo.json()["result"] == "ignored" and ooo.json()["detail"] == "an automatic reply"
        empty = http.post("/v1/notices/returns", content=b"", headers=admin)
        assert empty.status_code == 422 and "body" in empty.text
        huge = http.post("/v1/notices/returns", content=b"x" * 5_000_001, headers=admin)
        assert huge.status_code == 422 and "larger than" in huge.text
    finally:
        app.close()
