"""nginx auth_request in front of a real ActiveSync server (SOGo), per device."""

from __future__ import annotations

import ssl
from datetime import timedelta

from tests.integration.gateways import eas_client as eas
from tests.integration.gateways import scenario


def _tls(pki, name: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.cert("ca")))
    if name:
        ctx.load_cert_chain(str(pki.cert(name)), str(pki.key(name)))
    return ctx


def _is_folder_sync(body: bytes) -> bool:
    """A WBXML FolderSync response (code page 7) with Status 1 and at least one folder."""
    return (
        body[:6] == b"\x03\x01\x6a\x00\x00\x07"
        and b"\x4c\x031\x00\x01" in body  # <Status>1</Status>
        and b"\x4f" in body  # <Add> a folder
    )


def test_options_without_device_id_reaches_sogo(nginx):
    r = eas.request(nginx.ports["http"], "OPTIONS", "")
    assert r.status == 200
    assert "14.1" in r.headers["ms-asprotocolversions"]


def test_compliant_device_gets_a_real_folder_sync(nginx):
    r = eas.folder_sync(nginx.ports["http"], "GOODDEVICE1")
    assert r.status == 200, r
    assert _is_folder_sync(r.body), r.body[:80]
    assert b"INBOX" in r.body.upper()  # SOGo read the mailbox from Dovecot (exempt service login)


def test_barred_device_is_refused_before_sogo(nginx, aw):
    r = eas.folder_sync(nginx.ports["http"], "BADDEVICE1", user="bob")
    assert r.status == 403
    assert "TikTok" in r.headers["x-policy-reason"]
    assert r.headers["x-appwarden-decision"].startswith(aw.app.engine.decisions.id_prefix)
    assert r.body == b"" or b"<html" in r.body


def test_base64_query_form(nginx):
    assert eas.folder_sync(nginx.ports["http"], "GOODDEVICE1", encoded=True).status == 200
    assert (
        eas.folder_sync(nginx.ports["http"], "BADDEVICE1", user="bob", encoded=True).status == 403
    )


def test_unknown_device_is_asked_to_provision_with_enrolment_link(nginx):
    r = eas.folder_sync(nginx.ports["http"], "NEVERSEEN42")
    assert r.status == 449
    assert "https://mdm.corp.test/enrol" in r.headers["x-policy-reason"]


def test_allowed_at_the_next_request_after_removing_the_app(nginx, aw, pki):
    port = nginx.ports["http"]
    assert eas.folder_sync(port, "BADDEVICE1", user="bob").status == 403
    fixed = scenario.device(
        "dev-bob", "bob@corp.test", [], "BADDEVICE1", "BADIMAP1", pki.fingerprints["bad"]
    )
    scenario.check_in(aw.app.engine, fixed, scenario.AFTER)
    r = eas.folder_sync(port, "BADDEVICE1", user="bob")
    assert r.status == 200 and _is_folder_sync(r.body)


def test_block_starts_at_the_deadline_to_the_second(nginx, aw):
    port = nginx.ports["http"]
    aw.clock.instant = scenario.DEADLINE - timedelta(seconds=1)
    assert eas.folder_sync(port, "BADDEVICE1", user="bob").status == 200  # pending: still allowed
    aw.clock.instant = scenario.DEADLINE
    assert eas.folder_sync(port, "BADDEVICE1", user="bob").status == 403


def test_client_certificates_identify_the_device(nginx, pki):
    port = nginx.ports["tls"]
    assert eas.request(port, "OPTIONS", "", tls=_tls(pki, "good")).status == 200
    # the certificate wins over the DeviceId in the query (here one AppWarden never saw)
    r = eas.folder_sync(port, "NEVERSEEN42", tls=_tls(pki, "good"))
    assert r.status == 200 and _is_folder_sync(r.body)
    r = eas.folder_sync(port, "GOODDEVICE1", tls=_tls(pki, "bad"))
    assert r.status == 403 and "TikTok" in r.headers["x-policy-reason"]
    assert eas.folder_sync(port, "GOODDEVICE1", tls=_tls(pki, "stranger")).status == 449


def test_report_policy_allows_and_logs_would_deny(nginx, aw):
    r = eas.folder_sync(nginx.ports["http"], "REPORTDEVICE1", user="carol")
    assert r.status == 200
    aw.flush()
    with aw.app.store.read() as uow:
        rows = uow.decision_log.tail(limit=20, result="would_deny")
    assert any(
        row["identity"] == "eas:REPORTDEVICE1" and row["policies"] == ["wechat-report"]
        for row in rows
    )


def test_service_down_fails_closed_or_open_as_configured(nginx, aw):
    aw.stop()
    try:
        closed = eas.folder_sync(nginx.ports["http"], "GOODDEVICE1")
        assert closed.status == 503 and closed.headers.get("retry-after") == "60"
        opened = eas.folder_sync(nginx.ports["open"], "GOODDEVICE1")
        # nginx lets it through; SOGo's own IMAP login is refused by Dovecot (closed), so the
        # folder list has no mail folders, but SOGo answered
        assert opened.status == 200 and _is_folder_sync(opened.body)
    finally:
        aw.start()
    # decisions again (SOGo itself may still be upset by the refused IMAP login: not ours)
    assert eas.folder_sync(nginx.ports["http"], "BADDEVICE1", user="bob").status == 403
