"""The decision index: outcomes that change by themselves at the second they should, overlays
that never lose a key, revisions, tombstones, and what warn and report policies tell a gateway.

Verdicts come from the real single-device assessment, so the index is tested on what it is
actually fed.
"""

from __future__ import annotations

import random
from datetime import datetime

from appwarden.core.assess import assess_device
from appwarden.core.catalog import EMPTY_CATALOG
from appwarden.core.decision import (
    ALLOW,
    DecisionIndex,
    Effect,
    Entry,
    Outcome,
    build_entry,
    decide,
    entries_for_device,
    titles_of,
)
from appwarden.core.exemptions import (
    Attestation,
    AttestationBook,
    Exemption,
    ExemptionBook,
    TargetKind,
)
from appwarden.core.fleet import FleetIndex, load_device
from appwarden.core.inventory import Device, DeviceFacts
from appwarden.core.matching import BarredApps
from appwarden.core.policy import PolicyVersion
from appwarden.core.timeutil import to_epoch
from appwarden.core.verdict import Status, Verdict
from appwarden.services.decisions import DecisionService
from tests.support.builders import at, device, employee, policy, version

DEADLINE = at("2020-07-11T01:00:00Z")
BEFORE = at("2020-07-05T00:00:00Z")


def verdict_of(
    dev: Device,
    pv: PolicyVersion,
    now: datetime = BEFORE,
    exemptions: ExemptionBook | None = None,
    attestations: AttestationBook | None = None,
) -> Verdict:
    got = assess_device(
        DeviceFacts(dev, employee()),
        pv,
        BarredApps(pv.policy.rule.barred, EMPTY_CATALOG),
        exemptions or ExemptionBook(),
        attestations or AttestationBook(),
        None,
        now,
    )
    assert got is not None
    return got


def seconds(instant: datetime, delta: float = 0.0) -> float:
    return to_epoch(instant) + delta


TIKTOK = device("d1", ["com.zhiliaoapp.musically"], eas="ApplEAS1")


def test_a_pending_device_is_denied_from_the_deadline_second_exactly() -> None:
    pv = version(policy())
    v = verdict_of(TIKTOK, pv)
    assert v.status is Status.PENDING and v.enforce_at == DEADLINE
    entry = build_entry("d1", [v], titles_of([pv]))
    before = entry.at(seconds(DEADLINE, -1))
    just_before = entry.at(seconds(DEADLINE, -0.001))
    on_time = entry.at(seconds(DEADLINE))
    assert before.effect is Effect.ALLOW and just_before.effect is Effect.ALLOW
    assert [r.status for r in before.warn] == [Status.PENDING]
    assert on_time.effect is Effect.DENY
    (reason,) = on_time.deny
    assert (reason.policy, reason.status, reason.deadline) == (
        "tiktok-mail",
        Status.BLOCKED,
        DEADLINE,
    )
    assert reason.apps == ("com.zhiliaoapp.musically",)
    assert reason.title == "No TikTok"
    assert entry.at(seconds(DEADLINE, 86400 * 365)).effect is Effect.DENY
    assert entry.times == (seconds(DEADLINE),)
    assert entry.next_change(seconds(DEADLINE, -1)) == seconds(DEADLINE)
    assert entry.next_change(seconds(DEADLINE)) is None


def test_an_exemption_lifts_at_its_end_not_at_the_deadline() -> None:
    pv = version(policy())
    until = at("2020-07-13T12:00:00Z")
    book = ExemptionBook(
        [
            Exemption(
                "ex1",
                TargetKind.DEVICE,
                "d1",
                "tiktok-mail",
                "travel",
                "boss@corp.example",
                "it@corp.example",
                at("2020-07-01T00:00:00Z"),
                until,
            )
        ]
    )
    v = verdict_of(TIKTOK, pv, at("2020-07-12T00:00:00Z"), exemptions=book)
    assert v.status is Status.EXEMPT and v.enforce_at == until
    entry = build_entry("d1", [v], titles_of([pv]))
    assert entry.at(seconds(DEADLINE)).effect is Effect.ALLOW
    held = entry.at(seconds(until, -1))
    assert held.effect is Effect.ALLOW and [r.status for r in held.warn] == [Status.EXEMPT]
    assert entry.at(seconds(until)).effect is Effect.DENY
    assert entry.times == (seconds(until),)


