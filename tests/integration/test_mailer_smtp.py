"""The SMTP adapter against a real relay on loopback: STARTTLS verified against our CA, AUTH."""

from __future__ import annotations

import subprocess

import pytest

from appwarden.adapters.mail.smtp import SmtpConfig
from appwarden.adapters.mail_smtp import SmtpMailer
from appwarden.services.ports import MailUnavailable, OutgoingMail
from tests.support.smtp_sink import start_smtp


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "relay.pem", tmp_path / "relay.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_sends_over_starttls_with_auth(certificate):
    controller, sink = start_smtp(tls=certificate, login=("relay-user", "relay-secret"))
    try:
        mailer = SmtpMailer(
            SmtpConfig(
                "127.0.0.1", controller.port, True, "relay-user", "relay-secret", certificate[0]
            ),
            "appwarden@corp.example",
        )
        long_html = "<p>" + "word " * 400 + "</p>"  # one long line, as HTML often is
        mailer.send(OutgoingMail("ana@corp.example", "Sign in", "text body", long_html))
    finally:
        controller.stop()
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["To"] == "ana@corp.example"
    assert message["From"] == "appwarden@corp.example"
    assert message["Message-ID"]


def test_wrong_password_is_a_clear_error_without_the_secret(certificate):
    controller, sink = start_smtp(tls=certificate, login=("relay-user", "relay-secret"))
    try:
        mailer = SmtpMailer(
            SmtpConfig(
                "127.0.0.1",
                controller.port,
                True,
                "relay-user",
                "not-the-secret",
                certificate[0],
                timeout=3,
            ),
            "a@corp.example",
        )
        with pytest.raises(MailUnavailable) as caught:
            mailer.send(OutgoingMail("ana@corp.example", "s", "t"))
    finally:
        controller.stop()
    assert f"127.0.0.1:{controller.port}" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)
    assert "not-the-secret" not in repr(mailer.config)
    assert not sink.messages


def test_untrusted_certificate_is_refused(certificate):
    controller, _sink = start_smtp(tls=certificate)
    try:
        mailer = SmtpMailer(SmtpConfig("127.0.0.1", controller.port, True))
        with pytest.raises(MailUnavailable, match="cannot reach relay"):
            mailer.send(OutgoingMail("ana@corp.example", "s", "t"))
    finally:
        controller.stop()


def test_relay_down_is_a_clear_error():
    mailer = SmtpMailer(SmtpConfig("127.0.0.1", 1, False, timeout=2, rate=0))
    with pytest.raises(MailUnavailable, match=r"127\.0\.0\.1:1"):
        mailer.send(OutgoingMail("ana@corp.example", "s", "t"))
