"""The console's campaign pages over HTTP, on a real server and real SQLite: the policy flow hands
over to a campaign without e-mailing anyone, approval rules are enforced on the server, and
every step (approve, undo, halt, resume, retract) goes through NoticeService."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.services.inventory import ImportBatch
from tests.support.builders import device
from tests.support.console_app import LiveServer, build_world
from tests.support.console_flow import (
    SECOND_APPROVER,
    As,
    add_second_approver,
    digest_on,
    propose_and_apply,
)


@pytest.fixture
def site(tmp_path):
    world = build_world(tmp_path, employees=60)
    add_second_approver(world)
    live = LiveServer(world)
    clients: list[As] = []

    def as_(email: str, kind: str = "account") -> As:
        client = As(world, live.url, email, kind)
        clients.append(client)
        return client

    yield world, as_
    for client in clients:
        client.close()
    live.stop()
    world.app.close()


def campaign(world, cid):
    with world.app.store.read() as uow:
        return uow.campaigns.get(cid)


def test_approving_a_policy_change_emails_nobody_and_opens_the_campaign_preview(site):
    world, as_ = site
    author, approver = as_("author@corp.example"), as_("approver@corp.example")
    cid = propose_and_apply(author, approver)
    c = campaign(world, cid)
    assert (c.status.value, c.version, c.author) == ("previewed", 2, "approver@corp.example")
    with world.app.store.read() as uow:
        assert uow.outbox.counts(cid) == {}
        assert uow.campaigns.notice_counts(cid) == {}
    assert not (world.app.settings.home / "outbox").exists()  # the file sink got nothing
    page = approver.get(f"/console/campaigns/{cid}?done=applied_campaign").text
    assert "Nobody has been e-mailed" in page
    assert "Who loses mail, on which date" in page
    for sample in ("en.announce", "ar.announce", "en.reminder", "ar.blocked"):
        assert f"/console/campaigns/{cid}/samples/{sample}" in page
    assert "You drafted this campaign" in page and 'name="digest"' not in page
    frame = approver.get(f"/console/campaigns/{cid}/samples/ar.announce")
    assert frame.status_code == 200 and 'dir="rtl"' in frame.text and "TikTok" in frame.text
    assert "sandbox" in frame.headers["content-security-policy"]
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    policy = approver.get("/console/policies/tiktok-mail").text
    assert f"/console/campaigns/{cid}" in policy  # which campaign announced version 2
    assert f"/console/campaigns/{cid}" in approver.get("/console/").text  # waiting for approval


def test_neither_the_author_nor_the_proposer_nor_a_viewer_can_approve(site):
    world, as_ = site
    admin, approver = as_("admin@corp.example"), as_("approver@corp.example")
    cid = propose_and_apply(admin, approver)  # admin proposes, approver applies (drafts)
    digest = campaign(world, cid).previewed_digest
    url = f"/console/campaigns/{cid}/approve"
    assert approver.post(url, digest=digest).status_code == 403  # drafted it
    refused = admin.post(url, digest=digest)
    assert refused.status_code == 403 and "proposed version 2" in refused.text
    assert as_("viewer@corp.example").post(url, digest=digest).status_code == 403
    assert as_("author@corp.example").post(url, digest=digest).status_code == 403
    assert campaign(world, cid).status.value == "previewed"
    second = as_(SECOND_APPROVER)
    page = second.get(f"/console/campaigns/{cid}").text
    ok = second.post(url, digest=digest_on(page))
    assert ok.status_code == 303 and "done=approved" in ok.headers["location"]
    c = campaign(world, cid)
    assert (c.status.value, c.approved_by) == ("approved", SECOND_APPROVER)


def test_approval_covers_exactly_what_was_previewed(site):
    world, as_ = site
    cid = propose_and_apply(as_("author@corp.example"), as_("approver@corp.example"))
    second = as_(SECOND_APPROVER)
    url = f"/console/campaigns/{cid}/approve"
    missing = second.post(url)
    assert missing.status_code == 422 and "digest" in missing.text
    assert "Traceback" not in missing.text
    assert second.post(url, digest="0" * 64).status_code == 409
    digest = digest_on(second.get(f"/console/campaigns/{cid}").text)
    # a device falls into scope after the preview: the approval is void, back to draft
    batch = ImportBatch("test", "late device")
    batch.devices.append(
        device("dev-late-1", ["com.zhiliaoapp.musically"], owner=world.employee_email)
    )
    world.app.engine.import_inventory(batch, "test", world.clock.now())
    reset = second.post(url, digest=digest)
    assert "done=reset" in reset.headers["location"]
    assert campaign(world, cid).status.value == "draft"
    page = second.get(f"/console/campaigns/{cid}").text
    assert 'name="digest"' not in page and "Not previewed yet" in page


def test_undo_then_send_halt_resume_and_retract(site):
    world, as_ = site
    author, second = as_("author@corp.example"), as_(SECOND_APPROVER)
    cid = propose_and_apply(author, as_("approver@corp.example"))
    second.post(f"/console/campaigns/{cid}/approve", digest=campaign(world, cid).previewed_digest)
    assert author.post(f"/console/campaigns/{cid}/undo").status_code == 303
    assert campaign(world, cid).status.value == "undone"
    # a fresh announcement of the same version, previewed by an author in the console
    fresh = world.app.notices.draft("tiktok-mail", "author@corp.example", world.clock.now())
    assert author.post(f"/console/campaigns/{fresh.id}/preview").status_code == 303
    page = second.get(f"/console/campaigns/{fresh.id}").text
    assert second.post(f"/console/campaigns/{fresh.id}/approve", digest=digest_on(page))
    world.clock.advance(timedelta(minutes=11))
    world.app.notices.tick(world.clock.now())
    assert author.post(f"/console/campaigns/{fresh.id}/undo").status_code == 409  # too late
    progress = author.get(f"/console/campaigns/{fresh.id}").text
    assert "Waves released" in progress and "canary" in progress
    assert author.post(f"/console/campaigns/{fresh.id}/halt", reason="").status_code == 422
    assert author.post(f"/console/campaigns/{fresh.id}/halt", reason="checking").status_code == 303
    assert campaign(world, fresh.id).status.value == "halted"
    assert author.post(f"/console/campaigns/{fresh.id}/resume").status_code == 403  # role
    assert second.post(f"/console/campaigns/{fresh.id}/resume").status_code == 303
    retract = author.post(f"/console/campaigns/{fresh.id}/retract", reason="sent in error")
    correction = retract.headers["location"].split("?")[0].rsplit("/", 1)[1]
    c = campaign(world, correction)
    assert (c.kind.value, c.status.value, c.parent) == ("correction", "previewed", fresh.id)
    page = second.get(f"/console/campaigns/{correction}").text
    with world.app.store.read() as uow:
        told = sorted({n.employee for n in uow.campaigns.received(fresh.id)})
    assert told and all(e in page for e in told)
    assert author.post(f"/console/campaigns/{correction}/approve").status_code == 403  # role
    done = second.post(f"/console/campaigns/{correction}/approve", digest=digest_on(page))
    assert "done=approved" in done.headers["location"]
    assert campaign(world, fresh.id).status.value == "retracted"
