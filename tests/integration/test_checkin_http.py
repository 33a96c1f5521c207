"""Enrolment and check-ins over real HTTP against a real server and a real SQLite database."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from appwarden.bootstrap import App
from tests.support.builders import T0
from tests.support.inventory import make_app, serving, token

OWNER = "anna@corp.example"


def apps(n: int, *extra: str) -> list[dict[str, str]]:
    rows = [{"id": f"com.acme.app{i}", "name": f"Acme {i}", "version": "1.0"} for i in range(n)]
    return rows + [{"id": e, "name": e} for e in extra]


def report(seq: int | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"device": {"platform": "android", "os_version": "10"}}
    if seq is not None:
        body["sequence"] = seq
    body.update(fields)
    return body


@pytest.fixture
def app(tmp_path):
    application = make_app(tmp_path / "home")
    yield application
    application.close()


@pytest.fixture
def http(app):
    with serving(app) as client:
        yield client


def enroll(app: App, http: httpx.Client, **device: Any) -> dict[str, Any]:
    admin = {"authorization": f"Bearer {token(app, 'admin')}"}
    made = http.post(
        "/v1/enrollment-codes", json={"owner": OWNER, "ownership": "personal"}, headers=admin
    )
    assert made.status_code == 200, made.text
    code = made.json()["code"]
    body = {
        "device": {"platform": "android", "model": "Pixel 4", **device},
        "mail": {"eas": ["AndrEAS0001"]},
    }
    enrolled = http.post("/v1/enroll", json=body, headers={"authorization": f"Bearer {code}"})
    assert enrolled.status_code == 200, enrolled.text
    again = http.post("/v1/enroll", json=body, headers={"authorization": f"Bearer {code}"})
    assert again.status_code == 401 and "already used" in again.json()["detail"]
    return enrolled.json() | {"code": code}


def checkin(http: httpx.Client, secret: str, body: Any) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.post("/v1/checkin", content=data, headers={"authorization": f"Bearer {secret}"})


def test_enrol_check_in_and_decide_within_a_second(app, http):
    device = enroll(app, http, serial="9B171FFAZ003WX")
    secret = device["credential"]
    assert secret.startswith("awd_")
    with app.store.read() as uow:  # only the hash is stored
        row = uow.enrollments.credential_by_hash(
            __import__("hashlib").sha256(secret.encode()).hexdigest()
        )
        assert row is not None and row.device == device["device"]
    started = time.perf_counter()
    first = checkin(http, secret, report(1, apps=apps(80, "com.zhiliaoapp.musically")))
    elapsed = time.perf_counter() - started
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "applied" and body["apps"] == 81
    # the decision in the answer already reflects this very check-in
    assert body["decision"]["warnings"][0]["apps"] == ["com.zhiliaoapp.musically"]
    assert elapsed < 1.0
    viewer = {"authorization": f"Bearer {token(app, 'viewer')}"}
    decided = http.get("/v1/decide", params={"eas": "AndrEAS0001"}, headers=viewer).json()
    assert decided["device"] == device["device"] and decided["warnings"][0]["status"] == "pending"
    # removing the app by delta resolves it at once
    removed = checkin(
        http, secret, report(2, apps_delta={"removed": [{"id": "com.zhiliaoapp.musically"}]})
    )
    assert removed.json()["status"] == "applied" and removed.json()["apps"] == 80
    assert removed.json()["decision"]["warnings"] == []
    history = http.get(f"/v1/devices/{device['device']}/history", headers=viewer).json()
    tiktok = [
        (e["event"], e["first_report"])
        for e in history
        if e["app"] == "android:com.zhiliaoapp.musically"
    ]
    assert tiktok == [("installed", True), ("removed", False)]


def test_repeated_reports_change_nothing(app, http):
    secret = enroll(app, http)["credential"]
    full = report(4, apps=apps(40))
    first = checkin(http, secret, full).json()
    assert first["status"] == "applied"
    key = first["device"]

    def counts() -> tuple[int, ...]:
        with app.store.read() as uow:
            conn = uow.inventory.conn
            tables = ("device_apps", "app_events", "verdicts", "device_sources")
            return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)

    before = counts()
    revision = app.engine.decisions.index.revision
    assert checkin(http, secret, full).json()["status"] == "duplicate"  # same sequence
    assert checkin(http, secret, report(apps=apps(40))).json()["status"] == "unchanged"
    assert counts() == before
    assert app.engine.decisions.index.revision == revision
    delta = report(5, apps_delta={"installed": [{"id": "com.whatsapp", "name": "WhatsApp"}]})
    assert checkin(http, secret, delta).json()["status"] == "applied"
    dup = checkin(http, secret, delta).json()
    assert dup["status"] == "duplicate" and "sequence 5" in dup["detail"]
    gap = checkin(http, secret, report(9, apps_delta={"removed": [{"id": "com.whatsapp"}]}))
    assert gap.status_code == 422 and gap.json()["problems"][0]["field"] == "sequence"
    with app.store.read() as uow:
        assert len(uow.inventory.device(key).apps) == 41


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (report(apps=[{"id": "a b", "name": "x"}]), "apps[0]", "not an app identifier"),
        (report(apps=apps(1), colour="red"), "body", "unknown field `colour`"),
        (report(sequence="seven", apps=apps(1)), "sequence", "Expected `int | null`"),
        ({"apps": []}, "body", "missing required field `device`"),
        (report(apps=apps(1), device={"platform": "nokia"}), "device.platform", "not a platform"),
        (report(apps_delta={"installed": []}), "sequence", "required with apps_delta"),
        (report(apps=apps(1), apps_delta={"installed": []}), "apps_delta", "not both"),
        (
            report(apps=apps(1), device={"platform": "android", "android_patch": "June"}),
            "device.android_patch",
            "not a date",
        ),
        (b'{"device": {"platform": "android"}, "apps": [', "body", "not valid JSON"),
    ],
)
def test_bad_check_ins_name_the_field(app, http, body, field, words):
    secret = enroll(app, http)["credential"]
    answer = checkin(http, secret, body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()["problems"][0]
    assert problem["field"] == field and words in problem["message"], problem


def test_limits_on_size_and_app_count(app, http):
    secret = enroll(app, http)["credential"]
    huge = checkin(http, secret, report(1, apps=apps(100_000)))
    assert huge.status_code == 422
    assert huge.json()["problems"][0]["field"] == "body"
    assert "larger than" in huge.json()["problems"][0]["message"]
    many = [{"id": f"a.b{i}"} for i in range(5001)]  # compact: under the byte limit, over the count
    counted = checkin(http, secret, report(1, apps=many))
    assert counted.status_code == 422
    assert counted.json()["problems"][0]["field"] == "apps"
    assert "5001 apps" in counted.json()["problems"][0]["message"]


def test_revoked_credential_is_refused(app, http):
    device = enroll(app, http)
    secret = device["credential"]
    assert checkin(http, secret, report(apps=apps(3))).status_code == 200
    admin = {"authorization": f"Bearer {token(app, 'admin')}"}
    revoked = http.post(
        f"/v1/devices/{device['device']}/revoke", json={"reason": "lost phone"}, headers=admin
    )
    assert revoked.status_code == 200 and revoked.json()["revoked"]
    refused = checkin(http, secret, report(apps=apps(4)))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    with app.store.read() as uow:
        assert len(uow.inventory.device(device["device"]).apps) == 3  # nothing applied


def test_revocation_from_another_process_stops_the_next_check_in(app, http, tmp_path):
    device = enroll(app, http)
    secret = device["credential"]
    assert checkin(http, secret, report(apps=apps(2))).status_code == 200
    with app.store.unit_of_work() as uow:  # as `appwarden enroll revoke` in another process would
        uow.enrollments.revoke_credentials(device["device"], T0, "cli")
    refused = checkin(http, secret, report(apps=apps(5)))
    assert refused.status_code == 401


def test_who_may_call_what(app, http):
    device = enroll(app, http)
    admin = {"authorization": f"Bearer {token(app, 'admin')}"}
    assert http.post("/v1/checkin", json=report(apps=[])).status_code == 401
    assert checkin(http, "awd_forged", report(apps=[])).status_code == 401
    as_admin = http.post("/v1/checkin", json=report(apps=[]), headers=admin)
    assert as_admin.status_code == 403
    # the check-in endpoint is dispatched past Starlette's router; other methods still are not
    assert http.get("/v1/checkin", headers=admin).status_code == 405
    as_device = http.post(
        "/v1/enrollment-codes",
        json={"owner": OWNER},
        headers={"authorization": f"Bearer {device['credential']}"},
    )
    assert as_device.status_code == 403
    code_for_checkin = checkin(http, device["code"], report(apps=[]))
    assert code_for_checkin.status_code == 401  # a used code authenticates nothing
    viewer = {"authorization": f"Bearer {token(app, 'viewer')}"}
    assert http.get(f"/v1/devices/{device['device']}/sources", headers=viewer).status_code == 200
    assert http.get(f"/v1/devices/{device['device']}/sources").status_code == 401


def test_the_fleet_index_patched_by_check_ins_equals_one_loaded_from_the_store(app, http):
    """Check-ins patch the index with the apps each diff added and removed (not a reload of the
    whole list): after installs, removals, version bumps, name-only rows and a delta, the index
    holds exactly what the store holds."""
    from appwarden.core.fleet import FleetIndex

    enrolled = enroll(app, http)
    secret, device = enrolled["credential"], enrolled["device"]
    rows = apps(6, "com.zhiliaoapp.musically")
    steps = [
        rows,
        rows[1:],  # one removed
        [*rows[1:], {"id": "com.acme.new", "name": "New"}],  # one installed
        [{**r, "version": "2.0"} for r in rows[1:]],  # versions only, the new one gone
        [*rows[2:4], {"name": "Name Only Tool"}],  # a name-only row, many removed
    ]
    for seq, listed in enumerate(steps, start=1):
        assert checkin(http, secret, report(seq, apps=listed)).status_code == 200
    delta = {
        "installed": [{"id": "com.acme.app9", "name": "Nine"}],
        "removed": [{"id": "com.acme.app2"}],
    }
    assert checkin(http, secret, report(len(steps) + 1, apps_delta=delta)).status_code == 200
    fresh = FleetIndex()
    with app.store.read() as uow:
        uow.inventory.load_fleet(fresh, None)
    live = app.engine.fleet

    def held(index: FleetIndex) -> set[str]:
        slot = index.slot_of[device]
        return {
            index.app_keys[a].identifier or index.app_keys[a].name_folded
            for a in index.device_apps[slot]
        }

    assert held(live) == held(fresh) == {"com.acme.app3", "com.acme.app9", "name only tool"}
