"""The compliance engine on a real SQLite database: transactions, versions, audit, reloads."""

from __future__ import annotations

import sqlite3

import pytest

from appwarden.core.errors import ImportRejected, LeadTimeTooShort, Problem
from appwarden.core.exemptions import TargetKind
from appwarden.core.timeutil import parse_duration
from appwarden.core.verdict import Status, TransitionKind
from appwarden.services.audit import verify
from appwarden.services.inventory import ImportBatch
from tests.support.builders import T0, at, device, employee, engine, policy
from tests.support.notices import announce

TIKTOK = "com.zhiliaoapp.musically"


def batch(*devices, employees=None):
    return ImportBatch(
        "test",
        "test batch",
        employees=list(employees or [employee("a@corp.example", department="Sales")]),
        devices=list(devices),
    )


def seeded(compliance):
    compliance.load()
    compliance.import_inventory(
        batch(
            device("d1", [TIKTOK, "com.whatsapp"], eas="EAS1"),
            device("d2", ["com.whatsapp"], eas="EAS2"),
            device("p1", [], platform="ios", ownership="personal", visibility="none", eas="EAS3"),
        ),
        "tester",
        T0,
    )
    compliance.apply_policy(policy(), "yaml", "author@corp.example", "first version", T0)
    return compliance


def audit_types(compliance):
    with compliance.store.read() as uow:
        return [e.body["type"] for e in uow.audit.events()]


def test_apply_writes_version_verdicts_and_audit_together(compliance):
    seeded(compliance)
    with compliance.store.read() as uow:
        stored = uow.policies.current("tiktok-mail")
        verdicts = uow.verdicts.all()
    assert stored is not None and stored.version.version == 1
    assert stored.version.applied_by == "author@corp.example"
    assert verdicts[("d1", "tiktok-mail")].status is Status.PENDING
    assert verdicts[("p1", "tiktok-mail")].status is Status.UNKNOWN
    assert ("d2", "tiktok-mail") not in verdicts  # sparse: plainly compliant is not stored
    assert audit_types(compliance)[-2:] == ["policy_applied", "assessment_run"]


def test_failed_apply_leaves_nothing_behind(compliance, monkeypatch):
    seeded(compliance)
    before = audit_types(compliance)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(compliance.assessor, "run_full", boom)
    changed = policy(reason={"en": "Changed reason", "ar": "سبب آخر"})
    with pytest.raises(RuntimeError):
        compliance.apply_policy(
            changed, "yaml", "author@corp.example", "v2", at("2020-07-02T00:00Z")
        )
    with compliance.store.read() as uow:
        assert [s.version.version for s in uow.policies.history("tiktok-mail")] == [1]
    assert audit_types(compliance) == before


def test_reassessing_an_unchanged_fleet_yields_no_transitions(compliance):
    seeded(compliance)
    report = compliance.assess(at("2020-07-02T00:00Z"))
    assert report.transitions == []
    assert report.written == 0 and report.removed == 0


def test_deadline_passes_and_removal_resolves(compliance):
    seeded(compliance)
    announce(compliance)
    after = at("2020-07-11T01:00:00Z")
    report = compliance.assess(after)
    kinds = {(t.device, t.kind) for t in report.transitions}
    assert ("d1", TransitionKind.DEADLINE_PASSED) in kinds
    assert ("p1", TransitionKind.DEADLINE_PASSED) in kinds
    assert compliance.decide("eas", "EAS1", after).outcome.effect.value == "deny"
    summary, report = compliance.import_inventory(
        batch(device("d1", ["com.whatsapp"], eas="EAS1")), "agent", at("2020-07-11T02:00Z")
    )
    assert summary.devices_updated == 1 and summary.apps_removed == 1
    assert [(t.device, t.kind) for t in report.transitions] == [("d1", TransitionKind.RESOLVED)]
    assert compliance.decide("eas", "EAS1", at("2020-07-11T02:00Z")).outcome.effect.value == "allow"
    with compliance.store.read() as uow:
        history = uow.inventory.app_history("d1")
    assert [h["event"] for h in history if h["app"].endswith(TIKTOK)] == ["installed", "removed"]


