"""Sign-in services on real SQLite: passwords, sessions, magic links, proposals, exemptions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.core.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from appwarden.services.exemption_requests import grant_request, request_exemption
from appwarden.services.magic_links import LinkLimits, issue_link, redeem_link
from appwarden.services.signin import check_password, open_session, session_for, set_password
from tests.support.builders import T0
from tests.support.console_app import PASSWORD, build_world

LIMITS = LinkLimits(timedelta(minutes=15), 3, timedelta(hours=8))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("services"), employees=30)
    yield w
    w.app.close()


def test_passwords_are_argon2_and_checked(world):
    with world.app.store.read() as uow:
        stored = uow.credentials.password_hash("viewer@corp.example")
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        assert (
            check_password(uow, world.app.passwords, "Viewer@corp.example", PASSWORD).role
            == "viewer"
        )
        for email, password in (
            ("viewer@corp.example", "wrong"),
            ("nobody@corp.example", PASSWORD),
        ):
            with pytest.raises(Unauthorized, match="wrong e-mail or password"):
                check_password(uow, world.app.passwords, email, password)


def test_short_password_names_the_field_and_the_fix(world):
    with pytest.raises(InvalidInput) as caught, world.app.store.unit_of_work() as uow:
        set_password(uow, world.app.passwords, "viewer@corp.example", "short", "t", T0)
    assert caught.value.problems[0].field == "password"
    assert caught.value.problems[0].fix


def test_setting_a_password_ends_sessions(world):
    ttl = timedelta(hours=8)
    with world.app.store.unit_of_work() as uow:
        secret, _ = open_session(uow, "account", "author@corp.example", T0, ttl)
        assert session_for(uow, secret, T0) is not None
        set_password(uow, world.app.passwords, "author@corp.example", PASSWORD, "t", T0)
        assert session_for(uow, secret, T0) is None
    with world.app.store.read() as uow:
        assert session_for(uow, "x" * 43, T0) is None


def test_magic_link_is_single_use_short_lived_and_rate_limited(world):
    email = world.employee_email
    with world.app.store.unit_of_work() as uow:
        _person, secret = issue_link(uow, email, T0, LIMITS)
        _person, late = issue_link(uow, email, T0, LIMITS)
    with world.app.store.unit_of_work() as uow:
        _secret, session = redeem_link(uow, secret, T0 + timedelta(minutes=1), LIMITS)
        assert session.kind == "employee" and session.subject == email
    with pytest.raises(Unauthorized), world.app.store.unit_of_work() as uow:
        redeem_link(uow, secret, T0 + timedelta(minutes=2), LIMITS)  # used
    with pytest.raises(Unauthorized), world.app.store.unit_of_work() as uow:
        redeem_link(uow, late, T0 + timedelta(minutes=16), LIMITS)  # expired
    with world.app.store.unit_of_work() as uow:
        assert issue_link(uow, email, T0, LIMITS) is not None
        assert issue_link(uow, email, T0, LIMITS) is None  # 4th within the hour
        assert issue_link(uow, "stranger@corp.example", T0, LIMITS) is None


def test_exemption_needs_a_second_person(world):
    with world.app.store.unit_of_work() as uow:
        asked = request_exemption(
            uow,
            target_kind="device",
            target=world.employee_device,
            policy="tiktok-mail",
            reason="travel phone",
            expires_at=T0 + timedelta(days=10),
            requested_by="approver@corp.example",
            now=T0,
            max_duration=timedelta(days=180),
        )
    with pytest.raises(Forbidden):
        grant_request(world.app.engine, asked.id, "approver@corp.example", T0)
    exemption = grant_request(world.app.engine, asked.id, "admin@corp.example", T0)
    assert exemption.approver == "admin@corp.example"
    with pytest.raises(Conflict):
        grant_request(world.app.engine, asked.id, "admin@corp.example", T0)
    with world.app.store.read() as uow:
        statuses = {
            v.policy: v.status.value for v in uow.verdicts.for_device(world.employee_device)
        }
    assert statuses["tiktok-mail"] == "exempt"


def test_exemption_request_rejects_bad_input_by_field(world):
    with pytest.raises(InvalidInput) as caught, world.app.store.unit_of_work() as uow:
        request_exemption(
            uow,
            target_kind="laptop",
            target="x",
            policy="tiktok-mail",
            reason="",
            expires_at=T0 - timedelta(days=1),
            requested_by="a@corp.example",
            now=T0,
            max_duration=timedelta(days=180),
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {"target_kind", "reason", "expires"}
