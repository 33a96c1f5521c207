"""Campaigns end to end against a real SMTP server on loopback (aiosmtpd, STARTTLS + AUTH)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.core.decision import Effect
from appwarden.core.errors import Conflict, Forbidden
from appwarden.services.audit import verify
from appwarden.services.notices import Actor
from tests.support.builders import T0, at
from tests.support.notice_smtp import start_sink
from tests.support.notices import (
    APPROVER,
    AUTHOR,
    TIKTOK,
    apply,
    fleet,
    smtp_transport,
    with_config,
    world,
)

AFTER_DEADLINE = at("2020-07-11T02:00Z")
PEOPLE = [
    (
        f"p{i}@corp.example",
        "ar" if i % 2 else "en",
        "Asia/Riyadh" if i % 2 else "America/Los_Angeles",
        [f"d{i}:{TIKTOK}"],
    )
    for i in range(6)
] + [("clean@corp.example", "en", "UTC", ["dc:com.whatsapp"])]


@pytest.fixture
def sink(tmp_path):
    s = start_sink(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def setup(tmp_path, sink):
    eng, svc = world(tmp_path, transport=lambda: smtp_transport(sink))
    fleet(eng, PEOPLE)
    apply(eng)
    yield eng, svc, sink
    eng.store.close()


def approved(svc, now=T0):
    campaign = svc.list_campaigns()[0]
    preview = svc.preview(campaign.id, AUTHOR, now)
    svc.approve(campaign.id, Actor(APPROVER, True), now, preview.digest)
    return campaign.id, preview


def deny(eng, device, when=AFTER_DEADLINE):
    return eng.decide("device", device, when).outcome.effect is Effect.DENY


def send_all(svc, start=T0 + timedelta(minutes=11), waves=4):
    for i in range(waves):
        svc.tick(start + timedelta(hours=i * 1.1))


def test_applying_a_policy_drafts_and_emails_nobody(setup):
    eng, svc, sink = setup
    [campaign] = svc.list_campaigns()
    assert campaign.status.value == "draft" and campaign.recipients == 6
    svc.tick(T0 + timedelta(days=1))
    assert sink.handler.messages == []
    assert not deny(eng, "d0"), "an unannounced block must not deny mail"


def test_exact_recipients_both_locales_and_enforcement_follows_the_notice(setup):
    eng, svc, sink = setup
    cid, preview = approved(svc)
    assert preview.radius.people == 6 and preview.radius.unreachable == 0
    assert set(preview.samples) >= {"en/announce", "ar/announce", "ar/blocked", "en/restored"}
    send_all(svc)
    assert sink.handler.recipients == sorted(f"p{i}@corp.example" for i in range(6))
    assert len({m.message_id for m in sink.handler.messages}) == 6
    ar = sink.handler.to("p1@corp.example")[0].message
    assert ar["Content-Language"] == "ar"
    text = ar.get_body(("plain",)).get_content()
    html = ar.get_body(("html",)).get_content()
    assert "نفّذ ذلك قبل" in text and "أزل \u2068com.zhiliaoapp.musically\u2069" in text
    assert 'dir="rtl"' in html and "<bdi>" in html
    assert "4:00:00" in text  # 01:00Z in Riyadh (UTC+3), formatted by Babel
    en = sink.handler.to("p0@corp.example")[0].message.get_body(("plain",)).get_content()
    assert "6:00:00" in en and "PDT" in en and "/v1/verify/" in en
    assert all(deny(eng, f"d{i}") for i in range(6))
    assert not deny(eng, "dc")
    status = svc.status(cid)
    assert status["enforcement"] == {"armed": 6}
    with eng.store.read() as uow:
        assert verify(uow).ok


def test_author_cannot_approve_and_a_change_after_preview_resets_to_draft(setup, tmp_path):
    eng, svc, _ = setup
    campaign = svc.list_campaigns()[0]
    preview = svc.preview(campaign.id, AUTHOR, T0)
    with pytest.raises(Forbidden):
        svc.approve(campaign.id, Actor(AUTHOR, True), T0, preview.digest)
    with pytest.raises(Forbidden):
        svc.approve(campaign.id, Actor("viewer@corp.example", False), T0, preview.digest)
    fleet(eng, [("late@corp.example", "en", "UTC", [f"dl:{TIKTOK}"])])
    result = svc.approve(campaign.id, Actor(APPROVER, True), T0, preview.digest)
    assert not result.ok and result.campaign.status.value == "draft"
    again = svc.preview(campaign.id, AUTHOR, T0)
    assert again.radius.people == 7 and "late@corp.example" in again.recipients
    assert svc.approve(campaign.id, Actor(APPROVER, True), T0, again.digest).ok


def test_undo_within_the_window_sends_nothing_and_disarms(setup):
    eng, svc, sink = setup
    cid, _ = approved(svc)
    svc.undo(cid, AUTHOR, T0 + timedelta(minutes=5))
    send_all(svc)
    assert sink.handler.messages == []
    assert not deny(eng, "d0")
    assert svc.status(cid)["enforcement"] == {"disarmed": 6}


def test_undo_after_the_window_is_refused(setup):
    _, svc, _ = setup
    cid, _ = approved(svc)
    svc.tick(T0 + timedelta(minutes=11))
    with pytest.raises(Conflict):
        svc.undo(cid, AUTHOR, T0 + timedelta(minutes=12))


def test_auto_halt_on_bounces_stops_later_waves(setup):
    eng, svc, sink = setup
    cid, _ = approved(svc)
    svc.tick(T0 + timedelta(minutes=11))
    canary = list(sink.handler.messages)
    assert len(canary) == 2
    for m in canary:
        svc.signal(m.message_id, "bounce", "mta", T0 + timedelta(minutes=20))
    _, report = svc.tick(T0 + timedelta(minutes=80))
    assert any("halted" in w for w in report.waves)
    svc.tick(T0 + timedelta(hours=5))
    assert len(sink.handler.messages) == 2
    assert svc.status(cid)["campaign"].status.value == "halted"
    unsent = [f"d{i}" for i in range(6) if f"p{i}@corp.example" not in sink.handler.recipients]
    assert unsent and not any(deny(eng, d) for d in unsent)


def test_relay_down_keeps_notices_queued_with_the_error(tmp_path):
    sink = start_sink(tmp_path)
    port = sink.port
    sink.stop()
    from appwarden.adapters.mail.smtp import SmtpConfig, SmtpTransport

    eng, svc = world(
        tmp_path,
        transport=lambda: SmtpTransport(
            SmtpConfig("127.0.0.1", port, True, "u", "p", None, timeout=2, rate=0)
        ),
    )
    fleet(eng, PEOPLE)
    apply(eng)
    cid, _ = approved(svc)
    _, report = svc.tick(T0 + timedelta(minutes=11))
    assert report.sent == 0 and report.retried == 2
    status = svc.status(cid)
    assert status["notices"]["queued"] == 2
    assert status["errors"] and "cannot reach relay" in status["errors"][0][1]
    assert not deny(eng, "d0")
    eng.store.close()


def test_wrong_password_is_reported_without_the_password(tmp_path, sink):
    from appwarden.adapters.mail.smtp import SmtpConfig, SmtpTransport

    secret = "wrong-secret-xyz"
    eng, svc = world(
        tmp_path,
        transport=lambda: SmtpTransport(
            SmtpConfig(
                "127.0.0.1", sink.port, True, sink.user, secret, sink.ca_file, timeout=5, rate=0
            )
        ),
    )
    fleet(eng, PEOPLE)
    apply(eng)
    cid, _ = approved(svc)
    svc.tick(T0 + timedelta(minutes=11))
    errors = svc.status(cid)["errors"]
    assert errors and "smtp_password" in errors[0][1] and secret not in errors[0][1]
    with eng.store.read() as uow:
        assert all(secret not in str(e.body) for e in uow.audit.events())
    eng.store.close()


class Crash(BaseException):
    pass


@pytest.mark.parametrize("step", ["receipt", "accepted"])
def test_crash_between_accepted_and_recorded_resumes_without_losing(setup, step):
    eng, svc, sink = setup
    cid, _ = approved(svc)

    def fault(where, message):
        if where == step:
            raise Crash(where)

    with pytest.raises(Crash):
        svc.tick(T0 + timedelta(minutes=11), fault=fault)
    assert len(sink.handler.messages) == 1
    svc.tick(T0 + timedelta(minutes=15))  # lease (2 min) expired: recovery runs
    send_all(svc, start=T0 + timedelta(minutes=16))
    ids = [m.message_id for m in sink.handler.messages]
    people = sorted(set(sink.handler.recipients))
    assert people == sorted(f"p{i}@corp.example" for i in range(6))
    if step == "receipt":
        assert len(ids) == 6, "the receipt proves acceptance: never sent twice"
    else:
        # the documented at-least-once window: resent once, with the same Message-ID
        assert len(ids) == 7 and len(set(ids)) == 6
    assert svc.status(cid)["notices"] == {"sent": 6}
    assert all(deny(eng, f"d{i}") for i in range(6))


def test_seed_drill_retraction_reaches_exactly_the_canary(setup):
    eng, svc, sink = setup
    cid, _ = approved(svc)
    svc.tick(T0 + timedelta(minutes=11))
    canary = sorted(sink.handler.recipients)
    assert len(canary) == 2
    correction = svc.retract(
        cid, AUTHOR, "sent in error: no approved policy", T0 + timedelta(minutes=30)
    )
    assert svc.status(cid)["campaign"].status.value == "halted"
    preview = svc.preview(correction.id, AUTHOR, T0 + timedelta(minutes=31))
    assert sorted(preview.recipients) == canary
    with pytest.raises(Forbidden):
        svc.approve(correction.id, Actor(AUTHOR, True), T0 + timedelta(minutes=32))
    svc.approve(correction.id, Actor(APPROVER, True), T0 + timedelta(minutes=32), preview.digest)
    assert not any(deny(eng, f"d{i}") for i in range(6)), "blocks lifted at once"
    before = len(sink.handler.messages)
    send_all(svc, start=T0 + timedelta(minutes=33), waves=6)
    corrections = sink.handler.messages[before:]
    assert sorted(a for m in corrections for a in m.rcpt_tos) == canary
    assert all(
        "Correction" in str(m.message["Subject"]) or "تصحيح" in str(m.message["Subject"])
        for m in corrections
    )
    assert sorted(set(sink.handler.recipients)) == canary, "nobody else heard anything"
    assert svc.status(cid)["campaign"].status.value == "retracted"
    assert not any(deny(eng, f"d{i}", at("2020-08-01T00:00Z")) for i in range(6))
    page = svc.verify(svc.status(cid) and _token_of(eng, cid))
    assert page["status"] == "retracted"


def _token_of(eng, cid):
    with eng.store.read() as uow:
        return uow.campaigns.notices(cid)[0].token


def test_test_send_goes_only_to_the_test_list_and_is_marked(setup):
    eng, svc, sink = setup
    campaign = svc.list_campaigns()[0]
    test = svc.test(campaign.id, AUTHOR, T0)
    svc.tick(T0)
    assert sorted(set(sink.handler.recipients)) == ["qa@corp.example"]
    assert len(sink.handler.messages) == 2  # one sample per locale used
    for m in sink.handler.messages:
        assert m.message["X-AppWarden-Mode"] == "test"
        assert str(m.message["Subject"]).startswith(("[TEST]", "[تجربة]"))
    assert test.mode.value == "test"
    with pytest.raises(Conflict):
        svc.approve(test.id, Actor(APPROVER, True), T0)
    assert not deny(eng, "d0")


def test_one_message_per_person_per_day_across_policies(tmp_path, sink):
    eng, svc = world(
        tmp_path, transport=lambda: smtp_transport(sink), config=with_config(canary="100%")
    )
    fleet(eng, [("both@corp.example", "en", "UTC", [f"db:{TIKTOK},com.tencent.mm"])])
    apply(eng)
    apply(
        eng,
        slug="wechat-mail",
        title={"en": "No WeChat", "ar": "لا وي تشات"},
        rule={"barred_apps": [{"id": "com.tencent.mm"}]},
    )
    for c in svc.list_campaigns():
        p = svc.preview(c.id, AUTHOR, T0)
        svc.approve(c.id, Actor(APPROVER, True), T0, p.digest)
    svc.tick(T0 + timedelta(minutes=11))
    assert len(sink.handler.messages) == 1
    body = sink.handler.messages[0].message.get_body(("plain",)).get_content()
    assert "No TikTok" in body and "No WeChat" in body
    assert str(sink.handler.messages[0].message["Subject"]).startswith("2 notices")
    eng.store.close()


def test_blocked_restored_and_reminders_follow_transitions(setup):
    eng, svc, sink = setup
    approved(svc)
    send_all(svc)
    assert len(sink.handler.messages) == 6
    svc.tick(at("2020-07-04T02:00Z"))  # 7 days before the deadline
    reminders = sink.handler.messages[6:]
    assert len(reminders) == 6
    assert all(str(m.message["Subject"]).startswith(("Reminder", "تذكير")) for m in reminders)
    eng.assess(AFTER_DEADLINE)
    svc.tick(AFTER_DEADLINE)
    blocked = list(sink.handler.messages[12:])
    assert len(blocked) == 6
    assert deny(eng, "d0")
    fleet(eng, [("p0@corp.example", "en", "America/Los_Angeles", ["d0:com.whatsapp"])])
    assert not deny(eng, "d0")
    svc.tick(AFTER_DEADLINE + timedelta(days=1))
    restored = sink.handler.to("p0@corp.example")[-1].message
    assert "restored" in str(restored["Subject"])


def test_a_device_failing_after_the_campaign_gets_a_follow_up_draft(setup):
    eng, svc, _sink = setup
    approved(svc)
    send_all(svc)
    fleet(eng, [("new@corp.example", "en", "UTC", [f"dn:{TIKTOK}"])])
    svc.tick(T0 + timedelta(hours=6))
    drafts = [c for c in svc.list_campaigns() if c.status.value == "draft"]
    assert len(drafts) == 1 and drafts[0].parent and drafts[0].recipients == 1
    assert not deny(eng, "dn")


def _edited_renderer(tmp_path, svc):
    import shutil

    from appwarden.adapters.mail.wiring import message_builder
    from appwarden.adapters.notice_templates import JinjaNoticeRenderer, shipped_dir

    folder = tmp_path / "templates"
    shutil.copytree(shipped_dir(), folder)
    subject = folder / "en" / "subject.txt"
    subject.write_text("EDITED " + subject.read_text(encoding="utf-8"), encoding="utf-8")
    svc.renderer = JinjaNoticeRenderer(folder)
    svc.build = message_builder(svc.renderer, svc.config)


def test_template_edit_after_approval_returns_it_to_draft(setup, tmp_path):
    _eng, svc, sink = setup
    cid, _ = approved(svc)
    _edited_renderer(tmp_path, svc)
    _, report = svc.tick(T0 + timedelta(minutes=11))
    assert any("back to draft" in w for w in report.waves)
    assert sink.handler.messages == []
    assert svc.status(cid)["campaign"].status.value == "draft"
    assert svc.status(cid)["enforcement"] == {"disarmed": 6}


def test_template_edit_while_sending_halts_before_the_next_wave(setup, tmp_path):
    _eng, svc, sink = setup
    cid, _ = approved(svc)
    svc.tick(T0 + timedelta(minutes=11))
    assert len(sink.handler.messages) == 2
    _edited_renderer(tmp_path, svc)
    svc.tick(T0 + timedelta(minutes=80))
    svc.tick(T0 + timedelta(hours=4))
    assert len(sink.handler.messages) == 2
    assert "templates" in svc.status(cid)["campaign"].halt_reason


def test_devices_that_comply_before_the_notice_leaves_are_not_told_to(tmp_path, sink):
    """Approved, then during the undo window p0's only device and one of two@'s two devices
    drop TikTok: p0 gets no message at all, two@ gets one that names only the device still
    carrying it, the notice's record says the same, and the audit log says why."""
    eng, svc = world(tmp_path, transport=lambda: smtp_transport(sink))
    two = ("two@corp.example", "en", "UTC", [f"da:{TIKTOK}", f"db:{TIKTOK}"])
    fleet(eng, [*PEOPLE[:3], two])
    apply(eng)
    cid, preview = approved(svc)
    assert preview.radius.people == 4
    fleet(eng, [(*PEOPLE[0][:3], ["d0:com.whatsapp"]), (*two[:3], ["da:com.whatsapp"])])
    send_all(svc)
    assert sink.handler.recipients == ["p1@corp.example", "p2@corp.example", "two@corp.example"]
    with eng.store.read() as uow:
        notices = {n.employee: n for n in uow.campaigns.notices(cid)}
        dropped = [e.body for e in uow.audit.events() if e.body["type"] == "notice_dropped"]
        assert verify(uow).ok
    assert notices["p0@corp.example"].state.value == "cancelled"
    assert [d["key"] for d in notices["two@corp.example"].data["devices"]] == ["db"]
    assert notices["two@corp.example"].state.value == "sent"
    assert dropped and dropped[0]["reason"] == "devices resolved before the notice left"
    # armed: what the sent notices announced (d1, d2, db); d0 and da were never announced
    assert svc.status(cid)["enforcement"] == {"armed": 3, "approved": 2}
    eng.store.close()