def test_an_attested_device_is_allowed_silently_until_the_attestation_ends() -> None:
    pv = version(policy())
    end = at("2020-07-20T00:00:00Z")
    book = AttestationBook(
        [Attestation("att1", "p1", "tiktok-mail", "a@corp.example", "no TikTok", BEFORE, end)]
    )
    unseen = device("p1", ownership="personal", visibility="none")
    v = verdict_of(unseen, pv, at("2020-07-12T00:00:00Z"), attestations=book)
    assert v.status is Status.COMPLIANT and v.until == end
    entry = build_entry("p1", [v], titles_of([pv]))
    assert entry.at(seconds(end, -1)) == ALLOW
    assert entry.at(seconds(end)).effect is Effect.DENY
    assert entry.at(seconds(end)).deny[0].status is Status.BLOCKED


def test_several_policies_make_one_timeline_with_only_real_changes() -> None:
    block = version(policy())
    warn = version(
        policy(slug="tiktok-warn", after_deadline="warn", deadline={"at": "2020-07-08T00:00:00Z"})
    )
    report = version(
        policy(
            slug="tiktok-report", after_deadline="report", deadline={"at": "2020-07-08T00:00:00Z"}
        )
    )
    verdicts = [verdict_of(TIKTOK, pv) for pv in (block, warn, report)]
    entry = build_entry("d1", verdicts, titles_of([block, warn, report]))
    early = at("2020-07-08T00:00:00Z")
    assert entry.times == (seconds(early), seconds(DEADLINE))
    first = entry.at(seconds(early, -1))
    assert first.effect is Effect.ALLOW and not first.dry_run and not first.deny
    assert sorted(r.policy for r in first.warn) == ["tiktok-mail", "tiktok-report", "tiktok-warn"]
    middle = entry.at(seconds(early))
    assert middle.effect is Effect.ALLOW
    assert [(r.policy, r.status) for r in middle.warn] == [
        ("tiktok-mail", Status.PENDING),
        ("tiktok-warn", Status.OVERDUE),
    ]
    assert [(r.policy, r.status) for r in middle.dry_run] == [("tiktok-report", Status.OVERDUE)]
    assert middle.reasons == middle.dry_run
    last = entry.at(seconds(DEADLINE))
    assert last.effect is Effect.DENY and [r.policy for r in last.reasons] == ["tiktok-mail"]


def test_warn_and_report_policies_never_deny() -> None:
    for action in ("warn", "report"):
        pv = version(policy(slug=f"tiktok-{action}", after_deadline=action))
        v = verdict_of(TIKTOK, pv, at("2020-07-12T00:00:00Z"))
        assert v.status is Status.OVERDUE
        entry = build_entry("d1", [v], titles_of([pv]))
        outcome = entry.at(seconds(at("2020-07-12T00:00:00Z")))
        assert outcome.effect is Effect.ALLOW and not outcome.deny
        expected = outcome.warn if action == "warn" else outcome.dry_run
        assert [r.status for r in expected] == [Status.OVERDUE]


def test_compliant_and_unenforced_unknown_devices_are_plainly_allowed() -> None:
    pv = version(policy(unknown="allow"))
    clean = verdict_of(device("d2", ["com.whatsapp"]), pv)
    unseen = verdict_of(device("p1", visibility="none"), pv, at("2020-07-12T00:00:00Z"))
    assert unseen.status is Status.UNKNOWN and unseen.enforce_at is None
    for v in (clean, unseen):
        entry = build_entry(v.device, [v], titles_of([pv]))
        assert entry.first == ALLOW and entry.times == ()


def test_decide_answers_every_identity_of_a_device_and_only_those() -> None:
    pv = version(policy())
    v = verdict_of(TIKTOK, pv)
    index = DecisionIndex(entries_for_device(TIKTOK.identity_keys(), "d1", [v], titles_of([pv])), 7)
    for identity in ("device:d1", "eas:ApplEAS1"):
        got = decide(index, identity, seconds(DEADLINE), 42)
        assert (got.id, got.revision, got.identity, got.device) == (42, 7, identity, "d1")
        assert got.known and got.outcome is not None and got.outcome.effect is Effect.DENY
    stranger = decide(index, "eas:SomeoneElse", seconds(DEADLINE), 43)
    assert stranger.outcome is None and not stranger.known and stranger.device is None


# -- overlays, compaction, revisions, tombstones -----------------------------------------------------
def _entry(device_key: str, n: int) -> Entry:
    """Distinct, comparable entries: a deny from instant n on."""
    return Entry(device_key, ALLOW, (float(n),), (Outcome(Effect.DENY),))