def test_versions_keep_history_and_who_and_why(compliance):
    seeded(compliance)
    v2 = policy(reason={"en": "Updated wording", "ar": "صياغة محدثة"})
    compliance.apply_policy(
        v2, "yaml v2", "second@corp.example", "legal review", at("2020-07-01T18:00Z")
    )
    with compliance.store.read() as uow:
        history = uow.policies.history("tiktok-mail")
    assert [(h.version.version, h.version.applied_by, h.version.reason) for h in history] == [
        (1, "author@corp.example", "first version"),
        (2, "second@corp.example", "legal review"),
    ]
    assert history[0].source == "yaml" and history[1].source == "yaml v2"


def test_applying_the_same_policy_again_changes_nothing(compliance):
    seeded(compliance)
    before = audit_types(compliance)
    version, report = compliance.apply_policy(policy(), "yaml", "x@corp.example", "again", T0)
    assert version.version == 1 and report is None
    assert audit_types(compliance) == before


def test_minimum_lead_time_is_enforced_and_override_is_audited(compliance):
    seeded(compliance)
    late = at("2020-07-08T00:00Z")  # deadline 2020-07-11 01:00Z is under 7 days away
    changed = policy(reason={"en": "New", "ar": "جديد"})
    with pytest.raises(LeadTimeTooShort):
        compliance.apply_policy(changed, "yaml", "x@corp.example", "late", late)
    compliance.apply_policy(changed, "yaml", "x@corp.example", "late", late, "CISO order 7")
    with compliance.store.read() as uow:
        overrides = list(uow.audit.events(type_="lead_time_overridden"))
    assert len(overrides) == 1 and overrides[0].body["reason"] == "CISO order 7"


def test_exemption_is_time_boxed_and_two_person(compliance):
    seeded(compliance)
    announce(compliance)
    now = at("2020-07-12T00:00Z")
    compliance.assess(now)
    with pytest.raises(Exception, match="approver"):
        compliance.grant_exemption(
            now,
            target_kind=TargetKind.DEVICE,
            target="d1",
            policy="tiktok-mail",
            reason="travel",
            approver="me@corp.example",
            actor="me@corp.example",
            expires_at=at("2020-07-20T00:00Z"),
        )
    exemption, report = compliance.grant_exemption(
        now,
        target_kind=TargetKind.DEVICE,
        target="d1",
        policy="tiktok-mail",
        reason="travel",
        approver="boss@corp.example",
        actor="me@corp.example",
        expires_at=at("2020-07-20T00:00Z"),
    )
    assert [t.kind for t in report.transitions] == [TransitionKind.EXEMPTED]
    assert compliance.decide("device", "d1", now).outcome.effect.value == "allow"
    # the exemption ends by itself, to the second, without another assessment
    assert (
        compliance.decide("device", "d1", at("2020-07-20T00:00:00Z")).outcome.effect.value == "deny"
    )
    _, report = compliance.revoke_exemption(exemption.id, "boss@corp.example", "back home", now)
    assert [t.kind for t in report.transitions] == [TransitionKind.EXEMPTION_EXPIRED]
    assert compliance.decide("device", "d1", now).outcome.effect.value == "deny"


def test_bad_row_rejects_the_whole_file_unless_skipped(compliance):
    seeded(compliance)
    bad = batch(device("d9", [TIKTOK]))
    bad.rejected.append(Problem("is not a date", "android_patch", "", "f.csv", 7))
    with pytest.raises(ImportRejected) as caught:
        compliance.import_inventory(bad, "tester", T0)
    assert "f.csv:7" in str(caught.value)
    with compliance.store.read() as uow:
        assert uow.inventory.device("d9") is None
    summary, _ = compliance.import_inventory(bad, "tester", T0, skip_bad=True)
    assert summary.devices_added == 1 and len(summary.rejected) == 1


