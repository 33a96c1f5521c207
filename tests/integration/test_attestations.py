"""Attestations: signed with the server secret, time-stamped, audited, expiring; what
`unknown: attest` accepts. Through the API, as the console's self-service page would call it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.requests import Request

from appwarden.adapters.importers.native import parse_json
from appwarden.core.errors import Conflict
from appwarden.core.timeutil import parse_instant
from appwarden.entrypoints.api.auth import RESOLVERS, Principal
from appwarden.services.attestations import AttestationRequest
from appwarden.services.audit import verify
from tests.support.builders import T0, policy
from tests.support.inventory import make_app, serving, token

AFTER_DEADLINE = parse_instant("2020-07-11T02:00:00Z")
ANNA = "anna@corp.example"


def session(_app, request: Request) -> Principal | None:
    """What the console's session resolver provides: the signed-in person."""
    who = request.headers.get("x-test-session")
    return Principal(who, "viewer", "session") if who else None


@pytest.fixture
def app(tmp_path):
    # blocks here are about attestations, not announcements: enforce without a campaign
    application = make_app(tmp_path / "home", enforcement_requires_notice="false")
    batch = parse_json(
        '{"employees": [{"email": "anna@corp.example", "locale": "ar"}, {"email": "bob@corp.example"}],'
        ' "devices": [{"key": "p1", "platform": "ios", "owner": "anna@corp.example",'
        ' "ownership": "personal", "visibility": "none", "mail": {"eas": ["ApplP1"]}}]}',
        "people.json",
    )
    application.engine.import_inventory(batch, "test", application.clock.now())
    RESOLVERS.insert(0, session)
    yield application
    RESOLVERS.remove(session)
    application.close()


def effect(app) -> str:
    return app.engine.decide("eas", "ApplP1", app.clock.now()).outcome.effect.value


def test_attestation_flips_the_verdict_until_it_expires(app):
    assert app.engine.device_verdicts("p1")[0].status.value == "unknown"
    app.clock.instant = AFTER_DEADLINE
    app.engine.assess(AFTER_DEADLINE, "test", "test")
    assert effect(app) == "deny"
    with serving(app) as http:
        signed = http.post(
            "/v1/attestations",
            json={"device": "p1", "policy": "tiktok-mail", "valid_for": "P5D"},
            headers={"x-test-session": ANNA},
        )
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert body["signature_valid"] and body["expires_at"] == "2020-07-16T02:00:00Z"
        assert "TikTok" in body["statement"] and "أقر" in body["statement"]  # Anna reads Arabic
        assert effect(app) == "allow"  # at once: the device was re-assessed
        verdict = app.engine.device_verdicts("p1")[0]
        assert (verdict.status.value, verdict.until) == (
            "compliant",
            parse_instant("2020-07-16T02:00:00Z"),
        )
        viewer = {"authorization": f"Bearer {token(app, 'viewer')}"}
        listed = http.get("/v1/devices/p1/attestations", headers=viewer).json()
        assert [a["id"] for a in listed] == [body["id"]]
    # the decision index turns to deny at the expiry, to the second, without a re-assessment
    app.clock.instant = parse_instant("2020-07-16T02:00:00Z") - timedelta(seconds=1)
    assert effect(app) == "allow"
    app.clock.instant = parse_instant("2020-07-16T02:00:00Z")
    assert effect(app) == "deny"
    report = app.engine.assess(app.clock.now(), "test", "test")
    assert report.transition_counts() == {"newly_failing": 1}
    with app.store.read() as uow:
        events = [e.body["type"] for e in uow.audit.events()]
        assert "attestation_signed" in events
        assert verify(uow).ok


def test_only_the_owner_or_an_admin_may_attest(app):
    with serving(app) as http:
        body = {"device": "p1", "policy": "tiktok-mail"}
        other = http.post(
            "/v1/attestations", json=body, headers={"x-test-session": "bob@corp.example"}
        )
        assert other.status_code == 403 and "does not own" in other.json()["detail"]
        viewer = http.post(
            "/v1/attestations",
            json=body,
            headers={"authorization": f"Bearer {token(app, 'viewer')}"},
        )
        assert viewer.status_code == 403
        admin = {"authorization": f"Bearer {token(app, 'admin')}"}
        missing = http.post("/v1/attestations", json=body, headers=admin)
        assert missing.status_code == 422 and missing.json()["problems"][0]["field"] == "employee"
        recorded = http.post("/v1/attestations", json=body | {"employee": ANNA}, headers=admin)
        assert recorded.status_code == 200
        too_long = http.post(
            "/v1/attestations", json=body | {"employee": ANNA, "valid_for": "P90D"}, headers=admin
        )
        assert (
            too_long.status_code == 422 and too_long.json()["problems"][0]["field"] == "valid_for"
        )
        revoked = http.post(
            f"/v1/attestations/{recorded.json()['id']}/revoke",
            json={"reason": "phone seen with TikTok"},
            headers=admin,
        )
        assert revoked.status_code == 200
        assert app.engine.device_verdicts("p1")[0].status.value == "unknown"


def test_an_edited_attestation_counts_for_nothing(app):
    app.clock.instant = AFTER_DEADLINE
    att, _ = app.attestations.sign(
        AttestationRequest("p1", "tiktok-mail", ANNA, ANNA), AFTER_DEADLINE
    )
    assert effect(app) == "allow"
    with app.store.unit_of_work() as uow:  # someone with database access extends it
        uow.inventory.conn.execute("UPDATE attestations SET expires_at = '2030-01-01T00:00:00Z'")
    [(stored, valid)] = app.attestations.for_device("p1")
    assert stored.id == att.id and not valid
    app.engine.assess(AFTER_DEADLINE, "test", "test")
    assert effect(app) == "deny"


def test_a_policy_that_does_not_ask_for_attestations_refuses_them(app):
    app.engine.apply_policy(policy(unknown="allow"), "yaml", "test", "no attestations", T0)
    with pytest.raises(Conflict, match="does not accept attestations"):
        app.attestations.sign(AttestationRequest("p1", "tiktok-mail", ANNA, ANNA), T0)
