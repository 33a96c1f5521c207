"""The pure campaign rules: who is told, approval, waves, halting, scheduling, enforcement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appwarden.core.campaign import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    DeviceFacts,
    HaltRules,
    Mode,
    OwnerFacts,
    WaveSignals,
    approval_problem,
    assign_waves,
    canary_size,
    halt_reason,
    plan_digest,
    plan_recipients,
    wave_sizes,
)
from appwarden.core.decision import Effect, build_entry
from appwarden.core.enforcement import EnforcementBook, key_of
from appwarden.core.policy import Action
from appwarden.core.schedule import backoff, next_morning, reminders_due
from appwarden.core.timeutil import to_epoch
from appwarden.core.verdict import Finding, FindingKind, Status, Verdict

DEADLINE = datetime(2020, 7, 11, 1, 0, tzinfo=UTC)
T0 = datetime(2020, 7, 1, 16, 0, tzinfo=UTC)


def verdict(device="d1", status=Status.PENDING, version=1, action=Action.BLOCK_MAIL):
    return Verdict(
        device,
        "tiktok-mail",
        version,
        status,
        action,
        (Finding(FindingKind.BARRED_APP, "android:x", "TikTok"),),
        deadline=DEADLINE,
        enforce_at=DEADLINE,
    )


def campaign(**kw):
    base = {
        "id": "c1",
        "kind": CampaignKind.ANNOUNCE,
        "mode": Mode.LIVE,
        "policy": "tiktok-mail",
        "version": 1,
        "status": CampaignStatus.PREVIEWED,
        "author": "a@x.example",
        "created_at": T0,
        "deadline": DEADLINE,
        "blocks": True,
        "recipients": 10,
    }
    base.update(kw)
    return Campaign(**base)


def facts(key):
    owner = None if key == "orphan" else OwnerFacts(f"{key}@x.example", key, "en", "UTC", "S", "US")
    return DeviceFacts(key, key, "android", "corporate", owner)


class TestEnforcementInTheDecisionIndex:
    def test_unannounced_block_warns_and_never_denies(self):
        v = verdict()
        entry = build_entry("d1", [v], {}, EnforcementBook().unarmed_policies([v]))
        after = entry.at(to_epoch(DEADLINE) + 1)
        assert after.effect is Effect.ALLOW and after.warn[0].status is Status.PENDING

    def test_armed_block_denies_at_the_deadline_to_the_second(self):
        v = verdict()
        book = EnforcementBook([key_of(v)])
        entry = build_entry("d1", [v], {}, book.unarmed_policies([v]))
        assert entry.at(to_epoch(DEADLINE) - 1).effect is Effect.ALLOW
        assert entry.at(to_epoch(DEADLINE)).effect is Effect.DENY

    def test_arming_is_per_version_and_deadline(self):
        book = EnforcementBook([key_of(verdict())])
        assert not book.covers(verdict(version=2))
        moved = Verdict(
            "d1",
            "tiktok-mail",
            1,
            Status.PENDING,
            Action.BLOCK_MAIL,
            deadline=DEADLINE + timedelta(days=1),
            enforce_at=DEADLINE + timedelta(days=1),
        )
        assert not book.covers(moved)
        book.disarm([key_of(verdict())])
        assert not book.covers(verdict())

    def test_shared_timelines_never_mix_armed_and_unarmed_devices(self):
        from appwarden.core.decision import EntryBuilder

        one, two = verdict("d1"), verdict("d2")
        book = EnforcementBook([key_of(one)])
        builder = EntryBuilder({})
        armed = builder.build("d1", [one], book.unarmed_policies([one]))
        unarmed = builder.build("d2", [two], book.unarmed_policies([two]))
        after = to_epoch(DEADLINE) + 1
        assert armed.at(after).effect is Effect.DENY
        assert unarmed.at(after).effect is Effect.ALLOW

    def test_warn_policies_need_no_arming(self):
        v = verdict(action=Action.WARN)
        assert EnforcementBook().unarmed_policies([v]) == frozenset()


class TestWhoIsTold:
    def test_owners_of_failing_devices_not_yet_announced(self):
        verdicts = [
            verdict("d1"),
            verdict("d2"),
            verdict("d3", Status.COMPLIANT),
            verdict("orphan"),
            verdict("d4", Status.EXEMPT),
        ]
        told = {key_of(verdict("d2"))}
        plan = plan_recipients("tiktok-mail", verdicts, facts, told.__contains__)
        assert [r.email for r in plan.recipients] == ["d1@x.example"]
        assert [(u.device, u.why) for u in plan.unreachable] == [
            ("orphan", "no owner in the directory")
        ]

    def test_digest_changes_with_recipients_and_text(self):
        plan = plan_recipients("tiktok-mail", [verdict("d1")], facts, lambda _k: False)
        more = plan_recipients(
            "tiktok-mail", [verdict("d1"), verdict("d2")], facts, lambda _k: False
        )
        c = campaign()
        assert plan_digest(c, plan.recipients, "t") == plan_digest(c, plan.recipients, "t")
        assert plan_digest(c, plan.recipients, "t") != plan_digest(c, more.recipients, "t")
        assert plan_digest(c, plan.recipients, "t") != plan_digest(c, plan.recipients, "t2")


class TestApproval:
    def test_author_never_approves_a_block(self):
        assert "drafted" in approval_problem(campaign(), "A@x.example", True, 100).message

    def test_approver_role_is_needed(self):
        assert "approver role" in approval_problem(campaign(), "b@x.example", False, 100).message
        assert approval_problem(campaign(), "b@x.example", True, 100) is None

    def test_small_warning_campaign_the_author_may_approve(self):
        c = campaign(blocks=False, recipients=5)
        assert approval_problem(c, "a@x.example", False, 100) is None
        big = campaign(blocks=False, recipients=500)
        assert "drafted" in approval_problem(big, "a@x.example", True, 100).message

    def test_only_previewed_campaigns_and_never_test_ones(self):
        assert (
            "previewed"
            in approval_problem(campaign(status=CampaignStatus.DRAFT), "b", True, 1).message
        )
        assert "test" in approval_problem(campaign(mode=Mode.TEST), "b", True, 1).message


class TestWaves:
    @pytest.mark.parametrize(
        ("total", "canary", "waves", "sizes"),
        [
            (1000, "1%", 4, [10, 248, 248, 247, 247]),
            (1000, "50", 2, [50, 475, 475]),
            (3, "1%", 4, [1, 1, 1]),
            (1, "1%", 4, [1]),
            (0, "1%", 4, []),
        ],
    )
    def test_sizes(self, total, canary, waves, sizes):
        assert wave_sizes(total, canary, waves) == sizes
        assert sum(sizes) == total

    def test_canary_is_a_spread_sample_not_the_alphabet(self):
        emails = [f"user{i:04d}@x.example" for i in range(1000)]
        waves = assign_waves("c1", emails, wave_sizes(1000, "1%", 4))
        canary = sorted(e for e, w in waves.items() if w == 1)
        assert len(canary) == 10 and canary != emails[:10]
        assert assign_waves("c1", emails, [10, 990]) == assign_waves("c1", emails, [10, 990])

    def test_canary_size_bounds(self):
        assert canary_size(10, "200") == 10 and canary_size(10, "1%") == 1


class TestHalt:
    rules = HaltRules(0.05, 3, min_sample=10)

    def test_bounces_replies_and_growth_halt(self):
        assert halt_reason(WaveSignals(20, 2, 0, 100, 100), self.rules).startswith("bounce rate")
        assert "replies" in halt_reason(WaveSignals(20, 0, 4, 100, 100), self.rules)
        assert "more recipients" in halt_reason(WaveSignals(20, 0, 0, 101, 100), self.rules)
        assert halt_reason(WaveSignals(20, 1, 3, 100, 100), self.rules) is None

    def test_tiny_samples_are_not_judged_by_rate(self):
        assert halt_reason(WaveSignals(2, 1, 0, 100, 100), self.rules) is None


class TestSchedule:
    def test_next_morning_in_the_employees_zone(self):
        late = datetime(2020, 7, 1, 20, 0, tzinfo=UTC)  # 23:00 in Riyadh
        assert next_morning(late, "Asia/Riyadh") == datetime(2020, 7, 2, 5, 0, tzinfo=UTC)

    def test_reminders_once_each_and_only_before_the_deadline(self):
        offsets = [timedelta(days=7), timedelta(days=1)]
        assert reminders_due(DEADLINE, offsets, DEADLINE - timedelta(days=8), []) == []
        assert reminders_due(DEADLINE, offsets, DEADLINE - timedelta(days=6), []) == [604800]
        assert reminders_due(DEADLINE, offsets, DEADLINE - timedelta(hours=2), [604800]) == [86400]
        assert reminders_due(DEADLINE, offsets, DEADLINE + timedelta(hours=1), []) == []

    def test_backoff_grows_and_caps(self):
        assert backoff(1) == timedelta(seconds=30) and backoff(3) == timedelta(minutes=2)
        assert backoff(30) == timedelta(hours=1)
