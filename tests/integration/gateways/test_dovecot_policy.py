"""Dovecot's auth policy against AppWarden: IMAP ID then LOGIN with Python's imaplib."""

from __future__ import annotations

import ast
import imaplib
import time
from datetime import timedelta

import pytest

from tests.integration.gateways import scenario
from tests.integration.gateways.imap_client import login


def _refused(port: int, user: str, device: str | None = None, source: str | None = None) -> str:
    kwargs = {"source": source} if source else {}
    with pytest.raises(imaplib.IMAP4.error) as refused:
        login(port, user, device, **kwargs)
    text = str(refused.value)
    if text.startswith(("b'", 'b"')):  # imaplib keeps the server's UTF-8 bytes
        text = ast.literal_eval(text).decode("utf-8")
    return text


def _wait(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_compliant_device_logs_in(dovecot):
    client = login(dovecot.ports["imap"], "alice", "GOODIMAP1")
    assert client.select("INBOX")[0] == "OK"
    client.logout()


def test_barred_device_is_refused_with_an_alert_in_the_users_language(dovecot):
    text = _refused(dovecot.ports["imap"], "bob", "BADIMAP1")
    assert "[ALERT]" in text
    assert "TikTok" in text
    assert "https://intranet.corp.test/mail-policy/tiktok-mail" in text
    assert "احذف" in text  # Bob reads Arabic: "remove ..."


def test_login_without_a_device_is_decided_for_the_user(dovecot):
    assert "[ALERT]" in _refused(dovecot.ports["imap"], "bob")  # Bob's only phone is barred
    login(dovecot.ports["imap"], "alice").logout()


def test_unknown_identity_gets_enrolment_instructions(dovecot):
    text = _refused(dovecot.ports["imap"], "erin")  # a mailbox AppWarden has never seen
    assert "not enrolled" in text and "https://mdm.corp.test/enrol" in text
    text = _refused(dovecot.ports["imap"], "alice", "SOMEOTHERPHONE")
    assert "not enrolled" in text


def test_service_logins_from_the_mail_host_are_exempt(dovecot):
    login(dovecot.ports["imap"], "bob", None, source="127.0.0.1").logout()


def test_report_policy_lets_the_device_in(dovecot, aw):
    login(dovecot.ports["imap"], "carol", "REPORTIMAP1").logout()
    aw.flush()
    with aw.app.store.read() as uow:
        rows = uow.decision_log.tail(limit=10, result="would_deny")
    assert any(r["identity"] == "imap:REPORTIMAP1" and r["protocol"] == "dovecot" for r in rows)


def test_allowed_again_right_after_the_app_is_removed(dovecot, aw, pki):
    _refused(dovecot.ports["imap"], "bob", "BADIMAP1")
    fixed = scenario.device(
        "dev-bob", "bob@corp.test", [], "BADDEVICE1", "BADIMAP1", pki.fingerprints["bad"]
    )
    scenario.check_in(aw.app.engine, fixed, scenario.AFTER)
    login(dovecot.ports["imap"], "bob", "BADIMAP1").logout()


def test_open_session_is_kicked_when_the_block_starts(dovecot, aw):
    before = scenario.DEADLINE - timedelta(seconds=2)
    aw.clock.instant = before
    client = login(dovecot.ports["imap"], "bob", "BADIMAP1")  # pending: allowed until the deadline
    client.select("INBOX")
    kicker = aw.runtime.kicker
    _wait(lambda: kicker.last_seen == before.timestamp())  # it saw the session allowed
    kicked = kicker.kicked
    aw.clock.instant = scenario.DEADLINE  # the block starts: no assessment runs
    _wait(lambda: kicker.kicked > kicked)
    assert kicker.kicked == kicked + 1
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        for _ in range(20):
            client.noop()
            time.sleep(0.1)
    client.shutdown()


def test_fails_closed_when_appwarden_is_down(dovecot, aw):
    aw.stop()
    try:
        text = _refused(dovecot.ports["imap"], "alice", "GOODIMAP1")
        assert "AUTHENTICATIONFAILED" in text or "Authentication failed" in text
    finally:
        aw.start()
    login(dovecot.ports["imap"], "alice", "GOODIMAP1").logout()
