"""An employee attests for a device whose apps cannot be seen, in a real browser (Debian's
Chromium through Playwright), on a real server, real SQLite and a real SMTP relay on loopback.

Enforcement is armed the way production arms it, not by switching it off: the scenario's
campaign is approved by a second person and its notices leave through the relay, which arms the
announced blocks (`enforcement_requires_notice` stays on). The clock then passes the deadline and
the server re-assesses, as `serve` does on its schedule. The device's mail is denied; attesting
allows it at once; withdrawing denies it again, in English and in Arabic (right to left)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.core.timeutil import parse_instant
from appwarden.services.notices import Actor
from tests.support.browser import CHROMIUM, chromium
from tests.support.console_app import LiveServer, build_world
from tests.support.console_flow import SECOND_APPROVER, add_second_approver, employee_signs_in
from tests.support.smtp_sink import free_port, start_smtp

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is installed by ./run test"
)

AFTER_DEADLINE = parse_instant("2020-07-11T01:00:01Z")  # 18:00 Pacific on 10 July, plus 1 s


def announce(world, owner: str) -> None:
    """Approve the scenario's campaign (a second person) and send it until `owner` is told."""
    app = world.app
    add_second_approver(world)
    cid = app.notices.list_campaigns("tiktok-mail")[-1].id
    preview = app.notices.preview(cid, "author@corp.example", world.clock.now())
    assert app.notices.approve(cid, Actor(SECOND_APPROVER, True), world.clock.now(), preview.digest)
    for _ in range(12):
        world.clock.advance(timedelta(minutes=65))
        app.notices.tick(world.clock.now())
        with app.store.read() as uow:
            told = {n.employee for n in uow.campaigns.notices(cid, None) if n.state.value == "sent"}
        if owner in told:
            return
    raise AssertionError(f"{owner} was never told")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    controller, sink = start_smtp()
    port = free_port()
    world = build_world(
        tmp_path_factory.mktemp("attest-browser"),
        smtp_host="127.0.0.1",
        smtp_port=str(controller.port),
        smtp_starttls="false",
        console_url=f"http://127.0.0.1:{port}",
        campaign_canary="2",
        campaign_waves="1",
    )
    assert world.app.settings.flag("enforcement_requires_notice")  # armed by notices, below
    device = world.unseen_device
    owner = world.app.engine.fleet.facts(device).device.owner
    announce(world, owner)
    assert effect(world, device) == "allow"  # told, but the deadline has not passed
    world.clock.instant = AFTER_DEADLINE
    world.app.engine.assess(AFTER_DEADLINE, "schedule", "test")
    live = LiveServer(world, port)
    with chromium() as browser:
        yield world, live, sink, browser, device, owner
    live.stop()
    controller.stop()
    world.app.close()


def effect(world, device: str) -> str:
    """What a mail gateway is told for the device now (the in-memory decision index)."""
    return world.app.engine.decide("device", device, world.clock.now()).outcome.effect.value


def section(page, device: str):
    return page.locator("section.device").filter(has=page.locator(f"input[value='{device}']"))


def test_attest_then_withdraw_in_english(site):
    world, live, sink, browser, device, owner = site
    assert effect(world, device) == "deny"  # announced, deadline passed, nobody confirmed
    page = employee_signs_in(browser, live.url, sink, owner, "en")
    mine = section(page, device)
    assert "mail blocked" in mine.inner_text()
    assert "comes with the inventory update" not in page.inner_text("main")
    statement = mine.locator("blockquote.statement").inner_text()
    assert statement.startswith("None of these apps is installed on ")
    assert statement.endswith(": TikTok, TikTok Lite.")
    # the box is required: the browser will not submit without it
    assert mine.locator("input[name=confirm]:invalid").count() == 1
    mine.get_by_role("button", name="Confirm and sign").click()
    assert page.url == live.url + "/me" and effect(world, device) == "deny"
    mine.get_by_label("I confirm that this statement is true").check()
    mine.get_by_role("button", name="Confirm and sign").click()
    page.wait_for_url(live.url + "/me?done=attested")
    assert effect(world, device) == "allow"  # at once, no re-assessment needed
    mine = section(page, device)
    kept = mine.locator("p.kept").inner_text()
    assert kept.startswith("Mail access is kept until") and "2020" in kept
    assert "mail allowed" in mine.inner_text()
    assert mine.locator("table.attestations").get_by_text("valid").count() == 1
    mine.get_by_role("button", name="Withdraw").click()
    page.wait_for_url(live.url + "/me?done=withdrawn")
    assert effect(world, device) == "deny"
    assert "mail blocked" in section(page, device).inner_text()
    page.close()


def test_attest_then_withdraw_in_arabic_right_to_left(site, artifacts):
    world, live, sink, browser, device, owner = site
    assert effect(world, device) == "deny"
    page = employee_signs_in(browser, live.url, sink, owner, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    mine = section(page, device)
    form = mine.locator("form.attest")
    statement = form.locator("blockquote.statement")
    assert statement.inner_text().startswith("لا يوجد على ")
    assert statement.locator("bdi", has_text="TikTok Lite").count() == 1  # Latin names isolated
    # mirrored: the checkbox sits to the right of its label, the quote's rule on the right
    box = form.locator("input[type=checkbox]").bounding_box()
    label = form.locator("p.check label").bounding_box()
    assert box["x"] > label["x"]
    quote = statement.evaluate("e => getComputedStyle(e).borderRightWidth")
    assert quote == "4px"
    form.scroll_into_view_if_needed()
    form.screenshot(path=str(artifacts / "employee-attest-form-ar.png"))
    page.screenshot(path=str(artifacts / "employee-attest-ar.png"), full_page=True)
    form.get_by_label("أؤكّد أن هذا الإقرار صحيح").check()
    form.get_by_role("button", name="أؤكّد وأوقّع").click()
    page.wait_for_url(live.url + "/me?done=attested")
    assert effect(world, device) == "allow"
    mine = section(page, device)
    assert "يبقى الوصول إلى البريد متاحًا حتى" in mine.locator("p.kept").inner_text()
    assert "البريد مسموح" in mine.inner_text()
    with world.app.store.read() as uow:
        [att] = [a for a in uow.attestations.for_device(device) if a.revoked_at is None]
    assert att.statement.startswith("لا يوجد على ") and att.employee == owner
    mine.get_by_role("button", name="سحب").click()
    page.wait_for_url(live.url + "/me?done=withdrawn")
    assert effect(world, device) == "deny"
    page.close()
