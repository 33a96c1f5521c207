"""The campaign API: roles checked on the server, and the public notice page."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from appwarden.adapters.clock import FixedClock
from appwarden.bootstrap import build
from appwarden.entrypoints.api.admin import create_api
from appwarden.services.access import create_token
from appwarden.settings import Settings
from tests.support.builders import T0
from tests.support.notices import TIKTOK, apply, fleet


class Client:
    """A synchronous face over httpx's in-process ASGI transport."""

    def __init__(self, asgi) -> None:
        self.asgi = asgi

    def _call(self, method, url, **kw):
        async def go():
            transport = httpx.ASGITransport(app=self.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://aw") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    def get(self, url, **kw):
        return self._call("GET", url, **kw)

    def post(self, url, **kw):
        return self._call("POST", url, **kw)


@pytest.fixture
def api(tmp_path):
    settings = Settings.load({"home": str(tmp_path)}, env={})
    app = build(settings, FixedClock(T0))
    fleet(
        app.engine,
        [
            ("p0@corp.example", "ar", "Asia/Riyadh", [f"d0:{TIKTOK}"]),
            ("p1@corp.example", "en", "UTC", [f"d1:{TIKTOK}"]),
        ],
    )
    apply(app.engine)
    tokens = {}
    with app.store.unit_of_work() as uow:
        for role in ("viewer", "author", "approver"):
            tokens[role] = create_token(uow, f"{role}-tok", role, "admin", T0)[1]
        tokens["approver2"] = create_token(uow, "second", "approver", "admin", T0)[1]
    yield app, Client(create_api(app)), tokens
    app.close()


def h(token):
    return {"authorization": f"Bearer {token}"}


def test_roles_are_checked_on_the_server(api):
    _app, client, tokens = api
    assert client.get("/v1/campaigns").status_code == 401
    [c] = client.get("/v1/campaigns", headers=h(tokens["viewer"])).json()
    cid = c["id"]
    assert (
        client.post(f"/v1/campaigns/{cid}/preview", headers=h(tokens["viewer"])).status_code == 403
    )
    preview = client.post(f"/v1/campaigns/{cid}/preview", headers=h(tokens["author"])).json()
    assert preview["people"] == 2 and set(preview["locales"]) == {"ar", "en"}
    assert "ar/announce" in preview["samples"]
    body = {"digest": preview["digest"]}
    r = client.post(f"/v1/campaigns/{cid}/approve", headers=h(tokens["author"]), json=body)
    assert r.status_code == 403
    r = client.post(f"/v1/campaigns/{cid}/approve", headers=h(tokens["approver"]), json=body)
    assert r.status_code == 200 and r.json()["campaign"]["status"] == "approved"
    status = client.get(f"/v1/campaigns/{cid}", headers=h(tokens["viewer"])).json()
    assert status["enforcement"] == {"approved": 2}


def test_public_page_says_genuine_then_retracted(api):
    app, client, tokens = api
    cid = client.get("/v1/campaigns", headers=h(tokens["viewer"])).json()[0]["id"]
    preview = client.post(f"/v1/campaigns/{cid}/preview", headers=h(tokens["author"])).json()
    client.post(
        f"/v1/campaigns/{cid}/approve",
        headers=h(tokens["approver"]),
        json={"digest": preview["digest"]},
    )
    app.clock.advance(timedelta(minutes=11))
    app.clock.advance(timedelta(hours=3))
    for _ in range(3):
        client.post("/v1/campaigns/send", headers=h(tokens["author"]))
        app.clock.advance(timedelta(hours=1, minutes=5))
    with app.store.read() as uow:
        token = uow.campaigns.notices(cid)[0].token
    page = client.get(f"/v1/verify/{token}")  # a browser: sent to the console's page
    assert page.status_code == 303 and page.headers["location"] == f"/verify/{token}"
    answer = client.get(f"/v1/verify/{token}?format=json").json()
    assert answer["genuine"] and answer["status"] == "active"
    assert client.get("/v1/verify/not-a-real-token?format=json").status_code == 404
    ret = client.post(
        f"/v1/campaigns/{cid}/retract",
        headers=h(tokens["author"]),
        json={"reason": "sent in error"},
    ).json()
    p = client.post(f"/v1/campaigns/{ret['id']}/preview", headers=h(tokens["author"])).json()
    assert sorted(p["recipients"]) == ["p0@corp.example", "p1@corp.example"]
    r = client.post(
        f"/v1/campaigns/{ret['id']}/approve",
        headers=h(tokens["approver2"]),
        json={"digest": p["digest"]},
    )
    assert r.status_code == 200
    assert client.get(f"/v1/verify/{token}?format=json").json()["status"] == "retracted"


def test_bad_input_names_the_field(api):
    _app, client, tokens = api
    cid = client.get("/v1/campaigns", headers=h(tokens["viewer"])).json()[0]["id"]
    r = client.post(
        f"/v1/campaigns/{cid}/halt", headers=h(tokens["author"]), json={"reason": "x" * 5000}
    )
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "reason"
    r = client.post(
        "/v1/notices/signals",
        headers=h(tokens["approver"]),
        json={"message_id": "x", "kind": "bounce"},
    )
    assert r.status_code == 403  # the mail system's signals need the admin role
    r = client.post("/v1/campaigns/cmp-nope/preview", headers=h(tokens["author"]))
    assert r.status_code == 404
    assert client.get("/v1/verify/" + "a" * 500, params={"format": "json"}).status_code == 404
