"""Gateway answers over the real engine (SQLite in a temp folder, no servers)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.core.decision_users import UserRule
from appwarden.core.gateways.answer import Result
from appwarden.core.gateways.identify import dovecot_ask, nginx_ask, postfix_ask
from appwarden.core.gateways.rules import (
    GatewayRules,
    NoIdentity,
    Protocol,
    UnknownAnswer,
    parse_networks,
)
from appwarden.core.inventory import MailIdentities
from appwarden.core.timeutil import to_epoch
from appwarden.services.decision_log import DecisionLog
from appwarden.services.gateway import GatewayService
from appwarden.services.inventory import ImportBatch
from appwarden.services.kicks import Kicker
from tests.support.builders import T0, at, device, employee, engine, policy

DEADLINE = at("2020-07-11T01:00:00Z")
AFTER = DEADLINE + timedelta(hours=1)
TIKTOK = "com.zhiliaoapp.musically"


@pytest.fixture
def eng(tmp_path):
    e = engine(tmp_path / "aw.db", requires_notice=False)  # arming by notices: tested there
    devices = [
        device("d-good", [], owner="alice@corp.test", eas="GOOD1"),
        device("d-bad", [TIKTOK], owner="bob@corp.test", eas="BAD1"),
        device("d-bob2", [], owner="bob@corp.test", eas="BOB2"),
    ]
    devices[0] = devices[0].__class__(
        **{**_fields(devices[0]), "mail": MailIdentities(("GOOD1",), ("AA:BB",), ("IMAPGOOD",))}
    )
    people = [employee("alice@corp.test", locale="en"), employee("bob@corp.test", locale="ar")]
    e.import_inventory(ImportBatch("t", "t", people, devices), "t", T0)
    e.apply_policy(policy(), "t", "t", "t", T0)
    yield e
    e.store.close()


def _fields(d):
    return {f: getattr(d, f) for f in d.__dataclass_fields__}


def _service(eng, rules=None, now=AFTER, log=None):
    return GatewayService(
        eng.decisions, rules or GatewayRules(login_domain="corp.test", info_url="https://i/{policy}"),
        log or DecisionLog(), lambda: to_epoch(now), lambda: eng.fleet,
    )  # fmt: skip


def test_nginx_device_allow_deny_and_message_in_locale(eng):
    svc = _service(eng)
    rules = svc.rules
    assert svc.ask(
        Protocol.NGINX,
        nginx_ask(rules, "POST", "/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=GOOD1"),
    ).answer.allow
    told = svc.ask(
        Protocol.NGINX,
        nginx_ask(rules, "POST", "/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=BAD1"),
    )
    assert not told.answer.allow and told.answer.policies == ("tiktok-mail",)
    assert "https://i/tiktok-mail" in told.answer.message and "احذف" in told.answer.message


def test_deadline_to_the_second(eng):
    ask = nginx_ask(GatewayRules(), "POST", "/Microsoft-Server-ActiveSync?DeviceId=BAD1")
    assert _service(eng, now=DEADLINE - timedelta(seconds=1)).ask(Protocol.NGINX, ask).answer.allow
    assert not _service(eng, now=DEADLINE).ask(Protocol.NGINX, ask).answer.allow


@pytest.mark.parametrize(
    ("mode", "allow", "status"),
    [
        (UnknownAnswer.ALLOW, True, 0),
        (UnknownAnswer.REPORT, True, 0),
        (UnknownAnswer.DENY, False, 449),
    ],
)
def test_unknown_identity_per_protocol(eng, mode, allow, status):
    rules = GatewayRules(unknown={Protocol.NGINX: mode}, enroll_url="https://mdm/enrol")
    told = _service(eng, rules).ask(
        Protocol.NGINX, nginx_ask(rules, "POST", "/Microsoft-Server-ActiveSync?DeviceId=NEW")
    )
    assert (told.answer.allow, told.answer.result, told.answer.eas_status) == (
        allow,
        Result.UNKNOWN,
        status,
    )
    if not allow:
        assert "https://mdm/enrol" in told.answer.message


def test_identityless_requests_follow_the_rule(eng):
    rules = GatewayRules(nginx_no_identity=NoIdentity.USER, login_domain="corp.test")
    svc = _service(eng, rules)
    assert (
        svc.ask(
            Protocol.NGINX, nginx_ask(rules, "OPTIONS", "/Microsoft-Server-ActiveSync")
        ).answer.result
        is Result.EXEMPT
    )
    by_user = nginx_ask(rules, "GET", "/jmap", remote_user="bob")
    assert by_user.key == "user:bob@corp.test"
    assert not svc.ask(Protocol.NGINX, by_user).answer.allow  # any of Bob's devices is barred
    deny = GatewayRules(nginx_no_identity=NoIdentity.DENY)
    assert not _service(eng, deny).ask(Protocol.NGINX, nginx_ask(deny, "GET", "/jmap")).answer.allow


def test_user_rule_all_allows_when_one_device_is_fine(eng):
    eng.decisions.user_rule = UserRule.ALL
    eng.assess(AFTER)
    rules = GatewayRules(login_domain="corp.test")
    assert (
        _service(eng, rules)
        .ask(Protocol.POSTFIX, postfix_ask(rules, {"sasl_username": "bob"}))
        .answer.allow
    )


def test_verified_certificate_wins_and_is_normalised(eng):
    rules = GatewayRules()
    ask = nginx_ask(
        rules,
        "POST",
        "/Microsoft-Server-ActiveSync?DeviceId=BAD1",
        fingerprint="aabb",
        verify="SUCCESS",
    )
    assert ask.key == "cert:aabb" and _service(eng).ask(Protocol.NGINX, ask).answer.allow
    unverified = nginx_ask(
        rules,
        "POST",
        "/Microsoft-Server-ActiveSync?DeviceId=BAD1",
        fingerprint="aabb",
        verify="FAILED:x",
    )
    assert unverified.key == "eas:BAD1"
    assert (
        postfix_ask(rules, {"ccert_fingerprint": "AA:BB", "sasl_username": "bob"}).key
        == "cert:aabb"
    )


def test_dovecot_rules(eng):
    rules = GatewayRules(
        login_domain="corp.test", exempt_networks=parse_networks("10.0.0.0/8"),
        exempt_logins=frozenset({"svc"}), exempt_protocols=frozenset({"smtp"}),
    )  # fmt: skip
    svc = _service(eng, rules)
    base = {"login": "bob", "remote": "192.0.2.1", "protocol": "imap"}
    assert not svc.ask(Protocol.DOVECOT, dovecot_ask(rules, base)).answer.allow
    for exempt in ({"remote": "10.1.2.3"}, {"login": "svc"}, {"protocol": "smtp"}):
        assert (
            svc.ask(Protocol.DOVECOT, dovecot_ask(rules, {**base, **exempt})).answer.result
            is Result.EXEMPT
        )
    with_id = {**base, "login": "alice", "device_id": '"name" "M" "x-device-id" "IMAPGOOD"'}
    assert dovecot_ask(rules, with_id).key == "imap:IMAPGOOD"
    assert svc.ask(Protocol.DOVECOT, dovecot_ask(rules, with_id)).answer.allow
    assert dovecot_ask(rules, {"login": 5, "device_id": ["x"]}).key == "user:5@corp.test"


def test_report_policy_is_a_dry_run(eng):
    eng.apply_policy(policy(slug="tiktok-report", after_deadline="report"), "t", "t", "t", T0)
    log = DecisionLog()
    svc = _service(eng, log=log)
    svc.refresh_titles(eng.store)
    told = svc.ask(
        Protocol.NGINX, nginx_ask(svc.rules, "POST", "/Microsoft-Server-ActiveSync?DeviceId=BAD1")
    )
    assert not told.answer.allow  # the block_mail policy still denies
    eng.retire_policy("tiktok-mail", "t", "t", AFTER)
    told = svc.ask(
        Protocol.NGINX, nginx_ask(svc.rules, "POST", "/Microsoft-Server-ActiveSync?DeviceId=BAD1")
    )
    assert told.answer.allow and told.answer.result is Result.WOULD_DENY
    assert told.answer.policies == ("tiktok-report",)
    assert log.counters[("nginx", "tiktok-report", "would_deny")] == 1


def test_decision_log_buffers_counts_drops_and_writes(eng):
    log = DecisionLog(capacity=3)
    svc = _service(eng, log=log)
    for _ in range(5):
        svc.ask(
            Protocol.API, nginx_ask(svc.rules, "GET", "/Microsoft-Server-ActiveSync?DeviceId=BAD1")
        )
    assert log.dropped == 2 and log.pending == 3
    assert log.counters[("api", "tiktok-mail", "denied")] == 5
    log.write(eng.store, log.take())
    with eng.store.read() as uow:
        rows = uow.decision_log.tail(limit=10, policy="tiktok-mail")
    assert len(rows) == 3 and rows[0]["identity"] == "eas:…" and rows[0]["result"] == "denied"
    assert len({r["decision_id"] for r in rows}) == 3


def test_kicker_kicks_at_breakpoints_and_on_new_index(eng):
    kicker = Kicker(eng.decisions.owner_of)
    index = eng.decisions.index
    before = to_epoch(DEADLINE) - 5
    assert kicker.due(index, before) == []  # first look: nothing started
    assert kicker.next_wake() == to_epoch(DEADLINE)
    assert kicker.due(index, to_epoch(DEADLINE) - 0.001) == []
    assert kicker.due(index, to_epoch(DEADLINE)) == ["bob@corp.test"]
    assert kicker.due(index, to_epoch(DEADLINE) + 1) == []  # once
    # a check-in after the deadline that shows the app on Alice's phone
    eng.import_inventory(
        ImportBatch(
            "t", "t", [], [device("d-good", [TIKTOK], owner="alice@corp.test", eas="GOOD1")]
        ),
        "t",
        AFTER,
    )
    assert kicker.due(eng.decisions.index, to_epoch(AFTER)) == ["alice@corp.test"]


def test_decision_log_prune_keeps_the_recent_rows(tmp_path):
    from appwarden.adapters.db import SqliteStore
    from appwarden.services.ports import LoggedDecision

    store = SqliteStore(tmp_path / "log.db")
    rows = [
        LoggedDecision(
            f"d-{i}",
            f"2020-07-{i:02d}T00:00:00.000Z",
            1,
            "api",
            "eas:x",
            "",
            "",
            True,
            "allowed",
            "ok",
            "",
        )
        for i in range(1, 11)
    ]
    with store.unit_of_work() as uow:
        uow.decision_log.append(rows)
        assert uow.decision_log.prune("2020-07-04T00:00:00.000Z") == 3
        assert uow.decision_log.tail(limit=100)[0]["decision_id"] == "d-4"
        assert uow.decision_log.prune("2021-01-01T00:00:00.000Z") == 7
    store.close()
