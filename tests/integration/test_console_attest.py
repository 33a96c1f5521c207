"""Attesting on the employee page over HTTP, on a real server and real SQLite: only the device's
owner, only with the box ticked, only with the CSRF token; the words signed are the words shown;
withdrawing is one's own; the admin device page shows who attested, when and until when."""

from __future__ import annotations

import re

import pytest

from tests.support.console_app import LiveServer, build_world
from tests.support.console_flow import As

POLICY = "tiktok-mail"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("attest"))
    live = LiveServer(world)
    yield world, live
    live.stop()
    world.app.close()


@pytest.fixture
def people(site):
    """The owner of a device whose apps cannot be seen, and someone else (owner of a device
    where TikTok is seen)."""
    world, live = site
    owner = world.app.engine.fleet.facts(world.unseen_device).device.owner
    assert owner and owner != world.employee_email
    me = As(world, live.url, owner, "employee")
    other = As(world, live.url, world.employee_email, "employee")
    for who in (me, other):
        who.client.cookies.set("aw_lang", "en")  # people have their own; the tests choose
    yield world, me, other
    for who in (me, other):
        for att, _valid in world.app.attestations.for_device(world.unseen_device):
            if att.revoked_at is None:
                world.app.attestations.revoke(att.id, "test", "clean up", world.clock.now())
        who.close()


def attestations(world):
    return [a for a, _ in world.app.attestations.for_device(world.unseen_device)]


def verdict(world):
    return world.app.engine.device_verdicts(world.unseen_device)[0]


def test_the_page_offers_the_statement_instead_of_the_old_promise(people):
    world, me, _other = people
    page = me.get("/me")
    assert page.status_code == 200
    assert "comes with the inventory update" not in page.text
    form = page.text[page.text.index('action="/me/attestations"') :]
    assert f'name="device" value="{world.unseen_device}"' in form
    assert 'name="confirm" value="yes" required' in form
    assert re.search(r"None of these apps is installed on <bdi>.+?</bdi>: <bdi>TikTok</bdi>", form)


def test_someone_elses_device_is_refused(people):
    world, _me, other = people
    forged = other.post(
        "/me/attestations", device=world.unseen_device, policy=POLICY, confirm="yes"
    )
    assert forged.status_code == 403, forged.text[:300]
    missing = other.post("/me/attestations", device="no-such-device", policy=POLICY, confirm="yes")
    assert missing.status_code == 403  # no oracle: an unknown device reads like someone else's
    assert attestations(world) == []
    assert verdict(world).status.value == "unknown"


def test_the_box_must_be_ticked(people):
    world, me, _other = people
    response = me.post("/me/attestations", device=world.unseen_device, policy=POLICY)
    assert response.status_code == 422
    assert "<code>confirm</code>" in response.text and "tick the box" in response.text
    no_policy = me.post("/me/attestations", device=world.unseen_device, confirm="yes")
    assert no_policy.status_code == 422 and "<code>policy</code>" in no_policy.text
    assert attestations(world) == []


def test_without_the_csrf_token_nothing_is_signed(people):
    world, me, _other = people
    form = {"device": world.unseen_device, "policy": POLICY, "confirm": "yes"}
    assert me.client.post("/me/attestations", data=form).status_code == 403
    forged = me.client.post("/me/attestations", data=form | {"csrf": "forged"})
    assert forged.status_code == 403
    assert attestations(world) == []


def test_a_device_whose_apps_are_seen_is_not_attested(people):
    world, _me, other = people
    seen = other.post(
        "/me/attestations", device=world.employee_device, policy=POLICY, confirm="yes"
    )
    assert seen.status_code == 409
    assert world.app.attestations.for_device(world.employee_device) == []


def test_attest_shows_the_expiry_then_withdraw(people):
    world, me, other = people
    signed = me.post("/me/attestations", device=world.unseen_device, policy=POLICY, confirm="yes")
    assert signed.status_code == 303 and signed.headers["location"] == "/me?done=attested"
    [att] = attestations(world)
    name = world.app.engine.fleet.facts(world.unseen_device).device.name
    assert att.statement == f"None of these apps is installed on {name}: TikTok, TikTok Lite."
    assert att.employee == me_email(world)
    assert att.expires_at - att.signed_at == world.app.settings.duration("attestation_ttl")
    assert (verdict(world).status.value, verdict(world).until) == ("compliant", att.expires_at)
    page = me.get("/me?done=attested").text
    assert "Mail access is kept until" in page and "July 31, 2020" in page
    assert f'action="/me/attestations/{att.id}/withdraw"' in page
    # the admin device page: who, when, until
    admin = As(world, me.client.base_url, "admin@corp.example")
    device_page = admin.get(f"/console/devices/{world.unseen_device}").text
    admin.close()
    row = device_page[device_page.index(f'<tr id="{att.id}">') :].split("</tr>")[0]
    assert me_email(world) in row and "July 1, 2020" in row and "July 31, 2020" in row
    # someone else cannot withdraw it; the owner can
    assert other.post(f"/me/attestations/{att.id}/withdraw").status_code == 403
    assert me.client.post(f"/me/attestations/{att.id}/withdraw").status_code == 403  # no CSRF
    assert verdict(world).status.value == "compliant"
    withdrawn = me.post(f"/me/attestations/{att.id}/withdraw")
    assert withdrawn.status_code == 303 and withdrawn.headers["location"] == "/me?done=withdrawn"
    assert verdict(world).status.value == "unknown"
    assert me.post(f"/me/attestations/{att.id}/withdraw").status_code == 409  # already
    with world.app.store.read() as uow:
        events = [e.body for e in uow.audit.events()][-10:]
    revoked = [e for e in events if e["type"] == "attestation_revoked"]
    assert revoked and revoked[-1]["actor"] == me_email(world)


def test_the_statement_is_signed_in_the_language_of_the_page(people):
    world, me, _other = people
    me.client.cookies.set("aw_lang", "ar")
    page = me.get("/me").text
    assert 'dir="rtl"' in page and "لا يوجد على <bdi>" in page
    signed = me.post("/me/attestations", device=world.unseen_device, policy=POLICY, confirm="yes")
    assert signed.status_code == 303
    [att] = [a for a in attestations(world) if a.revoked_at is None]
    assert att.statement.startswith("لا يوجد على ") and "TikTok" in att.statement
    assert "يبقى الوصول إلى البريد متاحًا حتى" in me.get("/me").text


def me_email(world) -> str:
    return world.app.engine.fleet.facts(world.unseen_device).device.owner
