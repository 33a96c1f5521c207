"""Helpers for console tests: a signed-in HTTP client per account, an employee signed in through
the mailed link in a real browser, and the policy change that starts the campaign flow (one more
week for the scenario policy)."""

from __future__ import annotations

import re

import httpx

from appwarden.services.accounts import save_account
from appwarden.services.signin import open_session
from tests.support.builders import T0
from tests.support.console_app import ConsoleWorld, scenario_source

SECOND_APPROVER = "approver2@corp.example"
ONE_MORE_WEEK = scenario_source().replace("2020-07-10T18:00", "2020-07-17T18:00")


def add_second_approver(world: ConsoleWorld) -> None:
    with world.app.store.unit_of_work() as uow:
        if uow.accounts.get(SECOND_APPROVER) is None:
            save_account(uow, SECOND_APPROVER, "approver", "setup", T0, "Second Approver")


class As:
    """An HTTP client signed in as one account (or one employee), with its CSRF token."""

    def __init__(self, world: ConsoleWorld, url: str, email: str, kind: str = "account") -> None:
        self.client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
        ttl = world.app.settings.duration("session_ttl")
        with world.app.store.unit_of_work() as uow:
            secret, session = open_session(uow, kind, email, world.clock.now(), ttl)
        self.client.cookies.set("aw_me" if kind == "employee" else "aw_console", secret)
        self.csrf = session.csrf_token

    def get(self, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.get(path, **kw)

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.client.post(path, data={"csrf": self.csrf, **data})

    def close(self) -> None:
        self.client.close()


def employee_signs_in(browser, base_url: str, sink, email: str, locale: str):  # type: ignore[no-untyped-def]
    """A fresh page signed in on /me through the e-mailed single-use link (a real relay's sink)."""
    browser.clear_cookies()
    page = browser.new_page()
    page.goto(f"{base_url}/me/sign-in?lang={locale}")
    before = len(sink.messages)
    page.locator("#email").fill(email)
    page.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash")
    assert len(sink.messages) == before + 1
    mail = sink.messages[-1]
    assert mail["To"] == email
    body = mail.get_payload()[0].get_payload(decode=True).decode()
    link = re.search(r"http://\S+/me/link\?token=\S+", body).group(0)  # type: ignore[union-attr]
    page.goto(link)
    page.locator("form[action='/me/link'] button").click()
    page.wait_for_url(base_url + "/me")
    # the link is single-use
    assert httpx.get(link, timeout=10).status_code == 410
    return page


def propose_and_apply(author: As, approver: As, source: str = ONE_MORE_WEEK) -> str:
    """The console's policy flow up to the hand-over; returns the drafted campaign's id."""
    made = author.post("/console/proposals", source=source, reason="one more week for field staff")
    assert made.status_code == 303, made.text[:500]
    proposal = made.headers["location"].split("?")[0]
    applied = approver.post(proposal + "/approve")
    assert applied.status_code == 303, applied.text[:500]
    location = applied.headers["location"]
    assert "done=applied_campaign" in location, location
    return re.search(r"/console/campaigns/([\w-]+)", location).group(1)  # type: ignore[union-attr]


def digest_on(page: str) -> str:
    match = re.search(r'name="digest" value="([0-9a-f]{64})"', page)
    assert match, "no approve form on the page"
    return match.group(1)
