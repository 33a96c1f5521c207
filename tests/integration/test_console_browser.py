"""The console and the employee page in a real browser (Playwright driving Debian's Chromium)
against a real server, real SQLite and a real SMTP relay on loopback."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import CHROMIUM, chromium
from tests.support.console_app import PASSWORD, LiveServer, build_world
from tests.support.console_flow import employee_signs_in
from tests.support.smtp_sink import free_port, start_smtp

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is installed by ./run test"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    controller, sink = start_smtp()
    port = free_port()
    world = build_world(
        tmp_path_factory.mktemp("browser"),
        smtp_host="127.0.0.1",
        smtp_port=str(controller.port),
        smtp_starttls="false",
        console_url=f"http://127.0.0.1:{port}",
    )
    live = LiveServer(world, port)
    with chromium() as browser:
        yield world, live, sink, browser
    live.stop()
    controller.stop()
    world.app.close()


def sign_in(browser, live, role):
    page = browser.new_page()
    page.context.clear_cookies()
    page.goto(live.url + "/console/sign-in")
    page.get_by_label("E-mail").fill(f"{role}@corp.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live.url + "/console/")
    return page


def test_sign_in_rejects_a_wrong_password_then_accepts_the_right_one(site):
    _world, live, _sink, browser = site
    browser.clear_cookies()
    page = browser.new_page()
    page.goto(live.url + "/console/")
    assert "/console/sign-in" in page.url  # not signed in: sent to the sign-in page
    page.get_by_label("E-mail").fill("viewer@corp.example")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong e-mail or password."
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live.url + "/console/")
    assert page.get_by_role("heading", name="Overview").is_visible()
    page.close()


def test_overview_screenshot_and_keyboard(site, artifacts):
    _world, live, _sink, browser = site
    browser.clear_cookies()
    page = sign_in(browser, live, "admin")
    assert page.locator("svg.chart").count() >= 1
    assert "TikTok" in page.inner_text("main")
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    page.screenshot(path=str(artifacts / "console-overview.png"), full_page=True)
    page.goto(live.url + "/console/?lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"
    page.screenshot(path=str(artifacts / "console-overview-ar.png"), full_page=True)
    page.goto(live.url + "/console/?lang=en")
    page.close()


def test_policy_edit_preview_and_two_person_approval(site):
    world, live, _sink, browser = site
    browser.clear_cookies()
    page = sign_in(browser, live, "author")
    page.goto(live.url + "/console/policies/tiktok-mail/edit")
    editor = page.get_by_label("Policy (YAML)")
    source = editor.input_value()
    editor.fill(source.replace("after_deadline: block_mail", "after_deadline: sometimes"))
    page.wait_for_selector("#validation .problems")  # validation as you type
    assert "after_deadline" in page.inner_text("#validation")
    editor.fill(source.replace("2020-07-10T18:00", "2020-07-17T18:00"))
    page.wait_for_selector("#validation .valid")
    page.get_by_label("Why this change").fill("one more week for field staff")
    page.get_by_role("button", name="Propose and preview").click()
    page.wait_for_url(re.compile(r".*/console/proposals/pp-"))
    proposal_url = page.url.split("?")[0]
    assert "Who is affected" in page.inner_text("main")
    assert "deadline.at" in page.inner_text("main")
    # the author sees no approve button, and the server refuses a forged approval
    assert page.get_by_role("button", name="Approve and apply").count() == 0
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    forged = page.request.post(proposal_url + "/approve", form={"csrf": csrf})
    assert forged.status == 403
    page.close()
    # a viewer cannot approve either
    browser.clear_cookies()
    viewer = sign_in(browser, live, "viewer")
    viewer.goto(proposal_url)
    assert viewer.get_by_role("button", name="Approve and apply").count() == 0
    csrf = viewer.locator("input[name=csrf]").first.get_attribute("value")
    assert viewer.request.post(proposal_url + "/approve", form={"csrf": csrf}).status == 403
    viewer.close()
    # an approver (not the author) approves; version 2 is in force
    browser.clear_cookies()
    approver = sign_in(browser, live, "approver")
    approver.goto(proposal_url)
    approver.get_by_role("button", name="Approve and apply").click()
    # applied, and handed over to the campaign that announces it (nobody e-mailed yet)
    approver.wait_for_url(re.compile(r".*/console/campaigns/cmp-"))
    assert "Nobody has been e-mailed" in approver.inner_text("p.flash")
    approver.get_by_role("link", name="tiktok-mail").first.click()
    assert "Version 2" in approver.inner_text("main")
    with world.app.store.read() as uow:
        current = uow.policies.current("tiktok-mail")
    assert current.version.version == 2
    assert current.version.applied_by == "approver@corp.example"
    approver.close()


def employee_page(site, locale):
    world, live, sink, browser = site
    return employee_signs_in(browser, live.url, sink, world.employee_email, locale)


def test_employee_page_in_english(site, artifacts):
    world, _live, _sink, _browser = site
    page = employee_page(site, "en")
    text = page.inner_text("main")
    assert "My devices" in text
    assert ("Remove it by" in text and "PDT" in text) or "Time left" in text
    assert page.locator("[data-left]").count() >= 1
    page.screenshot(path=str(artifacts / "employee-page-en.png"), full_page=True)
    page.get_by_role("button", name="Check again now").first.click()
    page.wait_for_selector("p.flash")
    assert "Checked again" in page.inner_text("p.flash")
    summary = page.locator("summary", has_text="Ask for an exemption").first
    summary.click()
    form = page.locator("form[action='/me/exemption-requests']").first
    form.locator("input[name=reason]").fill("travel phone, IT is replacing it")
    form.locator("input[name=expires]").fill("2020-07-20")
    form.locator("button").click()
    page.wait_for_selector("p.flash")
    with world.app.store.read() as uow:
        asked = uow.exemption_requests.list("requested", None, 10)
    assert any(r.requested_by == world.employee_email for r in asked)
    page.close()


def test_employee_page_in_arabic_is_right_to_left(site, artifacts):
    page = employee_page(site, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    assert "أجهزتي" in page.inner_text("h1")
    assert page.locator("main bdi", has_text="TikTok").count() >= 1  # Latin names isolated
    # mirrored: the main navigation starts on the right
    box = page.locator("header .brand").bounding_box()
    assert box["x"] > 640
    page.screenshot(path=str(artifacts / "employee-page-ar.png"), full_page=True)
    page.close()


def test_reading_works_without_javascript(site):
    world, live, _sink, browser = site
    browser.clear_cookies()
    page = browser.new_page()
    page.route("**/*.js", lambda route: route.abort())  # no script at all
    page.goto(live.url + "/console/sign-in")
    page.get_by_label("E-mail").fill("viewer@corp.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live.url + "/console/")
    assert page.locator("svg.chart").count() >= 1  # the chart is server-rendered SVG
    page.goto(f"{live.url}/console/devices/{world.employee_device}")
    assert "Verdicts" in page.inner_text("main")
    page.goto(f"{live.url}/console/devices?q=dev-")
    assert page.locator("tbody tr").count() >= 2
    page.close()
