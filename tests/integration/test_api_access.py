"""Every admin API route x every kind of caller: the role is checked on the server."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from appwarden.adapters.clock import FixedClock
from appwarden.bootstrap import build
from appwarden.entrypoints.api.admin import ROUTES, create_api
from appwarden.services.access import ROLES, create_token, revoke_token, role_allows
from appwarden.services.inventory import ImportBatch
from appwarden.settings import Settings
from tests.support.builders import T0, device, employee, policy

CALLERS = (*ROLES, "anonymous", "revoked", "garbage")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("api")
    app = build(Settings.load({"home": str(home)}, env={}), FixedClock(T0))
    app.engine.load()
    app.engine.import_inventory(
        ImportBatch(
            "t",
            "t",
            employees=[employee()],
            devices=[device("d1", ["com.zhiliaoapp.musically"], eas="E1")],
        ),
        "setup",
        T0,
    )
    app.engine.apply_policy(policy(), "yaml", "setup", "seed", T0)
    tokens = {}
    with app.store.unit_of_work() as uow:
        for role in ROLES:
            tokens[role] = create_token(uow, f"{role} token", role, "setup", T0)[1]
        revoked, tokens["revoked"] = create_token(uow, "old", "admin", "setup", T0)
        revoke_token(uow, revoked.id, "setup", T0)
    tokens["garbage"] = "aw_not-a-real-token"
    client = TestClient(create_api(app))
    yield client, tokens
    client.close()
    app.close()


def _call(client, method, path, token):
    path = path.replace("{key}", "d1").replace("{slug}", "tiktok-mail").replace("{id}", "ex-none")
    if method == "GET" and path == "/v1/decide":
        path += "?device=d1"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = b"{}" if method == "POST" else None
    return client.request(method, path, headers=headers, content=body)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("doc", [doc for doc, _ in ROUTES], ids=lambda d: f"{d.method} {d.path}")
def test_route_by_caller(world, doc, caller):
    client, tokens = world
    response = _call(client, doc.method, doc.path, tokens.get(caller))
    if caller == "anonymous" or caller in ("revoked", "garbage"):
        assert response.status_code == 401, response.text
        assert response.headers.get("www-authenticate") == "Bearer"
    elif role_allows(caller, doc.role):
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert doc.role in response.json()["detail"]


def test_public_routes_say_nothing_sensitive(world):
    client, _ = world
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert {(d.method, d.path) for d, _ in ROUTES} <= documented
    for path, ops in spec["paths"].items():
        for op in ops.values():
            if path not in ("/healthz", "/openapi.json"):
                assert "security" not in op and "401" in op["responses"]


def test_errors_name_the_field_and_never_leak_a_trace(world):
    client, tokens = world
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    bad_yaml = client.post("/v1/policies", headers=auth, content=b"slug: [unclosed")
    assert bad_yaml.status_code == 422 and bad_yaml.json()["problems"][0]["line"] == 1
    bad = client.post("/v1/policies", headers=auth, content=b"slug: x\n")
    fields = {p["field"] for p in bad.json()["problems"]}
    assert {"slug", "title", "reason", "owner", "deadline"} <= fields
    huge = client.post("/v1/policies", headers=auth, content=b"x" * 1_000_001)
    assert huge.status_code == 422 and "1 MB" in huge.json()["problems"][0]["message"]
    missing = client.get("/v1/devices/nope", headers=auth)
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    no_identity = client.get("/v1/decide", headers=auth)
    assert no_identity.status_code == 422
