"""Test sends: marked samples of a campaign to the configured test list, and nowhere else."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from appwarden.core.campaign import Campaign, CampaignKind, CampaignStatus, Mode, NoticeKind
from appwarden.core.errors import Conflict, InvalidInput, Problem
from appwarden.core.events import EventType
from appwarden.core.notice import NewNotice
from appwarden.services.campaign_plan import announce_plan, recipient_data
from appwarden.services.campaigns import Deps, audit, new_id
from appwarden.services.outbox import enqueue_new_urgent
from appwarden.services.ports import UnitOfWork


def send_test(uow: UnitOfWork, deps: Deps, source: Campaign, actor: str, now: datetime) -> Campaign:
    """One sample per locale to each test address, every message visibly marked. No approval,
    no enforcement, and no path from here to a live recipient."""
    targets = deps.config.test_recipients
    if not targets:
        raise InvalidInput(
            Problem(
                "no test recipients are configured",
                "notice_test_recipients",
                "set it to a comma-separated list of test mailboxes",
            )
        )
    if source.kind is not CampaignKind.ANNOUNCE or source.mode is not Mode.LIVE:
        raise Conflict("test sends are for announcements; a correction's preview shows its text")
    samples = _samples(uow, deps, source)
    test = Campaign(
        id=new_id("tst"),
        kind=source.kind,
        mode=Mode.TEST,
        policy=source.policy,
        version=source.version,
        status=CampaignStatus.SENDING,
        author=actor,
        created_at=now,
        deadline=source.deadline,
        parent=source.id,
        reason="test send",
        blocks=source.blocks,
    )
    uow.campaigns.add(test, now)
    notices = [
        NewNotice(test.id, NoticeKind.ANNOUNCE, target, locale, tz, secrets.token_urlsafe(18), data)
        for target in targets
        for locale, (tz, data) in sorted(samples.items())
    ]
    enqueue_new_urgent(uow, test.id, notices, now, Mode.TEST, deps.config.sender, now)
    audit(
        uow,
        EventType.CAMPAIGN_TEST_SENT,
        actor,
        now,
        test,
        source=source.id,
        to=list(targets),
        locales=sorted(samples),
        digest=source.previewed_digest,
    )
    return test


def _samples(uow: UnitOfWork, deps: Deps, source: Campaign) -> dict[str, tuple[str, Any]]:
    """locale -> (time zone, notice data) of a real recipient: from the plan while the campaign
    is open, from its stored notices once approved."""
    samples: dict[str, tuple[str, Any]] = {}
    if source.status.open:
        for r in announce_plan(uow, deps.fleet, source).recipients:
            data = recipient_data(r.owner.name, [d.as_data() for d in r.devices], r.deadline)
            samples.setdefault(r.owner.locale, (r.owner.timezone, data))
    else:
        for n in uow.campaigns.notices(source.id):
            samples.setdefault(n.locale, (n.timezone, n.data))
    if not samples:
        raise Conflict("the campaign has nobody to notify, so there is nothing to test")
    return samples