def _assert_same(index: DecisionIndex, model: dict[str, Entry], gone: set[str]) -> None:
    assert len(index) == len(model)
    for key, entry in model.items():
        assert index.get(key) == entry, key
    for key in gone - model.keys():
        assert index.get(key) is None, key


def test_updates_through_overlays_and_compactions_keep_every_key(monkeypatch) -> None:
    # small layers, so that six batches fold the top layer into the middle and the middle into
    # the base (the production sizes are tuned for millions of identities)
    monkeypatch.setattr(DecisionIndex, "SMALL", 256)
    rng = random.Random(20200710)
    model = {f"device:d{i}": _entry(f"d{i}", i) for i in range(10_000)}
    index = DecisionIndex(dict(model), revision=1)
    history = [(index, dict(model))]
    gone: set[str] = set()
    compacted = folded = 0
    for batch in range(2, 8):
        changes: dict[str, Entry | None] = {}
        for _ in range(1500):
            key = f"device:d{rng.randrange(12_000)}"
            if rng.random() < 0.3:
                changes[key] = None
            else:
                changes[key] = _entry(key[7:], rng.randrange(10**6))
        before, previous = index.overlay_size, index
        index = index.updated(changes, revision=batch)
        compacted += index.overlay_size < before
        folded += not index.shares_base(previous)
        for key, entry in changes.items():
            if entry is None:
                model.pop(key, None)
                gone.add(key)
            else:
                model[key] = entry
        assert index.revision == batch
        _assert_same(index, model, gone)
        history.append((index, dict(model)))
    assert compacted >= 1, "the test must cross the compaction threshold"
    assert folded >= 1, "the test must also fold the middle layer into a new base"
    for old_index, old_model in history:  # indexes are immutable: old ones answer as before
        _assert_same(old_index, old_model, set())


def test_tombstones_remove_identities_and_survive_compaction() -> None:
    entry = _entry("d1", 1)
    base = {"device:d1": entry, "eas:E1": entry, "cert:ab12": entry, "device:d2": _entry("d2", 2)}
    index = DecisionIndex(base, 3)
    smaller = index.updated({"eas:E1": None, "imap:never-seen": None}, 4)
    assert smaller.get("eas:E1") is None and smaller.get("imap:never-seen") is None
    assert len(smaller) == 3
    assert smaller.keys_of("d1") == ["cert:ab12", "device:d1"]
    assert index.get("eas:E1") == entry and len(index) == 4  # the old index is untouched
    readded = smaller.updated({"eas:E1": entry}, 5)
    assert readded.get("eas:E1") == entry and readded.keys_of("d1") == [
        "cert:ab12",
        "device:d1",
        "eas:E1",
    ]
    filler = {f"device:x{i}": _entry(f"x{i}", i) for i in range(20_000)}  # past both layers
    compacted = smaller.updated(filler, 6)
    assert compacted.overlay_size == 0
    assert compacted.get("eas:E1") is None and len(compacted) == 3 + 20_000


def test_the_decision_service_increments_the_revision_on_every_swap() -> None:
    pv = version(policy())
    fleet = FleetIndex()
    fleet.upsert_employee(employee())
    load_device(fleet, TIKTOK)
    v = verdict_of(TIKTOK, pv)
    service = DecisionService()
    assert service.index.revision == 0
    service.rebuild(fleet, [v], titles_of([pv]))
    assert service.index.revision == 1
    assert service.decide("eas:ApplEAS1", seconds(DEADLINE)).revision == 1
    service.update_devices(fleet, ["d1"], {"d1": []}, titles_of([pv]))
    assert service.index.revision == 2
    assert service.decide("eas:ApplEAS1", seconds(DEADLINE)).outcome == ALLOW
    service.update_devices(fleet, [], {}, titles_of([pv]))
    assert service.index.revision == 2, "nothing changed, nothing swapped"
    first, second = (service.decide("device:d1", 0.0) for _ in range(2))
    assert second.id == first.id + 1


def test_entries_are_equal_by_value() -> None:
    assert _entry("d1", 5) == _entry("d1", 5)
    assert _entry("d1", 5) != _entry("d1", 6)
    assert _entry("d1", 5) != _entry("d2", 5)
    assert len({_entry("d1", 5), _entry("d1", 5)}) == 1
