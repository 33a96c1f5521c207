"""The public notice check (/verify/{token}) and the employee page's way to it (/me/notice)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from appwarden.entrypoints.rate_limit import ClientLimiter
from appwarden.services.notices import Actor
from tests.support.console_app import LiveServer, build_world
from tests.support.console_flow import SECOND_APPROVER, add_second_approver

LIMIT = 12


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """The scenario's announcement, approved and its canary sent (to the file sink)."""
    world = build_world(tmp_path_factory.mktemp("verify"), verify_per_minute=str(LIMIT))
    add_second_approver(world)
    app, now = world.app, world.clock.now()
    cid = app.notices.list_campaigns("tiktok-mail")[-1].id
    preview = app.notices.preview(cid, "setup", now)
    assert app.notices.approve(cid, Actor(SECOND_APPROVER, True), now, preview.digest).ok
    world.clock.advance(timedelta(minutes=11))
    app.notices.tick(world.clock.now())
    with app.store.read() as uow:
        notice = next(n for n in uow.campaigns.notices(cid, None) if n.state.value == "sent")
        person = uow.inventory.employee(notice.employee)
    live = LiveServer(world)
    yield world, live, cid, notice, person
    live.stop()
    app.close()


def fresh(live, **headers):
    return httpx.Client(base_url=live.url, follow_redirects=False, timeout=30, headers=headers)


def test_a_genuine_notice_in_its_own_language_and_nothing_personal(sent):
    _world, live, _cid, notice, person = sent
    with fresh(live) as client:
        page = client.get(f"/verify/{notice.token}")
    assert page.status_code == 200
    text = page.text
    assert "Genuine, and still in force." in text or "حقيقي" in text
    assert ('dir="rtl"' in text) == (notice.locale == "ar")  # the notice's language by default
    assert "security@corp.example" in text and "tiktok-mail" in text
    for private in (notice.employee, person.name, *notice.data.get("devices", [{}])[0].values()):
        if isinstance(private, str) and len(private) > 3 and private not in ("android", "ios"):
            assert private not in text, private
    with fresh(live) as client:
        english = client.get(f"/verify/{notice.token}?lang=en").text
        arabic = client.get(f"/verify/{notice.token}?lang=ar").text
        as_json = client.get(f"/verify/{notice.token}?format=json").json()
    assert "Genuine, and still in force." in english and 'dir="ltr"' in english
    assert 'dir="rtl"' in arabic and "<bdi>security@corp.example</bdi>" in arabic
    assert as_json["status"] == "active" and notice.employee not in str(as_json)


def test_unknown_links_and_the_api_route(sent):
    _world, live, _cid, notice, _person = sent
    with fresh(live) as client:
        forged = client.get("/verify/AAAAAAAAAAAAAAAAAAAAAAAA")
        silly = client.get("/verify/" + "x" * 300)
        browser = client.get(f"/v1/verify/{notice.token}", headers={"accept": "text/html"})
        api = client.get(f"/v1/verify/{notice.token}", headers={"accept": "application/json"})
    assert forged.status_code == 404 and "not issued by AppWarden" in forged.text
    assert silly.status_code == 404
    assert browser.status_code == 303 and browser.headers["location"] == f"/verify/{notice.token}"
    assert api.json()["status"] == "active"


def test_me_notice_takes_the_pasted_link_or_its_code(sent):
    world, live, _cid, notice, _person = sent
    link = world.app.notices.config.verify_url + notice.token
    assert link.endswith(f"/verify/{notice.token}")  # notice_verify_url: <console_url>/verify/
    with fresh(live) as client:
        for pasted in (link, f"  {link}?utm=x ", notice.token):
            answer = client.get("/me/notice", params={"token": pasted})
            assert answer.status_code == 303, pasted
            assert answer.headers["location"] == f"/verify/{notice.token}"
        bad = client.get("/me/notice", params={"token": "https://evil.example/phish"})
        empty = client.get("/me/notice")
    assert bad.status_code == 422 and "<code>token</code>" in bad.text and "fix:" in bad.text
    assert empty.status_code == 200 and 'name="token"' in empty.text


def test_checks_are_limited_per_client_address(sent):
    _world, live, _cid, notice, _person = sent
    codes = []
    with fresh(live) as client:
        for _ in range(LIMIT + 3):
            codes.append(client.get(f"/verify/{notice.token}?lang=en").status_code)
        last = client.get(f"/verify/{notice.token}")
    assert 429 in codes and codes.count(200) <= LIMIT
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
    assert "Too many checks" in last.text


def test_limiter_window_slides_and_memory_is_bounded():
    now = [0.0]
    limiter = ClientLimiter(2, max_clients=3, clock=lambda: now[0])
    assert limiter.allow("a") == 0 and limiter.allow("a") == 0
    assert limiter.allow("a") == pytest.approx(60.0)
    now[0] = 30.0
    assert limiter.allow("b") == 0 and limiter.allow("a") == pytest.approx(30.0)
    now[0] = 60.5
    assert limiter.allow("a") == 0  # the first two fell out of the window
    for client in ("c", "d", "e", "f"):
        limiter.allow(client)
    assert len(limiter.seen) <= 3
    assert ClientLimiter(0).allow("anyone") == 0  # 0 means no limit