def test_dry_run_writes_nothing(compliance):
    seeded(compliance)
    before = audit_types(compliance)
    summary, report = compliance.import_inventory(
        batch(device("d7", [TIKTOK])), "tester", T0, dry_run=True
    )
    assert summary.dry_run and summary.devices_added == 1 and report is None
    with compliance.store.read() as uow:
        assert uow.inventory.device("d7") is None
    assert audit_types(compliance) == before
    assert "d7" not in compliance.fleet.slot_of


def test_a_fresh_engine_on_the_same_database_decides_the_same(compliance, tmp_path):
    seeded(compliance)
    later = at("2020-07-12T00:00Z")
    again = engine(tmp_path / "aw.db")
    again.load()
    for kind, value in (("eas", "EAS1"), ("eas", "EAS2"), ("eas", "EAS3"), ("device", "d1")):
        a = compliance.decide(kind, value, later).outcome
        b = again.decide(kind, value, later).outcome
        assert a == b, (kind, value)
    again.store.close()


def test_other_process_writes_are_picked_up_by_sync(compliance, tmp_path):
    seeded(compliance)
    announce(compliance)
    other = engine(tmp_path / "aw.db")
    other.load()
    after = at("2020-07-12T00:00Z")
    assert compliance.decide("eas", "EAS2", after).outcome.effect.value == "allow"
    other.import_inventory(batch(device("d2", [TIKTOK], eas="EAS2")), "cli", after)
    assert compliance.decide("eas", "EAS2", after).outcome.effect.value == "allow"  # stale
    report = compliance.sync()
    # d2 changed; the other engine's assessment (after the deadline) also blocked d1 and p1
    assert report.devices == 3 and not report.reloaded_verdicts
    # d2 started failing after the campaign: blocked only once a follow-up announces it
    assert compliance.decide("eas", "EAS2", after).outcome.effect.value == "allow"
    assert compliance.decide("eas", "EAS1", after).outcome.effect.value == "deny"
    assert compliance.verdicts["tiktok-mail"]["d1"].status is Status.BLOCKED
    assert compliance.sync().entries == 0  # nothing new; own writes are never replayed
    other.store.close()


@pytest.mark.parametrize(
    "tamper, kind",
    [
        (
            "UPDATE audit_events SET body = replace(body, 'first version', 'nothing to see') WHERE seq = 3",
            "edited",
        ),
        ("DELETE FROM audit_events WHERE seq = 2", "removed"),
    ],
)
def test_audit_chain_detects_tampering(compliance, tmp_path, tamper, kind):
    seeded(compliance)
    with compliance.store.read() as uow:
        assert verify(uow).ok
    conn = sqlite3.connect(tmp_path / "aw.db")
    conn.execute(tamper)
    conn.commit()
    conn.close()
    with compliance.store.read() as uow:
        report = verify(uow)
    assert not report.ok
    assert kind in {p.kind for p in report.problems}


def test_audit_chain_detects_reordering(compliance, tmp_path):
    seeded(compliance)
    conn = sqlite3.connect(tmp_path / "aw.db")
    rows = conn.execute(
        "SELECT seq, at, type, actor, subject, body, prev_hash, hash FROM audit_events WHERE seq IN (2, 3) ORDER BY seq"
    ).fetchall()
    conn.execute("DELETE FROM audit_events WHERE seq IN (2, 3)")
    for (_seq, *rest), (other_seq, *_) in zip(rows, reversed(rows), strict=True):
        conn.execute("INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?)", (other_seq, *rest))
    conn.commit()
    conn.close()
    with compliance.store.read() as uow:
        problems = verify(uow).problems
    assert {p.seq for p in problems} & {2, 3}


def test_settings_durations_parse():
    assert parse_duration("P7D").days == 7


def test_an_anchor_catches_a_truncated_log(compliance, tmp_path):
    seeded(compliance)
    with compliance.store.read() as uow:
        anchor = verify(uow).head
    conn = sqlite3.connect(tmp_path / "aw.db")
    conn.execute("DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
    conn.commit()
    conn.close()
    with compliance.store.read() as uow:
        assert verify(uow).ok  # the chain alone cannot see a cut tail
        report = verify(uow, expect=anchor)
    assert not report.ok and report.problems[-1].kind == "removed"
