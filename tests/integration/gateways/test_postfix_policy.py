"""Postfix submission with smtplib: the SMTP access policy decides per user or per device."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl

from tests.integration.gateways.pki import Pki


def _session(postfix, user: str, pki: Pki, cert: str | None = None) -> smtplib.SMTP:
    smtp = smtplib.SMTP("127.0.0.1", postfix.ports["smtp"], timeout=20)
    ctx = ssl.create_default_context(cafile=str(pki.cert("ca")))
    if cert:
        ctx.load_cert_chain(str(pki.cert(cert)), str(pki.key(cert)))
    smtp.starttls(context=ctx)
    smtp.login(user, "secret")
    return smtp


def _rcpt(smtp: smtplib.SMTP, sender: str) -> tuple[int, str]:
    smtp.mail(sender)
    code, text = smtp.rcpt("someone@example.org")
    smtp.rset()
    return code, text.decode()


def test_per_user_without_a_certificate(postfix, pki):
    with _session(postfix, "alice", pki) as smtp:
        assert _rcpt(smtp, "alice@corp.test")[0] == 250
    with _session(postfix, "bob", pki) as smtp:
        code, text = _rcpt(smtp, "bob@corp.test")
    assert code == 554 and "5.7.1" in text and "TikTok" in text and "decision" in text


def test_per_device_with_a_client_certificate(postfix, pki):
    with _session(postfix, "bob", pki, cert="good") as smtp:  # Bob on the compliant device
        assert _rcpt(smtp, "bob@corp.test")[0] == 250
    with _session(postfix, "alice", pki, cert="bad") as smtp:  # the barred device
        assert _rcpt(smtp, "alice@corp.test")[0] == 554


def test_unknown_certificate_is_allowed_and_reported(postfix, pki, aw):
    with _session(postfix, "alice", pki, cert="stranger") as smtp:
        assert _rcpt(smtp, "alice@corp.test")[0] == 250
    aw.flush()
    with aw.app.store.read() as uow:
        rows = uow.decision_log.tail(limit=10, result="unknown")
    assert any(r["protocol"] == "postfix" and r["code"] == "unknown_reported" for r in rows)


def test_policy_protocol_as_postfix_speaks_it(aw):
    request = (
        b"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
        b"client_address=127.0.0.1\nsasl_method=PLAIN\nsasl_username=bob\n"
        b"ccert_fingerprint=\nrecipient=x@example.org\n\n"
    )
    with socket.create_connection(("127.0.0.1", aw.postfix_port), 5) as s:
        s.sendall(request * 2)  # two requests on one connection, as Postfix reuses it
        data = b""
        while data.count(b"\n\n") < 2:
            data += s.recv(4096)
    first, second, _ = data.split(b"\n\n")
    assert first.startswith(b"action=REJECT 5.7.1 ") and b"TikTok" in first
    assert first.split(b"(decision")[0] == second.split(b"(decision")[0]


def test_broken_peer_is_disconnected(aw):
    with socket.create_connection(("127.0.0.1", aw.postfix_port), 5) as s:
        s.sendall(b"x" * 70000 + b"\n")
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(4096):
                received += chunk
    assert b"action=" not in received  # closed without an answer


def test_fails_closed_when_appwarden_is_down(postfix, pki, aw):
    # logged in first: SMTP AUTH goes through Dovecot, whose own policy would fail closed too
    with _session(postfix, "alice", pki) as smtp:
        aw.stop()
        try:
            code, text = _rcpt(smtp, "alice@corp.test")
        finally:
            aw.start()
    assert code == 450 and "4.7.1" in text  # DEFER_IF_PERMIT: the client retries later


def test_clients_outside_the_allowed_networks_are_refused(aw):
    with socket.create_connection(("127.0.0.1", aw.postfix_port), 5, ("127.0.0.9", 0)) as s:
        s.sendall(b"request=smtpd_access_policy\nsasl_username=bob\n\n")
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(4096):
                received += chunk
    assert received == b""  # postfix_policy_clients is loopback 127.0.0.1/32 and ::1
    assert aw.runtime.postfix_stats.refused >= 1
