"""The issue-2 scenario end to end, through the real `appwarden` entry point and a real server.

A security team writes policies/tiktok-mail.yaml, runs `policy diff`, `policy apply`, `assess`;
the drafted campaign announces the block (preview, second-person approval, send); after the
deadline `decide` (CLI and GET /v1/decide) answers deny with the policy, the app and the
deadline; after a check-in without the app the same device is allowed.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.support.cli import ROOT, Server, appwarden, appwarden_json

FIXTURES = ROOT / "tests" / "fixtures" / "native"
PUBLISHED = "2020-07-01T16:00:00Z"
BEFORE = "2020-07-05T00:00:00Z"
AFTER = "2020-07-11T01:00:01Z"  # one second after 18:00 in Los Angeles on 10 July


def announce(team: Path) -> None:
    """Applying emailed nobody; blocks take effect only once announced (docs/notices.md):
    the drafted campaign is previewed, approved by a second person, and sent (to .eml files)."""
    people = {"tester@corp.example": "author", "approver@corp.example": "approver"}
    for email, role in people.items():
        assert appwarden(team, "account", "add", "--email", email, "--role", role).returncode == 0
    [draft] = appwarden_json(team, "campaign", "list")
    assert draft["status"] == "draft" and draft["recipients"] == 3
    preview = appwarden_json(team, "campaign", "preview", draft["id"], "--now", PUBLISHED)
    approve = ("campaign", "approve", draft["id"], "--digest", preview["digest"])
    refused = appwarden(team, *approve, "--now", PUBLISHED)
    assert refused.returncode == 6, refused.stderr  # the author never approves their own
    approved = appwarden_json(
        team, *approve, "--now", PUBLISHED, APPWARDEN_ACTOR="approver@corp.example"
    )
    assert approved["approved"]
    for send_at in ("2020-07-01T16:11:00Z", "2020-07-01T17:12:00Z", "2020-07-01T18:13:00Z"):
        appwarden_json(team, "campaign", "send", "--now", send_at)
    status = appwarden_json(team, "campaign", "status", draft["id"])
    assert status["enforcement"] == {"armed": 3}
    assert len(list((team / "outbox").glob("*.eml"))) == 3


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A working folder with the policy file and the inventory exports."""
    (tmp_path / "policies").mkdir()
    shutil.copy(ROOT / "policies" / "tiktok-mail.yaml", tmp_path / "policies")
    for name in ("employees.csv", "devices.csv", "devices-after-removal.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path / ".appwarden"


def test_scenario_end_to_end(team: Path) -> None:
    work = team.parent
    result = appwarden(team, "init")
    assert result.returncode == 0, result.stderr
    admin = result.stdout.strip().splitlines()[-1]
    assert admin.startswith("aw_")

    imported = appwarden_json(team, "import", "employees.csv", "devices.csv", "--now", PUBLISHED)
    assert imported[1]["devices"]["added"] == 5

    assert appwarden(team, "policy", "validate").returncode == 0
    diff = appwarden_json(team, "policy", "diff", "policies/tiktok-mail.yaml", "--now", PUBLISHED)
    assert diff["current_version"] is None and diff["new_version"] == 1
    assert diff["after"]["counts"] == {"compliant": 1, "pending": 2, "unknown": 1}
    assert sorted(diff["devices_added"]) == [
        "dev-alice-iphone",
        "dev-bashir-pixel",
        "dev-dina-phone",
    ]

    applied = appwarden_json(
        team,
        "policy",
        "apply",
        "policies/tiktok-mail.yaml",
        "--yes",
        "--reason",
        "seed case",
        "--now",
        PUBLISHED,
    )
    assert applied["version"] == 1 and applied["deadline"] == "2020-07-11T01:00:00Z"
    announce(team)

    summary = appwarden_json(team, "assess", "--now", BEFORE)
    tiktok = summary["policies"]["tiktok-mail"]
    # dev-dina-tablet has no mail access: out of scope. 4 devices of 4 employees in scope.
    assert (tiktok["in_scope"], tiktok["employees_in_scope"]) == (4, 4)
    assert tiktok["counts"]["pending"] == 2
    assert tiktok["by_department"]["Sales"] == {"pending": 1, "unknown": 1}
    assert tiktok["by_platform"]["android"] == {"pending": 1, "unknown": 1}
    human = appwarden(team, "assess", "--now", BEFORE)
    assert "4 devices of 4 employees in scope" in human.stdout
    assert "2 pending until 2020-07-11T01:00:00Z" in human.stdout

    before = appwarden_json(team, "decide", "--device", "dev-alice-iphone", "--now", BEFORE)
    assert before["effect"] == "allow" and before["warnings"][0]["status"] == "pending"
    denied = appwarden_json(
        team, "decide", "--device", "dev-alice-iphone", "--now", AFTER, ok=(10,)
    )
    assert denied["effect"] == "deny"
    assert denied["reasons"] == [
        {
            "policy": "tiktok-mail",
            "version": 1,
            "title": "TikTok is not permitted on mobile devices that access company email",
            "status": "blocked",
            "apps": ["TikTok"],
            "deadline": "2020-07-11T01:00:00Z",
        }
    ]
    by_eas = appwarden_json(team, "decide", "--eas", "APPLALICE0001", "--now", AFTER, ok=(10,))
    assert by_eas["device"] == "dev-alice-iphone"
    assert appwarden(team, "decide", "--eas", "UNKNOWN-DEVICE", "--now", AFTER).returncode == 11

    gateway = appwarden_json(team, "token", "create", "--name", "nginx", "--role", "gateway")[
        "secret"
    ]
    server = Server(team, APPWARDEN_CLOCK="2020-07-11T02:00:00Z")
    try:
        d = server.decision_port
        status, body = server.get(d, "/v1/decide?device=dev-alice-iphone", gateway)
        assert status == 200 and body["effect"] == "deny"
        assert body["reasons"][0]["apps"] == ["TikTok"] and body["decision_id"]
        assert server.get(d, "/v1/decide?device=dev-alice-iphone")[0] == 401
        assert server.get(d, "/v1/decide?device=dev-alice-iphone", "aw_wrong")[0] == 401
        status, body = server.get(server.api_port, "/v1/decide?eas=APPLALICE0001", admin)
        assert status == 200 and body["effect"] == "deny"
        assert server.get(server.api_port, "/v1/devices/dev-alice-iphone")[0] == 401

        # the device checks in without TikTok (through another process: the CLI)
        after = appwarden_json(
            team, "import", "devices-after-removal.csv", "--now", "2020-07-11T02:00:00Z"
        )
        assert after[0]["apps"]["removed"] == 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status, body = server.get(d, "/v1/decide?device=dev-alice-iphone", gateway)
            if body["effect"] == "allow":
                break
            time.sleep(0.1)
        assert body["effect"] == "allow", body
        status, device = server.get(server.api_port, "/v1/devices/dev-alice-iphone", admin)
        assert status == 200 and device["verdicts"] == []
        assert [h["event"] for h in device["history"] if "musically" in h["app"]] == [
            "installed",
            "removed",
        ]
    finally:
        server.stop()

    chain = appwarden_json(team, "audit", "verify")
    assert chain["ok"] and chain["events"] >= 6
    del work


def test_bad_inputs_name_the_file_line_field_and_fix(team: Path) -> None:
    work = team.parent
    shutil.copy(FIXTURES / "devices-bad.csv", work / "devices-bad.csv")
    assert appwarden(team, "init").returncode == 0
    result = appwarden(team, "import", "devices-bad.csv")
    assert result.returncode == 2
    assert "devices-bad.csv:3: platform: 'blackberry' is not allowed" in result.stderr
    assert "devices-bad.csv:4: owner" in result.stderr
    assert "Traceback" not in result.stderr
    assert (
        appwarden_json(team, "import", "devices-bad.csv", "--dry-run", "--skip-bad")[0]["devices"][
            "added"
        ]
        == 1
    )

    (work / "policies").mkdir(exist_ok=True)
    (work / "policies" / "broken.yaml").write_text(
        "slug: broken\ntitle:\n  en: x\nrule: {}\ndeadline:\n  at: yesterday\n"
    )
    result = appwarden(team, "policy", "validate", "policies/broken.yaml")
    assert result.returncode == 2
    assert "broken.yaml:2: title.ar: the 'ar' text is missing Fix: add `ar: ...`" in result.stdout
    assert "broken.yaml:6: deadline.at:" in result.stdout
    for args in (
        ["decide"],
        ["policy", "apply", "nope.yaml"],
        ["exempt", "revoke", "ex-1", "--reason", "x"],
        ["import", "nothing.csv"],
        ["decide", "--device", "x", "--now", "not-a-date"],
    ):
        result = appwarden(team, *args)
        assert result.returncode in (2, 3), (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr, args
