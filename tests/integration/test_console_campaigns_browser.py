"""The whole policy-to-notice flow in a real browser (Debian's Chromium through Playwright), on a
real server, real SQLite and a real SMTP relay on loopback (aiosmtpd with STARTTLS and AUTH):

policy edit -> proposal -> approval (which applies it and drafts the campaign; nobody is mailed)
-> the campaign's preview with sample notices in English and Arabic -> a viewer and the author
cannot approve (not even with a forged POST) -> a second approver approves -> canary and wave
reach the relay -> retract -> the correction reaches exactly the same people."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from appwarden.services.signin import set_password
from tests.support.browser import CHROMIUM, chromium
from tests.support.builders import T0
from tests.support.console_app import PASSWORD, LiveServer, build_world
from tests.support.console_flow import SECOND_APPROVER, add_second_approver
from tests.support.notice_smtp import start_sink
from tests.support.smtp_sink import free_port

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is installed by ./run test"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("campaign-browser")
    sink = start_sink(tmp)
    port = free_port()
    world = build_world(
        tmp,
        smtp_host="127.0.0.1",
        smtp_port=str(sink.port),
        smtp_username=sink.user,
        smtp_password=sink.password,
        smtp_ca_file=str(sink.ca_file),
        campaign_canary="2",
        campaign_waves="1",
        console_url=f"http://127.0.0.1:{port}",
    )
    add_second_approver(world)
    with world.app.store.unit_of_work() as uow:
        set_password(uow, world.app.passwords, SECOND_APPROVER, PASSWORD, "setup", T0)
    live = LiveServer(world, port)
    with chromium() as browser:
        yield world, live, sink, browser
    live.stop()
    sink.stop()
    world.app.close()


def sign_in(browser, live, email):
    browser.clear_cookies()
    page = browser.new_page()
    page.goto(live.url + "/console/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live.url + "/console/")
    return page


def send_due(world, rounds=4):
    """What `serve` does every notice_interval, with the clock moved past each wait."""
    for _ in range(rounds):
        world.clock.advance(timedelta(minutes=65))
        world.app.notices.tick(world.clock.now())


def screenshot(page, path):
    """Full page, with the sample frames painted (they render out of process: bring them into
    view once, or Chromium leaves them blank in a full-page capture)."""
    page.wait_for_load_state("networkidle")
    page.locator("#samples-h").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)


def forged_approve(page, url, digest):
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    return page.request.post(url + "/approve", form={"csrf": csrf, "digest": digest}).status


def test_policy_change_to_notices_and_their_retraction(site, artifacts):
    world, live, sink, browser = site
    # an author proposes a change in the editor
    author = sign_in(browser, live, "author@corp.example")
    author.goto(live.url + "/console/policies/tiktok-mail/edit")
    editor = author.get_by_label("Policy (YAML)")
    editor.fill(editor.input_value().replace("2020-07-10T18:00", "2020-07-17T18:00"))
    author.wait_for_selector("#validation .valid")
    author.get_by_label("Why this change").fill("one more week for field staff")
    author.get_by_role("button", name="Propose and preview").click()
    author.wait_for_url(re.compile(r".*/console/proposals/pp-"))
    proposal_url = author.url.split("?")[0]
    author.close()

    # an approver approves it: applied, campaign drafted and previewed, nobody e-mailed
    approver = sign_in(browser, live, "approver@corp.example")
    approver.goto(proposal_url)
    approver.get_by_role("button", name="Approve and apply").click()
    approver.wait_for_url(re.compile(r".*/console/campaigns/cmp-"))
    campaign_url = approver.url.split("?")[0]
    cid = campaign_url.rsplit("/", 1)[1]
    assert "Nobody has been e-mailed" in approver.inner_text("p.flash")
    assert sink.handler.messages == []
    en = approver.frame_locator("iframe[src$='/samples/en.announce']").locator("body")
    ar = approver.frame_locator("iframe[src$='/samples/ar.announce']").locator("body")
    assert "lose access to company mail" in en.inner_text() and "TikTok" in en.inner_text()
    assert "الوصول إلى بريد الشركة" in ar.inner_text() and "TikTok" in ar.inner_text()
    assert approver.locator("svg.chart.bars").count() >= 5  # four dimensions + loss by day
    assert approver.get_by_role("button", name="Approve and send").count() == 0  # drafted it
    digest = world.app.notices.status(cid)["campaign"].previewed_digest
    assert forged_approve(approver, campaign_url, digest) == 403
    screenshot(approver, artifacts / "console-campaign-preview-en.png")
    approver.goto(campaign_url + "?lang=ar")
    assert approver.get_attribute("html", "dir") == "rtl"
    assert "الوصول إلى بريد الشركة" in ar.inner_text()
    screenshot(approver, artifacts / "console-campaign-preview-ar.png")
    approver.goto(campaign_url + "?lang=en")
    approver.close()

    # a viewer and the proposal's author see no approve button; the server refuses them too
    for email in ("viewer@corp.example", "author@corp.example"):
        page = sign_in(browser, live, email)
        page.goto(campaign_url)
        assert page.get_by_role("button", name="Approve and send").count() == 0
        assert forged_approve(page, campaign_url, digest) == 403
        page.close()
    assert sink.handler.messages == []

    # a second approver approves exactly what was previewed
    second = sign_in(browser, live, SECOND_APPROVER)
    second.goto(campaign_url)
    second.get_by_role("button", name="Approve and send").click()
    second.wait_for_selector("p.flash")
    assert "undo window" in second.inner_text("p.flash")
    assert sink.handler.messages == []  # nothing leaves inside the undo window
    send_due(world)
    status = world.app.notices.status(cid)
    told = sorted(sink.handler.recipients)
    assert len(told) == status["campaign"].recipients == status["notices"]["sent"]
    assert len(set(told)) == len(told)  # one message each, no duplicates
    second.goto(campaign_url)
    assert "Waves released" in second.inner_text("main")
    assert second.locator("svg.chart.bars").count() >= 1
    second.close()

    # the author retracts; a second approver approves the correction
    author = sign_in(browser, live, "author@corp.example")
    author.goto(campaign_url)
    author.get_by_label("Why retract (the correction says so)").fill("sent in error")
    author.get_by_role("button", name="Retract").click()
    author.wait_for_url(re.compile(r".*/console/campaigns/ret-"))
    correction_url = author.url.split("?")[0]
    assert "sent in error" in author.inner_text("main")
    assert author.get_by_role("button", name="Approve the retraction").count() == 0
    author.close()
    second = sign_in(browser, live, SECOND_APPROVER)
    second.goto(correction_url)
    second.get_by_role("button", name="Approve the retraction").click()
    second.wait_for_selector("p.flash")
    before = len(sink.handler.messages)
    send_due(world, rounds=1)
    corrections = sink.handler.messages[before:]
    assert sorted(a for m in corrections for a in m.rcpt_tos) == told  # exactly the same people
    subjects = {str(m.message["Subject"]) for m in corrections}
    assert all("Correction" in s or "تصحيح" in s for s in subjects)

    # the link in an original notice now says it was withdrawn
    original = next(m for m in sink.handler.messages[:before] if m.rcpt_tos == [told[0]])
    text = original.message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/verify/[\w-]+", text).group(0)
    second.goto(link + "?lang=en")
    assert "withdrawn" in second.inner_text("main")
    second.close()
