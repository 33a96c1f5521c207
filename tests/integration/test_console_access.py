"""Every console route x every role, on the server: allowed or refused, never by hiding a button."""

from __future__ import annotations

import httpx
import pytest

from appwarden.entrypoints.console import PAGES
from appwarden.entrypoints.console.web import ACCESS_LEVELS, EMPLOYEE, PUBLIC
from appwarden.services.access import role_allows
from appwarden.services.signin import open_session
from tests.support.console_app import ROLES, ConsoleWorld, LiveServer, build_world

WHO = ("anonymous", EMPLOYEE, *ROLES)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("access"))
    w.live = LiveServer(w)
    w.clients = []
    yield w
    w.live.stop()
    w.app.close()


@pytest.fixture(autouse=True)
def close_clients(world):
    yield
    for client in world.clients:
        client.close()
    world.clients.clear()


def allowed(access: str, who: str) -> bool:
    if access == PUBLIC:
        return True
    if access == EMPLOYEE:
        return who == EMPLOYEE
    return who in ROLES and role_allows(who, access)


def client_as(world: ConsoleWorld, who: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=world.live.url, follow_redirects=False, timeout=30)
    world.clients.append(client)
    if who == "anonymous":
        client.cookies.set("aw_csrf", "anon-csrf-token")
        return client, "anon-csrf-token"
    ttl = world.app.settings.duration("session_ttl")
    with world.app.store.unit_of_work() as uow:
        if who == EMPLOYEE:
            secret, session = open_session(
                uow, "employee", world.employee_email, world.clock.now(), ttl
            )
        else:
            secret, session = open_session(uow, "account", world.email(who), world.clock.now(), ttl)
    client.cookies.set("aw_me" if who == EMPLOYEE else "aw_console", secret)
    client.cookies.set("aw_csrf", "anon-csrf-token")  # what a browser holds outside its session
    return client, session.csrf_token


def concrete(world: ConsoleWorld, path: str) -> str:
    if path.startswith("/console/campaigns/{id}"):
        # a real campaign (the scenario's draft), so allowed roles reach the handler's own
        # checks: a step that does not fit the campaign's state is a 409 or 422, never a 403
        path = path.replace("{id}", world.app.notices.list_campaigns("tiktok-mail")[-1].id)
    return (
        path.replace("{slug}", "tiktok-mail")
        .replace("{key}", world.employee_device)
        .replace("{email}", world.employee_email)
        .replace("{id}", "no-such-id")
        .replace("{sample}", "en.announce")
        .replace("{token}", "no-such-token")
    )


def test_every_page_declares_a_known_access_level():
    assert PAGES
    for page in PAGES:
        assert page.access in ACCESS_LEVELS, page


def test_every_console_route_is_in_the_table(world):
    declared = {(p.method, p.path) for p in PAGES}
    for route in world.asgi().routes:
        path = getattr(route, "path", "")
        if path.startswith(("/console/", "/me")) and path != "/console/static/{name}":
            for method in route.methods - {"HEAD"}:
                assert (method, path) in declared, (method, path)


@pytest.mark.parametrize("who", WHO)
def test_each_route_for_each_role(world, who):
    outcomes = []
    for page in PAGES:
        client, csrf = client_as(world, who)
        url = concrete(world, page.path)
        if (who == EMPLOYEE) != page.path.startswith("/me"):
            # an account session does not reach /me, nor an employee session the console:
            # there the browser holds only its pre-session token
            csrf = "anon-csrf-token"
        if page.method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf": csrf, "device": world.employee_device})
        signed_in_redirect = (
            response.status_code == 303
            and "sign-in" in response.headers.get("location", "")
            and page.method == "GET"
            and page.access != PUBLIC
        )
        refused = response.status_code in (401, 403) or signed_in_redirect
        if page.path.endswith("/sign-in") and page.method == "POST":
            refused = response.status_code == 403  # a wrong password is a 401, not a refusal
        expected = not allowed(page.access, who)
        if expected and who in ROLES and page.access in ROLES:  # signed in, too low a role
            assert response.status_code == 403, (page.method, url, response.status_code)
        outcomes.append((page.method, page.path, response.status_code, refused, expected))
        assert response.status_code != 500, (page.method, url, response.text[:500])
    wrong = [o for o in outcomes if o[3] != o[4]]
    assert not wrong, wrong


def test_the_table_covers_the_campaign_pages(world):
    declared = {(p.method, p.path): p.access for p in PAGES}
    assert declared[("POST", "/console/campaigns/{id}/approve")] == "approver"
    assert declared[("POST", "/console/campaigns/{id}/resume")] == "approver"
    for step in ("preview", "halt", "undo", "retract"):
        assert declared[("POST", f"/console/campaigns/{{id}}/{step}")] == "author"
    assert declared[("GET", "/verify/{token}")] == PUBLIC


def test_the_table_covers_the_attestation_pages(world):
    declared = {(p.method, p.path): p.access for p in PAGES}
    assert declared[("POST", "/me/attestations")] == EMPLOYEE
    assert declared[("POST", "/me/attestations/{id}/withdraw")] == EMPLOYEE


@pytest.mark.parametrize("step", ["approve", "preview", "halt", "resume", "undo", "retract"])
def test_campaign_steps_need_the_csrf_token(world, step):
    client, _csrf = client_as(world, "admin")
    cid = world.app.notices.list_campaigns("tiktok-mail")[-1].id
    response = client.post(f"/console/campaigns/{cid}/{step}", data={"reason": "x"})
    assert response.status_code == 403
    response = client.post(
        f"/console/campaigns/{cid}/{step}", data={"reason": "x", "csrf": "forged"}
    )
    assert response.status_code == 403


def test_post_without_csrf_is_refused_even_for_admin(world):
    client, _csrf = client_as(world, "admin")
    response = client.post("/console/tokens", data={"name": "x", "role": "viewer"})
    assert response.status_code == 403
    assert "another site" in response.text
    response = client.post(
        "/console/tokens", data={"name": "x", "role": "viewer", "csrf": "forged"}
    )
    assert response.status_code == 403


def test_post_from_another_origin_is_refused(world):
    client, csrf = client_as(world, "admin")
    response = client.post(
        "/console/tokens",
        data={"name": "x", "role": "viewer", "csrf": csrf},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_api_accepts_a_console_session_with_its_role(world):
    viewer, _ = client_as(world, "viewer")
    assert viewer.get("/v1/policies").status_code == 200
    assert viewer.post("/v1/assessments").status_code in (401, 403)
    admin, csrf = client_as(world, "admin")
    assert admin.post("/v1/assessments").status_code == 401  # no X-CSRF-Token
    ok = admin.post("/v1/assessments", headers={"x-csrf-token": csrf})
    assert ok.status_code == 200, ok.text
    employee, _ = client_as(world, EMPLOYEE)
    assert employee.get("/v1/policies").status_code == 401


def test_employee_session_does_not_open_the_console(world):
    employee, _ = client_as(world, EMPLOYEE)
    secret = employee.cookies.get("aw_me")
    employee.cookies.clear()
    employee.cookies.set("aw_console", secret)
    response = employee.get("/console/")
    assert response.status_code == 303
